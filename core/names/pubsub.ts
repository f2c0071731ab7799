// IPNS over pubsub, as Kubo names it: each name has its own gossipsub topic,
// '/record/' + base64url('/ipns/' ‖ multihash), carrying the marshalled
// record. A seed joins a name's topic when it publishes or resolves the name
// and from then on hears every update at once; each record is checked before
// it is passed on (a forged one counts against its sender's score, an older
// one is dropped).

import { BadRecordError, validateRecord, type IpnsName } from './record.ts'
import type { PubSub } from '../anchor/gossip.ts'
import type { IPNSRecord } from 'ipns'
import { undeclared } from '../net/undeclared.ts'

/** name topics one seed joins at most: each costs gossipsub state per peer */
export const MAX_NAME_TOPICS = 256

export function recordTopic (name: IpnsName): string {
  return `/record/${Buffer.from(name.routingKey).toString('base64url')}`
}

/** Higher sequence wins; on a tie, the later expiry (the ipns selector's order). */
export function newer (a: IPNSRecord, b: IPNSRecord | null): boolean {
  if (b == null) return true
  if (a.sequence !== b.sequence) return a.sequence > b.sequence
  return Date.parse(a.validity) > Date.parse(b.validity)
}

interface Watched { name: IpnsName, best: { record: IPNSRecord, bytes: Uint8Array } | null }

export class NamePubSub {
  private readonly watched = new Map<string, Watched>()

  constructor (
    private readonly pubsub: PubSub,
    /** a record newer than any this topic carried before, checked */
    private readonly onRecord: (name: IpnsName, bytes: Uint8Array, record: IPNSRecord) => void,
    /** the seed's log, which escapes what it is given (a record's reason quotes a stranger's bytes) */
    private readonly log: (line: string) => void = () => {}
  ) {}

  get topics (): number { return this.watched.size }

  /** Joins the name's topic (once); false when MAX_NAME_TOPICS are joined already. */
  watch (name: IpnsName): boolean {
    const topic = recordTopic(name)
    if (this.watched.has(topic)) return true
    if (this.watched.size >= MAX_NAME_TOPICS) return false
    const w: Watched = { name, best: null }
    this.watched.set(topic, w)
    // gossipsub drops topics outside its allow-list unread; the anchor
    // topics are listed at start, name topics join as we watch them (the
    // list is a field its types do not declare; none means every topic)
    const allowed = undeclared(this.pubsub, 'allowedTopics')
    if (allowed instanceof Set) allowed.add(topic)
    this.pubsub.topicValidators.set(topic, async (_peer, msg) => {
      let record: IPNSRecord
      try {
        record = await validateRecord(name, msg.data)
      } catch (err) {
        if (err instanceof BadRecordError) {
          this.log(`pubsub: ${err.message}`)
          return 'reject'
        }
        throw err
      }
      if (!newer(record, w.best?.record ?? null)) return 'ignore'
      w.best = { record, bytes: msg.data }
      this.onRecord(name, msg.data, record)
      return 'accept'
    })
    this.pubsub.subscribe(topic)
    return true
  }

  /** The newest record the topic brought (or we published), if any. */
  latest (name: IpnsName): Uint8Array | null {
    return this.watched.get(recordTopic(name))?.best?.bytes ?? null
  }

  /** Publishes a record we made (and remember it as the topic's newest). */
  async publish (name: IpnsName, bytes: Uint8Array, record: IPNSRecord): Promise<number> {
    this.watch(name)
    const w = this.watched.get(recordTopic(name))
    if (w != null && newer(record, w.best?.record ?? null)) w.best = { record, bytes }
    const r = await this.pubsub.publish(recordTopic(name), bytes)
    return r.recipients.length
  }

  stop (): void {
    for (const topic of this.watched.keys()) {
      this.pubsub.topicValidators.delete(topic)
      try { this.pubsub.unsubscribe(topic) } catch { /* the node is stopping */ }
    }
    this.watched.clear()
  }
}

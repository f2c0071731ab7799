// Gossip of the anchor chain over libp2p gossipsub: new blocks and pending
// manifests spread to every node of a network within a few hops. Two topics
// per network (its genesis CID in the name). A message's id is its CID, so
// a block or manifest reaching a node twice is dropped by gossipsub's seen
// cache before anything decodes it. Every message is judged by the chain
// before gossipsub forwards it: invalid → reject (the sender's topic score
// falls below the graylist at once, and the peer guard bans it), future
// time, orphan, already known, pool full → ignore (not held against the
// sender: its clock, or its view of the chain, may differ from ours).

import * as dagCbor from '@ipld/dag-cbor'
import { cborCid, isMap, MAX_BODY_BYTES, MAX_BODY_MANIFESTS, MAX_HEADER_BYTES, sha256 } from './encoding.ts'
import { MAX_MANIFEST_BYTES } from './manifest.ts'
import { PendingFullError } from './pending.ts'
import { AnchorError, AnchorRuleError, type Rule } from './rules.ts'
import type { AnchorChain, SubmitResult } from './chain.ts'
import type { EncodedManifest } from './manifest.ts'
import type { CID } from 'multiformats/cid'
import type { PeerId } from '@libp2p/interface'
import { BoundedMap } from '../util/bounded-map.ts'
import { errorMessage } from '../util/errors.ts'

/** envelope overhead beside its parts: the keys, the array and byte-string headers (~1.1 KiB at 256 manifests) */
const ENVELOPE_OVERHEAD = 4096
/**
 * A block message at most: header, body and every manifest it lists, each at
 * its own limit (512 B + 16 KiB + 256 × 2 KiB ≈ 529 KiB), plus the envelope.
 */
export const MAX_BLOCK_MESSAGE_BYTES = MAX_HEADER_BYTES + MAX_BODY_BYTES + MAX_BODY_MANIFESTS * MAX_MANIFEST_BYTES + ENVELOPE_OVERHEAD
/** a manifest message is one manifest */
export const MAX_MANIFEST_MESSAGE_BYTES = MAX_MANIFEST_BYTES
/** peers remembered as senders of invalid messages (memory bound; the stats count them) */
const MAX_OFFENDERS = 1024
/** CIDs that arrived by gossip, remembered so the publisher does not send them back out (gossipsub forwards them) */
const MAX_RECEIVED_REMEMBERED = 4096
/**
 * and for this long: what arrives is published (or not) within moments, and
 * gossipsub's own memory of messages seen lasts 2 minutes. Without it the
 * map filled with 4,096 CIDs (~0.85 MiB) over ~68 minutes of the soak's
 * block a second, and over ~11 hours on `local`, then held them.
 */
export const RECEIVED_REMEMBERED_MS = 2 * 60_000
/** our pending manifests kept for the first peer when none listens (one publisher's share of the pool) */
const MAX_UNSENT = 1000
/**
 * a peer's subscription can reach us before our own gossipsub stream to it
 * is open; a publish then reaches nobody, yet its id enters the seen cache
 * for minutes (seen once on a loaded CI run): the manifests kept for the
 * first subscriber go out this long after it subscribed (one heartbeat)
 */
const UNSENT_FLUSH_DELAY_MS = 1000

export type Verdict = 'accept' | 'ignore' | 'reject'

export interface GossipTopics { blocks: string, manifests: string }

/** The topics of a network, named by its id (the genesis CID). */
export function gossipTopics (netId: CID | string): GossipTopics {
  return { blocks: `cairn/${netId.toString()}/blocks`, manifests: `cairn/${netId.toString()}/manifests` }
}

/** A block as gossiped: header, body and the manifests it lists, in one dag-cbor envelope. */
export interface BlockMessage { header: Uint8Array, body: Uint8Array, manifests: Uint8Array[] }

/** The message does not decode as a block envelope (the sender broke the protocol). */
export class GossipDecodeError extends AnchorError {}

export function encodeBlockMessage (m: BlockMessage): Uint8Array {
  const bytes = dagCbor.encode({ v: 1, header: m.header, body: m.body, manifests: m.manifests })
  if (bytes.byteLength > MAX_BLOCK_MESSAGE_BYTES) throw new GossipDecodeError(`a block message of ${bytes.byteLength} bytes is over the ${MAX_BLOCK_MESSAGE_BYTES}-byte limit`)
  return bytes
}

const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array
const isManifestList = (v: unknown): v is Uint8Array[] =>
  Array.isArray(v) && v.length <= MAX_BODY_MANIFESTS && v.every(m => isBytes(m) && m.byteLength <= MAX_MANIFEST_BYTES)

/** Decodes and shape-checks a block envelope; the chain judges its parts. */
export function decodeBlockMessage (bytes: Uint8Array): BlockMessage {
  if (bytes.byteLength > MAX_BLOCK_MESSAGE_BYTES) throw new GossipDecodeError(`a block message of ${bytes.byteLength} bytes is over the ${MAX_BLOCK_MESSAGE_BYTES}-byte limit`)
  let v: unknown
  try {
    v = dagCbor.decode(bytes)
  } catch (err) {
    throw new GossipDecodeError(`a block message is not dag-cbor: ${errorMessage(err)}`)
  }
  if (!isMap(v) || Object.keys(v).sort().join(',') !== 'body,header,manifests,v' || v.v !== 1) throw new GossipDecodeError('a block message must be { v: 1, header, body, manifests }')
  const { header, body, manifests } = v
  if (!isBytes(header) || header.byteLength > MAX_HEADER_BYTES) throw new GossipDecodeError('a block message header must be bytes within the header limit')
  if (!isBytes(body) || body.byteLength > MAX_BODY_BYTES) throw new GossipDecodeError('a block message body must be bytes within the body limit')
  if (!isManifestList(manifests)) {
    throw new GossipDecodeError(`a block message carries at most ${MAX_BODY_MANIFESTS} manifests of at most ${MAX_MANIFEST_BYTES} bytes`)
  }
  return { header, body, manifests }
}

/**
 * The message id: the block's CID (its header's) or the manifest's CID. A
 * message that does not decode gets the sha256 of its bytes (never a CID
 * prefix, so it cannot shadow a real block) and is rejected by the validator.
 */
export function messageId (topics: GossipTopics, topic: string, data: Uint8Array): Uint8Array {
  try {
    if (topic === topics.blocks) return cborCid(decodeBlockMessage(data).header).bytes
    if (topic === topics.manifests && data.byteLength <= MAX_MANIFEST_MESSAGE_BYTES) return cborCid(data).bytes
  } catch { /* undecodable: named by its hash below */ }
  return Uint8Array.from([0, ...sha256(data)])
}

/** What gossipsub does with a block, from what the chain said. */
export function blockVerdict (r: SubmitResult): Verdict {
  switch (r.status) {
    case 'accepted': return 'accept'
    case 'invalid': return 'reject'
    // known: a duplicate; held: our clock or theirs is off; orphan: sync fetches the parent;
    // stale: a branch from below the window, an honest peer's maybe
    default: return 'ignore'
  }
}

/** What gossipsub does with a manifest, from what the pool said. */
export function manifestVerdict (status: 'pending' | 'known' | 'anchored'): Verdict {
  return status === 'pending' ? 'accept' : 'ignore'
}

export interface GossipStats {
  /** messages that reached the validator (duplicates are dropped before it) */
  received: number
  accepted: number
  /** invalid: the sender's score falls, the guard is told */
  rejected: number
  /** known, held, orphan, pool full */
  ignored: number
  /** our blocks and manifests sent to at least one peer */
  published: number
  /** rejections per rule ('Decode' for a message that does not decode) */
  rejectedBy: Record<string, number>
  /** distinct peers that sent an invalid message */
  offenders: number
  /** peers subscribed to the block topic now */
  peers: number
}

/** The slice of gossipsub this module uses (tests pass a fake). */
export interface PubSub {
  subscribe: (topic: string) => void
  unsubscribe: (topic: string) => void
  publish: (topic: string, data: Uint8Array) => Promise<{ recipients: unknown[] }>
  getSubscribers: (topic: string) => PeerId[]
  topicValidators: Map<string, (peer: PeerId, msg: { topic: string, data: Uint8Array }) => Promise<Verdict> | Verdict>
  addEventListener: (type: 'subscription-change', fn: (evt: CustomEvent<SubscriptionChange>) => void) => void
  removeEventListener: (type: 'subscription-change', fn: (evt: CustomEvent<SubscriptionChange>) => void) => void
}

export interface SubscriptionChange { peerId: PeerId, subscriptions: Array<{ topic: string, subscribe: boolean }> }

export interface GossipOptions {
  /** a block whose parent we lack arrived: sync should fetch from this peer */
  onOrphan?: (peer: PeerId, parent: CID) => void
  /** a peer sent an invalid block or manifest */
  onInvalid?: (peer: PeerId, rule: string, message: string) => void
  log?: (line: string) => void
  /** the clock (tests) */
  now?: () => number
}

export class AnchorGossip {
  readonly topics: GossipTopics
  private readonly st: Omit<GossipStats, 'peers' | 'offenders'> = { received: 0, accepted: 0, rejected: 0, ignored: 0, published: 0, rejectedBy: {} }
  private readonly offenders = new BoundedMap<string, true>(MAX_OFFENDERS)
  private readonly now: () => number
  /** CID → when it arrived */
  private readonly received = new BoundedMap<string, number>(MAX_RECEIVED_REMEMBERED)
  private started = false
  /** manifests of ours published while no peer listened: sent when one subscribes */
  private readonly unsent = new Set<string>()
  private readonly onPending = (m: EncodedManifest): void => {
    if (this.received.has(m.cid.toString())) return
    this.sendManifest(m)
  }

  private readonly onSubscription = (evt: CustomEvent<SubscriptionChange>): void => {
    if (!evt.detail.subscriptions.some(s => s.subscribe && s.topic === this.topics.manifests)) return
    if (this.unsent.size === 0) return
    setTimeout(() => {
      if (!this.started) return
      for (const key of [...this.unsent]) {
        this.unsent.delete(key)
        const m = this.chain.pending.get(key)
        if (m != null) this.sendManifest(m)
      }
    }, UNSENT_FLUSH_DELAY_MS).unref()
  }

  /**
   * Publishes a manifest, or keeps it for the first peer to subscribe: a
   * publish to nobody still puts the id in gossipsub's seen cache, which
   * would refuse to resend it for 2 minutes.
   */
  private sendManifest (m: EncodedManifest): void {
    const key = m.cid.toString()
    if (this.pubsub.getSubscribers(this.topics.manifests).length === 0) {
      if (this.unsent.size < MAX_UNSENT) this.unsent.add(key)
      return
    }
    this.send(this.topics.manifests, m.bytes, `manifest ${key}`)
  }

  /** a block whose parent we lack arrived: the daemon points this at the sync engine */
  onOrphan: ((peer: PeerId, parent: CID) => void) | undefined

  constructor (private readonly pubsub: PubSub, private readonly chain: AnchorChain, private readonly o: GossipOptions = {}) {
    this.topics = gossipTopics(chain.net.id)
    this.onOrphan = o.onOrphan
    this.now = o.now ?? Date.now
  }

  get stats (): GossipStats {
    return { ...this.st, rejectedBy: { ...this.st.rejectedBy }, offenders: this.offenders.size, peers: this.started ? this.pubsub.getSubscribers(this.topics.blocks).length : 0 }
  }

  start (): void {
    if (this.started) return
    this.started = true
    this.pubsub.topicValidators.set(this.topics.blocks, async (peer, msg) => await this.validateBlock(peer, msg.data))
    this.pubsub.topicValidators.set(this.topics.manifests, async (peer, msg) => await this.validateManifest(peer, msg.data))
    this.pubsub.subscribe(this.topics.blocks)
    this.pubsub.subscribe(this.topics.manifests)
    this.chain.on('pending', this.onPending)
    this.pubsub.addEventListener('subscription-change', this.onSubscription)
    // what was queued while no seed ran (add without a seed) goes out to the first peer too
    for (const m of this.chain.pending.values()) {
      if (this.unsent.size >= MAX_UNSENT) break
      this.unsent.add(m.cid.toString())
    }
  }

  stop (): void {
    if (!this.started) return
    this.started = false
    this.chain.off('pending', this.onPending)
    this.pubsub.removeEventListener('subscription-change', this.onSubscription)
    this.unsent.clear()
    for (const t of [this.topics.blocks, this.topics.manifests]) {
      this.pubsub.topicValidators.delete(t)
      try { this.pubsub.unsubscribe(t) } catch { /* the node is stopping */ }
    }
  }

  /** Publishes a block the chain accepted (ours: gossipsub forwards others' itself), with every manifest it lists. */
  async publishBlock (cid: CID): Promise<void> {
    const b = this.chain.block(cid)
    const header = this.chain.headerBytes(cid)
    if (!this.started || b == null || header == null || this.received.has(b.key)) return
    const manifests = this.chain.manifestsOf(b).map(k => this.chain.manifest(k)?.bytes).filter(m => m != null)
    const data = encodeBlockMessage({ header, body: await this.chain.bodyBytes(b), manifests })
    this.send(this.topics.blocks, data, `block ${b.height} ${b.key}`)
  }

  private send (topic: string, data: Uint8Array, what: string): void {
    if (!this.started) return
    this.pubsub.publish(topic, data).then(r => { if (r.recipients.length > 0) this.st.published++ }, (err: Error) => {
      this.o.log?.(`gossip: cannot publish ${what}: ${err.message}`)
    })
  }

  private remember (key: string): void {
    const now = this.now()
    this.received.renew(key, now)
    this.received.forgetWhile(at => now - at > RECEIVED_REMEMBERED_MS)
  }

  /** CIDs that arrived by gossip and are still remembered (at most those of the last RECEIVED_REMEMBERED_MS) */
  get remembered (): number { return this.received.size }

  private count (v: Verdict): Verdict {
    if (v === 'accept') this.st.accepted++
    else if (v === 'ignore') this.st.ignored++
    return v
  }

  private reject (peer: PeerId, rule: Rule | 'Decode', message: string): Verdict {
    this.st.rejected++
    this.st.rejectedBy[rule] = (this.st.rejectedBy[rule] ?? 0) + 1
    const id = peer.toString()
    this.offenders.set(id, true)
    this.o.log?.(`gossip: rejected a message from ${id}: ${rule}: ${message}`)
    this.o.onInvalid?.(peer, rule, message)
    return 'reject'
  }

  /** The topic validator of blocks: the chain judges, gossipsub forwards only what it accepted. */
  async validateBlock (peer: PeerId, data: Uint8Array): Promise<Verdict> {
    this.st.received++
    let m: BlockMessage
    try {
      m = decodeBlockMessage(data)
    } catch (err) {
      return this.reject(peer, 'Decode', errorMessage(err))
    }
    let key: string | null = null
    try {
      key = cborCid(m.header).toString()
      this.remember(key)
      const r = await this.chain.submit(m.header, m.body, m.manifests)
      if (r.status === 'invalid') return this.reject(peer, r.rule, r.message)
      if (r.status === 'orphan') {
        this.o.log?.(`gossip: block ${r.cid.toString()} from ${peer.toString()} has an unknown parent ${r.parent.toString()}`)
        this.onOrphan?.(peer, r.parent)
      }
      return this.count(blockVerdict(r))
    } catch (err) {
      // our own trouble (disk, a read-only chain): not the sender's fault
      this.o.log?.(`gossip: cannot judge block ${key ?? '?'}: ${errorMessage(err)}`)
      return this.count('ignore')
    }
  }

  /** The topic validator of manifests: checked and signature-verified by the pool. */
  async validateManifest (peer: PeerId, data: Uint8Array): Promise<Verdict> {
    this.st.received++
    if (data.byteLength > MAX_MANIFEST_MESSAGE_BYTES) {
      return this.reject(peer, 'BadManifest', `a manifest message of ${data.byteLength} bytes is over the ${MAX_MANIFEST_MESSAGE_BYTES}-byte limit`)
    }
    this.remember(cborCid(data).toString())
    try {
      const r = await this.chain.addPending(data)
      return this.count(manifestVerdict(r.status))
    } catch (err) {
      if (err instanceof PendingFullError) return this.count('ignore')
      if (err instanceof AnchorRuleError) return this.reject(peer, err.rule, err.message)
      this.o.log?.(`gossip: cannot judge a manifest: ${errorMessage(err)}`)
      return this.count('ignore')
    }
  }
}

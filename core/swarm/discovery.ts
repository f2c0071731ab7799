// Who has it: the providers of one fetch. --peer addresses are dialled,
// peers already connected are asked at once, and the DHT is asked in the
// background, again and again with a growing pause (core/net/backoff-timer.ts)
// until some provider serves a block.

import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { multiaddr } from '@multiformats/multiaddr'
import { BackoffTimer } from '../net/backoff-timer.ts'
import { PeerDialError } from './errors.ts'
import type { CairnNode } from '../net/node.ts'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

/** providers looked for in the DHT, at most */
const MAX_DHT_PROVIDERS = 20
/** connected peers get this long to serve a first block before the DHT is asked */
const CONNECTED_FIRST_MS = 500
const GRACE_STEP_MS = 5
/** with no provider serving yet, the DHT is asked again after this, doubling up to RELOOKUP_MAX_MS */
const RELOOKUP_FIRST_MS = 1000
const RELOOKUP_MAX_MS = 16_000

/** What discovery asks of the fetch it serves. */
export interface DiscoveryHost {
  /** a peer that may have the content; `named`: the DHT names it a provider */
  add: (id: PeerId, named: boolean) => void
  /** providers found so far (opened and opening) */
  count: () => number
  served: () => boolean
  refusedByAll: () => boolean
  closed: () => boolean
  /** the lookups are over (some provider served, or there was nobody to ask) */
  done: () => void
  /** asked the DHT and found this many providers in all so far */
  looked: (providers: number) => void
}

export class Discovery {
  /** the lookups are over */
  finished = false
  private lookups: BackoffTimer | null = null
  private looking = false

  constructor (private readonly node: CairnNode, private readonly root: CID, private readonly peers: string[], private readonly signal: AbortSignal, private readonly host: DiscoveryHost) {}

  /** Dials the --peer addresses (a PeerDialError if one fails), asks the connected peers, and starts the lookups. */
  async start (): Promise<void> {
    for (const addr of this.peers) {
      let conn
      try {
        conn = await this.node.libp2p.dial(multiaddr(addr), { signal: this.signal })
      } catch (err) {
        if (this.signal.aborted) throw err
        const e = err as Error
        if (e.name === 'DialDeniedError') throw new PeerDialError(`not dialling ${addr}: this repo's security settings (security.deny, security.trustedOnly) refuse it`)
        throw new PeerDialError(`cannot connect to ${addr}: ${e.message} (a peer that refuses us, by its deny list or trusted-only mode, just closes the connection)`)
      }
      this.host.add(conn.remotePeer, false)
    }
    this.addConnected()
    if (this.peers.length > 0 || (this.host.count() === 0 && this.node.settings.bootstrap.length === 0)) {
      this.finish()
      return
    }
    // Like Kubo, look again until a provider serves a block or the idle
    // time-out ends the fetch: a provider record may land moments after
    // the fetch starts (an add elsewhere announces in the background), and
    // a fresh node's first lookup may run before its bootstrap peer answers.
    // Connected peers are asked first: a lookup's work would only delay
    // the first block they could serve at once (a daemon's `cat`).
    const graceUntil = performance.now() + CONNECTED_FIRST_MS
    while (this.host.count() > 0 && performance.now() < graceUntil && !this.host.closed() && !this.host.refusedByAll()) await sleep(GRACE_STEP_MS)
    this.lookups = new BackoffTimer(async () => { await this.round() }, RELOOKUP_FIRST_MS, RELOOKUP_MAX_MS)
    await this.round()
    if (!this.finished) this.lookups.schedule()
  }

  /** A provider has served a block: no more lookups. */
  served (): void {
    if (this.lookups == null || this.finished) return
    this.lookups.stop()
    if (!this.looking) this.finish() // else once that lookup ends
  }

  stop (): void { this.lookups?.stop() }

  private addConnected (): void {
    for (const c of this.node.libp2p.getConnections()) this.host.add(c.remotePeer, false)
  }

  /** One round: the peers connected since, then a DHT lookup; the last round once a provider serves. */
  private async round (): Promise<void> {
    if (this.finished) return
    this.addConnected()
    this.looking = true
    try {
      await this.lookup()
    } finally {
      this.looking = false
    }
    if (this.host.closed() || this.host.served()) {
      this.lookups?.stop()
      this.finish()
      return
    }
    this.host.looked(this.host.count())
  }

  /** One DHT lookup: every provider found is added. */
  private async lookup (): Promise<void> {
    let found = 0
    try {
      for await (const p of this.node.libp2p.contentRouting.findProviders(this.root, { signal: this.signal })) {
        this.host.add(p.id, true)
        if (++found >= MAX_DHT_PROVIDERS) break
      }
    } catch {
      // a lookup that ends without providers leaves the connected peers
    }
  }

  private finish (): void {
    if (this.finished) return
    this.finished = true
    this.host.done()
  }
}

// Who has it: the providers of one fetch. --peer addresses are dialled,
// peers already connected are asked at once, so is every peer that
// connects while the fetch runs (bootstrap, mDNS, the DHT, an inbound dial),
// and the DHT is asked in the background, again and again with a growing
// pause (core/net/backoff-timer.ts) until some provider serves a block.
// A provider record says "I have this block", as in Kubo, not "I have the
// whole DAG": a provider of the root may hold part of it (a fetch of its
// own that stopped half-way). When every provider refuses some block, the
// DHT is asked for the providers of that block too, not only of the root.

import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { describeDialFailure, parseUserMultiaddr } from '../net/dial-error.ts'
import { isNamedError, UsageError } from '../util/errors.ts'
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
/**
 * one lookup ends after this: kad-dht's lookup with nobody in the routing
 * table (a bootstrap peer that speaks no DHT, such as a plain Helia node)
 * waited past any fetch's idle limit, and held up the lookups after it
 */
const LOOKUP_MAX_MS = 30_000

/** What discovery asks of the fetch it serves. */
export interface DiscoveryHost {
  /** a peer that may have the content; `named`: the DHT names it a provider */
  add: (id: PeerId, named: boolean) => void
  /** providers found so far (opened and opening) */
  count: () => number
  served: () => boolean
  /** some block is refused by every provider asked so far */
  stuck: () => boolean
  refusedByAll: () => boolean
  closed: () => boolean
  /** the lookups are over (some provider served, or there was nobody to ask) */
  done: () => void
  /** asked the DHT and found this many providers in all so far */
  looked: (providers: number) => void
}

export class Discovery {
  /** the first providers are known: the --peer ones, or those found until one served */
  finished = false
  /** DHT lookups are part of this fetch (no --peer, and someone to ask) */
  private dht = false
  private lookups: BackoffTimer | null = null
  /** a chain of lookups is running */
  private searching = false
  /** a lookup is under way */
  private looking = false
  private listening = false
  /** the block every provider refused, looked up beside the root until it arrives */
  private missing: CID | null = null
  private readonly onConnect = (evt: CustomEvent<PeerId>): void => { this.host.add(evt.detail, false) }

  constructor (private readonly node: CairnNode, private readonly root: CID, private readonly peers: string[], private readonly signal: AbortSignal, private readonly host: DiscoveryHost) {}

  /** Dials the --peer addresses (a PeerDialError if one fails), asks the connected peers, and starts the lookups. */
  async start (): Promise<void> {
    for (const addr of this.peers) {
      let conn
      try {
        conn = await this.node.libp2p.dial(parseUserMultiaddr(addr, '--peer'), { signal: this.signal })
      } catch (err) {
        if (this.signal.aborted || err instanceof UsageError) throw err
        if (isNamedError(err, 'DialDeniedError')) throw new PeerDialError(`not dialling ${addr}: this repo's security settings (security.deny, security.trustedOnly) refuse it`)
        throw new PeerDialError(describeDialFailure(addr, err))
      }
      this.host.add(conn.remotePeer, false)
    }
    this.addConnected()
    // Kubo and Helia ask every connected peer: so does a fetch, including
    // those that connect while it runs
    this.node.libp2p.addEventListener('peer:connect', this.onConnect)
    this.listening = true
    if (this.peers.length > 0 || (this.host.count() === 0 && this.node.settings.bootstrap.length === 0)) {
      this.finish()
      return
    }
    this.dht = true
    // Like Kubo, look again until a provider serves a block or the idle
    // time-out ends the fetch: a provider record may land moments after
    // the fetch starts (an add elsewhere announces in the background), and
    // a fresh node's first lookup may run before its bootstrap peer answers.
    // Connected peers are asked first: a lookup's work would only delay
    // the first block they could serve at once (a daemon's `cat`).
    const graceUntil = performance.now() + CONNECTED_FIRST_MS
    while (this.host.count() > 0 && performance.now() < graceUntil && !this.host.closed() && !this.host.refusedByAll()) await sleep(GRACE_STEP_MS)
    await this.search()
  }

  /** A provider has served a block: no more lookups, unless some block is refused by everyone. */
  served (): void {
    if (this.searching && !this.looking && !this.host.stuck()) this.endSearch()
    // else once that lookup ends
  }

  /**
   * Every provider asked refused the block `cid`: look in the DHT again,
   * for the root and for that block (with --peer, the providers are those
   * given).
   */
  stuck (cid?: CID): void {
    if (cid != null) this.missing = cid
    if (this.dht && !this.searching && !this.host.closed()) void this.search()
  }

  stop (): void {
    this.lookups?.stop()
    this.searching = false
    if (this.listening) this.node.libp2p.removeEventListener('peer:connect', this.onConnect)
    this.listening = false
  }

  private addConnected (): void {
    for (const c of this.node.libp2p.getConnections()) this.host.add(c.remotePeer, false)
  }

  /** A lookup now, then again and again with a growing pause, until a provider serves. */
  private async search (): Promise<void> {
    this.searching = true
    this.lookups = new BackoffTimer(async () => { await this.round() }, RELOOKUP_FIRST_MS, RELOOKUP_MAX_MS)
    await this.round()
    if (this.searching) this.lookups.schedule()
  }

  /** One round: the peers connected since, then a DHT lookup. */
  private async round (): Promise<void> {
    if (!this.searching) return
    this.addConnected()
    this.looking = true
    try {
      await this.lookup(this.root)
      // the block that stopped the fetch, while it still does
      if (this.missing != null && this.host.stuck() && !this.host.closed()) await this.lookup(this.missing)
    } finally {
      this.looking = false
    }
    if (this.host.closed() || (this.host.served() && !this.host.stuck())) {
      this.endSearch()
      return
    }
    this.host.looked(this.host.count())
  }

  private endSearch (): void {
    this.searching = false
    this.lookups?.stop()
    this.finish()
  }

  /** One DHT lookup of `cid`: every provider found is added. */
  private async lookup (cid: CID): Promise<void> {
    let found = 0
    try {
      for await (const p of this.node.libp2p.contentRouting.findProviders(cid, { signal: AbortSignal.any([this.signal, AbortSignal.timeout(LOOKUP_MAX_MS)]) })) {
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

// The seed's chain sync: serves /cairn/<net>/headers/1.0.0 from its chain,
// and syncs from peers that speak it: each newly identified one, any peer
// another part asks for (syncWith: gossip's orphan hook), and on a slow
// timer a few connected ones, so a healed partition converges even with no
// gossip. One sync per peer at a time, MAX_CONCURRENT_SYNCS at once; a peer
// that lies is reported to the peer guard (which bans it) and nothing it
// sent past its first bad block is kept.

import { serveSync, syncProtocol, MAX_INBOUND_STREAMS } from './sync-protocol.ts'
import { StreamPeer, syncFrom, SyncViolation, type SyncPeer, type SyncResult } from './sync.ts'
import type { AnchorChain } from './chain.ts'
import { BoundedMap } from '../util/bounded-map.ts'
import type { Libp2p, PeerId, IdentifyResult } from '@libp2p/interface'
import { errorMessage } from '../util/errors.ts'

/** syncs running at once (each holds at most one reply frame and one batch of headers) */
export const MAX_CONCURRENT_SYNCS = 4
/** peers waiting for a free sync slot, at most (the oldest is dropped) */
const MAX_WAITING = 64
/** one sync, however long the chain, ends by then (10,000 blocks take seconds) */
export const MAX_SYNC_MS = 10 * 60_000
/** between re-checks of connected peers' heads (0: never) */
export const RECHECK_MS = 60_000
/** connected peers asked for their status per re-check */
const RECHECK_PEERS = 4

export type SyncOffence = 'sync-invalid' | 'sync-bad-reply' | 'bad-frame'

export interface ChainSyncOptions {
  /** a peer broke the protocol or the chain's rules */
  report: (peer: PeerId, offence: SyncOffence) => void
  isBanned?: (peer: PeerId) => boolean
  log?: (line: string) => void
  /** overrides RECHECK_MS */
  recheckMs?: number
  /** how to reach a peer (tests pass an in-process one; default: libp2p streams) */
  peerFor?: (peer: PeerId, signal: AbortSignal) => SyncPeer
}

export interface SyncStats {
  /** syncs running now */
  syncing: number
  /** syncs finished (any outcome) and blocks they took */
  syncs: number
  blocks: number
  /** peers caught lying */
  violations: number
  last: { peer: string, time: number, status: SyncResult['status'] | 'failed', blocks: number } | null
}

export class ChainSync {
  readonly protocol: string
  readonly stats: SyncStats = { syncing: 0, syncs: 0, blocks: 0, violations: 0, last: null }
  private readonly active = new Map<string, Promise<SyncResult | null>>()
  private readonly waiting = new BoundedMap<string, PeerId>(MAX_WAITING)
  private readonly aborts = new Set<AbortController>()
  private timer: NodeJS.Timeout | null = null
  private running = false

  constructor (private readonly libp2p: Libp2p, private readonly chain: AnchorChain, private readonly o: ChainSyncOptions) {
    this.protocol = syncProtocol(chain.net)
  }

  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    if (evt.detail.protocols.includes(this.protocol)) void this.syncWith(evt.detail.peerId)
  }

  async start (): Promise<void> {
    this.running = true
    await this.libp2p.handle(this.protocol, (stream, connection) => {
      void serveSync(stream, this.chain, {
        onViolation: message => {
          this.o.log?.(`sync: ${connection.remotePeer.toString()} sent a bad request: ${message}`)
          this.o.report(connection.remotePeer, 'bad-frame')
        }
      })
    }, { maxInboundStreams: MAX_INBOUND_STREAMS, runOnLimitedConnection: true })
    this.libp2p.addEventListener('peer:identify', this.onIdentify)
    // peers identified before we listened (the bootstrap connection of a starting seed)
    void this.recheck()
    const every = this.o.recheckMs ?? RECHECK_MS
    if (every > 0) {
      this.timer = setInterval(() => { void this.recheck() }, every)
      this.timer.unref()
    }
  }

  async stop (): Promise<void> {
    this.running = false
    if (this.timer != null) clearInterval(this.timer)
    this.timer = null
    this.libp2p.removeEventListener('peer:identify', this.onIdentify)
    this.waiting.clear()
    for (const a of this.aborts) a.abort(new Error('stopping'))
    await Promise.allSettled([...this.active.values()])
    await this.libp2p.unhandle(this.protocol).catch(() => {})
  }

  /**
   * Syncs from `peer` if it has more work than us. Resolves with the outcome,
   * or null when the sync failed, the peer is banned, or every slot is busy
   * (the peer then waits for one).
   */
  async syncWith (peer: PeerId): Promise<SyncResult | null> {
    const key = peer.toString()
    const running = this.active.get(key)
    if (running != null) return await running
    if (!this.running || this.o.isBanned?.(peer) === true) return null
    if (this.active.size >= MAX_CONCURRENT_SYNCS) {
      this.waiting.renew(key, peer)
      return null
    }
    const run = this.run(peer).finally(() => {
      this.active.delete(key)
      this.stats.syncing = this.active.size
      this.next()
    })
    this.active.set(key, run)
    this.stats.syncing = this.active.size
    return await run
  }

  private next (): void {
    const first = this.waiting.entries().next()
    if (first.done === true) return
    this.waiting.delete(first.value[0])
    void this.syncWith(first.value[1])
  }

  private async run (peer: PeerId): Promise<SyncResult | null> {
    const abort = new AbortController()
    this.aborts.add(abort)
    const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(MAX_SYNC_MS)])
    const remote = this.o.peerFor?.(peer, signal) ?? StreamPeer.forChain(this.libp2p, peer, this.chain, signal)
    const key = peer.toString()
    try {
      const r = await syncFrom(this.chain, remote, { signal })
      this.stats.syncs++
      this.stats.blocks += r.blocks
      this.stats.last = { peer: key, time: Date.now(), status: r.status, blocks: r.blocks }
      if (r.blocks > 0) this.o.log?.(`sync: ${r.blocks} block(s) from ${key}; head ${this.chain.height} ${this.chain.head.key}`)
      return r
    } catch (err) {
      this.stats.syncs++
      this.stats.last = { peer: key, time: Date.now(), status: 'failed', blocks: 0 }
      if (err instanceof SyncViolation) {
        this.stats.violations++
        this.o.log?.(`sync: ${key} broke the rules, ignoring it: ${err.message}`)
        this.o.report(peer, err.offence)
      } else if (!signal.aborted) {
        this.o.log?.(`sync with ${key} ended: ${errorMessage(err)}`)
      }
      return null
    } finally {
      remote.close()
      this.aborts.delete(abort)
    }
  }

  /** Asks a few connected peers that speak the protocol whether they have more work. */
  private async recheck (): Promise<void> {
    // shuffled, so every peer is asked in time however many there are
    const peers = this.libp2p.getPeers().map(p => ({ p, r: Math.random() })).sort((a, b) => a.r - b.r).map(x => x.p)
    const candidates: PeerId[] = []
    for (const p of peers) {
      if (candidates.length >= RECHECK_PEERS) break
      if (this.active.has(p.toString())) continue
      const stored = await this.libp2p.peerStore.get(p).catch(() => null)
      if (stored?.protocols.includes(this.protocol) === true) candidates.push(p)
    }
    for (const p of candidates) void this.syncWith(p)
  }
}

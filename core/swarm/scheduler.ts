// The swarm scheduler: pulls a DAG from every provider at once. Once the
// root is known it walks the DAG ahead of the reader, queueing every missing
// block in reading order, and keeps a window of wants in flight on each
// provider, sized by that provider's measured rate and latency (lane.ts).
// Blocks are checked against their CIDs and written to the repo as they
// arrive, and held in memory until the reader takes them; what is in flight
// and what is held are bounded, and a busy reader sets the pace, so memory
// stays flat whatever the file size. A provider that refuses a block is
// skipped for it; one that stalls, sends wrong bytes or leaves loses its
// wants to the others. When nothing is left to ask for, idle providers are
// also asked for the oldest blocks still in flight elsewhere (endgame), and
// the other copies are cancelled when the first arrives.
//
// Written here, not taken from Helia: its session path stalled on a leaf
// until a 300 s timeout and took ~97% of blocks from one of three seeders
// (STACK.md); bitswap's message pattern moved 17-32 MiB/s where a stream of
// our own moves several times that (docs/bench.md).

import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { describeDialFailure, parseUserMultiaddr } from '../net/dial-error.ts'
import { digestMatches, type Blocks } from '../../storage/blocks.ts'
import type { Answer } from '../net/block-protocol.ts'
import { AbortedError, BlockNotFoundError, CairnError, UsageError } from '../errors.ts'
import { LEAF_CODECS, blockKey, linksOf } from '../dag.ts'
import { Lane, MAX_WINDOW, MIN_WINDOW } from './lane.ts'
import { ProtocolViolationError } from '../net/block-protocol.ts'
import { WantQueue, type Want } from './want-queue.ts'
import { bitswapAsker, type BitswapAsker } from './bitswap-lane.ts'
import type { CairnNode } from '../net/node.ts'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

/**
 * A block's bytes in memory of their own: a view into a larger buffer (a
 * frame, a decrypted message) is copied. The block is hashed, held for the
 * reader, and moved to the block writer's thread and back: no other owner
 * of that memory may change it meanwhile, or lose it when it moves.
 */
function ownBytes (b: Uint8Array): Uint8Array {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) return b
  // not b.slice(): on a Buffer that is a view, not a copy
  const copy = new Uint8Array(b.byteLength)
  copy.set(b)
  return copy
}

export class NoProvidersError extends CairnError {}
export class FetchTimeoutError extends CairnError {}
/** A provider that misbehaved: wrong bytes, a broken frame, a stall. */
export class PeerFaultError extends CairnError {}
/** A --peer address that cannot be dialled (refused by our own allow/deny settings, or by the peer). */
export class PeerDialError extends CairnError {}

/** providers looked for in the DHT, at most */
const MAX_DHT_PROVIDERS = 20
/** connected peers get this long to serve a first block before the DHT is asked */
const CONNECTED_FIRST_MS = 500
const GRACE_STEP_MS = 5
/** with no provider serving yet, the DHT is asked again after this, doubling up to RELOOKUP_MAX_MS */
const RELOOKUP_FIRST_MS = 1000
const RELOOKUP_MAX_MS = 16_000
/** a provider with wants in flight that answers nothing for this long is dropped and its wants go elsewhere */
export const STALL_MS = 5000
/** ... or for the time this many blocks take at the peer's own measured rate, if longer */
const STALL_BLOCKS = 4
/** a block the reader waits for, in flight this long on one peer, is asked of a second one */
const URGENT_COPY_MS = 750
/** copies of one block in flight at once (endgame and urgent re-asks) */
const MAX_COPIES = 2
/** an endgame copy is only sent for a block this much later than its peer's usual round trip */
const ENDGAME_LATE_FACTOR = 2
/** ... and never sooner than this after it was first sent */
const ENDGAME_MIN_AGE_MS = 200
/** an idle lane takes endgame copies only while it has fewer than this in flight */
const ENDGAME_LANE_SLOTS = 4
/** bytes in flight over all providers: bounds the fetcher's memory */
const MAX_TOTAL_IN_FLIGHT = 40 * 1024 * 1024
/** blocks held in memory for a reader, at most (see `fresh`); beyond it the reader reads them back from disk */
const MAX_HELD = 24 * 1024 * 1024
/**
 * while the reader waits for nothing, the fetch runs no further ahead of it
 * than this (in flight plus held); at most MAX_HELD, or blocks arriving past
 * the held bound would leave the count and the fetch would never pause
 */
const PACE_AHEAD = MAX_HELD
/** how often stalls, time-outs and urgent re-asks are checked */
const TICK_MS = 250
/** stored blocks kept in memory while no reader has asked for any (a prefetch alone): a reader takes them once it comes */
const FRESH_MAX = 8 * 1024 * 1024
/** block size assumed before any has arrived (the default chunk) */
const FIRST_BLOCK_GUESS = 1024 * 1024

export type FetchProgress =
  | { type: 'fetch:providers', providers: number }
  | { type: 'fetch:block', peer: string, bytes: number }
  | { type: 'fetch:duplicate', peer: string, bytes: number }
  | { type: 'fetch:dropped', peer: string, reason: string }
  | { type: 'fetch:banned', peer: string, offence: string }

export interface SwarmOptions {
  /** multiaddrs to fetch from directly (--peer); no DHT lookup then */
  peers?: string[]
  /** give up when no block has arrived for this long */
  idleTimeoutMs: number
  signal?: AbortSignal
  onProgress?: (e: FetchProgress) => void
}

interface StoredWant extends Want {
  stored: boolean
  failed: Error | null
  /** walk its links once it arrives */
  expand: boolean
}

export class Swarm {
  private readonly lanes = new Map<string, Lane>()
  private readonly opening = new Set<string>()
  /** peers whose block stream could not be opened, and why */
  private readonly unreachable = new Map<string, string>()
  private readonly wants = new Map<string, StoredWant>()
  private readonly queue = new WantQueue()
  private readonly expanded = new Set<string>()
  duplicates = 0
  duplicateBytes = 0
  private avgBlock = FIRST_BLOCK_GUESS
  /**
   * Blocks stored and verified, held in memory until the reader takes them
   * (up to MAX_HELD). While the reader is busy and waits for no block, the
   * fetch runs at most PACE_AHEAD (in flight plus held) ahead of it, so
   * every block reaches the output from memory. Letting the fetch run ahead
   * unbounded made the reader read half of a 512 MiB file back from disk,
   * which cost the (single-threaded) fetcher more than the fetch itself
   * (a read, a 1 MiB allocation and its garbage per block). While the reader
   * waits for a block still in flight (on a slow provider), the others keep
   * going: pausing them then cost 3 → 1 and capped seeders a quarter of
   * their rate.
   */
  private readonly fresh = new Map<string, Uint8Array>()
  private freshBytes = 0
  /** a reader has asked for a block: hold blocks for it and pace the fetch by it */
  private reading = false
  /** wants a reader waits for now: exactly those with waiters */
  private readonly awaited = new Set<StoredWant>()
  private started = false
  private discoveryDone = false
  private closed: Error | null = null
  private lastProgress = performance.now()
  private timer: NodeJS.Timeout | null = null
  private readonly signal: AbortSignal
  private readonly stop = new AbortController()
  private readonly unwatch: () => void

  constructor (private readonly node: CairnNode, private readonly blocks: Blocks, private readonly root: CID, private readonly o: SwarmOptions) {
    this.signal = o.signal != null ? AbortSignal.any([o.signal, this.stop.signal]) : this.stop.signal
    // a peer banned for misbehaving (here or on bitswap) is asked nothing more
    this.unwatch = node.guard.onBan(e => {
      o.onProgress?.({ type: 'fetch:banned', peer: e.peer, offence: e.offence })
      const lane = this.lanes.get(e.peer)
      if (lane != null) this.dropLane(lane, new PeerFaultError(`banned: ${e.offence}`))
    })
  }

  private start (): void {
    if (this.started) return
    this.started = true
    this.blocks.warmWriter() // ready by the time the first block arrives
    this.timer = setInterval(() => { this.tick() }, TICK_MS)
    this.timer.unref()
    this.o.signal?.addEventListener('abort', () => { this.failAll(new AbortedError('fetch interrupted; the blocks received are kept: run the same command again to resume')) }, { once: true })
    void this.discover().catch(err => { this.failAll(err) })
  }

  /** Providers: --peer addresses, connected peers at once, then the DHT in the background. */
  private async discover (): Promise<void> {
    const direct = this.o.peers ?? []
    for (const addr of direct) {
      let conn
      try {
        conn = await this.node.libp2p.dial(parseUserMultiaddr(addr, '--peer'), { signal: this.signal })
      } catch (err) {
        if (this.signal.aborted || err instanceof UsageError) throw err
        const e = err as Error
        if (e.name === 'DialDeniedError') throw new PeerDialError(`not dialling ${addr}: this repo's security settings (security.deny, security.trustedOnly) refuse it`)
        throw new PeerDialError(describeDialFailure(addr, err))
      }
      this.addPeer(conn.remotePeer)
    }
    for (const c of this.node.libp2p.getConnections()) this.addPeer(c.remotePeer)
    if (direct.length === 0 && (this.lanes.size + this.opening.size > 0 || this.node.settings.bootstrap.length > 0)) {
      // Like Kubo, look again until a provider serves a block or the idle
      // time-out ends the fetch: a provider record may land moments after
      // the fetch starts (an add elsewhere announces in the background), and
      // a fresh node's first lookup may run before its bootstrap peer answers.
      // connected peers are asked first: a lookup's work would only delay
      // the first block they could serve at once (a daemon's `cat`)
      const graceUntil = performance.now() + CONNECTED_FIRST_MS
      while (this.lanes.size + this.opening.size > 0 && performance.now() < graceUntil && this.closed == null && !this.refusedByAll()) await sleep(GRACE_STEP_MS)
      let pause = RELOOKUP_FIRST_MS
      for (;;) {
        await this.lookup()
        if (this.closed != null || this.served()) break
        this.o.onProgress?.({ type: 'fetch:providers', providers: this.lanes.size + this.opening.size })
        const until = performance.now() + pause
        while (performance.now() < until && this.closed == null && !this.served()) await sleep(TICK_MS)
        if (this.closed != null || this.served()) break
        pause = Math.min(pause * 2, RELOOKUP_MAX_MS)
        for (const c of this.node.libp2p.getConnections()) this.addPeer(c.remotePeer)
      }
    }
    this.discoveryDone = true
    if (this.closed != null) return // the fetch ended while the DHT lookup ran
    this.o.onProgress?.({ type: 'fetch:providers', providers: this.lanes.size + this.opening.size })
    this.checkUnreachable()
  }

  /** One DHT lookup: every provider found gets a lane. */
  private async lookup (): Promise<void> {
    let found = 0
    try {
      for await (const p of this.node.libp2p.contentRouting.findProviders(this.root, { signal: this.signal })) {
        // a peer that said "don't have" before and announces it now has it since: ask it again
        if (this.lanes.has(p.id.toString())) this.forgetRefusals(p.id.toString())
        this.addPeer(p.id)
        if (++found >= MAX_DHT_PROVIDERS) break
      }
    } catch {
      // a lookup that ends without providers leaves the connected peers
    }
    this.pump()
  }

  private forgetRefusals (key: string): void {
    for (const w of this.wants.values()) w.refusedBy.delete(key)
  }

  /** Whether every provider open so far has refused something, none served: worth a lookup at once. */
  private refusedByAll (): boolean {
    if (this.opening.size > 0) return false
    for (const l of this.lanes.values()) if (l.dead == null && (l.blocks > 0 || l.refusals === 0)) return false
    return true
  }

  /** Whether some provider has served a block of this fetch. */
  private served (): boolean {
    for (const l of this.lanes.values()) if (l.blocks > 0) return true
    return false
  }

  private addPeer (id: PeerId): void {
    const key = id.toString()
    if (this.lanes.has(key) || this.opening.has(key) || key === this.node.libp2p.peerId.toString() || this.closed != null || this.node.guard.isBanned(key)) return
    this.opening.add(key)
    void (async () => {
      let lane: Lane
      try {
        // asking for the protocol is the test: identify may not have told us yet
        const channel = await this.node.channels.get(id, this.signal, MAX_WINDOW)
        // the stream outlives this fetch unless the peer misbehaved on it
        lane = new Lane(key, { ask: async cid => await channel.request(cid), cancel: cid => { channel.cancel(cid) }, close: err => { if (err != null) channel.close(err) } }, 'cairn', performance.now())
      } catch (err) {
        // a peer that does not speak /cairn/blocks is an IPFS peer: bitswap;
        // one we cannot reach at all is no provider
        if ((err as Error).name !== 'UnsupportedProtocolError' || this.node.libp2p.getConnections(id).length === 0) {
          this.opening.delete(key)
          this.unreachable.set(key, (err as Error).message)
          this.checkUnreachable()
          return
        }
        lane = this.bitswapLane()
      }
      this.opening.delete(key)
      if (this.closed != null) { lane.asker.close(); return }
      if (!this.lanes.has(lane.key)) this.lanes.set(lane.key, lane)
      this.o.onProgress?.({ type: 'fetch:providers', providers: this.lanes.size + this.opening.size })
      this.pump()
      this.checkUnreachable()
    })()
  }

  /** One lane for every IPFS peer that does not speak /cairn/blocks: bitswap's want list reaches them all. */
  private bitswapLane (): Lane {
    return this.lanes.get('bitswap') ?? new Lane('bitswap', bitswapAsker(this.node.bitswap.bitswap, this.signal), 'bitswap', performance.now())
  }

  private wantOf (cid: CID, path: number[]): StoredWant {
    const key = blockKey(cid)
    let w = this.wants.get(key)
    if (w == null) {
      w = { cid, key, path, urgent: false, refusedBy: new Set(), inFlight: new Map(), done: false, queued: false, waiters: [], stored: false, failed: null, expand: false }
      this.wants.set(key, w)
    }
    return w
  }

  /** The bytes of a block this fetch stored moments ago, if it still holds them (once). */
  takeFresh (cid: CID): Uint8Array | null {
    this.reading = true
    const key = blockKey(cid)
    const bytes = this.fresh.get(key)
    if (bytes == null) return null
    this.fresh.delete(key)
    this.freshBytes -= bytes.byteLength
    this.pump() // room for another want
    return bytes
  }

  /** Whether this fetch stored `cid` itself, verified, moments ago. */
  stored (cid: CID): boolean { return this.wants.get(blockKey(cid))?.stored === true }

  /** One block, now: the reader waits for it. */
  async fetch (cid: CID): Promise<Uint8Array> {
    if (this.lanes.size === 0 && this.opening.size === 0 && (this.o.peers ?? []).length === 0 && this.node.settings.bootstrap.length === 0 && this.node.libp2p.getConnections().length === 0) {
      throw new NoProvidersError(`block ${cid.toString()} of ${this.root.toString()} is not in the repo, and there is no peer to ask: add bootstrap peers (cairn config set bootstrap …), or pass --peer or --bootstrap`)
    }
    this.start()
    this.reading = true
    if (this.closed != null) throw this.closed
    const w = this.wantOf(cid, [])
    if (w.failed != null) throw w.failed
    if (w.stored) return await this.blocks.getBytes(cid)
    const got = new Promise<Uint8Array>((resolve, reject) => w.waiters.push({ resolve, reject }))
    this.awaited.add(w)
    this.queue.promote(w)
    if (!w.done && !w.queued && w.inFlight.size === 0) this.queue.push(w)
    this.pump()
    this.checkUnreachable()
    return await got
  }

  /** Starts fetching everything under `cid` that the repo lacks, in reading order. */
  prefetch (cid: CID): void {
    this.start()
    void this.expand([{ cid, path: [] }]).catch(err => { this.failAll(err) })
  }

  /** Walks the blocks the repo has; queues those it lacks, to be walked when they arrive. */
  private async expand (items: Array<{ cid: CID, path: number[] }>): Promise<void> {
    // the repo is asked about a node's links all at once, not one after another
    const stack = items.map(x => ({ ...x, has: this.has(x.cid) }))
    while (stack.length > 0 && this.closed == null) {
      const { cid, path, has } = stack.pop() as typeof stack[number]
      const key = blockKey(cid)
      if (this.expanded.has(key)) continue
      this.expanded.add(key)
      let bytes: Uint8Array | null = null
      if (await has) {
        if (LEAF_CODECS.has(cid.code)) continue
        try { bytes = await this.blocks.getBytes(cid) } catch { /* corrupt on disk: fetch it again */ }
      }
      if (bytes == null) {
        const w = this.wantOf(cid, path)
        if (w.path.length === 0 && path.length > 0) w.path = path
        w.expand = !LEAF_CODECS.has(cid.code)
        if (w.stored && w.expand) {
          bytes = await this.blocks.getBytes(cid)
        } else {
          this.queue.push(w)
          // ask at once: the reader may be waiting for this very block
          if (this.queue.size <= 1 || stack.length === 0) this.pump()
          continue
        }
      }
      const links = linksOf(cid, bytes)
      for (let i = links.length - 1; i >= 0; i--) stack.push({ cid: links[i], path: [...path, i], has: this.has(links[i]) })
    }
    this.pump()
  }

  /** Whether the repo holds a block; one it cannot tell about is fetched again. */
  private async has (cid: CID): Promise<boolean> {
    try { return await this.blocks.has(cid) } catch { return false }
  }

  private get inFlightBytes (): number {
    let n = 0
    for (const l of this.lanes.values()) n += l.inFlightBytes
    return n
  }

  /** Fills every lane's window: fastest lanes first, so they get the blocks the reader needs soonest. */
  private pump (): void {
    if (this.closed != null) return
    const now = performance.now()
    const lanes = [...this.lanes.values()].filter(l => l.dead == null).sort((a, b) => b.meter.rate(now) - a.meter.rate(now))
    let total = this.inFlightBytes
    // a busy reader that waits for no block sets the pace
    const paced = this.reading && this.awaited.size === 0
    // no lane holds more than its share of what is outstanding while other
    // providers work or are still opening: one fast early lane must not take
    // the whole file into its window before the others can ask for any of it
    let sent = 0
    for (const l of lanes) sent += l.inFlight.size
    const share = Math.max(MIN_WINDOW, Math.ceil((this.queue.size + sent) / Math.max(1, lanes.length + this.opening.size)))
    for (const lane of lanes) {
      while (lane.hasRoom(this.avgBlock) && lane.inFlight.size < share && total + this.avgBlock <= MAX_TOTAL_IN_FLIGHT) {
        const w = (this.queue.take(x => !x.refusedBy.has(lane.key) && !x.inFlight.has(lane.key)) as StoredWant | null) ?? this.endgame(lane)
        if (w == null) break
        if (paced && !w.urgent && total + this.freshBytes + this.avgBlock > PACE_AHEAD) {
          // far enough ahead of the reader: it catches up first
          if (w.inFlight.size === 0) this.queue.push(w)
          return
        }
        this.send(lane, w)
        total += this.avgBlock
      }
    }
  }

  /** Nothing left to ask: the oldest block in flight elsewhere, if it may have another copy. */
  private endgame (lane: Lane): StoredWant | null {
    if (this.queue.size > 0 || lane.inFlight.size >= ENDGAME_LANE_SLOTS) return null
    let best: StoredWant | null = null
    let bestAt = Infinity
    const now = performance.now()
    for (const other of this.lanes.values()) {
      if (other === lane) continue
      // a copy of a block about to arrive is only a duplicate: ask again only for late ones
      const late = now - Math.max(ENDGAME_MIN_AGE_MS, ENDGAME_LATE_FACTOR * other.latencyMs)
      for (const f of other.inFlight.values()) {
        if (f.sentAt > late) continue
        const w = this.wants.get(blockKey(f.cid))
        if (w == null || w.done || w.inFlight.has(lane.key) || w.refusedBy.has(lane.key) || w.inFlight.size >= MAX_COPIES) continue
        if (f.sentAt < bestAt) { best = w; bestAt = f.sentAt }
      }
    }
    return best
  }

  private send (lane: Lane, w: StoredWant): void {
    const sentAt = performance.now()
    w.inFlight.set(lane.key, sentAt)
    lane.track(w.key, { cid: w.cid, sentAt, bytesGuess: this.avgBlock })
    lane.asker.ask(w.cid).then(
      async a => { await this.answered(lane, w, a, sentAt) },
      err => {
        if (err instanceof ProtocolViolationError) this.node.guard.report(lane.key, err.offence)
        this.dropLane(lane, err as Error)
      }
    ).catch(err => { this.failAll(err) })
  }

  private async answered (lane: Lane, w: StoredWant, a: Answer, sentAt: number): Promise<void> {
    if (lane.dead != null || this.closed != null) return
    const now = performance.now()
    if (a.status === 'have') {
      // the block outlives this tick (stored, then held for the reader): keep
      // bytes that own their memory, so what was checked is what is read
      let bytes = ownBytes(a.bytes)
      let match: boolean
      if (w.done) {
        match = digestMatches(w.cid, bytes) // a late copy: checked (a lie is still a lie), not stored again
      } else {
        // hashed and written on the block writer's thread; a block from our
        // own stream is ours alone and moves there and back uncopied
        try {
          ({ match, bytes } = await this.blocks.putChecked(w.cid, bytes, lane.kind === 'cairn'))
        } catch (err) {
          this.failAll(err as Error)
          return
        }
        if (this.closed != null) return // a lane that died meanwhile still delivered a good block
      }
      if (!match) {
        // an honest cairn seed hashes every block it reads: wrong bytes are a lie (bitswap checks its own)
        if (lane.kind === 'cairn') this.node.guard.report(lane.key, 'wrong-block')
        this.dropLane(lane, new PeerFaultError(`sent bytes that do not match ${w.cid.toString()}`))
        return
      }
      const n = bytes.byteLength
      lane.answered(now, sentAt, n, this.avgBlock)
      this.avgBlock = Math.round(this.avgBlock * 0.9 + n * 0.1)
      this.lastProgress = performance.now()
      const from = lane.kind === 'bitswap' ? ((lane.asker as BitswapAsker).from.get(w.key) ?? 'bitswap') : lane.key
      if (w.done) {
        this.duplicates++
        this.duplicateBytes += n
        this.o.onProgress?.({ type: 'fetch:duplicate', peer: from, bytes: n })
      } else {
        w.done = true
        for (const other of w.inFlight.keys()) if (other !== lane.key) this.lanes.get(other)?.asker.cancel(w.cid)
        // who served what: the CLI's closing report and the dashboard tally these
        this.o.onProgress?.({ type: 'fetch:block', peer: from, bytes: n })
        try {
          // the download cap holds this lane's slot until the bytes are paid for
          await this.node.download.take(n, this.signal)
        } catch (err) {
          this.failAll(err as Error)
          return
        }
        w.stored = true
        // kept for the reader, which is usually just behind: it need not read the block back from disk
        if (w.waiters.length === 0 && this.freshBytes + n <= (this.reading ? MAX_HELD : FRESH_MAX)) {
          this.fresh.set(w.key, bytes)
          this.freshBytes += n
        }
        for (const x of w.waiters.splice(0)) x.resolve(bytes)
        this.awaited.delete(w)
        if (w.expand) void this.expand(linksOf(w.cid, bytes).map((cid, i) => ({ cid, path: [...w.path, i] })).reverse()).catch(err => { this.failAll(err) })
      }
    } else if (a.status === 'dont-have') {
      lane.answered(now, sentAt, null, this.avgBlock)
      w.refusedBy.add(lane.key)
    } else {
      lane.answers++
      lane.lastAnswerAt = now
    }
    lane.untrack(w.key)
    w.inFlight.delete(lane.key)
    if (!w.done && w.inFlight.size === 0) this.queue.push(w)
    this.checkUnreachable(a.status === 'dont-have')
    this.pump()
  }

  /** A lane that failed: its wants go back in the queue for the others. */
  private dropLane (lane: Lane, err: Error): void {
    if (lane.dead != null) return
    lane.dead = err
    lane.asker.close(err)
    if (err instanceof PeerFaultError || this.closed == null) this.o.onProgress?.({ type: 'fetch:dropped', peer: lane.key, reason: err.message })
    if (process.env.CAIRN_DEBUG != null) process.stderr.write(`swarm: dropped ${lane.key}: ${err.message}\n`)
    for (const f of lane.inFlight.values()) {
      const w = this.wants.get(blockKey(f.cid))
      if (w == null) continue
      w.inFlight.delete(lane.key)
      if (!w.done && w.inFlight.size === 0) this.queue.push(w)
    }
    lane.untrackAll()
    this.checkUnreachable()
    this.pump()
  }

  private tick (): void {
    if (this.closed != null) return
    const now = performance.now()
    if (process.env.CAIRN_DEBUG != null) {
      for (const l of this.lanes.values()) process.stderr.write(`swarm: ${l.key.slice(-8)} window ${l.window} in flight ${l.inFlight.size} rate ${(l.meter.rate(performance.now()) / 1048576).toFixed(1)} MiB/s base rtt ${l.baseLatencyMs.toFixed(1)} ms rtt ${l.latencyMs.toFixed(1)} ms queue ${this.queue.size}\n`)
    }
    const live = [...this.lanes.values()].filter(l => l.dead == null)
    for (const lane of live) {
      if (lane.inFlight.size === 0) continue
      // a slow link (a low upload cap) is not a stall: allow a few blocks' time at its own rate
      const rate = lane.meter.rate(now)
      const limit = Math.max(STALL_MS, rate > 0 ? STALL_BLOCKS * this.avgBlock / rate * 1000 : 0)
      // the last provider is never dropped for slowness: the idle timeout decides then
      if (now - lane.lastAnswerAt > limit && live.some(l => l !== lane && l.dead == null)) {
        this.dropLane(lane, new PeerFaultError(`answered nothing for ${Math.round(limit / 1000)} s`))
      }
    }
    // a block the reader waits for, stuck on one peer: ask another too
    for (const lane of this.lanes.values()) {
      for (const f of lane.inFlight.values()) {
        const w = this.wants.get(blockKey(f.cid))
        if (w == null || w.done || w.waiters.length === 0 || w.inFlight.size >= MAX_COPIES || now - f.sentAt < URGENT_COPY_MS) continue
        const other = [...this.lanes.values()].find(l => l.dead == null && l !== lane && !w.inFlight.has(l.key) && !w.refusedBy.has(l.key) && l.blocks > 0)
        if (other != null) this.send(other, w)
      }
    }
    const waiting = this.queue.size > 0 || [...this.lanes.values()].some(l => l.inFlight.size > 0) || this.awaited.size > 0
    if (!waiting) this.lastProgress = now
    else if (now - this.lastProgress > this.o.idleTimeoutMs) {
      const lanes = [...this.lanes.values()].filter(l => l.dead == null).length
      const unreachable = this.unreachable.size > 0 ? `; found but could not connect to ${[...this.unreachable].map(([id, why]) => `${id} (${why})`).join(', ')}` : ''
      this.failAll(!this.served()
        ? new NoProvidersError(`no provider of ${this.root.toString()} found within ${this.o.idleTimeoutMs / 1000} s${this.lanes.size > 0 ? ` (${this.lanes.size} peer(s) asked do not have it)` : ''}${unreachable}`)
        : new FetchTimeoutError(`no block of ${this.root.toString()} arrived for ${this.o.idleTimeoutMs / 1000} s (${lanes} provider(s) left)`))
      return
    }
    this.pump()
  }

  /**
   * Fails the wants that no provider can serve any more. `scan`: also look
   * for wants every live provider refused (after a refusal; each scan walks
   * every want).
   */
  private checkUnreachable (scan = true): void {
    if (!this.discoveryDone || this.opening.size > 0 || this.closed != null) return
    const live = [...this.lanes.values()].filter(l => l.dead == null)
    if (live.length === 0) {
      if (this.lanes.size === 0 && this.node.settings.bootstrap.length === 0 && (this.o.peers ?? []).length === 0) {
        this.failAll(new NoProvidersError(`${this.root.toString()} is not in the repo, and there is no peer to ask: add bootstrap peers (cairn config set bootstrap …), or pass --peer or --bootstrap`))
      } else if (this.lanes.size === 0 && this.unreachable.size > 0) {
        this.failAll(new PeerDialError(`cannot connect to ${[...this.unreachable].map(([id, why]) => `${id}: ${why}`).join('; ')}`))
      } else if (this.lanes.size === 0) {
        this.failAll(new NoProvidersError(`no provider of ${this.root.toString()} found`))
      } else {
        this.failAll(new FetchTimeoutError(`every provider of ${this.root.toString()} failed: ${[...this.lanes.values()].map(l => `${l.key.slice(-8)}: ${l.dead?.message ?? ''}`).join('; ')}`))
      }
      return
    }
    if (!scan) return
    for (const w of this.wants.values()) {
      if (w.done || w.failed != null || w.inFlight.size > 0) continue
      if (live.every(l => w.refusedBy.has(l.key))) {
        w.failed = new BlockNotFoundError(w.cid.toString(), `none of the ${live.length} provider(s) of ${this.root.toString()} has block ${w.cid.toString()}`)
        for (const x of w.waiters.splice(0)) x.reject(w.failed)
        this.awaited.delete(w)
      }
    }
  }

  private failAll (err: Error): void {
    if (this.closed != null) return
    this.closed = err
    this.close() // every pending wait fails with `err`
  }

  /** Stops the timer and closes every block stream; pending waits fail. */
  close (): void {
    this.closed ??= new AbortedError('fetch closed')
    this.unwatch()
    if (this.timer != null) clearInterval(this.timer)
    this.stop.abort()
    for (const lane of this.lanes.values()) {
      // block streams outlive the fetch: take back what it still asked for
      if (lane.dead == null) for (const f of lane.inFlight.values()) lane.asker.cancel(f.cid)
      lane.asker.close()
    }
    for (const w of this.wants.values()) for (const x of w.waiters.splice(0)) x.reject(this.closed)
    this.awaited.clear()
    this.fresh.clear()
    this.freshBytes = 0
  }
}

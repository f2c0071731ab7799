// The swarm scheduler: pulls a DAG from every provider at once. Once the
// root is known it walks the DAG ahead of the reader, queueing every missing
// block in reading order, and keeps a window of wants in flight on each
// provider, sized by that provider's measured rate and latency. Blocks are
// checked against their CIDs and written to the repo as they arrive, and
// held in memory until the reader takes them; what is in flight and what is
// held are bounded, and a busy reader sets the pace, so memory stays flat
// whatever the file size. A provider that refuses a block is skipped for
// it; one that stalls, sends wrong bytes or leaves loses its wants to the
// others. When nothing is left to ask for, idle providers are also asked
// for the oldest blocks still in flight elsewhere (endgame), and the other
// copies are cancelled when the first arrives.
//
// This class ties the parts together, each answering one question:
//   who has it          discovery.ts  (--peer, connected peers, the DHT)
//   whom to ask next    lane-set.ts, lane.ts, bitswap-lane.ts
//   what order          walker.ts, want-queue.ts
//   what is late        late.ts       (stalls, urgent copies, endgame)
//   what to keep        held.ts       (blocks held for the reader, pacing)
//   what to report      progress.ts, errors.ts
//
// Written here, not taken from Helia: its session path stalled on a leaf
// until a 300 s timeout and took ~97% of blocks from one of three seeders
// (STACK.md); bitswap's message pattern moved 17-32 MiB/s where a stream of
// our own moves several times that (docs/bench.md).

import { performance } from 'node:perf_hooks'
import { digestMatches, type Blocks } from '../../storage/blocks.ts'
import { ProtocolViolationError, type Answer } from '../net/block-protocol.ts'
import { AbortedError, BlockNotFoundError, errorMessage, toError } from '../util/errors.ts'
import { blockKey } from '../repo/dag.ts'
import { PeerFaultError, PeerStallError } from './errors.ts'
import { Discovery } from './discovery.ts'
import { LaneSet, MAX_TOTAL_IN_FLIGHT } from './lane-set.ts'
import { DagWalker, type StoredWant } from './walker.ts'
import { endgameFor, stallLimit, urgentCopies } from './late.ts'
import { HeldBlocks } from './held.ts'
import { Progress, dropReason, idleFailure, log, noneLeft, nobodyToAsk, type FetchProgress } from './progress.ts'
import type { Lane } from './lane.ts'
import type { CairnNode } from '../net/node.ts'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

export { NoProvidersError, FetchTimeoutError, PeerFaultError, PeerDialError, DagTooDeepError } from './errors.ts'
export { STALL_MS } from './late.ts'
export type { FetchProgress } from './progress.ts'

/** how often stalls, time-outs and urgent re-asks are checked */
const TICK_MS = 250
/** block size assumed before any has arrived (the default chunk) */
const FIRST_BLOCK_GUESS = 1024 * 1024

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

export interface SwarmOptions {
  /** multiaddrs to fetch from directly (--peer); no DHT lookup then */
  peers?: string[]
  /** give up when no block has arrived for this long */
  idleTimeoutMs: number
  signal?: AbortSignal
  onProgress?: (e: FetchProgress) => void
}

export class Swarm {
  private readonly lanes: LaneSet
  private readonly walk: DagWalker
  private readonly discovery: Discovery
  private readonly progress: Progress
  private readonly held = new HeldBlocks()
  private avgBlock = FIRST_BLOCK_GUESS
  /** a block every live provider refused, in a fetch open to more providers (no --peer): it waits for them */
  private stuckOn: StoredWant | null = null
  /** wants a reader waits for now: exactly those with waiters */
  private readonly awaited = new Set<StoredWant>()
  private started = false
  private closed: Error | null = null
  private lastProgress = performance.now()
  private timer: NodeJS.Timeout | null = null
  private readonly signal: AbortSignal
  private readonly stop = new AbortController()
  private readonly unwatch: () => void

  constructor (private readonly node: CairnNode, private readonly blocks: Blocks, private readonly root: CID, private readonly o: SwarmOptions) {
    this.signal = o.signal != null ? AbortSignal.any([o.signal, this.stop.signal]) : this.stop.signal
    this.progress = new Progress(o.onProgress)
    this.lanes = new LaneSet(node, this.signal)
    this.walk = new DagWalker(root, blocks, () => { this.pump() }, () => this.closed != null)
    this.discovery = new Discovery(node, root, o.peers ?? [], this.signal, {
      add: (id, named) => { this.addPeer(id, named) },
      count: () => this.lanes.count,
      served: () => this.lanes.served(),
      stuck: () => this.stuckOn != null && !this.stuckOn.done,
      refusedByAll: () => this.lanes.refusedByAll(),
      closed: () => this.closed != null,
      looked: n => { this.pump(); this.progress.providers(n) },
      done: () => {
        if (this.closed != null) return // the fetch ended while the DHT lookup ran
        this.progress.providers(this.lanes.count)
        this.checkUnreachable()
      }
    })
    // a peer banned for misbehaving (here or on bitswap) is asked nothing more
    this.unwatch = node.guard.onBan(e => {
      this.progress.banned(e.peer, e.offence)
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
    void this.discovery.start().catch(err => { this.failAll(err) })
  }

  private addPeer (id: PeerId, named: boolean): void {
    const key = id.toString()
    // a peer that said "don't have" before and is named by the DHT now has it since: ask it again
    if (named && this.lanes.get(key) != null) this.forgetRefusals(key)
    // one dropped for a stall, named again: it may have been paused, not gone
    if (named && this.lanes.mayReopen(key)) log('asking %s again after its stall', key)
    this.lanes.remember(id)
    if (this.lanes.has(key) || key === this.node.libp2p.peerId.toString() || this.closed != null || this.node.guard.isBanned(key)) return
    log('asking %s%s', key, named ? ' (named by the DHT)' : '')
    this.lanes.open(id, () => this.closed != null, lane => {
      if (lane != null) {
        this.progress.providers(this.lanes.count)
        this.pump()
      }
      this.checkUnreachable()
    })
  }

  /** Opens again the providers dropped for a stall (LaneSet.reopenable); whether any is. */
  private reopenStalled (): boolean {
    const ids = this.lanes.reopenable()
    for (const id of ids) {
      log('asking %s again after its stall', id.toString())
      this.addPeer(id, false)
    }
    return ids.length > 0
  }

  private forgetRefusals (key: string): void {
    for (const w of this.walk.wants.values()) w.refusedBy.delete(key)
  }

  /** The bytes of a block this fetch stored moments ago, if it still holds them (once). */
  takeFresh (cid: CID): Uint8Array | null {
    const bytes = this.held.take(blockKey(cid))
    if (bytes != null) this.pump() // room for another want
    return bytes
  }

  /** Whether this fetch stored `cid` itself, verified, moments ago. */
  stored (cid: CID): boolean { return this.walk.get(blockKey(cid))?.stored === true }

  /**
   * Whether `cid` is one this fetch found missing and has not stored yet:
   * looking for it on disk first would only fail (an open that throws,
   * through the thread pool, for nearly every block of a fetch).
   */
  fetching (cid: CID): boolean {
    const w = this.walk.get(blockKey(cid))
    return w != null && !w.stored && w.failed == null
  }

  /** One block, now: the reader waits for it. */
  async fetch (cid: CID): Promise<Uint8Array> {
    if (this.lanes.count === 0 && (this.o.peers ?? []).length === 0 && this.node.settings.bootstrap.length === 0 && this.node.libp2p.getConnections().length === 0) {
      throw nobodyToAsk(this.root, cid)
    }
    this.start()
    this.held.reading = true
    if (this.closed != null) throw this.closed
    const w = this.walk.wantOf(cid, null)
    if (w.failed != null) throw w.failed
    if (w.stored) return await this.blocks.getBytes(cid)
    const got = new Promise<Uint8Array>((resolve, reject) => w.waiters.push({ resolve, reject }))
    this.awaited.add(w)
    this.walk.queue.promote(w)
    if (!w.done && !w.queued && w.inFlight.size === 0) this.walk.queue.push(w)
    this.pump()
    this.checkUnreachable()
    return await got
  }

  /** Starts fetching everything under `cid` that the repo lacks, in reading order. */
  prefetch (cid: CID): void {
    this.start()
    void this.walk.expand([{ cid, path: null }]).catch(err => { this.failAll(err) })
  }

  /** Fills every lane's window: fastest lanes first, so they get the blocks the reader needs soonest. */
  private pump (): void {
    if (this.closed != null) return
    const now = performance.now()
    const queue = this.walk.queue
    const { lanes, share } = this.lanes.plan(now, queue.size)
    let total = this.lanes.inFlightBytes
    // a busy reader that waits for no block sets the pace
    const paced = this.held.reading && this.awaited.size === 0
    for (const lane of lanes) {
      while (lane.hasRoom(this.avgBlock) && lane.inFlight.size < share && total + this.avgBlock <= MAX_TOTAL_IN_FLIGHT) {
        const w = queue.take(x => !x.refusedBy.has(lane.key) && !x.inFlight.has(lane.key)) ??
          endgameFor(lane, this.lanes.values(), queue.size, k => this.walk.get(k), now)
        if (w == null) break
        if (paced && !w.urgent && this.held.tooFarAhead(total, this.avgBlock)) {
          // far enough ahead of the reader: it catches up first
          if (w.inFlight.size === 0) queue.push(w)
          return
        }
        this.send(lane, w)
        total += this.avgBlock
      }
    }
  }

  private send (lane: Lane, w: StoredWant): void {
    const sentAt = performance.now()
    w.inFlight.set(lane.key, sentAt)
    lane.track(w.key, { cid: w.cid, sentAt, bytesGuess: this.avgBlock })
    lane.asker.ask(w.cid).then(
      async a => { await this.answered(lane, w, a, sentAt) },
      err => {
        if (err instanceof ProtocolViolationError) {
          this.node.guard.report(lane.key, err.offence)
          this.dropLane(lane, err)
          return
        }
        // a request that timed out, a stream or connection lost: the peer may answer again later
        this.dropLane(lane, new PeerStallError(errorMessage(err)))
      }
    ).catch(err => { this.failAll(err) })
  }

  private async answered (lane: Lane, w: StoredWant, a: Answer, sentAt: number): Promise<void> {
    if (lane.dead != null || this.closed != null) return
    const now = performance.now()
    if (a.status === 'have') {
      if (!await this.arrived(lane, w, a.bytes, now, sentAt)) return
    } else if (a.status === 'dont-have') {
      lane.answered(now, sentAt, null, this.avgBlock)
      w.refusedBy.add(lane.key)
    } else {
      lane.answers++
      lane.lastAnswerAt = now
    }
    lane.untrack(w.key)
    w.inFlight.delete(lane.key)
    if (!w.done && w.inFlight.size === 0) this.walk.queue.push(w)
    this.checkUnreachable(a.status === 'dont-have')
    this.pump()
  }

  /** A block from `lane`: checked, stored, handed to its waiters and walked. False: the fetch or the lane ended. */
  private async arrived (lane: Lane, w: StoredWant, got: Uint8Array, now: number, sentAt: number): Promise<boolean> {
    // the block outlives this tick (stored, then held for the reader): keep
    // bytes that own their memory, so what was checked is what is read
    let bytes = ownBytes(got)
    let match: boolean
    if (w.done) {
      match = digestMatches(w.cid, bytes) // a late copy: checked (a lie is still a lie), not stored again
    } else {
      // hashed and written on the block writer's thread; a block from our
      // own stream is ours alone and moves there and back uncopied
      try {
        ({ match, bytes } = await this.blocks.putChecked(w.cid, bytes, lane.kind === 'cairn'))
      } catch (err) {
        this.failAll(toError(err))
        return false
      }
      if (this.closed != null) return false // a lane that died meanwhile still delivered a good block
    }
    if (!match) {
      // an honest cairn seed hashes every block it reads: wrong bytes are a lie (bitswap checks its own)
      if (lane.kind === 'cairn') this.node.guard.report(lane.key, 'wrong-block')
      this.dropLane(lane, new PeerFaultError(`sent bytes that do not match ${w.cid.toString()}`))
      return false
    }
    const n = bytes.byteLength
    lane.answered(now, sentAt, n, this.avgBlock)
    this.avgBlock = Math.round(this.avgBlock * 0.9 + n * 0.1)
    this.lastProgress = performance.now()
    if (w.done) {
      this.progress.duplicate(lane.key, n)
      return true
    }
    w.done = true
    this.discovery.served()
    for (const other of w.inFlight.keys()) if (other !== lane.key) this.lanes.get(other)?.asker.cancel(w.cid)
    this.progress.block(lane.key, n)
    try {
      // the download cap holds this lane's slot until the bytes are paid for
      await this.node.download.take(n, this.signal)
    } catch (err) {
      this.failAll(toError(err))
      return false
    }
    w.stored = true
    if (w.waiters.length === 0) this.held.offer(w.key, bytes)
    for (const x of w.waiters.splice(0)) x.resolve(bytes)
    this.awaited.delete(w)
    if (w.expand) void this.walk.arrived(w, bytes).catch(err => { this.failAll(err) })
    return true
  }

  /** A lane that failed: its wants go back in the queue for the others. */
  private dropLane (lane: Lane, err: Error): void {
    if (lane.dead != null) return
    lane.dead = err
    lane.asker.close(err)
    if (err instanceof PeerFaultError || this.closed == null) this.progress.dropped(lane.key, dropReason(err))
    log('dropped %s: %s', lane.key, dropReason(err))
    for (const key of lane.inFlight.keys()) {
      const w = this.walk.get(key)
      if (w == null) continue
      w.inFlight.delete(lane.key)
      if (!w.done && w.inFlight.size === 0) this.walk.queue.push(w)
    }
    lane.untrackAll()
    this.checkUnreachable()
    this.pump()
  }

  private tick (): void {
    if (this.closed != null) return
    const now = performance.now()
    const queue = this.walk.queue
    this.progress.lanes(this.lanes.values(), now, queue.size)
    const live = this.lanes.live()
    for (const lane of live) {
      const limit = stallLimit(lane, now, this.avgBlock)
      // the last provider is never dropped for slowness: the idle timeout decides then
      if (limit != null && live.some(l => l !== lane && l.dead == null)) {
        this.dropLane(lane, new PeerStallError(`answered nothing for ${Math.round(limit / 1000)} s`))
      }
    }
    // a block the reader waits for, stuck on one peer: ask another too
    for (const { lane, want } of urgentCopies(this.lanes.all(), k => this.walk.get(k), now)) this.send(lane, want)
    const waiting = queue.size > 0 || this.lanes.all().some(l => l.inFlight.size > 0) || this.awaited.size > 0
    if (!waiting) this.lastProgress = now
    else if (now - this.lastProgress > this.o.idleTimeoutMs) {
      this.failAll(idleFailure(this.root, this.o.idleTimeoutMs, this.lanes.served(), this.lanes.all(), this.lanes.unreachable, this.stuckOn?.done === false ? this.stuckOn.cid : null))
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
    if (!this.discovery.finished || this.lanes.pending > 0 || this.closed != null) return
    const live = this.lanes.live()
    if (live.length === 0) {
      // every provider stalled (a loaded machine pauses them all at times): ask them again first
      if (this.reopenStalled()) return
      const anyoneToAsk = this.lanes.size > 0 || this.node.settings.bootstrap.length > 0 || (this.o.peers ?? []).length > 0
      this.failAll(noneLeft(this.root, this.lanes.all(), this.lanes.unreachable, anyoneToAsk))
      return
    }
    if (!scan) return
    // with --peer the providers are known, and a block they all refused
    // fails at once; otherwise it waits for a peer that connects or that
    // the DHT names (looked for again now), up to the idle limit
    const known = (this.o.peers ?? []).length > 0
    for (const w of this.walk.wants.values()) {
      if (w.done || w.failed != null || w.inFlight.size > 0) continue
      if (!live.every(l => w.refusedBy.has(l.key))) continue
      // a provider that only stalled may have it: asked again before the block is given up
      if (this.reopenStalled()) return
      if (!known) {
        this.stuckOn = w
        this.discovery.stuck(w.cid)
        return
      }
      w.failed = new BlockNotFoundError(w.cid.toString(), `none of the ${live.length} provider(s) of ${this.root.toString()} has block ${w.cid.toString()}`)
      for (const x of w.waiters.splice(0)) x.reject(w.failed)
      this.awaited.delete(w)
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
    this.discovery.stop()
    if (this.timer != null) clearInterval(this.timer)
    this.stop.abort()
    for (const lane of this.lanes.values()) {
      // block streams outlive the fetch: take back what it still asked for
      if (lane.dead == null) for (const f of lane.inFlight.values()) lane.asker.cancel(f.cid)
      lane.asker.close()
    }
    this.lanes.close()
    for (const w of this.walk.wants.values()) for (const x of w.waiters.splice(0)) x.reject(this.closed)
    this.awaited.clear()
    this.held.clear()
  }
}

// The sweep provider (Kubo 0.39's is the model): announcements sweep the
// keyspace instead of looking up each CID. The round's CIDs are sorted by
// their DHT key and cut into regions (keyspace.ts) that hold about K peers
// each; each region costs one closest-peers lookup, after which every CID
// of the region goes to those peers, one stream per peer (sweep-wire.ts).
// A region is due at roundStart + its keyspace position × interval, so a
// round is spread over `provide.interval`; a catch-up round (the first in a
// repo, or after a missed round) sweeps every region at once. The schedule
// (where the round is) is saved after every region, so a restart resumes the
// round (storage/provide-schedule.ts). Fresh content rides the same
// mechanism at once: its CIDs are grouped by region and sent to the peers of
// the region's latest lookup (or a new one). Announcing yields to
// transfers: before each chunk of records it waits while blocks are being
// served or fetched, up to YIELD_MAX_MS, so a fetch right after an add
// does not share the seeds' CPU with their announcements.

import { setTimeout as sleep } from 'node:timers/promises'
import { compareKeys, estimateNetworkSize, groupByRegion, lowerBound, position, prefixOf, regionDepth, regionStart, type Region } from './keyspace.ts'
import { classify, dhtKey, ProvideFailure, type FailureReason } from './sweep-wire.ts'
import { RoundCids, type CidList } from './round-cids.ts'
import { emptyStat, recordFailure, type ProvideStat } from './provide-report.ts'
import type { ProvideSchedule } from '../../storage/provide-schedule.ts'
import type { CID } from 'multiformats/cid'
import { errorMessage } from '../util/errors.ts'

/** kad-dht's replication factor (bucket size): peers a record goes to, peers a region should hold */
export const K = 20
/** records per chunk: between chunks the sweeper checks for transfers */
export const SEND_CHUNK = 1024
/** a transfer within this long counts as running */
export const QUIET_MS = 1_000
/** the longest announcing waits for transfers in one go: a seed serving all day still announces, a chunk at a time */
export const YIELD_MAX_MS = 60_000
/** a region's peers are reused for fresh content for this long */
export const REGION_PEERS_TTL_MS = 10 * 60_000
/** fresh CIDs are gathered this long before their lookups, so one add costs one lookup per region */
export const FRESH_DELAY_MS = 100
/**
 * a fresh add's other CIDs wait this much longer: a fetch that starts the
 * moment the add returns (its root is announced by then) begins before
 * them, and they then yield to it (add-then-fetch bench: sent at once, the
 * first 1,539 records reached the fetcher and the seeds as it started)
 */
export const FRESH_REST_DELAY_MS = 2_000
/** a round's region whose lookup failed is tried again after this, doubling up to RETRY_MAX_MS */
export const RETRY_FIRST_MS = 15_000
export const RETRY_MAX_MS = 10 * 60_000
/** network size estimates kept (the depth follows their median) */
const ESTIMATES = 5

export interface Peer { toString: () => string }

/** What the sweeper needs from the network (sweep-wire.ts; a fake in unit tests). */
export interface Wire<P extends Peer = Peer> {
  lookup: (cid: CID, signal?: AbortSignal) => Promise<P[]>
  send: (peer: P, cids: readonly CID[], signal?: AbortSignal) => Promise<void>
  /** the region is done with this peer (its stream may close) */
  release?: (peer: P) => void
  peerKey: (peer: P) => Uint8Array
}

export interface ScheduleStore {
  load: () => Promise<ProvideSchedule | null>
  save: (s: ProvideSchedule) => Promise<void>
}

export interface SweeperOptions<P extends Peer> {
  wire: Wire<P>
  store: ScheduleStore
  /** the CIDs the strategy names, listed at the start of each round */
  targets: (signal: AbortSignal) => AsyncIterable<CID>
  strategy: ProvideStat['strategy']
  intervalMs: number
  /** when a block was last served or fetched (ms since the epoch) */
  lastTransferAt?: () => number
}

/** The prefix after `p` at its depth, or null after the last. */
export function nextPrefix (p: string): string | null {
  const i = p.lastIndexOf('0')
  if (i < 0) return null
  return p.slice(0, i) + '1' + '0'.repeat(p.length - i - 1)
}

export class Sweeper<P extends Peer = Peer> {
  readonly stat: ProvideStat
  /** told when a round ends */
  onRound: ((s: ProvideStat) => void) | undefined
  private schedule: ProvideSchedule | null = null
  /** the round's CIDs, sorted by key and packed (round-cids.ts) */
  private round = RoundCids.empty()
  private readonly estimates: number[] = []
  private readonly regionPeers = new Map<string, { peers: P[], at: number }>()
  private readonly pending: { urgent: CID[], normal: CID[] } = { urgent: [], normal: [] }
  private flushing: Promise<void> | null = null
  private readonly stopper = new AbortController()
  private loop: Promise<void> | null = null
  private wakeUp: (() => void) | null = null
  private retryMs = RETRY_FIRST_MS

  constructor (private readonly o: SweeperOptions<P>) {
    this.stat = emptyStat(o.strategy, Math.round(o.intervalMs / 1000))
  }

  start (): void {
    this.loop ??= this.run().catch(() => {})
  }

  async stop (): Promise<void> {
    this.stopper.abort()
    this.wakeUp?.()
    await this.loop
    await this.flushing
    // what this seed knew about is announced or in the schedule up to now
    await this.save()
  }

  /** Resolves when the round under way (or the next) has ended: tests and benches wait on it. */
  async roundEnded (signal?: AbortSignal): Promise<ProvideStat> {
    const before = this.stat.lastRound?.endedAt
    while (this.stat.lastRound?.endedAt === before) {
      signal?.throwIfAborted()
      if (this.stopper.signal.aborted) throw new ProvideFailure('error', 'the provider stopped')
      await sleep(50, undefined, { signal })
    }
    return this.stat
  }

  // ---- the round ----

  private async run (): Promise<void> {
    const signal = this.stopper.signal
    this.schedule = await this.o.store.load() ?? { roundStartedAt: Date.now(), cursor: '', catchUp: true, depth: 0, lastSweepAt: null, lastRound: null, lookups: 0 }
    const s = this.schedule
    Object.assign(this.stat, { depth: s.depth, lastRound: s.lastRound, lastSweepAt: s.lastSweepAt })
    await this.loadRound(signal)
    while (!signal.aborted) {
      if (s.cursor == null) {
        // the round is done: the next starts one interval after this one did
        let next = s.roundStartedAt + this.o.intervalMs
        const catchUp = Date.now() > next + this.o.intervalMs
        if (catchUp) next = Date.now()
        // a round that took longer than the interval: the next starts now, not in the past
        this.stat.nextSweepAt = Math.max(next, Date.now())
        if (Date.now() < next) { await this.wait(next - Date.now()); continue }
        Object.assign(s, { roundStartedAt: Date.now(), cursor: '', catchUp, lookups: 0 })
        await this.loadRound(signal)
        await this.save()
        continue
      }
      const region = this.regionAt(s.cursor)
      if (region == null) { await this.endRound(s); continue }
      const due = s.catchUp ? 0 : s.roundStartedAt + position(region.prefix) * this.o.intervalMs
      this.stat.nextSweepAt = Math.max(due, Date.now())
      if (Date.now() < due) { await this.wait(due - Date.now()); continue }
      // decoded a chunk at a time: at depth 0 a region is every CID of the round
      const cids = this.round.region(region.start, region.end)
      const r = await this.sweepRegion(region.prefix, cids, { signal, fresh: false })
      if (signal.aborted) break
      // the lookup showed a larger network: this region is cut finer first
      if (r.redo) continue
      // no lookup, no peers: the region is tried again, later (a seed that
      // just started may know nobody yet; a lone one tries every 10 min)
      if (r.lookupFailed === true) {
        this.stat.nextSweepAt = Date.now() + this.retryMs
        await this.wait(this.retryMs)
        this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS)
        continue
      }
      this.retryMs = RETRY_FIRST_MS
      s.cursor = nextPrefix(region.prefix)
      s.lastSweepAt = this.stat.lastSweepAt = Date.now()
      if (s.cursor == null) { await this.endRound(s); continue }
      this.stat.round = this.roundStat()
      await this.save()
    }
  }

  /** Lists the strategy's CIDs for the round, sorted by DHT key. */
  private async loadRound (signal: AbortSignal): Promise<void> {
    // the last round's lists go before this one's are made: a seed holds one round, not two
    this.round = RoundCids.empty()
    this.round = await RoundCids.collect(this.o.targets(signal))
    this.countRegions()
    this.stat.round = this.roundStat()
  }

  private countRegions (): void {
    const depth = this.schedule?.depth ?? 0
    this.stat.cids = this.round.length
    this.stat.depth = depth
    this.stat.regions = groupByRegion(this.round.keys, depth).length
  }

  /** The region at the current depth holding the first key at or after `cursor`'s start, clipped to start there. */
  private regionAt (cursor: string): Region | null {
    const depth = this.schedule?.depth ?? 0
    const keys = this.round.keys
    const start = lowerBound(keys, regionStart(cursor))
    if (start >= keys.length) return null
    const prefix = prefixOf(keys[start], depth)
    let end = start
    while (end < keys.length && prefixOf(keys[end], depth) === prefix) end++
    return { prefix, start, end }
  }

  private async endRound (s: ProvideSchedule): Promise<void> {
    const endedAt = Date.now()
    s.lastRound = { endedAt, ms: endedAt - s.roundStartedAt, lookups: s.lookups, regions: this.stat.regions, cids: this.round.length }
    s.cursor = null
    this.stat.lastRound = s.lastRound
    this.stat.round = null
    await this.save()
    this.onRound?.(this.stat)
  }

  private roundStat (): ProvideStat['round'] {
    const s = this.schedule
    if (s == null || s.cursor == null) return null
    return { startedAt: s.roundStartedAt, progress: position(s.cursor), lookups: s.lookups, catchUp: s.catchUp }
  }

  private async save (): Promise<void> {
    if (this.schedule == null) return
    this.schedule.seenUntil = Date.now()
    await this.o.store.save(this.schedule).catch(() => {})
  }

  /** Sleeps up to `ms`, or until woken (fresh content, stop). */
  private async wait (ms: number): Promise<void> {
    await new Promise<void>(resolve => {
      const t = setTimeout(resolve, ms)
      t.unref()
      this.wakeUp = () => { clearTimeout(t); resolve() }
    })
    this.wakeUp = null
  }

  // ---- one region ----

  /**
   * One lookup for the region (or its peers from a recent one, for fresh
   * content), then its CIDs to every peer found, a chunk at a time.
   * Returns the peers that took every record.
   */
  async sweepRegion (prefix: string, cids: CidList, o: { signal: AbortSignal, fresh: boolean, urgent?: boolean }): Promise<{ delivered: number, failures: Array<{ reason: FailureReason, message: string }>, redo?: boolean, lookupFailed?: boolean }> {
    const failures: Array<{ reason: FailureReason, message: string }> = []
    const fail = (reason: FailureReason, message: string, n: number, peer?: string): void => {
      failures.push({ reason, message })
      recordFailure(this.stat, { at: Date.now(), reason, region: prefix, cids: n, peer, message })
    }
    let peers: P[]
    const cached = this.regionPeers.get(prefix)
    if (o.fresh && cached != null && Date.now() - cached.at < REGION_PEERS_TTL_MS) {
      peers = cached.peers
    } else {
      const depth = this.schedule?.depth ?? 0
      try {
        const middle = cids.length >> 1
        peers = await this.lookup(cids.slice(middle, middle + 1)[0], o.signal, o.fresh)
      } catch (err) {
        if (o.signal.aborted) return { delivered: 0, failures }
        fail(classify(err), errorMessage(err), cids.length)
        return { delivered: 0, failures, lookupFailed: true }
      }
      // a round's region cut too coarse for the network just measured is
      // cut again (only finer: a coarser depth takes effect at the next one,
      // so the depth cannot swing back and forth on one region)
      if (!o.fresh && (this.schedule?.depth ?? 0) > depth) return { delivered: 0, failures, redo: true }
      this.regionPeers.set(prefix, { peers, at: Date.now() })
    }
    const ok = new Set(peers)
    for (let i = 0; i < cids.length && ok.size > 0; i += SEND_CHUNK) {
      if (o.urgent !== true) await this.yieldToTransfers(o.signal)
      if (o.signal.aborted) break
      const chunk = cids.slice(i, i + SEND_CHUNK)
      // one stream per peer for the whole region: chunks after the first
      // need no new negotiation with a peer still busy storing the last
      await Promise.all([...ok].map(async peer => {
        try {
          await this.o.wire.send(peer, chunk, o.signal)
          this.stat.records += chunk.length
        } catch (err) {
          if (o.signal.aborted) return
          ok.delete(peer)
          fail(classify(err), errorMessage(err), cids.length - i, peer.toString())
        }
      }))
    }
    for (const peer of peers) this.o.wire.release?.(peer)
    return { delivered: ok.size, failures }
  }

  private async lookup (cid: CID, signal: AbortSignal, fresh: boolean): Promise<P[]> {
    // a lookup cut short by stop() is not counted (the restart makes it again)
    const count = (): void => {
      this.stat.lookups++
      if (!fresh && this.schedule != null) this.schedule.lookups++
    }
    let peers: P[]
    try {
      peers = await this.o.wire.lookup(cid, signal)
    } catch (err) {
      if (!signal.aborted) count()
      throw err
    }
    count()
    // the network's size from the distances found: the depth follows it
    this.estimates.push(estimateNetworkSize(dhtKey(cid), peers.map(p => this.o.wire.peerKey(p))))
    if (this.estimates.length > ESTIMATES) this.estimates.shift()
    const median = [...this.estimates].sort((a, b) => a - b)[this.estimates.length >> 1]
    const depth = regionDepth(median, K)
    if (this.schedule != null && depth !== this.schedule.depth) {
      this.schedule.depth = depth
      this.regionPeers.clear()
      this.countRegions()
    }
    return peers
  }

  /** Waits while blocks are being served or fetched, up to YIELD_MAX_MS. */
  private async yieldToTransfers (signal: AbortSignal): Promise<void> {
    const last = this.o.lastTransferAt
    if (last == null) return
    const t0 = Date.now()
    while (Date.now() - last() < QUIET_MS && Date.now() - t0 < YIELD_MAX_MS && !signal.aborted) {
      await sleep(QUIET_MS / 4, undefined, { signal }).catch(() => {})
    }
    this.stat.yieldedMs += Date.now() - t0
  }

  // ---- fresh content ----

  /**
   * Announces CIDs at once (a fresh add): gathered for FRESH_DELAY_MS, then
   * one lookup per region they fall in (none if the region's peers are
   * recent). `urgent` ones (roots: what fetchers look up) go first and do
   * not yield to transfers; the rest follow FRESH_REST_DELAY_MS later.
   */
  announce (cids: readonly CID[], urgent = false): void {
    if (this.stopper.signal.aborted) return
    ;(urgent ? this.pending.urgent : this.pending.normal).push(...cids)
    this.stat.pending += cids.length
    this.flushing ??= (async () => {
      try {
        await sleep(FRESH_DELAY_MS, undefined, { signal: this.stopper.signal }).catch(() => {})
        while (!this.stopper.signal.aborted && this.stat.pending > 0) {
          const urgentNow = this.pending.urgent.length > 0
          if (!urgentNow) await sleep(FRESH_REST_DELAY_MS, undefined, { signal: this.stopper.signal }).catch(() => {})
          if (this.stopper.signal.aborted) break
          const batch = urgentNow ? this.pending.urgent.splice(0) : this.pending.normal.splice(0)
          // pending counts the batch under way too: "nothing waiting" means announced
          await this.announceNow(batch, { urgent: urgentNow })
          this.stat.pending = this.pending.urgent.length + this.pending.normal.length
        }
      } finally {
        this.flushing = null
      }
    })()
  }

  /** Announces CIDs now, region by region; the failures say why any peer missed them. */
  async announceNow (cids: readonly CID[], o: { urgent?: boolean, signal?: AbortSignal } = {}): Promise<{ delivered: number, failures: Array<{ reason: FailureReason, message: string }> }> {
    const signal = o.signal == null ? this.stopper.signal : AbortSignal.any([o.signal, this.stopper.signal])
    const entries = cids.map(cid => ({ key: dhtKey(cid), cid })).sort((a, b) => compareKeys(a.key, b.key))
    const depth = this.schedule?.depth ?? 0
    let delivered = Infinity
    const failures: Array<{ reason: FailureReason, message: string }> = []
    for (const r of groupByRegion(entries.map(e => e.key), depth)) {
      const part = entries.slice(r.start, r.end).map(e => e.cid)
      const res = await this.sweepRegion(r.prefix, part, { signal, fresh: true, urgent: o.urgent })
      delivered = Math.min(delivered, res.delivered)
      failures.push(...res.failures)
      if (res.delivered > 0) this.stat.fresh += part.length
    }
    return { delivered: delivered === Infinity ? 0 : delivered, failures }
  }
}

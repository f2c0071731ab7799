// Announcing content in the DHT: everything the strategy names on start, then
// again every `provide.interval` while seeding, and new DAGs at once.
// Strategies as in Kubo: all (every block), pinned (every block of pinned
// DAGs), roots (pinned roots only). Provides run in batches of PROVIDE_BATCH
// at once, each bounded in time, so many CIDs neither cost one lookup after
// another nor pile up unbounded.

import { walkDag } from '../dag.ts'
import type { CairnNode } from './node.ts'
import type { CID } from 'multiformats/cid'

/** provides in flight at once */
export const PROVIDE_BATCH = 16
/** one provide's time limit */
export const PROVIDE_TIMEOUT_MS = 30_000

export type ProvideStrategy = 'all' | 'pinned' | 'roots'

export interface ProvideStats {
  /** CIDs announced in the last round */
  provided: number
  failed: number
  /** when the last round ended (ms since the epoch), or null */
  lastRound: number | null
  /** how long it took, ms */
  lastRoundMs: number | null
  running: boolean
  /** announcements under way now (rounds and freshly added DAGs) */
  announcing: number
}

export class Provider {
  private timer: NodeJS.Timeout | null = null
  private round: Promise<void> | null = null
  readonly stats: ProvideStats = { provided: 0, failed: 0, lastRound: null, lastRoundMs: null, running: false, announcing: 0 }
  /** told when a round ends */
  onRound: ((s: ProvideStats) => void) | undefined

  constructor (private readonly node: CairnNode, private readonly strategy: ProvideStrategy, private readonly intervalMs: number) {}

  /** The CIDs the strategy names, from the repo. */
  async * targets (signal?: AbortSignal): AsyncGenerator<CID> {
    const repo = this.node.repo
    if (this.strategy === 'all') {
      for await (const { cid } of repo.blocks.list()) yield cid
      return
    }
    const seen = new Set<string>()
    for await (const pin of repo.pins.ls()) {
      if (this.strategy === 'roots') {
        yield pin.cid
        continue
      }
      const found: CID[] = []
      await walkDag(repo.blocks, pin.cid, { signal, allowMissing: true, onBlock: cid => { found.push(cid) } }, seen)
      yield * found
    }
  }

  /** Announces the given CIDs, PROVIDE_BATCH at a time. */
  async provideMany (cids: AsyncIterable<CID> | Iterable<CID>, signal?: AbortSignal): Promise<{ provided: number, failed: number }> {
    let provided = 0
    let failed = 0
    const inflight = new Set<Promise<void>>()
    for await (const cid of cids) {
      signal?.throwIfAborted()
      this.stats.announcing++
      const p = this.node.libp2p.contentRouting.provide(cid, { signal: anySignal(signal, PROVIDE_TIMEOUT_MS) })
        .then(() => { provided++ }, () => { failed++ })
        .finally(() => { inflight.delete(p); this.stats.announcing-- })
      inflight.add(p)
      if (inflight.size >= PROVIDE_BATCH) await Promise.race(inflight)
    }
    await Promise.all(inflight)
    return { provided, failed }
  }

  /** One full round over the strategy's targets; overlapping calls share it. */
  async provideAll (signal?: AbortSignal): Promise<void> {
    this.round ??= (async () => {
      const t0 = Date.now()
      this.stats.running = true
      try {
        const r = await this.provideMany(this.targets(signal), signal)
        Object.assign(this.stats, r, { lastRound: Date.now(), lastRoundMs: Date.now() - t0 })
        this.onRound?.(this.stats)
      } finally {
        this.stats.running = false
        this.round = null
      }
    })()
    await this.round
  }

  /** Announces a DAG just added, as the strategy would. */
  async provideDag (root: CID, signal?: AbortSignal): Promise<{ provided: number, failed: number }> {
    if (this.strategy === 'roots') return await this.provideMany([root], signal)
    const cids: CID[] = []
    await walkDag(this.node.repo.blocks, root, { signal, allowMissing: true, onBlock: cid => { cids.push(cid) } })
    return await this.provideMany(cids, signal)
  }

  start (): void {
    void this.provideAll().catch(() => {})
    this.timer = setInterval(() => { void this.provideAll().catch(() => {}) }, this.intervalMs)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer != null) clearInterval(this.timer)
  }
}

function anySignal (signal: AbortSignal | undefined, ms: number): AbortSignal {
  const t = AbortSignal.timeout(ms)
  return signal == null ? t : AbortSignal.any([signal, t])
}

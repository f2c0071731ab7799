// The sweep bench's work inside a swarm process (dht-worker.ts): one full
// round of the sweep provider over a node's repo, and the batch provider it
// replaced (one kad-dht provide per CID, PROVIDE_BATCH at once, each with
// its own lookup: core/net/provider.ts before the sweep) over a sample of
// the same CIDs, so both are timed in the same swarm.

import { performance } from 'node:perf_hooks'
import { peerKey, SweepWire } from '../../core/net/sweep-wire.ts'
import { Sweeper } from '../../core/net/sweeper.ts'
import type { CairnNode } from '../../core/net/node.ts'
import type { ProvideSchedule } from '../../storage/provide-schedule.ts'
import type { CID } from 'multiformats/cid'
import type { PeerId } from '@libp2p/interface'

/** the old provider's provides in flight at once, and each one's time limit */
const PROVIDE_BATCH = 16
const PROVIDE_TIMEOUT_MS = 30_000
/** one round may take this long before the bench gives up */
const ROUND_TIMEOUT_MS = 15 * 60_000
/** a 22 h interval, as the default: the measured round is the first one, a catch-up round (all regions at once) */
const INTERVAL_MS = 22 * 3600_000

export async function sweepRound (node: CairnNode): Promise<unknown> {
  let saved: ProvideSchedule | null = null
  const sweeper = new Sweeper<PeerId>({
    wire: Object.assign(new SweepWire(node.libp2p, node.libp2p.services.dht), { peerKey }),
    store: { load: async () => saved, save: async s => { saved = s } },
    targets: async function * () { for await (const { cid } of node.repo.blocks.list()) yield cid },
    strategy: 'all',
    intervalMs: INTERVAL_MS,
    lastTransferAt: () => Math.max(node.upload.lastUse, node.download.lastUse)
  })
  const t0 = performance.now()
  sweeper.start()
  try {
    const s = await sweeper.roundEnded(AbortSignal.timeout(ROUND_TIMEOUT_MS))
    return { ms: performance.now() - t0, roundMs: s.lastRound?.ms, lookups: s.lastRound?.lookups, regions: s.lastRound?.regions, cids: s.lastRound?.cids, depth: s.depth, records: s.records, failures: s.failures, recent: s.recentFailures }
  } finally {
    await sweeper.stop()
  }
}

export async function batchProvide (node: CairnNode, count: number): Promise<{ ms: number, provided: number, failed: number }> {
  const cids: CID[] = []
  for await (const { cid } of node.repo.blocks.list()) {
    cids.push(cid)
    if (cids.length >= count) break
  }
  let provided = 0
  let failed = 0
  const inflight = new Set<Promise<void>>()
  const t0 = performance.now()
  for (const cid of cids) {
    const p = node.libp2p.contentRouting.provide(cid, { signal: AbortSignal.timeout(PROVIDE_TIMEOUT_MS) })
      .then(() => { provided++ }, () => { failed++ })
      .finally(() => { inflight.delete(p) })
    inflight.add(p)
    if (inflight.size >= PROVIDE_BATCH) await Promise.race(inflight)
  }
  await Promise.all(inflight)
  return { ms: performance.now() - t0, provided, failed }
}

// Anchor sync figure for `npm run bench`: a 10,000-block chain on the
// `test` network (built here by the test miner, one signed manifest every
// 100 blocks, written into a repo's chain folder) served by one `cairn seed`
// process and synced from scratch by another over 127.0.0.1. Timed from the
// connect call to the fresh node's head being the server's (polled through
// its API every POLL_MS), so seed start-up is not in the figure. Goal ≤ 10 s.
//
//   node dist/test/bench/sync.js        runs this part alone
//   BENCH_SYNC_BLOCKS=10000

import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { tempDir } from '../helpers.ts'
import { buildChain, configured } from '../integration/chain-fixture.ts'
import { apiCall, startSeed, type SeedProcess } from '../integration/seeds.ts'
import { printTable, type Row } from './table.ts'

const BLOCKS = Number(process.env.BENCH_SYNC_BLOCKS ?? 10_000)
/** one block in this many carries a signed manifest */
const MANIFEST_EVERY = 100
/** the fresh node's head is looked at this often */
const POLL_MS = 50
/** the sync must end by then, whatever the box */
const SYNC_TIMEOUT_MS = 300_000

export async function syncFigures (): Promise<Row[]> {
  const { dir, cleanup } = await tempDir('cairn-bench-sync-')
  const seeds: SeedProcess[] = []
  try {
    const server = path.join(dir, 'server')
    const fresh = path.join(dir, 'fresh')
    await configured(server)
    await configured(fresh)
    const b0 = performance.now()
    const head = await buildChain(server, BLOCKS, MANIFEST_EVERY)
    const buildS = (performance.now() - b0) / 1000
    const s = await startSeed(server, { args: ['--no-tui'], readyTimeoutMs: 120_000 })
    seeds.push(s)
    const f = await startSeed(fresh, { args: ['--no-tui'], readyTimeoutMs: 120_000 })
    seeds.push(f)
    const t0 = performance.now()
    await apiCall(fresh, 'connect', { address: s.addrs[0] })
    let height = 0
    while (true) {
      const c = await apiCall(fresh, 'chain') as { head: string, height: number }
      height = c.height
      if (c.head === head) break
      if (performance.now() - t0 > SYNC_TIMEOUT_MS) throw new Error(`sync not done within ${SYNC_TIMEOUT_MS} ms (at height ${height})`)
      await new Promise(resolve => setTimeout(resolve, POLL_MS))
    }
    const seconds = (performance.now() - t0) / 1000
    return [{
      what: `anchor sync: ${BLOCKS} blocks (${Math.floor(BLOCKS / MANIFEST_EVERY)} manifests) from scratch, 2 seeds over 127.0.0.1`,
      figure: `${seconds.toFixed(2)} s`,
      baseline: '-',
      ratio: `${Math.round(height / seconds)} blocks/s`,
      note: `goal ≤ 10 s; ${height} blocks; the server's chain built in ${buildS.toFixed(1)} s (a load gauge)`
    }]
  } finally {
    await Promise.all(seeds.map(async s => await s.stop()))
    await cleanup()
  }
}

// run alone: node dist/test/bench/sync.js
if (process.argv[1]?.endsWith('sync.js') === true) printTable(await syncFigures())

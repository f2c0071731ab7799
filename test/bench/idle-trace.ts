// The idle swarm's CPU over time, with no records at all: a swarm of
// BENCH_IDLE_PROCS (20) processes (the DHT bench's workers, one node each),
// sampled every 10 s for BENCH_IDLE_S (480) seconds after start. The sweep
// bench samples "idle before" ~80 s after start and "idle after" minutes
// later; this shows what the swarm does at those times by itself
// (kad-dht's self-queries every 60 s, its routing table refresh 5 min
// after start, connection churn).
//
//   node dist/test/bench/idle-trace.js

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { startSwarm, waitForTables, type Worker } from './dht.ts'
import { idleCores, idleLine } from './sweep.ts'

const PROCS = Number(process.env.BENCH_IDLE_PROCS ?? 20)
const SECONDS = Number(process.env.BENCH_IDLE_S ?? 480)

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-idle-'))
const workers: Worker[] = []
try {
  const t0 = performance.now()
  const swarm = await startSwarm(PROCS, path.join(dir, 'swarm'), workers)
  const up = performance.now()
  const tables = await waitForTables(swarm, s => console.log(s))
  console.log(`${PROCS} processes up in ${((up - t0) / 1000).toFixed(0)} s; tables ${tables.sizes.join(' ')} after ${(tables.ms / 1000).toFixed(0)} s`)
  while (performance.now() - up < SECONDS * 1000) {
    const at = (performance.now() - up) / 1000
    console.log(`  ${at.toFixed(0).padStart(4)} s after start: ${idleLine(await idleCores(workers), 'the last process')}; load ${os.loadavg()[0].toFixed(1)}`)
  }
} finally {
  await Promise.allSettled(workers.map(async w => { await w.close() }))
  fs.rmSync(dir, { recursive: true, force: true })
}

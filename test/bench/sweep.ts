// The sweep provider at scale, for `npm run bench` (BENCH_ONLY=sweep): one
// seed holds BENCH_SWEEP_CIDS (100,000) CIDs, imported with `cairn car
// import` from a generated CAR of small raw blocks, in a swarm of
// BENCH_SWEEP_PROCS (20) processes on 127.0.0.1 (the DHT bench's workers:
// dht-worker.ts, one node each, the seed one of them). Once the routing
// tables have settled:
//   - idle CPU of the swarm (all processes, in cores) before announcing,
//     and again holding the records, settled after the round: the goal's
//     pair, each the median of IDLE_SAMPLES samples of IDLE_SAMPLE_MS;
//   - one full sweep round of the seed's CIDs: time, lookups, regions,
//     records delivered, failures by reason; the seed's peak RSS;
//   - the batch provider it replaced, over BENCH_SWEEP_BATCH (500) of the
//     same CIDs in the same swarm, its time scaled to all the CIDs;
//   - a fresh node (a new process) looks up BENCH_SWEEP_FINDS (200) random
//     CIDs of the seed's: how many it finds within FIND_TIMEOUT_MS each;
//   - idle CPU of the swarm just after the round, and again after the
//     batch sample and the finds, beside the goal (each process's share, and connections
//     opened and closed while sampled: churn is what raises it);
//   - the seed's and a receiver's memory during the round (RSS, V8 heap,
//     external), polled.
//
//   node dist/test/bench/sweep.js   runs this part alone
//   BENCH_SWEEP_TRACE=n     n more idle samples after the round and after the fresh node stops
//   BENCH_SWEEP_PROFILE=dir CPU profiles of three processes during each idle sample

import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { CarWriter } from '@ipld/car'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { Repo } from '../../storage/repo.ts'
import { DEFAULT_CONFIG } from '../../storage/config.ts'
import { networkSettings } from '../../core/net/network.ts'
import { startSwarm, waitForTables, Worker, withTimeout, type Swarm } from './dht.ts'
import { rssOf, timedCairn } from './processes.ts'
import { printTable, type Row } from './table.ts'

const CIDS = Number(process.env.BENCH_SWEEP_CIDS ?? 100_000)
const PROCS = Number(process.env.BENCH_SWEEP_PROCS ?? 20)
const BATCH = Number(process.env.BENCH_SWEEP_BATCH ?? 500)
const FINDS = Number(process.env.BENCH_SWEEP_FINDS ?? 200)
/** a lookup that found the seed by then counts as found (a lookup took 5 s at the median under load 54) */
const FIND_TIMEOUT_MS = 30_000
/** lookups of the fresh node at once */
const FIND_PARALLEL = 8
/** the swarm counts as idle this long after it started (past every node's second self-query, core/net/network.ts) */
const SETTLE_MS = (networkSettings(DEFAULT_CONFIG).querySelfInterval ?? 60_000) + 10_000
/** the seed's memory is read this often during the round */
const MEMORY_POLL_MS = 1_000
/** idle CPU is sampled this long */
const IDLE_SAMPLE_MS = 10_000
/** idle figures with a goal are the median of this many samples in a row: one sample carried a major collection or a table refresh by chance (a process's 10 s ranged 0.4-3.3% in one quiet run) */
const IDLE_SAMPLES = 3
/** the receivers still store the round's last batches just after it: the settled figure starts this long after */
const ROUND_SETTLE_MS = 20_000
/** the round, the batch sample and the CAR import each get this long */
const STEP_TIMEOUT_MS = 15 * 60_000
/** goals from the issue */
const GOAL_SPEEDUP = 10
const GOAL_FOUND = 0.99
const GOAL_RSS_MIB = 300

const load = (): string => os.loadavg()[0].toFixed(1)
/** BENCH_SWEEP_TRACE=n: n more idle samples after the round, and after the fresh node has stopped: where the idle CPU goes, and when */
const TRACE = Number(process.env.BENCH_SWEEP_TRACE ?? 0)
/** BENCH_SWEEP_PROFILE=<dir>: CPU profiles of the seed and two swarm processes during each idle sample */
const PROFILE_DIR = process.env.BENCH_SWEEP_PROFILE

/** A CAR of `n` distinct raw blocks of 64 bytes; the first is its root. Returns the CIDs. */
async function makeCar (file: string, n: number): Promise<CID[]> {
  const blocks: Array<{ cid: CID, bytes: Uint8Array }> = []
  const salt = randomBytes(16)
  for (let i = 0; i < n; i++) {
    const bytes = new Uint8Array(64)
    bytes.set(salt)
    new DataView(bytes.buffer).setUint32(16, i)
    blocks.push({ cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes })
  }
  const { writer, out } = CarWriter.create([blocks[0].cid])
  const sink = fs.createWriteStream(file)
  const piped = (async () => { for await (const chunk of out) if (!sink.write(chunk)) await new Promise<void>(resolve => sink.once('drain', () => { resolve() })) })()
  for (const b of blocks) await writer.put(b)
  await writer.close()
  await piped
  await new Promise<void>((resolve, reject) => sink.end((err?: Error | null) => err != null ? reject(err) : resolve()))
  return blocks.map(b => b.cid)
}

export interface Usage { cpuMs: number, heapMiB: number, heapTotalMiB: number, externalMiB: number, rssMiB: number, connections: number, opened: number, openedInbound: number, closed: number, closedDuplicate: number, closedYoung: number }

/** The swarm's CPU use over IDLE_SAMPLE_MS, in cores, per process too; heaps, connections and their churn. */
export interface Idle { cores: number, perProc: number[], heapMiB: number[], connections: number, opened: number, openedInbound: number, closed: number, closedDuplicate: number, closedYoung: number }

export async function idleCores (workers: Worker[], profile?: { dir: string, label: string }): Promise<Idle> {
  const usage = async (): Promise<Usage[]> => await Promise.all(workers.map(async w => await w.call<Usage>('usage')))
  const u0 = await usage()
  const t0 = performance.now()
  // BENCH_SWEEP_PROFILE: CPU profiles over the same window of the bootstrap node's process, a plain one's and the seed's (the last)
  const profiles = profile == null ? [] : [0, 1, workers.length - 1].map(async i => await workers[i].call('profile', { ms: IDLE_SAMPLE_MS, file: path.join(profile.dir, `${profile.label}-proc${i}.cpuprofile`) }))
  await new Promise(resolve => setTimeout(resolve, IDLE_SAMPLE_MS))
  await Promise.all(profiles)
  const u1 = await usage()
  const ms = performance.now() - t0
  const perProc = u1.map((u, i) => (u.cpuMs - u0[i].cpuMs) / ms)
  const sum = (f: (u: Usage, i: number) => number): number => u1.reduce((a, u, i) => a + f(u, i), 0)
  return { cores: perProc.reduce((a, b) => a + b, 0), perProc, heapMiB: u1.map(u => u.heapMiB), connections: sum(u => u.connections), opened: sum((u, i) => u.opened - u0[i].opened), openedInbound: sum((u, i) => u.openedInbound - u0[i].openedInbound), closed: sum((u, i) => u.closed - u0[i].closed), closedDuplicate: sum((u, i) => u.closedDuplicate - u0[i].closedDuplicate), closedYoung: sum((u, i) => u.closedYoung - u0[i].closedYoung) }
}

/** IDLE_SAMPLES samples in a row (the first one profiled when asked); the one with the median CPU, and all of them */
export async function idleMedian (workers: Worker[], profile?: { dir: string, label: string }): Promise<Idle & { all: number[] }> {
  const samples: Idle[] = []
  for (let i = 0; i < IDLE_SAMPLES; i++) samples.push(await idleCores(workers, i === 0 ? profile : undefined))
  const all = samples.map(x => x.cores)
  return { ...[...samples].sort((a, b) => a.cores - b.cores)[samples.length >> 1], all }
}
const samplesOf = (i: { all: number[] }): string => i.all.map(pct).join(', ')

export const pct = (x: number): string => `${(x * 100).toFixed(1)}%`
/** one line on an idle sample: the whole swarm, the seed (the last process) and the others' spread */
export function idleLine (i: Idle, last = 'seed'): string {
  const others = i.perProc.slice(0, -1).sort((a, b) => a - b)
  const heaps = i.heapMiB.slice(0, -1).sort((a, b) => a - b)
  return `${pct(i.cores)} of a core; ${last} ${pct(i.perProc[i.perProc.length - 1])}, others ${pct(others[0])}-${pct(others[others.length - 1])} (median ${pct(others[others.length >> 1])}); heaps ${heaps[0].toFixed(0)}-${heaps[heaps.length - 1].toFixed(0)} MiB, ${last} ${i.heapMiB[i.heapMiB.length - 1].toFixed(0)}; ${i.connections} connections, ${i.opened} opened (${i.openedInbound} inbound) and ${i.closed} closed (${i.closedDuplicate} duplicates, ${i.closedYoung} under 10 s old) while sampled`
}

export async function sweepFigures (tmp: string, log: (s: string) => void = s => console.log(s)): Promise<Row[]> {
  const rows: Row[] = []
  const dir = fs.mkdtempSync(path.join(tmp, 'sweep-'))
  const workers: Worker[] = []
  try {
    log(`sweep: ${CIDS} CIDs on one seed in a ${PROCS}-process swarm on 127.0.0.1; load ${load()} (machine shared with other helpers)`)
    const car = path.join(dir, 'cids.car')
    const cids = await makeCar(car, CIDS)
    const seedDir = path.join(dir, 'seed')
    await Repo.init(seedDir)
    const imp = await timedCairn(['car', 'import', car, '--repo', seedDir], { timeoutMs: STEP_TIMEOUT_MS })
    if (imp.code !== 0) throw new Error(`car import: exit ${imp.code ?? imp.signal}: ${imp.stderr.slice(-600)}`)
    log(`  car import of ${CIDS} blocks: ${imp.seconds.toFixed(1)} s, peak RSS ${imp.maxRssMiB.toFixed(0)} MiB`)

    const swarm: Swarm = await startSwarm(PROCS - 1, path.join(dir, 'swarm'), workers)
    const swarmUp = performance.now()
    const seedWorker = new Worker()
    workers.push(seedWorker)
    await withTimeout(seedWorker.ready, 180_000, 'the seed worker did not start')
    const [seed] = await seedWorker.call<Array<{ peerId: string }>>('start', { dirs: [seedDir], network: swarm.network, bootstrap: [swarm.boot], existing: true })
    swarm.workers.includes(seedWorker) || swarm.workers.push(seedWorker)
    swarm.nodes.push({ worker: seedWorker, proc: swarm.workers.length - 1, local: 0, peerId: seed.peerId })
    const tables = await waitForTables(swarm, log)
    log(`  tables after ${(tables.ms / 1000).toFixed(0)} s: ${tables.sizes.join(' ')}`)

    // idle means past the nodes' start-up queries: their second self-query
    // comes SELF_QUERY_MS after the first (the DHT bench waits as long)
    const settle = SETTLE_MS - (performance.now() - swarmUp)
    if (settle > 0) await new Promise(resolve => setTimeout(resolve, settle))
    const profile = (label: string): { dir: string, label: string } | undefined => PROFILE_DIR == null ? undefined : { dir: PROFILE_DIR, label }
    if (PROFILE_DIR != null) fs.mkdirSync(PROFILE_DIR, { recursive: true })
    const idleBefore = await idleMedian(workers, profile('before'))
    log(`  idle swarm before announcing (all ${workers.length} processes), median of ${samplesOf(idleBefore)}: ${idleLine(idleBefore)}; load ${load()}`)

    const loadSweep = load()
    // memory while the round runs, the seed's and a receiver's: V8's heap (live and garbage) or buffers outside it
    const peaks = { seed: { rss: 0, heapTotal: 0, heap: 0, external: 0 }, peer: { rss: 0, heapTotal: 0, heap: 0, external: 0 } }
    const poll = setInterval(() => {
      for (const { w, m } of [{ w: seedWorker, m: peaks.seed }, { w: workers[1], m: peaks.peer }]) {
        w.call<Usage>('usage').then(u => {
          m.rss = Math.max(m.rss, u.rssMiB)
          m.heapTotal = Math.max(m.heapTotal, u.heapTotalMiB)
          m.heap = Math.max(m.heap, u.heapMiB)
          m.external = Math.max(m.external, u.externalMiB)
        }, () => {})
      }
    }, MEMORY_POLL_MS)
    const round = await seedWorker.call<{ ms: number, roundMs: number, lookups: number, regions: number, cids: number, depth: number, records: number, failures: Record<string, number>, recent: unknown[] }>('sweep', { node: 0 }, STEP_TIMEOUT_MS)
    clearInterval(poll)
    const seedRss = rssOf(seedWorker.child.pid as number)
    for (const [who, m] of Object.entries(peaks)) log(`  ${who === 'seed' ? 'the seed' : 'a receiver'} during the round, peaks: RSS ${m.rss.toFixed(0)} MiB, V8 heap ${m.heapTotal.toFixed(0)} MiB (${m.heap.toFixed(0)} used), external ${m.external.toFixed(0)} MiB`)
    // a node of the swarm that only received records, for comparison
    const peerRss = rssOf(workers[1].child.pid as number)?.hwm ?? 0
    log(`  seed peak RSS after the round: ${(seedRss?.hwm ?? 0).toFixed(0)} MiB (a swarm node: ${peerRss.toFixed(0)} MiB)`)
    log(`  sweep round: ${JSON.stringify(round)}`)
    // right after the round, before the batch sample and the fresh node: what the round itself left
    const idleRound = await idleCores(workers, profile('round'))
    log(`  idle swarm just after the round: ${idleLine(idleRound)}; load ${load()}`)
    // the goal's figure: the swarm holding the round's records, settled, sampled as before announcing
    await new Promise(resolve => setTimeout(resolve, Math.max(0, ROUND_SETTLE_MS - IDLE_SAMPLE_MS)))
    const idleHeld = await idleMedian(workers, profile('held'))
    log(`  idle swarm holding the records, ${ROUND_SETTLE_MS / 1000} s after the round, median of ${samplesOf(idleHeld)}: ${idleLine(idleHeld)}; load ${load()}`)
    for (let i = 0; i < TRACE; i++) log(`  idle swarm, trace sample ${i + 1} after the round: ${idleLine(await idleCores(workers))}; load ${load()}`)

    const batch = await seedWorker.call<{ ms: number, provided: number, failed: number }>('batch', { node: 0, count: BATCH }, STEP_TIMEOUT_MS)
    const batchAllMs = batch.ms / BATCH * round.cids
    log(`  batch provider, ${BATCH} CIDs: ${JSON.stringify(batch)}; scaled to ${round.cids}: ${(batchAllMs / 1000).toFixed(0)} s`)
    const seedRssAfter = rssOf(seedWorker.child.pid as number)

    // a fresh node, in a process of its own, looks up random CIDs of the seed's
    const fresh = new Worker()
    workers.push(fresh)
    await withTimeout(fresh.ready, 180_000, 'the fresh node did not start')
    await fresh.call('start', { dirs: [path.join(dir, 'fresh')], network: swarm.network, bootstrap: [swarm.boot] })
    const sample = Array.from({ length: FINDS }, () => cids[Math.floor(Math.random() * cids.length)].toString())
    let found = 0
    const times: number[] = []
    for (let i = 0; i < sample.length; i += FIND_PARALLEL) {
      const rs = await Promise.all(sample.slice(i, i + FIND_PARALLEL).map(async cid => await fresh.call<{ found: boolean, ms: number | null }>('find', { node: 0, cid, provider: seed.peerId, timeoutMs: FIND_TIMEOUT_MS })))
      for (const r of rs) if (r.found) { found++; times.push(r.ms as number) }
      if ((i / FIND_PARALLEL) % 5 === 4) log(`  fresh node: ${found} of ${i + rs.length} found so far`)
    }
    times.sort((a, b) => a - b)
    const foundShare = found / FINDS

    // the fresh node's aftermath is no idle swarm: right after its finds
    // the swarm took 58.5% of a core with 437 connections opened in 10 s
    // (quiet run, 04:09), 18-25% once it had stopped. So it is sampled
    // once with the fresh node up, and again after it stops: both beside
    // the goal's figure, not in it (the batch provider's sample and the
    // finds leave the swarm with more connections, and each costs pings)
    const swarmOnly = workers.filter(w => w !== fresh)
    const idleFresh = await idleCores(swarmOnly, profile('fresh'))
    log(`  idle swarm after the round, the batch sample and the finds, the fresh node still up: ${idleLine(idleFresh)}; load ${load()}`)
    await fresh.close()
    const idleAfter = await idleMedian(swarmOnly, profile('after'))
    log(`  idle swarm after the round, the fresh node stopped, median of ${samplesOf(idleAfter)}: ${idleLine(idleAfter)}; load ${load()}`)
    for (let i = 0; i < TRACE; i++) log(`  idle swarm, the fresh node stopped, sample ${i + 2}: ${idleLine(await idleCores(swarmOnly))}; load ${load()}`)

    const speedup = batchAllMs / round.roundMs
    const failed = Object.entries(round.failures).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ')
    rows.push({ what: `sweep round, ${round.cids} CIDs, ${PROCS} procs`, figure: `${(round.roundMs / 1000).toFixed(1)} s`, baseline: `${(batchAllMs / 1000).toFixed(0)} s batch provider (${BATCH} CIDs timed: ${(batch.ms / 1000).toFixed(1)} s, ${batch.failed} failed, scaled)`, ratio: `${speedup.toFixed(0)}× faster`, note: `goal ≥ ${GOAL_SPEEDUP}×; load ${loadSweep}` })
    rows.push({ what: '  lookups per round', figure: String(round.lookups), baseline: `${round.cids} batch (one per CID)`, ratio: '-', note: `${round.regions} region(s), depth ${round.depth}; goal ≈ regions` })
    rows.push({ what: '  records delivered', figure: String(round.records), baseline: '-', ratio: '-', note: failed === '' ? 'no failures' : `failures: ${failed}` })
    rows.push({ what: `  fresh node finds ${FINDS} random CIDs`, figure: `${(foundShare * 100).toFixed(1)}%`, baseline: '-', ratio: '-', note: `goal ≥ ${GOAL_FOUND * 100}%; median ${times.length > 0 ? times[times.length >> 1].toFixed(0) : '-'} ms to the seed` })
    rows.push({ what: '  seed peak RSS', figure: `${(seedRss?.hwm ?? 0).toFixed(0)} MiB`, baseline: `${peerRss.toFixed(0)} MiB a swarm node's`, ratio: '-', note: `goal ≤ ${GOAL_RSS_MIB} MiB (VmHWM after the round; ${(seedRssAfter?.hwm ?? 0).toFixed(0)} MiB after the batch sample too)` })
    rows.push({ what: `  idle swarm CPU, ${swarmOnly.length} procs`, figure: `${pct(idleHeld.cores)} of a core (${idleHeld.connections} connections)`, baseline: `${pct(idleBefore.cores)} before announcing (${idleBefore.connections})`, ratio: `${(idleHeld.cores / Math.max(idleBefore.cores, 1e-9)).toFixed(2)}×`, note: `goal ≤ 1×; medians of ${IDLE_SAMPLES} ${IDLE_SAMPLE_MS / 1000} s samples, the records held, ${ROUND_SETTLE_MS / 1000} s after the round; ${pct(idleRound.cores)} just after it, ${pct(idleFresh.cores)} with the fresh node up after the batch sample and its finds, ${pct(idleAfter.cores)} (${idleAfter.connections} connections) once it stopped` })
  } finally {
    await Promise.allSettled(workers.map(async w => { await w.close() }))
    fs.rmSync(dir, { recursive: true, force: true })
  }
  return rows
}

// run alone: node dist/test/bench/sweep.js
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-'))
  try {
    printTable(await sweepFigures(tmp))
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

// Add, then fetch at once (BENCH_ONLY=addfetch): does announcing get in the
// way of transfers? Four `cairn seed` processes on 127.0.0.1, three
// bootstrapped to the first. Three seeds `add` the same BENCH_ADDFETCH_MIB
// (512) MiB file through their daemons at once; the moment the adds return,
// the fourth seed fetches it through its own daemon (`cairn get` on its
// repo, no --peer: providers come from the DHT). Then, once the three seeds
// report no fresh CIDs waiting (`provide stat`), a fifth seed, started with
// the others and idle till then, fetches it the same way: the settled
// figure, a first fetch into a fresh repo like the one it is held against.
// The ratio at-once / settled is the figure (goal ≥ 0.9). The fourth seed
// then drops the content (repo gc: get does not pin) and fetches it again,
// beside the figure: a fetch into a repo that just held the file cost its
// seed ~30-45% less CPU than a first fetch (2.1-3.0 against 3.9-4.3 s for
// 512 MiB, with or without a 20 s pause after the adds), so it is no
// baseline for a first fetch.
//
// Each fetch's output stays on disk till the case ends. This machine is a
// VM whose balloon reports free memory to its host (virtio-balloon free page
// reporting), and a page the host took back costs a fault on the host when
// the guest writes it again: a 512 MiB write into the page cache cost 0.31 s
// of system time on such memory against 0.13 s on memory freed a moment
// before. Deleting the first fetch's 512 MiB output before the settled fetch
// handed the settled fetch just-freed memory and the first fetch none
// (BENCH_ADDFETCH_FREE=1 does that again, to compare). The CPU seconds each
// seed spent during each fetch are printed.
//
//   node dist/test/bench/add-fetch.js   runs this part alone
//   BENCH_ADDFETCH_MIB=512  BENCH_ADDFETCH_STRATEGY=all|roots

import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { cairnOk, cpuOf, killStarted, timedCairn } from './processes.ts'
import { MIB, seed, sha256File } from './transfer-cairn.ts'
import { printTable, type Row } from './table.ts'
import { readApiFile, type SeedProcess } from '../integration/seeds.ts'

const FILE_MIB = Number(process.env.BENCH_ADDFETCH_MIB ?? 512)
/**
 * the three seeds' provide.strategy: `roots` announces one CID per add, the
 * control that tells announcing's cost from the rest of what differs
 * between a fetch right after the adds and a later one
 */
const STRATEGY = process.env.BENCH_ADDFETCH_STRATEGY ?? 'all'
/** an add or a get may take this long */
const STEP_TIMEOUT_MS = 10 * 60_000
/** waiting for the seeds' announcements to settle gives up after this */
const SETTLE_TIMEOUT_MS = 5 * 60_000
/** the three seeds connect to each other within this */
const CONNECT_TIMEOUT_MS = 60_000
const GOAL = 0.9
/** delete each fetch's output at once (the bench before 2026-12-05: see above) */
const FREE_OUTPUT = process.env.BENCH_ADDFETCH_FREE === '1'

const load = (): string => os.loadavg()[0].toFixed(1)

interface Stat { pending: number, fresh: number, records: number, yieldedMs: number, lookups: number, failures: Record<string, number> }

async function provideStat (repo: string): Promise<Stat> {
  return JSON.parse(await cairnOk(['--repo', repo, 'provide', 'stat', '--json'])) as Stat
}

async function peers (repo: string): Promise<number> {
  return (await cairnOk(['--repo', repo, 'peers', '--json'])).split('\n').filter(l => l !== '').length
}

interface Fetched { seconds: number, rate: number, cpu: string }

/**
 * `cairn get` through the fetcher's daemon into `out` (a new file), timed;
 * MiB/s, and the CPU seconds each of the `daemons` (repos) spent meanwhile.
 */
async function fetch (repo: string, cid: string, out: string, want: string, daemons: string[]): Promise<Fetched> {
  const pids = await Promise.all(daemons.map(async r => (await readApiFile(r)).pid))
  const before = pids.map(p => cpuOf(p) ?? 0)
  const r = await timedCairn(['--repo', repo, 'get', cid, '-o', out, '--json'], { timeoutMs: STEP_TIMEOUT_MS })
  const cpu = pids.map((p, i) => ((cpuOf(p) ?? before[i]) - before[i]).toFixed(2)).join(' ')
  if (r.code !== 0) throw new Error(`get: exit ${r.code ?? r.signal}${r.timedOut ? ' (killed: too slow)' : ''}: ${r.stderr.slice(-600)}`)
  if (sha256File(out) !== want) throw new Error('get: the output differs from the file added')
  if (FREE_OUTPUT) fs.rmSync(out)
  return { seconds: r.seconds, rate: FILE_MIB / r.seconds, cpu }
}

export async function addFetchFigures (tmp: string, log: (s: string) => void = s => console.log(s)): Promise<Row[]> {
  const dir = fs.mkdtempSync(path.join(tmp, 'addfetch-'))
  const seeds: SeedProcess[] = []
  try {
    log(`add then fetch at once: ${FILE_MIB} MiB, 3 seeds add, a 4th fetches through its daemon from the DHT; load ${load()} (machine shared with other helpers)`)
    const file = path.join(dir, 'in.bin')
    const fd = fs.openSync(file, 'w')
    for (let i = 0; i < FILE_MIB; i++) fs.writeSync(fd, randomBytes(MIB))
    fs.closeSync(fd)
    const want = sha256File(file)
    // three seeders; f fetches at once (and again after a gc); g, a first fetch once settled
    const repos = ['s1', 's2', 's3', 'f', 'g'].map(n => path.join(dir, n))
    for (const r of repos) await cairnOk(['--repo', r, 'init'])
    for (const r of repos.slice(0, 3)) await cairnOk(['--repo', r, 'config', 'set', 'provide.strategy', STRATEGY])
    const first = await seed(repos[0])
    seeds.push(first)
    for (const r of repos.slice(1)) seeds.push(await seed(r, ['--bootstrap', first.addrs[0]]))
    const t0 = performance.now()
    while (performance.now() - t0 < CONNECT_TIMEOUT_MS) {
      const counts = await Promise.all(repos.map(async r => await peers(r)))
      if (counts.every(c => c >= 3)) break
      await new Promise(resolve => setTimeout(resolve, 500))
    }
    const [adds] = await Promise.all([Promise.all(repos.slice(0, 3).map(async r => (await cairnOk(['--repo', r, 'add', file, '-Q'], STEP_TIMEOUT_MS)).trim()))])
    const cid = adds[0]
    if (adds.some(c => c !== cid)) throw new Error(`the three adds gave different CIDs: ${adds.join(' ')}`)
    const out = (n: number): string => path.join(dir, `out${n}.bin`)
    const loadAtOnce = load()
    const atOnce = await fetch(repos[3], cid, out(1), want, repos)
    const during = await Promise.all(repos.slice(0, 3).map(async r => await provideStat(r)))
    log(`  at once: ${atOnce.rate.toFixed(1)} MiB/s; seeds' fresh CIDs announced / waiting: ${during.map(s => `${s.fresh}/${s.pending}`).join(', ')}; yielded ${during.map(s => `${(s.yieldedMs / 1000).toFixed(1)} s`).join(', ')}; CPU s (seeds s1 s2 s3 f g) ${atOnce.cpu}`)
    // settled: nothing waits to be announced on any of the three
    const t1 = performance.now()
    let settled: Stat[] = during
    while (performance.now() - t1 < SETTLE_TIMEOUT_MS) {
      settled = await Promise.all(repos.slice(0, 3).map(async r => await provideStat(r)))
      if (settled.every(s => s.pending === 0)) break
      await new Promise(resolve => setTimeout(resolve, 500))
    }
    const loadSettled = load()
    const later = await fetch(repos[4], cid, out(2), want, repos)
    log(`  settled, a fresh seed's first fetch: ${later.rate.toFixed(1)} MiB/s; seeds' fresh CIDs announced: ${settled.map(s => s.fresh).join(', ')}, records ${settled.map(s => s.records).join(', ')}, failures ${settled.map(s => JSON.stringify(s.failures)).join(' ')}; CPU s ${later.cpu}`)
    await cairnOk(['--repo', repos[3], 'repo', 'gc'])
    const again = await fetch(repos[3], cid, out(3), want, repos)
    log(`  settled, the first fetcher again after a gc (not the baseline): ${again.rate.toFixed(1)} MiB/s; CPU s ${again.cpu}`)
    const ratio = atOnce.rate / later.rate
    return [{
      what: `add 3× then fetch at once, ${FILE_MIB} MiB, DHT, strategy ${STRATEGY}`,
      figure: `${atOnce.rate.toFixed(1)} MiB/s`,
      baseline: `${later.rate.toFixed(1)} MiB/s after announcements settled (another fresh fetcher)`,
      ratio: `${ratio.toFixed(2)}×`,
      note: `goal ≥ ${GOAL}×; cairn get through a fetching seed's daemon, providers from the DHT; outputs ${FREE_OUTPUT ? 'deleted at once' : 'kept'}; ${again.rate.toFixed(1)} MiB/s the first fetcher again after a gc; load ${loadAtOnce} / ${loadSettled}`
    }]
  } finally {
    await Promise.allSettled(seeds.map(async s => await s.stop()))
    killStarted()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-'))
  try {
    printTable(await addFetchFigures(tmp))
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

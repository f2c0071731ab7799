// The seed's malloc (issue 22): glibc's, or the jemalloc the launcher
// preloads where the system has it (cli/cairn.js). A bench, not a test.
//
// For each allocator, two seeds on 127.0.0.1, A and B (B bootstraps from A):
//   burst  B pins MALLOC_FILES files of 0.5-4 MiB added on A, one after
//          another, then both sit idle for MALLOC_IDLE_S: B's RSS at the
//          end of the burst and at the end of the idle time (memory a seed
//          stopped using, kept or given back), and its live heap
//   cpu    A holds a MALLOC_MIB file; B pins it, unpins it and collects,
//          MALLOC_ROUNDS times: the CPU each seed spent on a pin (from
//          /proc/PID/stat) and the rate, the first round left out (warm-up)
//
//   npm run build && node dist/test/bench/seed-malloc.js
//   MALLOC_FILES=80 MALLOC_IDLE_S=75 MALLOC_MIB=256 MALLOC_ROUNDS=4 MALLOC_REPEAT=2
// Each allocator runs MALLOC_REPEAT times, alternating. Figures:
// docs/faults.md, "glibc's high-water marks, and the seed on jemalloc".

import fs from 'node:fs/promises'
import path from 'node:path'
import { cairn, pseudoRandom, tempDir } from '../helpers.ts'
import { apiCall, startSeed, type SeedProcess } from '../integration/seeds.ts'
import { liveCpuOf, rssOf } from './processes.ts'

const FILES = Number(process.env.MALLOC_FILES ?? 80)
const IDLE_S = Number(process.env.MALLOC_IDLE_S ?? 75)
const BIG_MIB = Number(process.env.MALLOC_MIB ?? 256)
const ROUNDS = Number(process.env.MALLOC_ROUNDS ?? 4)
const REPEAT = Number(process.env.MALLOC_REPEAT ?? 2)
const API_TIMEOUT_MS = 600_000
const MIB = 1024 * 1024

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]

/** VmRSS of a running seed, MiB */
const rssMiB = (pid: number): number => rssOf(pid)?.rss ?? NaN

async function liveHeapMiB (repo: string): Promise<number> {
  const st = await apiCall(repo, 'stats', {}, 10_000) as { process?: { liveHeap: number | null } }
  return st.process?.liveHeap != null ? st.process.liveHeap / MIB : NaN
}

async function mallocOf (pid: number): Promise<string> {
  return (await fs.readFile(`/proc/${pid}/maps`, 'utf8')).includes('/libjemalloc.so') ? 'jemalloc' : 'glibc'
}

interface Result { malloc: string, burstRss: number, idleRss: number, idleLive: number, cpuA: number, cpuB: number, rate: number }

async function pair (dir: string, env: Record<string, string | undefined>, fn: (a: SeedProcess, b: SeedProcess, repos: [string, string]) => Promise<void>): Promise<void> {
  await fs.mkdir(dir, { recursive: true })
  const repos: [string, string] = [path.join(dir, 'a'), path.join(dir, 'b')]
  for (const repo of repos) {
    const r = await cairn(['init', '--repo', repo])
    if (r.code !== 0) throw new Error(r.stderr)
  }
  const a = await startSeed(repos[0], { args: ['--no-tui'], env })
  try {
    const b = await startSeed(repos[1], { args: ['--no-tui'], bootstrap: [a.addrs[0]], env })
    try {
      await fn(a, b, repos)
    } finally {
      await b.stop()
    }
  } finally {
    await a.stop()
  }
}

async function run (env: Record<string, string | undefined>): Promise<Result> {
  const { dir, cleanup } = await tempDir('cairn-malloc-')
  const result: Result = { malloc: '?', burstRss: NaN, idleRss: NaN, idleLive: NaN, cpuA: NaN, cpuB: NaN, rate: NaN }
  try {
    await pair(path.join(dir, 'burst'), env, async (a, b, repos) => {
      result.malloc = await mallocOf(b.pid)
      for (let k = 0; k < FILES; k++) {
        const file = path.join(dir, `f${k}.bin`)
        await fs.writeFile(file, pseudoRandom(Math.round([1, 4, 0.5, 2][k % 4] * MIB), k))
        const { root } = await apiCall(repos[0], 'add', { paths: [file], anchor: false }, API_TIMEOUT_MS) as { root: string }
        await fs.rm(file)
        await apiCall(repos[1], 'pin.add', { cid: root }, API_TIMEOUT_MS)
      }
      result.burstRss = rssMiB(b.pid)
      await sleep(IDLE_S * 1000)
      result.idleRss = rssMiB(b.pid)
      result.idleLive = await liveHeapMiB(repos[1])
    })
    await pair(path.join(dir, 'cpu'), env, async (a, b, repos) => {
      const file = path.join(dir, 'big.bin')
      const fh = await fs.open(file, 'w')
      for (let i = 0; i < BIG_MIB; i++) await fh.write(pseudoRandom(MIB, i))
      await fh.close()
      const { root } = await apiCall(repos[0], 'add', { paths: [file], anchor: false }, API_TIMEOUT_MS) as { root: string }
      await fs.rm(file)
      const cpuA: number[] = []
      const cpuB: number[] = []
      const rates: number[] = []
      for (let k = 0; k < ROUNDS; k++) {
        const [a0, b0, t0] = [liveCpuOf(a.pid), liveCpuOf(b.pid), Date.now()]
        await apiCall(repos[1], 'pin.add', { cid: root }, API_TIMEOUT_MS)
        if (k > 0) {
          rates.push(BIG_MIB / ((Date.now() - t0) / 1000))
          cpuA.push(liveCpuOf(a.pid) - a0)
          cpuB.push(liveCpuOf(b.pid) - b0)
        }
        await apiCall(repos[1], 'pin.rm', { cid: root }, API_TIMEOUT_MS)
        await apiCall(repos[1], 'repo.gc', {}, API_TIMEOUT_MS)
      }
      result.cpuA = median(cpuA)
      result.cpuB = median(cpuB)
      result.rate = median(rates)
    })
  } finally {
    await cleanup()
  }
  return result
}

const variants: Array<{ name: string, env: Record<string, string | undefined> }> = [
  { name: 'CAIRN_MALLOC=system', env: { CAIRN_MALLOC: 'system', LD_PRELOAD: undefined, MALLOC_CONF: undefined } },
  { name: 'the launcher\'s', env: { CAIRN_MALLOC: undefined, LD_PRELOAD: undefined, MALLOC_CONF: undefined } }
]
const rows: string[] = []
for (let r = 0; r < REPEAT; r++) {
  for (const v of variants) {
    const x = await run(v.env)
    const row = `| ${v.name} (${x.malloc}) | ${x.burstRss.toFixed(0)} | ${x.idleRss.toFixed(0)} | ${x.idleLive.toFixed(1)} | ${x.cpuA.toFixed(2)} | ${x.cpuB.toFixed(2)} | ${x.rate.toFixed(0)} |`
    process.stderr.write(row + '\n')
    rows.push(row)
  }
}
process.stdout.write([
  `seed-malloc: B pins ${FILES} files of 0.5-4 MiB from A, then ${IDLE_S} s idle; then a ${BIG_MIB} MiB pin, ${ROUNDS} rounds (medians, the first left out)`,
  '',
  `| seed's malloc | B's RSS after the burst, MiB | after ${IDLE_S} s idle | B's live heap then | A's CPU per ${BIG_MIB} MiB pin, s | B's | MiB/s |`,
  '|---|---|---|---|---|---|---|',
  ...rows
].join('\n') + '\n')

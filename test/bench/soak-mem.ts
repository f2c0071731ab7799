// The soak's RSS growth, small (issue 22): one seed serving a loop of
// `cairn get`s for MEM_MINUTES, and where its resident memory is, sampled
// every MEM_SAMPLE_S. A bench, not a test.
//
// Each sample asks the seed for a diagnostic report (Node's
// --report-on-signal, SIGUSR2: V8's spaces, external memory, every worker's
// heap; no code in the seed) and reads /proc/PID/smaps, which splits the RSS
// the report cannot see:
//   heap    the main malloc arena ([heap], brk)
//   arenas  glibc's per-thread arenas: anonymous mappings inside 64 MiB
//           aligned reservations (HEAP_MAX_SIZE on 64-bit), one per thread
//           that allocated while the others were busy (libuv's threadpool,
//           worker threads), up to 8 per core
//   anon    every other anonymous mapping: V8's pages, malloc's mmapped
//           chunks (> M_MMAP_THRESHOLD), thread stacks
//   file    the binary, libraries, mapped files
// V8's committed memory (all spaces, workers included) is part of `anon`;
// `anon - v8` is then mostly malloc's large chunks.
//
//   MEM_MINUTES=13 MEM_SAMPLE_S=30 MEM_NAME=base
//   MEM_NODE_FLAGS="--max-semi-space-size=1 ..."   the seed's Node flags (default: the launcher's)
//   MEM_MINE=1                                     the seed mines (anchor network test)
//   MEM_JSON=file.json                             every sample (default dist/test/bench/soak-mem-NAME.json)
// The seed inherits this process's environment: glibc's MALLOC_* variables
// and GLIBC_TUNABLES reach it so. cli/cairn.js re-executes `seed` with
// --expose-gc and, where the system has it, jemalloc preloaded (unless
// CAIRN_MALLOC=system or a LD_PRELOAD is set; docs/design.md, "The seed's
// memory"): the first log line shows what was given, the arena count what
// the seed runs with (0 on jemalloc). Figures: docs/faults.md.

import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { NODE_FLAGS, cairn, pseudoRandom, tempDir } from '../helpers.ts'
import { apiCall, startSeed } from '../integration/seeds.ts'
import { liveCpuOf } from './processes.ts'

const MINUTES = Number(process.env.MEM_MINUTES ?? 13)
const SAMPLE_S = Number(process.env.MEM_SAMPLE_S ?? 30)
const NAME = process.env.MEM_NAME ?? 'base'
const MINE = process.env.MEM_MINE === '1'
const FLAGS = process.env.MEM_NODE_FLAGS != null ? process.env.MEM_NODE_FLAGS.split(' ').filter(f => f !== '') : NODE_FLAGS
/** files added before the loop starts; then one more a minute, as the soak does */
const FIRST_FILES = 4
const NEW_FILE_S = 60
const FETCH_TIMEOUT_S = 60
const API_TIMEOUT_MS = 300_000
/** glibc's HEAP_MAX_SIZE on 64-bit: a thread arena is reserved as one aligned region of this size */
const ARENA_RESERVE = 64 * 1024 * 1024
const REPORT_WAIT_MS = 10_000
const MIB = 1024 * 1024

const { dir, cleanup } = await tempDir('cairn-soakmem-')
const t0 = Date.now()
const minutes = (): number => (Date.now() - t0) / 60_000
const log = (s: string): void => { process.stderr.write(`[${NAME} ${minutes().toFixed(2)}] ${s}\n`) }
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const running = (): boolean => minutes() < MINUTES

interface Smaps { rss: number, heap: number, arenas: number, arenaCount: number, anon: number, file: number }

/** /proc/PID/smaps split into the parts above, in MiB. */
async function smaps (pid: number): Promise<Smaps> {
  const text = await fs.readFile(`/proc/${pid}/smaps`, 'utf8')
  const maps: Array<{ start: bigint, end: bigint, perms: string, path: string, rss: number }> = []
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line)
    if (head != null) {
      maps.push({ start: BigInt('0x' + head[1]), end: BigInt('0x' + head[2]), perms: head[3], path: head[4], rss: 0 })
      continue
    }
    const rss = /^Rss:\s+(\d+) kB$/.exec(line)
    if (rss != null) maps[maps.length - 1].rss = Number(rss[1]) / 1024
  }
  const r: Smaps = { rss: 0, heap: 0, arenas: 0, arenaCount: 0, anon: 0, file: 0 }
  const reserve = BigInt(ARENA_RESERVE)
  for (let k = 0; k < maps.length; k++) {
    const m = maps[k]
    r.rss += m.rss
    if (m.path === '[heap]') { r.heap += m.rss; continue }
    if (m.path !== '' && !m.path.startsWith('[anon')) { r.file += m.rss; continue }
    // a thread arena: its start on a 64 MiB boundary, the rest of the reservation PROT_NONE right after it (or all of it in use)
    const next = maps[k + 1]
    const arena = m.perms.startsWith('rw') && m.start % reserve === 0n &&
      (m.end - m.start === reserve || (next != null && next.start === m.end && next.perms.startsWith('---') && next.end - m.start === reserve))
    if (arena) { r.arenas += m.rss; r.arenaCount++ } else r.anon += m.rss
  }
  return r
}

interface V8 { committed: number, used: number, external: number, malloced: number, spaces: Record<string, number>, workers: number }

/** The seed's diagnostic report (SIGUSR2), in MiB: V8's committed and used memory, its workers' included. */
async function v8Report (pid: number, reports: string): Promise<V8 | null> {
  for (const f of await fs.readdir(reports)) await fs.rm(path.join(reports, f))
  process.kill(pid, 'SIGUSR2')
  const until = Date.now() + REPORT_WAIT_MS
  while (Date.now() < until) {
    await sleep(200)
    const files = await fs.readdir(reports)
    if (files.length === 0) continue
    let rep: any
    try { rep = JSON.parse(await fs.readFile(path.join(reports, files[0]), 'utf8')) } catch { continue }
    const heaps = [rep.javascriptHeap, ...(rep.workers ?? []).map((w: any) => w.javascriptHeap)].filter(h => h != null)
    const spaces: Record<string, number> = {}
    for (const h of heaps) {
      for (const [name, s] of Object.entries<any>(h.heapSpaces)) spaces[name] = (spaces[name] ?? 0) + s.committedMemory / MIB
    }
    const sum = (k: string): number => heaps.reduce((a: number, h: any) => a + Number(h[k]), 0) / MIB
    return { committed: sum('totalCommittedMemory'), used: sum('usedMemory'), external: sum('externalMemory'), malloced: sum('mallocedMemory'), spaces, workers: heaps.length - 1 }
  }
  return null
}

async function threads (pid: number): Promise<number> {
  const m = /^Threads:\s+(\d+)$/m.exec(await fs.readFile(`/proc/${pid}/status`, 'utf8'))
  return m == null ? 0 : Number(m[1])
}

const repo = path.join(dir, 'seed')
const reports = path.join(dir, 'reports')
await fs.mkdir(reports)
{
  const r = await cairn(['init', '--repo', repo])
  if (r.code !== 0) throw new Error(r.stderr)
  await fs.writeFile(path.join(repo, 'config.json'), JSON.stringify({ anchor: { network: 'test' } }))
}
const seed = await startSeed(repo, {
  args: ['--no-tui', '--reprovide-interval', '60', ...(MINE ? ['--mine'] : [])],
  nodeFlags: [...FLAGS, '--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${reports}`]
})
const addr = seed.addrs[0]
log(`seed ${seed.pid} flags ${FLAGS.join(' ')}; env ${Object.entries(process.env).filter(([k]) => k.startsWith('MALLOC_') || k === 'GLIBC_TUNABLES').map(([k, v]) => `${k}=${v ?? ''}`).join(' ') || '(none)'}`)

const files: Array<{ cid: string, sha: string }> = []
async function addFile (): Promise<void> {
  const size = 256 * 1024 + Math.floor(Math.random() * 4 * MIB)
  const bytes = pseudoRandom(size, Math.floor(Math.random() * 1e9))
  const file = path.join(dir, `file-${files.length}.bin`)
  await fs.writeFile(file, bytes)
  const r = await apiCall(repo, 'add', { paths: [file], anchor: false }, API_TIMEOUT_MS) as { root: string }
  await fs.rm(file)
  files.push({ cid: r.root, sha: createHash('sha256').update(bytes).digest('hex') })
}

let fetched = 0
let failed = 0
async function fetchLoop (): Promise<void> {
  for (let n = 0; running(); n++) {
    const f = files[Math.floor(Math.random() * files.length)]
    const out = path.join(dir, `out-${n}`)
    const frepo = path.join(dir, `fetch-${n}`)
    const r = await cairn(['get', f.cid, '-o', out, '--repo', frepo, '--bootstrap', addr, '--timeout', String(FETCH_TIMEOUT_S)], { timeoutMs: (FETCH_TIMEOUT_S + 30) * 1000 })
    const ok = r.code === 0 && createHash('sha256').update(await fs.readFile(out)).digest('hex') === f.sha
    if (ok) fetched++
    else { failed++; log(`fetch failed: ${r.stderr.trim().split('\n').pop() ?? ''}`) }
    await fs.rm(out, { recursive: true, force: true })
    await fs.rm(frepo, { recursive: true, force: true })
  }
}

async function addLoop (): Promise<void> {
  while (running()) {
    await sleep(NEW_FILE_S * 1000)
    if (running()) await addFile().catch(err => { log(`add: ${(err as Error).message}`) })
  }
}

const samples: Array<Record<string, unknown>> = []
async function sampleLoop (): Promise<void> {
  while (running()) {
    const t = minutes()
    const [m, v8, th, cpu] = await Promise.all([smaps(seed.pid), v8Report(seed.pid, reports), threads(seed.pid), liveCpuOf(seed.pid)])
    const s = { t, fetched, cpu, load: os.loadavg()[0], threads: th, ...m, v8 }
    samples.push(s)
    const f = (x: number): string => x.toFixed(1)
    log(`rss ${f(m.rss)} = heap ${f(m.heap)} + arenas ${f(m.arenas)} (${m.arenaCount}) + anon ${f(m.anon)} + file ${f(m.file)}; ` +
      `v8 committed ${v8 == null ? '?' : f(v8.committed)} used ${v8 == null ? '?' : f(v8.used)} external ${v8 == null ? '?' : f(v8.external)}; ` +
      `threads ${th}; cpu ${cpu.toFixed(1)} s; ${fetched} fetched, load ${os.loadavg()[0].toFixed(1)}`)
    await sleep(SAMPLE_S * 1000)
  }
}

try {
  for (let k = 0; k < FIRST_FILES; k++) await addFile()
  await Promise.all([fetchLoop(), addLoop(), sampleLoop()])
  const jsonPath = process.env.MEM_JSON ?? path.join(path.dirname(new URL(import.meta.url).pathname), `soak-mem-${NAME}.json`)
  await fs.writeFile(jsonPath, JSON.stringify({ name: NAME, flags: FLAGS, mine: MINE, fetched, failed, samples }, null, 1))
  log(`${fetched} fetched, ${failed} failed; samples: ${jsonPath}`)
} finally {
  await seed.stop()
  await cleanup()
}

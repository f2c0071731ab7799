// Transfer figures for `npm run bench` (issue 6): cairn fetching from cairn
// seeds, every process separate, over 127.0.0.1, beside baselines measured
// in the same run: raw TCP and a raw libp2p stream (TCP + Noise + Yamux)
// between two processes, and plain Helia bitswap (transfer-baselines.ts).
// cairn is driven only through its CLI (transfer-cairn.ts): `add` into
// seeder repos (untimed), `cairn seed`, then `get` into a fresh repo on disk,
// timed from spawn to exit. Output is written to disk.
//
//   node dist/test/bench/transfer.js     runs this part alone
//   BENCH_TRANSFER_MIB=512   the main file (raw, Helia, cairn 1→1, 3→1)
//   BENCH_BIG_MIB=2048       the second file of the RSS comparison (0 skips it)
//   BENCH_RUNS=3             runs per figure (medians)
//   BENCH_STALL_RUNS=10      consecutive 1→1 runs of the stall check
//   BENCH_TRANSFER_SMALL_MIB=128   the file of the stall check; N capped seeders fetch N × this
//   BENCH_HELIA_TIMEOUT_S=120      a plain Helia run stalled past this counts at it
//   BENCH_STALL_TIMEOUT_S=60       a stall-check run past this is killed and counts as stalled
//   BENCH_TTFB_RUNS=5        fresh CIDs per TTFB figure
//   BENCH_CAPPED_N=1,2,3,4   seeder counts of the capped case

import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { stopAll, type SeedProcess } from '../integration/seeds.ts'
import { cairnOk } from './processes.ts'
import { NODE_FLAGS } from '../helpers.ts'
import { f0, f2, heliaBaseline, median, pct, rate, rawLimits, makeFile, runPart, type Ctx } from './transfer-baselines.ts'
import { printTable, type Row } from './table.ts'
import { MIB, UnsupportedFlagError, importInto, seed, seedPeakMiB, sha256File, shares, timedGet, ttfbApi, ttfbCli, versionSeconds, type GetRun } from './transfer-cairn.ts'

const env = (k: string, d: number): number => process.env[k] != null && process.env[k] !== '' ? Number(process.env[k]) : d
const FILE_MIB = env('BENCH_TRANSFER_MIB', 512)
const BIG_MIB = env('BENCH_BIG_MIB', 2048)
const RUNS = env('BENCH_RUNS', 3)
const STALL_RUNS = env('BENCH_STALL_RUNS', 10)
/** smaller than the main file, to keep 10 runs and a 16 MiB/s seeder affordable */
const SMALL_MIB = Math.min(FILE_MIB, env('BENCH_TRANSFER_SMALL_MIB', 128))
const HELIA_TIMEOUT_MS = env('BENCH_HELIA_TIMEOUT_S', 120) * 1000
const STALL_TIMEOUT_MS = env('BENCH_STALL_TIMEOUT_S', 60) * 1000
/** a stall-check run slower than this many times the median counts as stalled too */
const STALL_FACTOR = 4
const TTFB_RUNS = env('BENCH_TTFB_RUNS', 5)
/** each TTFB run fetches a fresh file of this size */
const TTFB_FILE_MIB = 8
const CAPPED_N = (process.env.BENCH_CAPPED_N ?? '1,2,3,4').split(',').map(Number).filter(n => n >= 1)
/** the capped seeders' upload limit */
const CAP_MIB_S = 16
/** senders of the raw baselines write pieces of this size */
const RAW_CHUNK = 256 * 1024
/** cairn's default profile and the 256 KiB case */
const CHUNK_256K = 'size-262144'
/** a cairn get may take this long per MiB (plus a minute) before the bench kills it */
const GET_TIMEOUT_MS = (mib: number): number => 60_000 + mib * 1000

/** goals from issue 6 */
const GOAL_VS_STREAM = 0.6
const GOAL_VS_STREAM_256K = 0.4
const GOAL_VS_HELIA = 5
const GOAL_CAPPED = 0.85
const GOAL_SHARE = 0.2
const GOAL_TTFB_MS = 100
/** the TTFB files' DHT announcements end well within this */
const ANNOUNCE_WAIT_MS = 60_000
const GOAL_RSS_MIB = 300
const GOAL_RSS_SPREAD = 0.1

/** What the transfer figures were measured under, printed before the table. */
export function transferConditions (): string[] {
  return [
    `transfer: Node ${process.versions.node}, ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)}; every peer a separate process on 127.0.0.1; medians of ${RUNS} runs`,
    `  files: ${FILE_MIB} MiB random (raw, Helia, cairn 1→1 and 3→1), ${SMALL_MIB} MiB (stall check ×${STALL_RUNS}), N × ${SMALL_MIB} MiB (N capped seeders), ${TTFB_FILE_MIB} MiB per TTFB run, ${BIG_MIB > 0 ? `${BIG_MIB} MiB (peak RSS, one run)` : 'no big file (BENCH_BIG_MIB=0)'}`,
    `  chunks: cairn default profile 1 MiB (unixfs-v1-2025), and ${CHUNK_256K}; plain Helia 1 MiB; raw senders write ${RAW_CHUNK / 1024} KiB pieces`,
    '  output on disk: cairn get writes blocks to a fresh repo and the file beside it; plain Helia writes blockstore-fs blocks and the cat output to a file; raw receivers only count bytes',
    '  fsync: cairn get writes each fetched block to a temp file and renames it (no fsync per block, none at the end: get pins nothing), writes the output under a temp name, then fdatasync(2)s it before the rename. ' +
      'Plain Helia (blockstore-fs, output file) never fsyncs. `sync` runs before every timed fetch',
    `  cairn's processes run with the launcher's Node flags (${NODE_FLAGS.join(' ')}) and Node's compile cache`,
    '  get --timeout (an idle limit: no block for S seconds, 120 s by default) is set to the bench\'s own bound for each case: 60 s + 1 s per MiB, stall check ' + `${STALL_TIMEOUT_MS / 1000} s`
  ]
}

/** Runs `get` `n` times; logs each. */
async function gets (c: Ctx, label: string, n: number, cid: string, peers: string[], mib: number, timeoutMs: number, hashWant: string | null): Promise<GetRun[]> {
  const out: GetRun[] = []
  for (let r = 0; r < n; r++) {
    const g = await timedGet(cid, peers, c.tmp, timeoutMs, hashWant != null && r === 0)
    if (g.sha256 != null && g.sha256 !== hashWant) g.error = `OUTPUT DIFFERS from the input (sha256 ${g.sha256.slice(0, 12)}…)`
    c.log(`${label} run ${r + 1}/${n}: ${g.ok ? `${g.seconds.toFixed(2)} s${mib > 0 ? `, ${f0(rate(mib, g.seconds))} MiB/s` : ''}, get RSS ≤ ${f0(g.maxRssMiB)} MiB` : `FAILED ${g.error}`}${g.ok && g.error !== '' ? ` ${g.error}` : ''}`)
    out.push(g)
  }
  return out
}

/**
 * Runs one case; a case that throws leaves a FAILED row and the bench goes
 * on with the next (its processes are stopped in transferFigures' finally).
 */
async function guard<T> (c: Ctx, what: string, fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn()
  } catch (err) {
    const msg = (err as Error).message.replace(/\s+/g, ' ').slice(0, 400)
    c.log(`${what}: FAILED ${msg}`)
    c.rows.push({ what, figure: 'FAILED', baseline: '-', ratio: '-', note: msg })
    return null
  }
}

const failures = (runs: GetRun[]): string => {
  const bad = runs.filter(r => !r.ok || r.error !== '')
  return bad.length > 0 ? `; ${bad.length} run(s) FAILED: ${bad[0].error}` : ''
}
const okSeconds = (runs: GetRun[]): number[] => runs.filter(r => r.ok).map(r => r.seconds)

export async function transferFigures (tmp: string, log: (s: string) => void = s => console.log(s)): Promise<Row[]> {
  return await runPart('transfer', tmp, log, measure)
}

/** MiB/s of the median successful run, or null when none succeeded. */
function medianRate (runs: GetRun[], mib: number): number | null {
  const ok = okSeconds(runs)
  return ok.length > 0 ? rate(mib, median(ok)) : null
}
const show = (x: number | null, unit = 'MiB/s', digits = 0): string => x != null ? `${x.toFixed(digits)} ${unit}` : 'all runs failed'
const ratio = (a: number | null, b: number | null, suffix = '×'): string => a != null && b != null && b > 0 ? `${f2(a / b)}${suffix}` : '-'

async function measure (c: Ctx): Promise<void> {
  const { tmp, log, rows } = c
  const file = path.join(tmp, `in-${FILE_MIB}.bin`)
  const small = path.join(tmp, `in-${SMALL_MIB}.bin`)
  makeFile(file, FILE_MIB)
  makeFile(small, SMALL_MIB)
  const sha = sha256File(file)
  const shaSmall = sha256File(small)
  log(`transfer: files of ${FILE_MIB} and ${SMALL_MIB} MiB made`)

  const base = { fileMib: FILE_MIB, runs: RUNS, rawChunk: RAW_CHUNK, heliaTimeoutMs: HELIA_TIMEOUT_MS }
  const raw = await guard(c, 'raw limits', async () => await rawLimits(c, base))
  const stream = raw?.stream ?? null
  const helia = await guard(c, 'plain Helia bitswap', async () => await heliaBaseline(c, base, file))

  // seeder repos: S1 holds everything the 1→1 cases need; S2..S4 what the multi-seeder cases need
  const repo = (n: string): string => path.join(tmp, n)
  const cid = await importInto(repo('s1'), file)
  const cid256 = await importInto(repo('s1'), file, CHUNK_256K)
  const cidSmall = await importInto(repo('s1'), small)
  const tiny = path.join(tmp, 'tiny.bin')
  fs.writeFileSync(tiny, randomBytes(1024))
  const cidTiny = await importInto(repo('s1'), tiny)

  // start-up costs, to read the whole-process figures against
  const version = median(await Promise.all([0, 1, 2].map(async () => await versionSeconds())))
  const s1 = await seed(repo('s1'))
  c.seeds.push(s1)
  const tinyRuns = await gets(c, 'cairn 1 KiB', Math.max(RUNS, 3), cidTiny, [s1.addrs[0]], 0, 60_000, null)
  const fixed = okSeconds(tinyRuns).length > 0 ? median(okSeconds(tinyRuns)) : 0
  const startup = `start-up: cairn --version ${f0(version * 1000)} ms; a whole get of a 1 KiB file ${f0(fixed * 1000)} ms (node start, dial, 1 block, flush)`

  // 1 → 1, default profile
  const main = await gets(c, `cairn 1→1 ${FILE_MIB} MiB`, RUNS, cid, [s1.addrs[0]], FILE_MIB, GET_TIMEOUT_MS(FILE_MIB), sha)
  const seederPeak = seedPeakMiB(s1)
  const c11 = medianRate(main, FILE_MIB)
  const c11net = okSeconds(main).length > 0 ? rate(FILE_MIB, median(okSeconds(main)) - fixed) : null
  rows.push({
    what: `cairn 1→1, ${FILE_MIB} MiB, default profile (1 MiB chunks)`,
    figure: show(c11),
    baseline: `${show(stream)} raw libp2p stream`,
    ratio: ratio(c11, stream),
    note: `goal ≥ ${GOAL_VS_STREAM}×; get process spawn to exit into a fresh repo, output on disk; ${show(c11net)} without the 1 KiB get's fixed cost; ${startup}; output sha256 checked${failures(main)}`
  })
  rows.push({
    what: '  the same vs plain Helia',
    figure: show(c11),
    baseline: `${show(helia, 'MiB/s', 2)} plain Helia`,
    ratio: ratio(c11, helia),
    note: `goal ≥ ${GOAL_VS_HELIA}×`
  })

  // 1 → 1, 256 KiB chunks
  const r256 = await gets(c, `cairn 1→1 ${FILE_MIB} MiB 256 KiB`, RUNS, cid256, [s1.addrs[0]], FILE_MIB, GET_TIMEOUT_MS(FILE_MIB), sha)
  const c256 = medianRate(r256, FILE_MIB)
  rows.push({
    what: `cairn 1→1, ${FILE_MIB} MiB, 256 KiB chunks`,
    figure: show(c256),
    baseline: `${show(stream)} raw libp2p stream`,
    ratio: ratio(c256, stream),
    note: `goal ≥ ${GOAL_VS_STREAM_256K}×; add --chunker ${CHUNK_256K}; output sha256 checked${failures(r256)}`
  })

  // stall check: consecutive 1 → 1 runs of the smaller file
  const stall = await gets(c, `stall check ${SMALL_MIB} MiB`, STALL_RUNS, cidSmall, [s1.addrs[0]], SMALL_MIB, STALL_TIMEOUT_MS, shaSmall)
  const stallS = stall.map(r => r.seconds)
  const med = median(stallS)
  const stalled = stall.filter(r => !r.ok || r.seconds > STALL_FACTOR * med)
  rows.push({
    what: `cairn stall check, 1→1, ${SMALL_MIB} MiB`,
    figure: `${stalled.length} stalls in ${STALL_RUNS} runs`,
    baseline: '-',
    ratio: '-',
    note: `goal: no stall in 10 consecutive runs; a run stalls when it fails, hits get --timeout ${STALL_TIMEOUT_MS / 1000} or takes > ${STALL_FACTOR}× the median; ` +
      `min / median / max ${Math.min(...stallS).toFixed(2)} / ${med.toFixed(2)} / ${Math.max(...stallS).toFixed(2)} s; ${SMALL_MIB} MiB file to keep ${STALL_RUNS} runs affordable${failures(stall)}`
  })

  // TTFB of cat through a daemon already connected to the provider
  await guard(c, 'TTFB cat via the daemon', async () => { await ttfb(c, s1, startup) })

  // 3 uncapped seeders → 1
  await guard(c, `cairn 3→1 uncapped, ${FILE_MIB} MiB`, async () => {
    const more = [await importInto(repo('s2'), file), await importInto(repo('s3'), file)]
    if (more.some(x => x !== cid)) throw new Error(`the seeders' root CIDs differ: ${cid} ${more.join(' ')}`)
    const three = [s1, await seed(repo('s2')), await seed(repo('s3'))]
    c.seeds.push(...three.slice(1))
    const r3 = await gets(c, `cairn 3→1 ${FILE_MIB} MiB`, RUNS, cid, three.map(s => s.addrs[0]), FILE_MIB, GET_TIMEOUT_MS(FILE_MIB), sha)
    const c31 = medianRate(r3, FILE_MIB)
    const sh3 = r3.filter(r => r.ok).map(r => shares(r.peers, three.map(s => s.id)))
    rows.push({
      what: `cairn 3→1 uncapped, ${FILE_MIB} MiB`,
      figure: show(c31),
      baseline: `${show(c11)} cairn 1→1`,
      ratio: ratio(c31, c11),
      note: `goal ≥ 1×; bytes per seeder ${sh3.map(s => s.map(pct).join('/')).join(', ')} (per run, from get --json); 4 processes on ${os.cpus().length} cores${failures(r3)}`
    })
  })
  await stopAll(c.seeds)

  await guard(c, `cairn N seeders capped at ${CAP_MIB_S} MiB/s → 1`, async () => { await capped(c, [repo('s1'), repo('s2'), repo('s3'), repo('s4')], small, cidSmall, shaSmall) })
  // room on the disk for the big file's three copies (input, seeder repo, fetcher repo + output)
  for (const n of ['s1', 's2', 's3', 's4']) fs.rmSync(repo(n), { recursive: true, force: true })
  fs.rmSync(file, { force: true })
  await guard(c, 'peak RSS', async () => { await rssRows(c, main, seederPeak, s1) })
}

/**
 * N seeders capped at CAP_MIB_S each → 1 fetcher, N in CAPPED_N. Each N
 * fetches a file of N × SMALL_MIB, so every run lasts about as long at the
 * goal rate (8 s with the defaults) and the get's fixed start-up cost weighs
 * the same for every N.
 */
async function capped (c: Ctx, repos: string[], small: string, cidSmall: string, shaSmall: string): Promise<void> {
  const max = Math.max(...CAPPED_N)
  const files = new Map<number, { cid: string, sha: string, mib: number }>()
  for (const n of CAPPED_N) {
    let f = { cid: cidSmall, sha: shaSmall, mib: SMALL_MIB }
    let input = small
    if (n > 1) {
      input = path.join(c.tmp, `capped-${n}.bin`)
      makeFile(input, n * SMALL_MIB)
      f = { cid: '', sha: sha256File(input), mib: n * SMALL_MIB }
    }
    for (const r of repos.slice(0, n)) {
      const got = await importInto(r, input) // the small file is already in s1..s3: a quick no-op import
      if (f.cid !== '' && got !== f.cid) throw new Error(`root CID differs in ${r}`)
      f.cid = got
    }
    if (input !== small) fs.rmSync(input)
    files.set(n, f)
  }
  const seeds: SeedProcess[] = []
  try {
    for (const r of repos.slice(0, max)) {
      const s = await seed(r, ['--max-upload', `${CAP_MIB_S}MiB`])
      seeds.push(s)
      c.seeds.push(s)
    }
  } catch (err) {
    if (!(err instanceof UnsupportedFlagError)) throw err
    await stopAll(seeds)
    c.rows.push({ what: `cairn N seeders capped at ${CAP_MIB_S} MiB/s → 1`, figure: 'n/a', baseline: '-', ratio: '-', note: `n/a: ${err.message}` })
    c.log(`capped: ${err.message}`)
    return
  }
  try {
    await cappedRuns(c, seeds, files)
  } finally {
    await stopAll(seeds)
  }
}

async function cappedRuns (c: Ctx, seeds: SeedProcess[], files: Map<number, { cid: string, sha: string, mib: number }>): Promise<void> {
  for (const n of CAPPED_N) {
    const use = seeds.slice(0, n)
    const f = files.get(n) as { cid: string, sha: string, mib: number }
    const runs = await gets(c, `cairn ${n} capped → 1 ${f.mib} MiB`, RUNS, f.cid, use.map(s => s.addrs[0]), f.mib, GET_TIMEOUT_MS(SMALL_MIB * 4), f.sha)
    const got = medianRate(runs, f.mib)
    const goal = GOAL_CAPPED * n * CAP_MIB_S
    const sh = runs.filter(r => r.ok).map(r => shares(r.peers, use.map(s => s.id)))
    const minShare = sh.length > 0 ? Math.min(...sh.flat()) : 0
    c.rows.push({
      what: `cairn ${n} seeder${n > 1 ? 's' : ''} capped at ${CAP_MIB_S} MiB/s → 1, ${f.mib} MiB`,
      figure: show(got, 'MiB/s', 1),
      baseline: `${f2(goal)} MiB/s goal`,
      ratio: ratio(got, n * CAP_MIB_S, `× of N×${CAP_MIB_S}`),
      note: `goal ≥ ${GOAL_CAPPED} × ${n} × ${CAP_MIB_S} MiB/s, each seeder ≥ ${pct(GOAL_SHARE)} of bytes (smallest here ${pct(minShare)}); seed --max-upload ${CAP_MIB_S}MiB; spawn to exit of get; per seeder ${sh.map(s => s.map(pct).join('/')).join(', ')}${failures(runs)}`
    })
  }
}

/** Time to first byte of cat through a daemon connected to the provider: the CLI, and the API directly. */
async function ttfb (c: Ctx, provider: SeedProcess, startup: string): Promise<void> {
  const repo = path.join(c.tmp, 'ttfb')
  const f = await seed(repo)
  c.seeds.push(f)
  try {
    await cairnOk(['--repo', repo, 'connect', provider.addrs[0]], 60_000)
    const fresh = async (i: number): Promise<string> => {
      const file = path.join(c.tmp, `ttfb-${i}.bin`)
      makeFile(file, TTFB_FILE_MIB)
      const cid = (await cairnOk(['--repo', provider.repo, 'add', file, '-Q'])).trim()
      fs.rmSync(file)
      return cid
    }
    // every file is added, and announced, before any is timed: the first
    // byte of content already published, not a race with its announcement
    const cids = new Map<string, string>()
    for (let i = 0; i < TTFB_RUNS; i++) for (const how of ['cli', 'api']) cids.set(`${how}${i}`, await fresh(2 * i + (how === 'api' ? 1 : 0)))
    const held = await fresh(2 * TTFB_RUNS)
    const settled = await announced(provider.repo)
    c.log(`ttfb: the provider's announcements ${settled ? 'done' : 'still running after the wait'}`)
    const cli: number[] = []
    const api: number[] = []
    const errors: string[] = []
    for (let i = 0; i < TTFB_RUNS; i++) {
      for (const [how, list, fn] of [['cli', cli, ttfbCli], ['api', api, ttfbApi]] as const) {
        const cid = cids.get(`${how}${i}`) as string
        try {
          const t = await fn(repo, cid)
          if (t.bytes !== TTFB_FILE_MIB * MIB) throw new Error(`got ${t.bytes} bytes, not ${TTFB_FILE_MIB * MIB}`)
          list.push(t.ms)
          c.log(`ttfb ${how} run ${i + 1}: ${t.ms.toFixed(1)} ms`)
        } catch (err) {
          errors.push(`${how}: ${(err as Error).message}`)
          c.log(`ttfb ${how} run ${i + 1}: FAILED ${(err as Error).message}`)
        }
      }
    }
    // the same CLI path for content F already holds: what the CLI and the daemon cost without the network
    const local: number[] = []
    await ttfbApi(repo, held)
    for (let i = 0; i < 3; i++) local.push((await ttfbCli(repo, held)).ms)
    const localNote = `cat of content F already holds: ${f0(median(local))} ms`
    c.log(`ttfb cli, content already held: ${local.map(x => x.toFixed(0)).join(' / ')} ms`)
    const failed = errors.length > 0 ? `; ${errors.length} FAILED: ${errors[0]}` : ''
    const row = (what: string, xs: number[], note: string): Row => ({
      what,
      figure: xs.length > 0 ? `${f0(median(xs))} ms` : 'all failed',
      baseline: `${GOAL_TTFB_MS} ms goal`,
      ratio: xs.length > 0 ? `${f2(median(xs) / GOAL_TTFB_MS)}× goal` : '-',
      note: `${note}; median of ${xs.length} fresh ${TTFB_FILE_MIB} MiB files added to the provider and announced before the timing; min ${xs.length > 0 ? f0(Math.min(...xs)) : '?'}, max ${xs.length > 0 ? f0(Math.max(...xs)) : '?'} ms${failed}`
    })
    c.rows.push(row('TTFB cat via the daemon, CLI', cli, `goal ≤ ${GOAL_TTFB_MS} ms; spawn of cairn cat to its first stdout byte, fetcher seed already connected to the provider (includes the CLI's start-up: ${startup.split(';')[0].replace('start-up: ', '')}; the same ${localNote})`))
    c.rows.push(row('TTFB cat via the daemon, HTTP API', api, 'POST /api/v1/cat on the fetcher seed\'s socket (as the CLI does) to the first body byte'))
  } finally {
    await f.stop()
    c.seeds.splice(c.seeds.indexOf(f), 1)
  }
}

/** Waits (bounded) until the seed on `repo` has no DHT announcement under way. */
async function announced (repo: string): Promise<boolean> {
  const until = performance.now() + ANNOUNCE_WAIT_MS
  while (performance.now() < until) {
    const s = JSON.parse(await cairnOk(['--repo', repo, 'stats', '--json'])) as { provide?: { pending?: number } }
    if ((s.provide?.pending ?? 0) === 0) return true
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  return false
}

/** Peak RSS of fetcher and seeder, the main file against BIG_MIB (1 → 1). */
async function rssRows (c: Ctx, main: GetRun[], seederPeak: number | null, s1: SeedProcess): Promise<void> {
  const fetchPeak = Math.max(...main.map(r => Math.max(r.maxRssMiB, r.hwmMiB)))
  let big: { ok: boolean, fetch: number, seed: number | null, note: string } | null = null
  if (BIG_MIB > 0) {
    const file = path.join(c.tmp, `in-${BIG_MIB}.bin`)
    makeFile(file, BIG_MIB)
    const sha = sha256File(file)
    const repo = path.join(c.tmp, 'sbig')
    const cid = await importInto(repo, file)
    fs.rmSync(file) // disk: the fetcher writes blocks and output beside it
    const s = await seed(repo)
    c.seeds.push(s)
    const [g] = await gets(c, `cairn 1→1 ${BIG_MIB} MiB`, 1, cid, [s.addrs[0]], BIG_MIB, GET_TIMEOUT_MS(BIG_MIB), sha)
    big = { ok: g.ok, fetch: Math.max(g.maxRssMiB, g.hwmMiB), seed: seedPeakMiB(s), note: g.ok ? `${f0(rate(BIG_MIB, g.seconds))} MiB/s${g.error !== '' ? ` ${g.error}` : ''}` : `FAILED ${g.error}` }
    await s.stop()
    fs.rmSync(repo, { recursive: true, force: true })
  }
  const row = (who: string, a: number | null, b: number | null, how: string): Row => {
    // a failed big get stopped early: its peak says nothing about the size
    const spread = a != null && b != null && big?.ok === true ? b / a : null
    return {
      what: `peak RSS ${who}, ${FILE_MIB} MiB${big != null ? ` / ${BIG_MIB} MiB` : ''}`,
      figure: `${a != null ? f0(a) : '?'}${big != null ? ` / ${b != null ? f0(b) : '?'}${big.ok ? '' : ' (get FAILED)'}` : ''} MiB`,
      baseline: `${GOAL_RSS_MIB} MiB goal`,
      ratio: spread != null ? `${f2(spread)}× between sizes` : '-',
      note: `goal ≤ ${GOAL_RSS_MIB} MiB and within ${pct(GOAL_RSS_SPREAD)} between sizes${big == null ? ' (no second size: BENCH_BIG_MIB=0)' : ''}; ${how}` + (big != null && (who === 'fetcher' || !big.ok) ? `; the ${BIG_MIB} MiB get: ${big.note}` : '')
    }
  }
  c.rows.push(row('fetcher', fetchPeak, big?.fetch ?? null, 'cairn get: the largest VmRSS polled every 50 ms (or VmHWM at the last poll) over the 1→1 runs'))
  c.rows.push(row('seeder', seederPeak, big?.seed ?? null, `cairn seed: VmHWM after serving the 1→1 runs (${s1.id.slice(-8)})`))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-transfer-'))
  try {
    for (const line of transferConditions()) console.log(line)
    printTable(await transferFigures(tmp))
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

// The realistic transfer path for `npm run bench` (issue 24): cairn as people
// run it, beside WebTorrent 3 in the same run. Every seeder is a `cairn seed`
// that `add`s the file through its daemon (a fresh random file per run); the
// fetcher is a `cairn seed` on its own repo, and `cairn --repo F get CID`
// runs through it, finding the providers in the DHT (no --peer). Each case
// runs right after the adds return, and again once every seeder's
// announcements have settled. The clean path (`get --peer` into a fresh repo,
// no daemon) of the same files runs alongside, as the baseline of what the
// realistic path loses. Also the bare transports: one libp2p stream over
// TCP + Noise + Yamux against TCP + TLS + Yamux.
//
//   node dist/test/bench/realistic.js    runs this part alone (BENCH_ONLY=realistic in run.js)
//   BENCH_REALISTIC_MIB=512          the file of the 1→1 and 3→1 cases (and WebTorrent's)
//   BENCH_REALISTIC_CAPPED_MIB=384   the file of the 3 capped seeders (8 s at the goal rate)
//   BENCH_STREAM_MIB=512             the bare transport streams
//   BENCH_RUNS=3                     runs per figure (medians)
//   BENCH_SETTLE_S=180               bound on the wait for announcements to settle

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { stopAll, type SeedProcess } from '../integration/seeds.ts'
import { Worker, cairnOk, cpuOf, rssOf, runWorker, timedCairn } from './processes.ts'
import { f0, f2, median, pct, rate, makeFile, runPart, type Ctx } from './transfer-baselines.ts'
import { MIB, seed, sha256File, shares, timedGet } from './transfer-cairn.ts'
import { printTable, type Row } from './table.ts'

const env = (k: string, d: number): number => process.env[k] != null && process.env[k] !== '' ? Number(process.env[k]) : d
const FILE_MIB = env('BENCH_REALISTIC_MIB', 512)
const CAPPED_MIB = env('BENCH_REALISTIC_CAPPED_MIB', 384)
const STREAM_MIB = env('BENCH_STREAM_MIB', 512)
const RUNS = env('BENCH_RUNS', 3)
/** announcements of a just-added file end well within this (bounded wait) */
const SETTLE_MS = env('BENCH_SETTLE_S', 180) * 1000
/** how often a seeder's stats are read while waiting for its announcements */
const SETTLE_POLL_MS = 500
const HERE = path.dirname(fileURLToPath(import.meta.url))
const WT_WORKER = path.join(HERE, 'webtorrent-worker.js')
/** the capped seeders' upload limit, and how many */
const CAP_MIB_S = 16
const CAPPED_SEEDERS = 3
/** a get or a WebTorrent fetch may take this long per MiB (plus a minute) before the bench kills it */
const FETCH_TIMEOUT_MS = (mib: number): number => 60_000 + mib * 1000
/** a WebTorrent seeder hashes its file before it answers */
const WT_SEED_READY_MS = 300_000
/** a bare stream run (both processes) is killed after this */
const STREAM_TIMEOUT_MS = 180_000
/** senders of the bare streams write pieces of this size */
const STREAM_CHUNK = 256 * 1024

/** goals from issue 24 */
const GOAL_VS_WT = 1.0
const GOAL_CAPPED = 0.85
const GOAL_SHARE = 0.2
const GOAL_RSS_MIB = 300

export function realisticConditions (): string[] {
  return [
    `realistic: Node ${process.versions.node}, ${os.cpus().length} cores, load average ${os.loadavg().map(x => x.toFixed(1)).join(' ')}; medians of ${RUNS} runs`,
    `  cairn: seeders are \`cairn seed\` processes bootstrapped from the first; each run adds a fresh ${FILE_MIB} MiB random file through their daemons (\`cairn --repo S add FILE -Q\`); ` +
      'the fetcher is a `cairn seed` on its own repo bootstrapped from the first seeder; `cairn --repo F get CID -o OUT --json` goes through it, providers from the DHT (no --peer), timed spawn to exit',
    '  "just added": the get starts as soon as every add has returned; "settled": once every seeder\'s stats show no announcement under way',
    '  clean path, same files: `cairn --repo FRESH get CID --peer MA` with no daemon (as the transfer part)',
    `  WebTorrent ${wtVersion()}: one process per peer, TCP on 127.0.0.1 only, no DHT/tracker/LSD/uTP/PEX, peers added by hand, the .torrent given to the fetcher; ` +
      'fs-chunk-store output on disk, no fsync; timed from the fetcher process\'s start (Node and the imports included, as a cairn get) to its done event',
    `  capped: ${CAPPED_SEEDERS} seeders with --max-upload ${CAP_MIB_S}MiB, a ${CAPPED_MIB} MiB file`
  ]
}

function wtVersion (): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(HERE, '..', '..', '..', 'node_modules', 'webtorrent', 'package.json'), 'utf8')) as { version: string }).version
  } catch {
    return '3'
  }
}

/** Waits (bounded) until the seed on `repo` has no DHT announcement under way; ms waited, or null at the bound. */
async function settled (repo: string, boundMs: number): Promise<number | null> {
  const t0 = performance.now()
  while (performance.now() - t0 < boundMs) {
    const s = JSON.parse(await cairnOk(['--repo', repo, 'stats', '--json'])) as { provide?: { pending?: number, round?: unknown } }
    // settled: no fresh CID waiting to be announced and no sweep round under way (core/net/provide-report.ts)
    if ((s.provide?.pending ?? 0) === 0 && s.provide?.round == null) return performance.now() - t0
    await new Promise(resolve => setTimeout(resolve, SETTLE_POLL_MS))
  }
  return null
}

/** CPU seconds one fetch cost: the fetching side (F's seed and the `get` client, or the one `get` process) and the serving side (every seeder) */
interface Cpu { fetcher: number, seeders: number }
interface Run { ok: boolean, seconds: number, peers: Record<string, number>, error: string, clientRssMiB: number, cpu?: Cpu }

/** CPU seconds of the processes `pids` together so far (those still running). */
const cpuSum = (pids: number[]): number => pids.reduce((a, p) => a + (cpuOf(p) ?? 0), 0)

/** `cairn --repo F get CID -o OUT --json` through F's seed (no --peer); checks the output against `sha` when given. */
async function realisticGet (fetcher: SeedProcess, seeders: SeedProcess[], cid: string, out: string, mib: number, sha: string | null): Promise<Run> {
  const t = FETCH_TIMEOUT_MS(mib)
  const fBefore = cpuOf(fetcher.pid) ?? 0
  const s0 = cpuSum(seeders.map(s => s.pid))
  const r = await timedCairn(['--repo', fetcher.repo, 'get', cid, '-o', out, '--json', '--timeout', String(Math.ceil(t / 1000))], { timeoutMs: t + 15_000 })
  let peers: Record<string, number> = {}
  for (const line of r.stdout.split('\n')) {
    try {
      const o = JSON.parse(line) as { peers?: Record<string, number> }
      if (o.peers != null) peers = o.peers
    } catch {}
  }
  let error = r.code === 0 ? '' : r.timedOut ? 'killed at its bound' : `exit ${r.code ?? r.signal}: ${r.stderr.trim().split('\n').at(-1) ?? ''}`
  if (error === '' && sha != null && sha256File(out) !== sha) error = 'OUTPUT DIFFERS from the input'
  const cpu = { fetcher: (cpuOf(fetcher.pid) ?? 0) - fBefore + r.cpuSeconds, seeders: cpuSum(seeders.map(s => s.pid)) - s0 }
  fs.rmSync(out, { force: true })
  return { ok: error === '', seconds: r.seconds, peers, error, clientRssMiB: r.maxRssMiB, cpu }
}

/** Drops a run's file from the seeders (unpin, gc) and its blocks from the fetcher (gc), through their daemons. */
async function forget (adders: SeedProcess[], fetcher: SeedProcess, cid: string): Promise<void> {
  await Promise.all(adders.map(async s => {
    await cairnOk(['--repo', s.repo, 'pin', 'rm', cid])
    await cairnOk(['--repo', s.repo, 'repo', 'gc'])
  }))
  await cairnOk(['--repo', fetcher.repo, 'repo', 'gc'])
}

interface CaseResult { added: Run[], settled: Run[], clean: Run[], settleMs: number[] }

/**
 * RUNS runs of each phase: a fresh file added to every seeder of `adders`
 * through its daemon, then fetched by F (right away, or once settled).
 * With `clean`, each settled run is followed by a clean `get --peer` of the
 * same file into a fresh repo.
 */
async function realisticCase (c: Ctx, label: string, adders: SeedProcess[], fetcher: SeedProcess, mib: number, clean: boolean): Promise<CaseResult> {
  const res: CaseResult = { added: [], settled: [], clean: [], settleMs: [] }
  for (const phase of ['added', 'settled'] as const) {
    for (let r = 0; r < RUNS; r++) {
      const file = path.join(c.tmp, `r-${mib}.bin`)
      makeFile(file, mib)
      const sha = r === 0 ? sha256File(file) : null
      const cids = await Promise.all(adders.map(async s => (await cairnOk(['--repo', s.repo, 'add', file, '-Q'], 600_000)).trim().split('\n').at(-1) as string))
      fs.rmSync(file)
      const cid = cids[0]
      if (cids.some(x => x !== cid)) throw new Error(`the seeders' root CIDs differ: ${cids.join(' ')}`)
      let note = ''
      if (phase === 'settled') {
        const waits = await Promise.all(adders.map(async s => await settled(s.repo, SETTLE_MS)))
        if (waits.some(w => w == null)) note = ` (announcements still running after ${SETTLE_MS / 1000} s)`
        else res.settleMs.push(Math.max(...(waits as number[])))
      }
      const out = path.join(c.tmp, `out-${r}`)
      const run = await realisticGet(fetcher, adders, cid, out, mib, sha)
      res[phase].push(run)
      c.log(`${label} ${phase} run ${r + 1}/${RUNS}${note}: ${run.ok ? `${run.seconds.toFixed(2)} s, ${f0(rate(mib, run.seconds))} MiB/s, shares ${shares(run.peers, adders.map(s => s.id)).map(pct).join('/')}, CPU ${run.cpu != null ? cpuNote(run.cpu) : '?'}` : `FAILED ${run.error}`}`)
      if (clean && phase === 'settled') {
        const s0 = cpuOf(adders[0].pid) ?? 0
        const g = await timedGet(cid, [adders[0].addrs[0]], c.tmp, FETCH_TIMEOUT_MS(mib), sha != null)
        const ok = g.ok && (g.sha256 == null || g.sha256 === sha)
        const cpu = { fetcher: g.cpuSeconds, seeders: (cpuOf(adders[0].pid) ?? 0) - s0 }
        res.clean.push({ ok, seconds: g.seconds, peers: g.peers, error: ok ? '' : g.error !== '' ? g.error : 'OUTPUT DIFFERS', clientRssMiB: g.maxRssMiB, cpu })
        c.log(`${label} clean (get --peer, no daemon) run ${r + 1}/${RUNS}: ${ok ? `${g.seconds.toFixed(2)} s, ${f0(rate(mib, g.seconds))} MiB/s, CPU ${cpuNote(cpu)}` : `FAILED ${g.error}`}`)
      }
      await forget(adders, fetcher, cid)
    }
  }
  return res
}

const okRate = (runs: Run[], mib: number): number | null => {
  const ok = runs.filter(r => r.ok).map(r => r.seconds)
  return ok.length > 0 ? rate(mib, median(ok)) : null
}
const show = (x: number | null): string => x != null ? `${f0(x)} MiB/s` : 'all runs failed'
const ratio = (a: number | null, b: number | null): string => a != null && b != null && b > 0 ? `${f2(a / b)}×` : '-'
const failed = (runs: Run[]): string => {
  const bad = runs.filter(r => !r.ok)
  return bad.length > 0 ? `; ${bad.length} FAILED: ${bad[0].error}` : ''
}
const cpuNote = (c: Cpu): string => `fetching ${c.fetcher.toFixed(2)} s + serving ${c.seeders.toFixed(2)} s`
/** the median CPU of the runs that succeeded, each side apart */
const cpuMedian = (cpus: Cpu[]): Cpu | null => cpus.length === 0 ? null : { fetcher: median(cpus.map(c => c.fetcher)), seeders: median(cpus.map(c => c.seeders)) }
const shareNote = (runs: Run[], ids: string[]): string => runs.filter(r => r.ok).map(r => shares(r.peers, ids).map(pct).join('/')).join(', ')

interface WtResult { seconds?: number, sinceStart?: number, timedOut?: boolean, bytes: number, peers: Record<string, number>, peakRssMiB: number, cpuSeconds?: number }

/** WebTorrent 1→1 and 3→1 on one file, RUNS each; MiB/s medians. */
async function webtorrent (c: Ctx, mib: number): Promise<{ one: number | null, three: number | null, seedRss: number | null, cpuOne: Cpu[] }> {
  const file = path.join(c.tmp, `wt-${mib}.bin`)
  makeFile(file, mib)
  const sha = sha256File(file)
  const seeders: Array<{ w: Worker, port: number, torrent: string }> = []
  try {
    for (let i = 0; i < 3; i++) {
      const dir = fs.mkdtempSync(path.join(c.tmp, 'wts-'))
      const w = new Worker('wt-seed', [file, dir], WT_WORKER)
      c.workers.push(w)
      const first = await w.line<{ port: number, torrent: string, pieceLength: number }>(0, WT_SEED_READY_MS)
      if (i === 0) c.log(`webtorrent: piece length ${first.pieceLength / 1024} KiB`)
      seeders.push({ w, ...first })
    }
    const cpuOne: Cpu[] = []
    const fetch = async (n: number, r: number): Promise<number | null> => {
      const out = fs.mkdtempSync(path.join(c.tmp, 'wtf-'))
      const serving = seeders.slice(0, n).map(s => s.w.pid)
      const s0 = cpuSum(serving)
      try {
        const res = await runWorker<WtResult>('wt-fetch', [seeders[0].torrent, out, String(FETCH_TIMEOUT_MS(mib)), ...seeders.slice(0, n).map(s => String(s.port))], FETCH_TIMEOUT_MS(mib) + 30_000, WT_WORKER)
        if (res.timedOut === true || res.seconds == null || res.sinceStart == null) { c.log(`webtorrent ${n}→1 run ${r + 1}: TIMED OUT`); return null }
        const written = fs.readdirSync(out)
        const got = written.length === 1 ? sha256File(path.join(out, written[0])) : ''
        const total = Object.values(res.peers).reduce((a, b) => a + b, 0)
        const cpu = { fetcher: res.cpuSeconds ?? 0, seeders: cpuSum(serving) - s0 }
        if (n === 1 && got === sha) cpuOne.push(cpu)
        c.log(`webtorrent ${n}→1 run ${r + 1}: ${res.sinceStart.toFixed(2)} s from the process's start (${res.seconds.toFixed(2)} s add to done), ${f0(rate(mib, res.sinceStart))} MiB/s, shares ${seeders.slice(0, n).map(s => pct(total > 0 ? (res.peers[String(s.port)] ?? 0) / total : 0)).join('/')}, fetcher RSS ${f0(res.peakRssMiB)} MiB, CPU ${cpuNote(cpu)}${got === sha ? '' : ' OUTPUT DIFFERS'}`)
        return got === sha ? res.sinceStart : null
      } catch (err) {
        c.log(`webtorrent ${n}→1 run ${r + 1}: FAILED ${(err as Error).message.slice(0, 300)}`)
        return null
      } finally {
        fs.rmSync(out, { recursive: true, force: true })
      }
    }
    const med = async (n: number): Promise<number | null> => {
      const s: number[] = []
      for (let r = 0; r < RUNS; r++) {
        const x = await fetch(n, r)
        if (x != null) s.push(x)
      }
      return s.length > 0 ? rate(mib, median(s)) : null
    }
    const one = await med(1)
    const three = await med(3)
    const seedRss = Math.max(...seeders.map(s => rssOf(s.w.pid)?.hwm ?? 0))
    return { one, three, seedRss, cpuOne }
  } finally {
    await Promise.allSettled(seeders.map(async s => { await s.w.stop() }))
    fs.rmSync(file, { force: true })
  }
}

/** The bare libp2p stream, Noise against TLS, alternating; MiB/s medians. */
async function transports (c: Ctx): Promise<void> {
  const bytes = STREAM_MIB * MIB
  const once = async (enc: string): Promise<number> => {
    const recv = new Worker('libp2p-recv', [String(bytes), enc])
    c.workers.push(recv)
    try {
      const first = await recv.line<{ addr: string }>(0, 30_000)
      return (await runWorker<{ seconds: number }>('libp2p-send', [first.addr, String(bytes), String(STREAM_CHUNK), enc], STREAM_TIMEOUT_MS)).seconds
    } finally {
      await recv.stop()
    }
  }
  const s: Record<string, number[]> = { noise: [], tls: [] }
  for (let r = 0; r < RUNS; r++) {
    for (const enc of ['noise', 'tls']) {
      s[enc].push(await once(enc))
      c.log(`stream ${enc} run ${r + 1}: ${f0(rate(STREAM_MIB, s[enc].at(-1) as number))} MiB/s`)
    }
  }
  const noise = rate(STREAM_MIB, median(s.noise))
  const tls = rate(STREAM_MIB, median(s.tls))
  c.rows.push({ what: `bare libp2p stream, TCP + Noise + Yamux, ${STREAM_MIB} MiB`, figure: `${f0(noise)} MiB/s`, baseline: '-', ratio: '-', note: 'no goal; one stream between two bare libp2p nodes (processes), 256 KiB sends on backpressure; runs alternate with TLS' })
  c.rows.push({ what: `bare libp2p stream, TCP + TLS (@libp2p/tls) + Yamux, ${STREAM_MIB} MiB`, figure: `${f0(tls)} MiB/s`, baseline: `${f0(noise)} MiB/s Noise`, ratio: `${f2(tls / noise)}×`, note: 'no goal' })
  c.rows.push({ what: 'bare libp2p stream, QUIC', figure: 'n/a', baseline: '-', ratio: '-', note: 'not installable here: npm ci fails on @chainsafe/libp2p-quic\'s lock entry (this registry has only its linux-x64-gnu build); issue 24: 59 MiB/s against 209 for Noise, 2-3× the CPU per byte' })
}

async function measure (c: Ctx): Promise<void> {
  await transports(c)
  const wt = await webtorrent(c, FILE_MIB)
  const repo = (n: string): string => path.join(c.tmp, n)

  // the uncapped seeders and the fetcher's seed, up for the whole of both cases
  const s1 = await seed(repo('s1'))
  c.seeds.push(s1)
  const rest = [await seed(repo('s2'), ['--bootstrap', s1.addrs[0]]), await seed(repo('s3'), ['--bootstrap', s1.addrs[0]])]
  c.seeds.push(...rest)
  const three = [s1, ...rest]
  const f = await seed(repo('f'), ['--bootstrap', s1.addrs[0]])
  c.seeds.push(f)

  const one = await realisticCase(c, 'cairn 1→1', [s1], f, FILE_MIB, true)
  const ids1 = [s1.id]
  const c1a = okRate(one.added, FILE_MIB)
  const c1s = okRate(one.settled, FILE_MIB)
  const clean = okRate(one.clean, FILE_MIB)
  const settleNote = (r: CaseResult): string => r.settleMs.length > 0 ? `announcements settled ${r.settleMs.map(x => (x / 1000).toFixed(1)).join('/')} s after the adds` : 'announcements never settled within the bound'
  c.rows.push({ what: `cairn get --peer, no daemon (clean path) 1→1, ${FILE_MIB} MiB`, figure: show(clean), baseline: `${show(wt.one)} WebTorrent 1→1`, ratio: ratio(clean, wt.one), note: `baseline of the realistic rows: the settled runs' files, right after each settled run${failed(one.clean)}` })
  c.rows.push({ what: `cairn realistic 1→1, just added, ${FILE_MIB} MiB`, figure: show(c1a), baseline: `${show(wt.one)} WebTorrent 1→1`, ratio: ratio(c1a, wt.one), note: `goal ≥ ${GOAL_VS_WT}×; ${ratio(c1a, clean)} the clean path${failed(one.added)}` })
  c.rows.push({ what: `cairn realistic 1→1, settled, ${FILE_MIB} MiB`, figure: show(c1s), baseline: `${show(wt.one)} WebTorrent 1→1`, ratio: ratio(c1s, wt.one), note: `goal ≥ ${GOAL_VS_WT}×; ${ratio(c1s, clean)} the clean path; ${settleNote(one)}; shares ${shareNote(one.settled, ids1)}${failed(one.settled)}` })

  const t3 = await realisticCase(c, 'cairn 3→1', three, f, FILE_MIB, false)
  const ids3 = three.map(s => s.id)
  const c3a = okRate(t3.added, FILE_MIB)
  const c3s = okRate(t3.settled, FILE_MIB)
  c.rows.push({ what: `cairn realistic 3→1, just added, ${FILE_MIB} MiB`, figure: show(c3a), baseline: `${show(wt.three)} WebTorrent 3→1`, ratio: ratio(c3a, wt.three), note: `goal ≥ ${GOAL_VS_WT}×; bytes per seeder ${shareNote(t3.added, ids3)}${failed(t3.added)}` })
  c.rows.push({ what: `cairn realistic 3→1, settled, ${FILE_MIB} MiB`, figure: show(c3s), baseline: `${show(wt.three)} WebTorrent 3→1`, ratio: ratio(c3s, wt.three), note: `goal ≥ ${GOAL_VS_WT}×; ${settleNote(t3)}; bytes per seeder ${shareNote(t3.settled, ids3)}${failed(t3.settled)}` })
  c.rows.push({ what: `WebTorrent ${wtVersion()} 1→1 / 3→1, ${FILE_MIB} MiB`, figure: `${show(wt.one)} / ${show(wt.three)}`, baseline: '-', ratio: '-', note: `fetcher process start to done (the log also gives add to done); seeder peak RSS ${wt.seedRss != null ? f0(wt.seedRss) : '?'} MiB` })

  const okCpu = (runs: Run[]): Cpu[] => runs.flatMap(r => r.ok && r.cpu != null ? [r.cpu] : [])
  const cpuRow = (what: string, x: Cpu | null): void => {
    const wtCpu = cpuMedian(wt.cpuOne)
    const sum = (c: Cpu): number => c.fetcher + c.seeders
    c.rows.push({ what: `CPU per ${FILE_MIB} MiB fetch, ${what}`, figure: x != null ? `${f2(sum(x))} s (${cpuNote(x)})` : '?', baseline: wtCpu != null ? `${f2(sum(wtCpu))} s WebTorrent 1→1 (${cpuNote(wtCpu)})` : '?', ratio: x != null && wtCpu != null ? `${f2(sum(x) / sum(wtCpu))}×` : '-', note: 'medians; every process of each side (user + system, all threads); no goal: on 2 cores both sides compete for the same CPU' })
  }
  cpuRow('cairn realistic 1→1, settled (F\'s seed and the get client / the seeder)', cpuMedian(okCpu(one.settled)))
  cpuRow('cairn clean path 1→1 (the get process / the seeder)', cpuMedian(okCpu(one.clean)))

  const seedPeak = Math.max(...three.map(s => rssOf(s.pid)?.hwm ?? 0))
  const fPeak = rssOf(f.pid)?.hwm ?? null
  const clientPeak = Math.max(...[...one.added, ...one.settled, ...t3.added, ...t3.settled].map(r => r.clientRssMiB))
  c.rows.push({ what: 'peak RSS, seeders / fetcher\'s seed', figure: `${f0(seedPeak)} / ${fPeak != null ? f0(fPeak) : '?'} MiB`, baseline: `${GOAL_RSS_MIB} MiB goal`, ratio: '-', note: `VmHWM after the 1→1 and 3→1 cases (the largest of the 3 seeders); the \`cairn get\` client itself ≤ ${f0(clientPeak)} MiB` })
  await stopAll(c.seeds.splice(0))

  // capped: fresh seeds with --max-upload on their own repos, a fetcher seed bootstrapped from the first
  const capArgs = ['--max-upload', `${CAP_MIB_S}MiB`]
  const k1 = await seed(repo('k1'), capArgs)
  c.seeds.push(k1)
  const capped = [k1]
  for (let i = 2; i <= CAPPED_SEEDERS; i++) {
    capped.push(await seed(repo(`k${i}`), [...capArgs, '--bootstrap', k1.addrs[0]]))
    c.seeds.push(capped.at(-1) as SeedProcess)
  }
  const f2s = await seed(repo('f'), ['--bootstrap', k1.addrs[0]])
  c.seeds.push(f2s)
  const k = await realisticCase(c, `cairn ${CAPPED_SEEDERS} capped→1`, capped, f2s, CAPPED_MIB, false)
  const idsK = capped.map(s => s.id)
  const goal = CAPPED_SEEDERS * CAP_MIB_S
  for (const phase of ['added', 'settled'] as const) {
    const x = okRate(k[phase], CAPPED_MIB)
    const minShare = Math.min(...k[phase].filter(r => r.ok).map(r => Math.min(...shares(r.peers, idsK))))
    c.rows.push({ what: `cairn realistic ${CAPPED_SEEDERS} seeders capped at ${CAP_MIB_S} MiB/s, ${phase === 'added' ? 'just added' : 'settled'}, ${CAPPED_MIB} MiB`, figure: show(x), baseline: `${goal} MiB/s (${CAPPED_SEEDERS} × ${CAP_MIB_S})`, ratio: ratio(x, goal), note: `goal ≥ ${GOAL_CAPPED}×, each seeder ≥ ${pct(GOAL_SHARE)} (smallest ${Number.isFinite(minShare) ? pct(minShare) : '?'}); bytes per seeder ${shareNote(k[phase], idsK)}${phase === 'settled' ? `; ${settleNote(k)}` : ''}${failed(k[phase])}` })
  }
}

export async function realisticFigures (tmp: string, log: (s: string) => void = s => console.log(s)): Promise<Row[]> {
  return await runPart('realistic', tmp, log, measure)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-realistic-'))
  try {
    for (const line of realisticConditions()) console.log(line)
    printTable(await realisticFigures(tmp))
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

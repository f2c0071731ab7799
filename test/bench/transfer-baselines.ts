// The baselines of the transfer bench (transfer.ts), measured in the same
// run as cairn: raw TCP and a raw libp2p stream (TCP + Noise + Yamux)
// between two processes, and plain Helia bitswap from 1 and 3 seeders, each
// side a transfer-worker.ts process.

import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { Worker, killStarted, rssOf, runWorker } from './processes.ts'
import { stopAll } from '../integration/seeds.ts'
import { MIB } from './transfer-cairn.ts'
import type { SeedProcess } from '../integration/seeds.ts'
import type { Row } from './table.ts'

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}
export const rate = (mib: number, s: number): number => mib / s
export const f0 = (x: number): string => x.toFixed(0)
export const f2 = (x: number): string => x.toFixed(2)
export const pct = (x: number): string => `${(100 * x).toFixed(0)}%`

/** What a case of the transfer bench works with: its temp dir, its log, the rows, what it started. */
export interface Ctx { tmp: string, log: (s: string) => void, rows: Row[], seeds: SeedProcess[], workers: Worker[] }

/** A random file of `mib` MiB, written in 1 MiB pieces. */
export function makeFile (file: string, mib: number): void {
  const fd = fs.openSync(file, 'w')
  try {
    for (let i = 0; i < mib; i++) fs.writeSync(fd, randomBytes(MIB))
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * Runs one bench part in a temp dir of its own: its rows, or the rows so far
 * and a FAILED row saying why set-up failed; every seed, worker and process
 * it started is stopped, and the dir removed, whatever happened.
 */
export async function runPart (name: string, tmp: string, log: (s: string) => void, measure: (c: Ctx) => Promise<void>): Promise<Row[]> {
  const c: Ctx = { tmp: fs.mkdtempSync(path.join(tmp, `${name.slice(0, 2)}-`)), log, rows: [], seeds: [], workers: [] }
  const t0 = performance.now()
  try {
    await measure(c)
  } catch (err) {
    const msg = (err as Error).message.replace(/\s+/g, ' ').slice(0, 400)
    log(`${name}: FAILED ${msg}`)
    c.rows.push({ what: `${name} part`, figure: 'FAILED', baseline: '-', ratio: '-', note: msg })
  } finally {
    await stopAll(c.seeds)
    await Promise.allSettled(c.workers.map(async w => { await w.stop() }))
    killStarted()
    fs.rmSync(c.tmp, { recursive: true, force: true })
    log(`${name} part: ${f0((performance.now() - t0) / 1000)} s`)
  }
  return c.rows
}

/** The knobs the baselines use (set in transfer.ts). */
export interface BaselineSettings {
  fileMib: number
  runs: number
  /** senders write pieces of this size */
  rawChunk: number
  /** a plain Helia fetch stalled past this counts at it */
  heliaTimeoutMs: number
}

/** a raw baseline run (both processes) is killed after this */
const RAW_TIMEOUT_MS = 120_000
/** a Helia seeder's import of the file (untimed) must end within this */
const HELIA_IMPORT_TIMEOUT_MS = 300_000

/** Raw TCP and the raw libp2p stream: o.runs runs each; MiB/s medians. */
export async function rawLimits (c: Ctx, o: BaselineSettings): Promise<{ tcp: number, stream: number }> {
  const bytes = o.fileMib * MIB
  const once = async (recvMode: string, sendMode: string, target: (first: Record<string, unknown>) => string): Promise<number> => {
    const recv = new Worker(recvMode, [String(bytes)])
    c.workers.push(recv)
    try {
      const first = await recv.line<Record<string, unknown>>(0, 30_000)
      const r = await runWorker<{ seconds: number }>(sendMode, [target(first), String(bytes), String(o.rawChunk)], RAW_TIMEOUT_MS)
      return r.seconds
    } finally {
      await recv.stop()
    }
  }
  const tcp: number[] = []
  const stream: number[] = []
  for (let r = 0; r < o.runs; r++) {
    tcp.push(await once('tcp-recv', 'tcp-send', f => String(f.port)))
    stream.push(await once('libp2p-recv', 'libp2p-send', f => String(f.addr)))
  }
  const t = rate(o.fileMib, median(tcp))
  const s = rate(o.fileMib, median(stream))
  c.rows.push({ what: `raw TCP, ${o.fileMib} MiB`, figure: `${f0(t)} MiB/s`, baseline: '-', ratio: '-', note: `raw limit: net sockets between two processes, ${o.rawChunk / 1024} KiB writes honouring backpressure, receiver counts bytes (memory only)` })
  c.rows.push({ what: `raw libp2p stream, ${o.fileMib} MiB`, figure: `${f0(s)} MiB/s`, baseline: '-', ratio: '-', note: `raw limit: one stream, TCP + Noise + Yamux, a bare libp2p node per process, ${o.rawChunk / 1024} KiB stream.send()s waiting on onDrain; issue 6 says ≈ 185 MiB/s here, STACK.md 311` })
  c.log(`raw: TCP ${f0(t)} MiB/s, libp2p stream ${f0(s)} MiB/s`)
  return { tcp: t, stream: s }
}

interface HeliaResult {
  seconds?: number
  timedOut?: boolean
  /** the worker failed (or was killed) rather than timing out itself */
  error?: string
  /** bytes written to the output */
  bytes: number
  /** blocks received per peer (bitswap:block events) */
  peers: Record<string, number>
  peakRssMiB: number
}

/** How one plain Helia run ended, for the log. */
function heliaOutcome (r: HeliaResult, timeoutMs: number): string {
  const blocks = Object.values(r.peers).reduce((a, b) => a + b, 0)
  if (r.error != null) return `FAILED (counted at ${timeoutMs / 1000} s): ${r.error.replace(/\s+/g, ' ').slice(0, 300)}`
  if (r.timedOut === true) return `stalled: ${blocks} blocks received, ${r.bytes} bytes written by its ${timeoutMs / 1000} s time-out`
  return `${r.seconds?.toFixed(1)} s`
}

/** Plain Helia bitswap: o.runs runs 1 → 1, one run 3 → 1; MiB/s (a stalled run counts at its time-out). */
export async function heliaBaseline (c: Ctx, o: BaselineSettings, file: string): Promise<number> {
  const startSeeders = async (n: number): Promise<Array<{ w: Worker, addr: string, cid: string }>> => {
    const out = []
    for (let i = 0; i < n; i++) {
      const dir = fs.mkdtempSync(path.join(c.tmp, 'hs-'))
      const w = new Worker('helia-seed', [file, dir, String(MIB)])
      c.workers.push(w)
      const first = await w.line<{ addr: string, cid: string }>(0, HELIA_IMPORT_TIMEOUT_MS)
      out.push({ w, ...first })
    }
    return out
  }
  const fetchOnce = async (cid: string, addrs: string[]): Promise<HeliaResult> => {
    const dir = fs.mkdtempSync(path.join(c.tmp, 'hf-'))
    execFileSync('sync')
    try {
      // killed a while after its own time-out, should it not stop by itself
      return await runWorker<HeliaResult>('helia-fetch', [cid, path.join(dir, 'out'), dir, String(o.heliaTimeoutMs), ...addrs], o.heliaTimeoutMs + 60_000)
        .catch((err: Error) => ({ timedOut: true, bytes: 0, peers: {}, peakRssMiB: 0, error: err.message }))
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
  const secs = (r: HeliaResult): number => r.timedOut === true ? o.heliaTimeoutMs / 1000 : r.seconds as number
  const one = await startSeeders(1)
  const runs: HeliaResult[] = []
  for (let r = 0; r < o.runs; r++) {
    runs.push(await fetchOnce(one[0].cid, [one[0].addr]))
    c.log(`helia 1→1 run ${r + 1}: ${heliaOutcome(runs[r], o.heliaTimeoutMs)}`)
  }
  const seederRss = rssOf(one[0].w.pid)?.hwm
  const stalled = runs.filter(r => r.timedOut === true && r.error == null).length
  const failed = runs.filter(r => r.error != null)
  const h = rate(o.fileMib, median(runs.map(secs)))
  c.rows.push({
    what: `plain Helia bitswap 1→1, ${o.fileMib} MiB`,
    figure: `${f2(h)} MiB/s`,
    baseline: '-',
    ratio: '-',
    note: `baseline: Helia 7 light + bitswap, blockstore-fs on disk, unixfs cat written to a file (no fsync), 1 MiB chunks; ${stalled}/${o.runs} runs stalled (counted at their ${o.heliaTimeoutMs / 1000} s time-out)` +
      (failed.length > 0 ? `, ${failed.length} FAILED (counted the same): ${(failed[0].error as string).slice(0, 200)}` : '') + '; ' +
      `peak RSS fetcher ${f0(Math.max(...runs.map(r => r.peakRssMiB)))} MiB, seeder ${seederRss != null ? f0(seederRss) : '?'} MiB; STACK.md 17–32 MiB/s`
  })
  // the 1→1 seeder and two more
  const three = [...one, ...await startSeeders(2)]
  const r3 = await fetchOnce(three[0].cid, three.map(s => s.addr))
  await Promise.all(three.map(async s => { await s.w.stop() }))
  c.log(`helia 3→1: ${heliaOutcome(r3, o.heliaTimeoutMs)}`)
  const ids = three.map(s => s.addr.split('/p2p/')[1])
  const blocks = Object.values(r3.peers).reduce((a, b) => a + b, 0)
  c.rows.push({
    what: `plain Helia bitswap 3→1, ${o.fileMib} MiB`,
    figure: `${f2(rate(o.fileMib, secs(r3)))} MiB/s`,
    baseline: '-',
    ratio: '-',
    note: `one run${r3.error != null ? `, FAILED (counted at ${o.heliaTimeoutMs / 1000} s)` : r3.timedOut === true ? `, STALLED (counted at ${o.heliaTimeoutMs / 1000} s)` : ''}; ` +
      (blocks > 0 ? `blocks per seeder ${ids.map(id => pct((r3.peers[id] ?? 0) / blocks)).join(' / ')} (bitswap:block events)` : 'blocks per seeder unknown (cat passed on no bitswap:block events)') +
      '; STACK.md 13.9 MiB/s, ~97% from one seeder'
  })
  return h
}

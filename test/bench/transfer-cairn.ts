// cairn driven through its CLI for the transfer bench (transfer.ts): imports
// into seeder repos, `cairn seed` processes, timed `get` runs into fresh
// repos, and time to first byte of `cat` through a running daemon (the CLI,
// and the daemon's HTTP API directly). Only the CLI and the API's wire
// format are used, so the bench measures any version of the fetch code.

import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { readApiFile, startSeed, type SeedProcess } from '../integration/seeds.ts'
import { cairnOk, rssOf, timedCairn } from './processes.ts'

export const MIB = 1024 * 1024
/** bounds an untimed import (a 2 GiB file on a busy disk) */
const IMPORT_TIMEOUT_MS = 600_000
/** a get is killed this long after its own --timeout, should it not stop by itself */
const KILL_GRACE_MS = 15_000
/** bounds a TTFB request: reaching the first byte and reading the rest */
const TTFB_TIMEOUT_MS = 60_000

/** sha256 of a file, hex (for checking a fetched output against its input). */
export function sha256File (file: string): string {
  const h = createHash('sha256')
  const fd = fs.openSync(file, 'r')
  const buf = Buffer.allocUnsafe(4 * MIB)
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n))
  } finally {
    fs.closeSync(fd)
  }
  return h.digest('hex')
}

/** `cairn --repo REPO add FILE -Q [--chunker C]` (untimed); the root CID. */
export async function importInto (repo: string, file: string, chunker?: string): Promise<string> {
  const out = await cairnOk(['--repo', repo, 'add', file, '-Q', ...(chunker != null ? ['--chunker', chunker] : [])], IMPORT_TIMEOUT_MS)
  return out.trim().split('\n').at(-1) as string
}

export class UnsupportedFlagError extends Error {}

/**
 * `cairn --repo REPO seed --listen /ip4/127.0.0.1/tcp/0 --no-tui ...extra`,
 * ready once it printed its addresses. A seed that exits at once naming one
 * of `extra`'s flags as unknown throws UnsupportedFlagError.
 */
export async function seed (repo: string, extra: string[] = []): Promise<SeedProcess> {
  try {
    return await startSeed(repo, { args: ['--no-tui', ...extra] })
  } catch (err) {
    const msg = (err as Error).message
    const stderr = msg.split('\nstderr: ')[1] ?? ''
    const flag = extra.find(a => a.startsWith('--') && new RegExp(`unknown (flag|option) ${a}\\b`, 'i').test(stderr))
    if (flag != null) throw new UnsupportedFlagError(`seed ${flag} unsupported (${stderr.trim().split('\n')[0]})`)
    throw err
  }
}

/** VmHWM of a running seed, MiB (its peak RSS since it started). */
export function seedPeakMiB (s: SeedProcess): number | null {
  return rssOf(s.pid)?.hwm ?? null
}

export interface GetRun {
  ok: boolean
  timedOut: boolean
  seconds: number
  /** largest VmRSS seen while polling the get process, and its VmHWM at the last poll */
  maxRssMiB: number
  hwmMiB: number
  /** CPU seconds of the get process (polled: short by at most one poll) */
  cpuSeconds: number
  /** bytes served per peer ID, from the --json report */
  peers: Record<string, number>
  /** sha256 of the output, when asked for */
  sha256: string | null
  error: string
}

/**
 * Times `cairn --repo F get CID -o OUT --peer MA... --json --timeout S` into
 * a fresh repo F on disk, from spawn to exit; removes F and OUT afterwards.
 */
export async function timedGet (cid: string, peers: string[], dir: string, timeoutMs: number, hash = false): Promise<GetRun> {
  const repo = fs.mkdtempSync(path.join(dir, 'f-'))
  const out = path.join(repo, '..', `${path.basename(repo)}.out`)
  // no dirty pages of the run before: each get's flush pays for its own writes only
  execFileSync('sync')
  try {
    // get's --timeout is an idle limit (120 s by default); the bench passes its own bound, which is longer
    const args = ['--repo', repo, 'get', cid, '-o', out, '--json', '--timeout', String(Math.ceil(timeoutMs / 1000)), ...peers.flatMap(p => ['--peer', p])]
    const r = await timedCairn(args, { timeoutMs: timeoutMs + KILL_GRACE_MS })
    const ok = r.code === 0
    let served: Record<string, number> = {}
    for (const line of r.stdout.split('\n')) {
      try {
        const o = JSON.parse(line) as { peers?: Record<string, number> }
        if (o.peers != null) served = o.peers
      } catch {}
    }
    const error = ok ? '' : r.timedOut ? `killed: no exit within ${(timeoutMs + KILL_GRACE_MS) / 1000} s` : `exit ${r.code ?? r.signal}: ${lastLine(r.stderr)}`
    return { ok, timedOut: r.timedOut, seconds: r.seconds, maxRssMiB: r.maxRssMiB, hwmMiB: r.hwmMiB, cpuSeconds: r.cpuSeconds, peers: served, sha256: ok && hash ? sha256File(out) : null, error }
  } finally {
    fs.rmSync(repo, { recursive: true, force: true })
    fs.rmSync(out, { force: true })
  }
}

const lastLine = (s: string): string => s.trim().split('\n').filter(l => !l.startsWith('{"progress"')).at(-1) ?? ''

/** Shares of the bytes per seeder (in the order of `ids`), fractions of the total. */
export function shares (peers: Record<string, number>, ids: string[]): number[] {
  const total = Object.values(peers).reduce((a, b) => a + b, 0)
  return ids.map(id => total > 0 ? (peers[id] ?? 0) / total : 0)
}

/** `cairn --version`, spawn to exit: the CLI's start-up without a node. */
export async function versionSeconds (): Promise<number> {
  const r = await timedCairn(['--version'], { timeoutMs: 30_000 })
  if (r.code !== 0) throw new Error(`cairn --version: exit ${r.code}`)
  return r.seconds
}

export interface Ttfb { ms: number, bytes: number }

/** Spawn of `cairn --repo F cat CID` to its first stdout byte; reads to the end. */
export async function ttfbCli (fetcherRepo: string, cid: string): Promise<Ttfb> {
  const r = await timedCairn(['--repo', fetcherRepo, 'cat', cid], { timeoutMs: TTFB_TIMEOUT_MS, keepStdout: false })
  if (r.code !== 0 || r.firstStdoutMs == null) throw new Error(`cairn cat ${cid}: ${r.timedOut ? 'timed out' : `exit ${r.code}`}: ${lastLine(r.stderr)}`)
  return { ms: r.firstStdoutMs, bytes: r.stdoutBytes }
}

/**
 * POST /api/v1/cat to the seed on `fetcherRepo` with its token (as the CLI's
 * HttpInvoker does): request sent to the first body byte; reads to the end.
 */
export async function ttfbApi (fetcherRepo: string, cid: string): Promise<Ttfb> {
  const api = await readApiFile(fetcherRepo)
  const headers: Record<string, string> = { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' }
  const target = api.socket != null
    ? { socketPath: api.socket }
    : { host: '127.0.0.1', port: Number((api.http as string).split(':')[1]) }
  if (api.socket == null) headers.host = api.http as string
  return await new Promise((resolve, reject) => {
    const t0 = performance.now()
    let first: number | null = null
    let bytes = 0
    const req = http.request({ ...target, method: 'POST', path: '/api/v1/cat', headers, signal: AbortSignal.timeout(TTFB_TIMEOUT_MS) }, res => {
      if (res.headers['content-type'] !== 'application/octet-stream') {
        let text = ''
        res.setEncoding('utf8').on('data', (s: string) => { text += s })
        res.on('end', () => reject(new Error(`API cat ${cid}: HTTP ${res.statusCode} ${text.slice(0, 300)}`)))
        return
      }
      res.on('data', (b: Buffer) => {
        first ??= performance.now() - t0
        bytes += b.byteLength
      })
      res.on('end', () => {
        if (res.trailers['x-cairn-error'] != null || first == null) reject(new Error(`API cat ${cid} failed mid-stream`))
        else resolve({ ms: first, bytes })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(JSON.stringify({ path: cid }))
  })
}

// The gateway bench (BENCH_ONLY=gateway): a seed with `--gateway` on
// 127.0.0.1 and the same content through `cairn cat` beside it; time to
// first byte of a small held file on a kept-alive connection; 100 clients
// of an 8 MiB file at once (every byte checked, p50/p99 latency); the seed's
// peak RSS; and content the gateway's seed does not hold, fetched by a
// second seed's gateway, beside `cairn get` of the same content.
//
//   BENCH_GATEWAY_MIB=512          the big file (curl vs cat)
//   BENCH_GATEWAY_REMOTE_MIB=256   the file not held (second seed vs get)
//   BENCH_GATEWAY_CLIENTS=100      concurrent clients of the 8 MiB file
//   BENCH_GATEWAY_TTFB=200         kept-alive requests for the TTFB figure

import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { freePort, waitFor } from '../integration/seeds.ts'
import { cairnOk, killStarted, rssOf, timedCairn } from './processes.ts'
import { MIB, importInto, seed, seedPeakMiB, timedGet } from './transfer-cairn.ts'
import type { Row } from './table.ts'

const BIG_MIB = Number(process.env.BENCH_GATEWAY_MIB ?? 512)
const REMOTE_MIB = Number(process.env.BENCH_GATEWAY_REMOTE_MIB ?? 256)
const CLIENTS = Number(process.env.BENCH_GATEWAY_CLIENTS ?? 100)
const TTFB_REQUESTS = Number(process.env.BENCH_GATEWAY_TTFB ?? 200)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
/** one timed transfer, at most */
const RUN_TIMEOUT_MS = 600_000

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))] }

function writeRandom (file: string, mib: number): string {
  const h = createHash('sha256')
  const fd = fs.openSync(file, 'w')
  for (let i = 0; i < mib; i++) { const b = randomBytes(MIB); h.update(b); fs.writeSync(fd, b) }
  fs.closeSync(fd)
  return h.digest('hex')
}

/** `curl -s URL` with its output counted through a pipe (as cat's is), timed from spawn to exit. */
async function timedCurl (url: string): Promise<{ seconds: number, bytes: number, sha: string }> {
  const t0 = performance.now()
  const child = spawn('curl', ['-s', '--fail', url], { stdio: ['ignore', 'pipe', 'ignore'] })
  let bytes = 0
  const h = createHash('sha256')
  child.stdout.on('data', (b: Buffer) => { bytes += b.byteLength; h.update(b) })
  const killer = setTimeout(() => { try { process.kill(child.pid as number, 'SIGKILL') } catch {} }, RUN_TIMEOUT_MS)
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  clearTimeout(killer)
  if (code !== 0) throw new Error(`curl ${url}: exit ${code}`)
  return { seconds: (performance.now() - t0) / 1000, bytes, sha: h.digest('hex') }
}

/** Time to first byte of GET `p` on a kept-alive connection (the first request opens it and is not counted). */
async function keptAliveTtfb (port: number, p: string, n: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const one = async (): Promise<number> => await new Promise((resolve, reject) => {
    const t0 = performance.now()
    let first = 0
    const req = http.get({ host: '127.0.0.1', port, path: p, agent, signal: AbortSignal.timeout(30_000) }, res => {
      res.once('data', () => { first = performance.now() - t0 })
      res.on('end', () => resolve(first))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
  await one()
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push(await one())
  agent.destroy()
  return out
}

/** `n` clients GET `p` at once: each one's latency (ms, start to last byte) and whether its bytes hash to `sha`. */
async function concurrentClients (port: number, p: string, n: number, sha: string): Promise<{ ms: number[], ok: number, statuses: Record<number, number> }> {
  const statuses: Record<number, number> = {}
  const runs = Array.from({ length: n }, async () => await new Promise<{ ms: number, ok: boolean }>((resolve, reject) => {
    const t0 = performance.now()
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false, signal: AbortSignal.timeout(RUN_TIMEOUT_MS) }, res => {
      statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1
      const h = createHash('sha256')
      res.on('data', (b: Buffer) => h.update(b))
      res.on('end', () => resolve({ ms: performance.now() - t0, ok: res.statusCode === 200 && h.digest('hex') === sha }))
      res.on('error', reject)
    })
    req.on('error', reject)
  }))
  const rs = await Promise.all(runs)
  return { ms: rs.map(r => r.ms), ok: rs.filter(r => r.ok).length, statuses }
}

export async function gatewayFigures (tmp: string): Promise<Row[]> {
  const rows: Row[] = []
  const dir = fs.mkdtempSync(path.join(tmp, 'gateway-'))
  try {
    console.log(`gateway: ${BIG_MIB} MiB (curl vs cat), ${CLIENTS} clients of 8 MiB, ${REMOTE_MIB} MiB not held (second seed's gateway vs get), median of ${RUNS}`)
    const big = path.join(dir, 'big.bin')
    const bigSha = writeRandom(big, BIG_MIB)
    const mid = path.join(dir, 'mid.bin')
    const midSha = writeRandom(mid, 8)
    const small = path.join(dir, 'small.txt')
    fs.writeFileSync(small, 'a small held file\n'.repeat(60))
    const remote = path.join(dir, 'remote.bin')
    const remoteSha = writeRandom(remote, REMOTE_MIB)
    const repoA = path.join(dir, 'a')
    const bigCid = await importInto(repoA, big)
    const midCid = await importInto(repoA, mid)
    const smallCid = await importInto(repoA, small)
    const remoteCid = await importInto(repoA, remote)
    fs.rmSync(big); fs.rmSync(mid); fs.rmSync(remote)
    const port = await freePort()
    const a = await seed(repoA, ['--gateway', `127.0.0.1:${port}`])
    try {
      // 1. the big file: curl through the gateway vs cat through the daemon, alternated
      const curl: number[] = []
      const cat: number[] = []
      for (let r = 0; r < RUNS; r++) {
        const c = await timedCurl(`http://127.0.0.1:${port}/ipfs/${bigCid}`)
        if (c.sha !== bigSha) throw new Error('gateway: the big file came back different')
        curl.push(c.seconds)
        const k = await timedCairn(['--repo', repoA, 'cat', bigCid], { timeoutMs: RUN_TIMEOUT_MS, keepStdout: false })
        if (k.code !== 0 || k.stdoutBytes !== BIG_MIB * MIB) throw new Error(`cat: exit ${k.code}, ${k.stdoutBytes} bytes: ${k.stderr.slice(-300)}`)
        cat.push(k.seconds)
      }
      const afterBig = seedPeakMiB(a)
      const rc = BIG_MIB / median(curl)
      const rk = BIG_MIB / median(cat)
      rows.push({ what: `gateway: ${BIG_MIB} MiB held, curl`, figure: `${rc.toFixed(0)} MiB/s`, baseline: `${rk.toFixed(0)} MiB/s cairn cat (daemon)`, ratio: `${(rc / rk).toFixed(2)}×`, note: `goal ≥ 0.9×; seed peak RSS so far ${afterBig?.toFixed(0) ?? '?'} MiB` })
      // 2. TTFB of a small held file, kept alive
      const t = await keptAliveTtfb(port, `/ipfs/${smallCid}`, TTFB_REQUESTS)
      rows.push({ what: `gateway: TTFB, ${fs.statSync(small).size} B held file, kept-alive`, figure: `p50 ${median(t).toFixed(2)} ms`, baseline: `p99 ${pct(t, 0.99).toFixed(2)} ms`, ratio: '-', note: `goal ≤ 20 ms; ${TTFB_REQUESTS} requests` })
      // 3. many clients at once
      const beforeClients = seedPeakMiB(a)
      const cc = await concurrentClients(port, `/ipfs/${midCid}`, CLIENTS, midSha)
      rows.push({ what: `gateway: ${CLIENTS} clients × 8 MiB at once`, figure: `p50 ${(median(cc.ms) / 1000).toFixed(2)} s`, baseline: `p99 ${(pct(cc.ms, 0.99) / 1000).toFixed(2)} s`, ratio: '-', note: `${cc.ok}/${CLIENTS} bytes right; statuses ${JSON.stringify(cc.statuses)}` })
      const peak = seedPeakMiB(a)
      rows.push({ what: 'gateway: seed peak RSS (VmHWM) after all of the above', figure: `${peak?.toFixed(0) ?? '?'} MiB`, baseline: `${beforeClients?.toFixed(0) ?? '?'} MiB before the clients`, ratio: '-', note: 'goal ≤ 300 MiB' })
      // 4. content not held: a fresh second seed's gateway vs cairn get, both from A
      const viaGw: number[] = []
      const viaGet: number[] = []
      let remoteOk = true
      let bPeak = 0
      for (let r = 0; r < RUNS; r++) {
        const bPort = await freePort()
        const repoB = fs.mkdtempSync(path.join(dir, 'b-'))
        const b = await seed(repoB, ['--gateway', `127.0.0.1:${bPort}`, '--bootstrap', a.addrs[0]])
        try {
          // timed from a settled start: B connected to A, as a get's --peer dial is part of its own time
          await waitFor('the second seed to connect to the first', async () => {
            const out = await cairnOk(['--repo', repoB, 'peers', '--json'], 30_000)
            return out.includes(a.id)
          }, 30_000)
          const c = await timedCurl(`http://127.0.0.1:${bPort}/ipfs/${remoteCid}`)
          remoteOk &&= c.sha === remoteSha
          viaGw.push(c.seconds)
          bPeak = Math.max(bPeak, rssOf(b.pid)?.hwm ?? 0)
        } finally {
          await b.stop()
          fs.rmSync(repoB, { recursive: true, force: true })
        }
        const g = await timedGet(remoteCid, [a.addrs[0]], dir, RUN_TIMEOUT_MS, true)
        if (!g.ok) throw new Error(`get: ${g.error}`)
        remoteOk &&= g.sha256 === remoteSha
        viaGet.push(g.seconds)
      }
      const rg = REMOTE_MIB / median(viaGw)
      const rt = REMOTE_MIB / median(viaGet)
      rows.push({ what: `gateway: ${REMOTE_MIB} MiB not held, second seed's gateway, curl`, figure: `${rg.toFixed(0)} MiB/s`, baseline: `${rt.toFixed(0)} MiB/s cairn get --peer`, ratio: `${(rg / rt).toFixed(2)}×`, note: `goal ≥ 0.9×; ${remoteOk ? 'bytes right' : 'BYTES WRONG'}; second seed peak RSS ${bPeak.toFixed(0)} MiB` })
    } finally {
      await a.stop()
    }
  } finally {
    killStarted()
    fs.rmSync(dir, { recursive: true, force: true })
  }
  return rows
}

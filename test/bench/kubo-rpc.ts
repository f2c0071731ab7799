// Kubo RPC figures for `npm run bench` (issue 26): `add` of one big file
// through the Kubo RPC of a running seed, the file streamed as multipart by
// kubo-rpc-client and by a plain node:http client (what curl -F does),
// beside `cairn add` of the same file through the same seed's control API
// (the seed reads the file from disk), same profile (CIDv1, 256 KiB chunks,
// raw leaves), same repo. Between runs the pin is removed and the repo
// collected, so every add writes every block. Runs rotate which side goes
// first. Besides wall time, the CPU seconds each add cost the seed and its
// client (the bench process for the RPC, the cairn process for the CLI): on
// a loaded machine the RPC's two busy processes wait on the scheduler twice,
// and CPU time says what the work itself costs.
//
//   BENCH_ONLY=rpc           runs this part alone
//   BENCH_RPC_MIB=512        the file
//   BENCH_RUNS=3             runs per figure (medians)

import { randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import http from 'node:http'
import { create } from 'kubo-rpc-client'
import { cairn } from '../helpers.ts'
import { Resources, waitFor } from '../integration/seeds.ts'
import { liveCpuOf } from './processes.ts'
import type { Row } from './table.ts'

/** Runs an async iterable to its end, its items unused. */
async function drain (it: AsyncIterable<unknown>): Promise<void> {
  const iterator = it[Symbol.asyncIterator]()
  while (!(await iterator.next()).done);
}

const MIB = 1024 * 1024
const env = (k: string, d: number): number => process.env[k] != null && process.env[k] !== '' ? Number(process.env[k]) : d
const FILE_MIB = env('BENCH_RPC_MIB', 512)
const RUNS = env('BENCH_RUNS', 3)
/** the goal from issue 26: the RPC's add at least this fraction of cairn add's rate */
const GOAL = 0.8
/** one add may take this long per MiB (plus a minute) */
const ADD_TIMEOUT_MS = 60_000 + FILE_MIB * 1000

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

export async function rpcFigures (tmp: string): Promise<Row[]> {
  const res = new Resources()
  try {
    const file = path.join(tmp, 'rpc-bench.bin')
    // random bytes, written once: no chunk repeats, so every block is stored
    const fd = fs.openSync(file, 'w')
    for (let i = 0; i < FILE_MIB; i++) fs.writeSync(fd, randomBytes(MIB))
    fs.closeSync(fd)
    const repo = path.join(tmp, 'rpc-seed')
    const seed = await res.seed(repo, { args: ['--rpc', '0', '--no-tui'] })
    const line = await waitFor('kubo rpc line', async () => /^kubo rpc at (\S+) \(Authorization: Bearer (\S+),/m.exec(seed.stderr()) ?? undefined, 20_000)
    const client = create({ url: line[1], headers: { authorization: `Bearer ${line[2]}` }, timeout: ADD_TIMEOUT_MS })
    const reset = async (cid: string): Promise<void> => {
      await drain(client.pin.rmAll([{ cid: cid as never }]))
      await drain(client.repo.gc())
      execFileSync('sync')
    }
    /** the seed's main thread alone (its task whose id is the pid): the socket, the parse, the importer; the block writer and GC helpers are other threads */
    const mainThread = `${seed.pid}/task/${seed.pid}`
    const timed = async (fn: () => Promise<string>, client: () => number): Promise<Run> => {
      const s0 = liveCpuOf(seed.pid)
      const m0 = liveCpuOf(mainThread)
      const c0 = client()
      const t0 = performance.now()
      const cid = await fn()
      return { s: (performance.now() - t0) / 1000, cid, seedCpu: liveCpuOf(seed.pid) - s0, seedMainCpu: liveCpuOf(mainThread) - m0, clientCpu: client() - c0 }
    }
    const selfCpu = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6 }
    const viaClient = async (): Promise<Run> => await timed(async () => {
      const r = await client.add(fs.createReadStream(file, { highWaterMark: MIB }), { cidVersion: 1, rawLeaves: true, chunker: 'size-262144' })
      return r.cid.toString()
    }, selfCpu)
    const viaHttp = async (): Promise<Run> => await timed(async () => await plainAdd(new URL(`${line[1]}/add?cid-version=1&raw-leaves=true&chunker=size-262144`), line[2], file), selfCpu)
    const viaCli = async (): Promise<Run> => await timed(async () => {
      const r = await cairn(['--repo', repo, 'add', file, '-Q', '--no-anchor', '--cid-version', '1', '--raw-leaves', '--chunker', 'size-262144'], { timeoutMs: ADD_TIMEOUT_MS })
      if (r.code !== 0) throw new Error(`cairn add failed: ${r.stderr}`)
      return r.stdout.trim()
    }, () => liveCpuOf('self', true))
    const sides = [['kubo-rpc-client', viaClient], ['plain http', viaHttp], ['cairn add', viaCli]] as const
    const runs = new Map<string, Run[]>(sides.map(([name]) => [name, []]))
    for (let i = 0; i < RUNS; i++) {
      const cids = new Set<string>()
      for (let k = 0; k < sides.length; k++) {
        const [name, run] = sides[(i + k) % sides.length]
        execFileSync('sync')
        const r = await run()
        runs.get(name)?.push(r)
        cids.add(r.cid)
        await reset(r.cid)
      }
      if (cids.size !== 1) throw new Error(`the RPC and cairn add gave different CIDs: ${[...cids].join(' ')}`)
      console.error(`rpc bench run ${i + 1}/${RUNS}: ${sides.map(([name]) => { const r = runs.get(name)?.at(-1) as Run; return `${name} ${r.s.toFixed(2)} s (cpu seed ${r.seedCpu.toFixed(2)}, its main thread ${r.seedMainCpu.toFixed(2)}, + client ${r.clientCpu.toFixed(2)} s)` }).join(', ')}; ${os.loadavg()[0].toFixed(0)} load`)
    }
    // the client's own ceiling: kubo-rpc-client's add into a server in this process that discards the body
    const ceiling: number[] = []
    for (let i = 0; i < RUNS; i++) ceiling.push(await discardingAdd(file))
    const med = (name: string, k: keyof Omit<Run, 'cid'>): number => median((runs.get(name) as Run[]).map(r => r[k]))
    const cliRate = FILE_MIB / med('cairn add', 's')
    const cliCpu = med('cairn add', 'seedCpu') + med('cairn add', 'clientCpu')
    const rows: Row[] = sides.filter(([name]) => name !== 'cairn add').map(([name]) => {
      const rate = FILE_MIB / med(name, 's')
      const ratio = rate / cliRate
      const cpu = med(name, 'seedCpu') + med(name, 'clientCpu')
      return {
        what: `kubo rpc add ${FILE_MIB} MiB (${name})`,
        figure: `${rate.toFixed(0)} MiB/s (${med(name, 's').toFixed(2)} s; cpu ${cpu.toFixed(2)} s)`,
        baseline: `cairn add ${cliRate.toFixed(0)} MiB/s (${med('cairn add', 's').toFixed(2)} s; cpu ${cliCpu.toFixed(2)} s)`,
        ratio: `${ratio.toFixed(2)}x`,
        note: `goal >= ${GOAL}x: ${ratio >= GOAL ? 'met' : 'NOT met'}; cpu ratio ${(cliCpu / cpu).toFixed(2)}x; seed cpu ${med(name, 'seedCpu').toFixed(2)} s (main thread ${med(name, 'seedMainCpu').toFixed(2)}) against ${med('cairn add', 'seedCpu').toFixed(2)} s (${med('cairn add', 'seedMainCpu').toFixed(2)}); median of ${RUNS}, load ${os.loadavg()[0].toFixed(0)}`
      }
    })
    rows.push({
      what: `kubo-rpc-client upload of ${FILE_MIB} MiB to a server that discards it`,
      figure: `${(FILE_MIB / median(ceiling)).toFixed(0)} MiB/s (${median(ceiling).toFixed(2)} s)`,
      baseline: `cairn add ${cliRate.toFixed(0)} MiB/s`,
      ratio: `${(FILE_MIB / median(ceiling) / cliRate).toFixed(2)}x`,
      note: 'the client\'s own ceiling, no cairn involved'
    })
    return rows
  } finally {
    await res.close()
  }
}

interface Run { s: number, cid: string, seedCpu: number, seedMainCpu: number, clientCpu: number }

/** Seconds kubo-rpc-client takes to add `file` to an HTTP server in this process that reads and drops the body. */
async function discardingAdd (file: string): Promise<number> {
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ Name: 'x', Hash: 'bafkqaaa', Size: '0' }) + '\n')
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  try {
    const client = create({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}/api/v0`, timeout: ADD_TIMEOUT_MS })
    const t0 = performance.now()
    await client.add(fs.createReadStream(file, { highWaterMark: MIB }))
    return (performance.now() - t0) / 1000
  } finally {
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }
}

/** POSTs `file` as one multipart part with node:http, the file piped into the request; the root CID. */
async function plainAdd (url: URL, token: string, file: string): Promise<string> {
  const boundary = `cairn-bench-${Date.now()}`
  return await new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` } }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (s: string) => { body += s })
      res.on('end', () => {
        const last = body.trim().split('\n').at(-1) ?? ''
        try {
          resolve((JSON.parse(last) as { Hash: string }).Hash)
        } catch {
          reject(new Error(`add answered ${res.statusCode ?? 0}: ${body.slice(0, 300)}`))
        }
      })
    })
    req.on('error', reject)
    req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`)
    const src = fs.createReadStream(file, { highWaterMark: MIB })
    src.on('error', reject)
    src.pipe(req, { end: false })
    src.on('end', () => { req.end(`\r\n--${boundary}--\r\n`) })
  })
}

// DHT figures for `npm run bench`: loopback swarms of cairn nodes (20 and 50
// by default), each node with a real repo in a temp dir, started by
// CairnNode.start with the `local` network settings, listening on
// 127.0.0.1 port 0 and bootstrapped to the first node. Nodes run in worker
// processes (dht-worker.ts): one node per process up to MAX_PROCS processes,
// then several per process (said in the printed note).
//
// For each of CIDS random raw CIDs: provide from a random node (timed), then
// find it from a random other node (in another process when there is one):
// time to the first provider yielded, whether it was found, and from the
// DHT's query events of that same call how many peers were queried before the
// record came back and at what lookup depth. One operation at a time.
//
// Before measuring, it waits (bounded) until every routing table holds
// min(N-1, K) peers. Nodes started together often stay at a few peers until their
// second self-query, 60 s after the first (core/net/network.ts): the wait
// ends once the tables settle after it. Measuring starts no sooner than
// that second self-query plus SETTLED_MS after the start, in a settled swarm.
//
//   node dist/test/bench/dht.js          runs this part alone
//   BENCH_DHT_SIZES=20,50  BENCH_DHT_CIDS=20  BENCH_DHT_MAX_PROCS=25
//   BENCH_DHT_TABLE_WAIT_S=100
//   BENCH_DHT_DEBUG=1 (routing tables while waiting, each CID's result),
//   =2 (also every query event of the timed calls)

import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { networkSettings } from '../../core/net/network.ts'
import { DEFAULT_CONFIG } from '../../storage/config.ts'
import { printTable, type Row } from './table.ts'
import { NODE_FLAGS } from '../helpers.ts'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const SIZES = (process.env.BENCH_DHT_SIZES ?? '20,50').split(',').map(Number).filter(n => n >= 2)
/** CIDs provided and looked up per swarm */
const CIDS = Number(process.env.BENCH_DHT_CIDS ?? 20)
/** at most this many worker processes per swarm (2 cores: each costs ~1 s of CPU to start) */
const MAX_PROCS = Number(process.env.BENCH_DHT_MAX_PROCS ?? 25)
/** kad-dht's K: a full table for our purposes holds min(N-1, K) peers */
const K = 20
/** the nodes' second self-query comes this long after their first (core/net/network.ts) */
const SELF_QUERY_MS = networkSettings(DEFAULT_CONFIG).querySelfInterval ?? 60_000
/** after that, tables that stay the same this long have settled */
const SETTLED_MS = 8_000
/** waiting for full tables gives up after this long */
const TABLE_WAIT_MS = Number(process.env.BENCH_DHT_TABLE_WAIT_S ?? (SELF_QUERY_MS + 40_000) / 1000) * 1000
/** a lookup that found nothing by then counts as not found */
const FIND_TIMEOUT_MS = 10_000
/** how long the idle swarm's CPU use is sampled before measuring */
const IDLE_SAMPLE_MS = 3_000
const DEBUG = process.env.BENCH_DHT_DEBUG != null
/** any one request to a worker (starting 25 processes on a busy 2-core box took up to 85 s) */
const REQUEST_TIMEOUT_MS = 180_000

/** goals from the issue */
const GOAL_PROVIDE_MS = 300
const GOAL_FIRST_PROVIDER_MS = 50
/** STACK.md, measured with 10 separate processes */
const STACK_PROVIDE = '~130 ms STACK.md (10 procs)'
const STACK_FIRST = '~15 ms STACK.md (10 procs)'

/** nearest-rank quantile */
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.max(0, Math.ceil(q * s.length) - 1)]
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}
const load = (): string => os.loadavg()[0].toFixed(1)
const fmtMs = (x: number): string => `${x.toFixed(x < 10 ? 1 : 0)} ms`

interface Pending { resolve: (v: unknown) => void, reject: (e: Error) => void, timer: NodeJS.Timeout }

/** A worker process and a request/response channel to it. */
export class Worker {
  private next = 0
  private readonly pending = new Map<number, Pending>()
  readonly child: ChildProcess
  /** resolves when the worker listens for requests */
  readonly ready: Promise<void>
  exited = false

  constructor () {
    // with the V8 flags `cairn` runs with (cli/cairn.js): a seed's memory is
    // measured as a user's seed would use it (without them, a worker's young
    // generation grew to V8's default 16-32 MiB a half-space)
    this.child = fork(path.join(HERE, 'dht-worker.js'), [], { execArgv: NODE_FLAGS, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
    let onReady: () => void = () => {}
    let onFail: (e: Error) => void = () => {}
    this.ready = new Promise((resolve, reject) => { onReady = resolve; onFail = reject })
    this.ready.catch(() => {}) // reported where it is awaited
    this.child.on('message', (m: { id: number, ok: boolean, result?: unknown, error?: string, ready?: boolean }) => {
      if (m.ready === true) { onReady(); return }
      const p = this.pending.get(m.id)
      if (p == null) return
      this.pending.delete(m.id)
      clearTimeout(p.timer)
      if (m.ok) p.resolve(m.result)
      else p.reject(new Error(`dht worker: ${m.error ?? 'failed'}`))
    })
    this.child.on('exit', code => {
      this.exited = true
      onFail(new Error(`dht worker exited ${code} before it was ready`))
      for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(new Error(`dht worker exited ${code}`)) }
      this.pending.clear()
    })
  }

  async call<T> (op: string, args: Record<string, unknown> = {}, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
    const id = this.next++
    return await new Promise<T>((resolve, reject) => {
      if (this.exited) { reject(new Error('dht worker has exited')); return }
      const timer = setTimeout(() => { this.pending.delete(id); reject(new Error(`dht worker: ${op} took over ${timeoutMs} ms`)) }, timeoutMs)
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer })
      this.child.send({ id, op, ...args })
    })
  }

  /** Stops its nodes and waits for the process to end; kills it if it does not within 15 s. */
  async close (): Promise<void> {
    if (this.exited) return
    const gone = new Promise<void>(resolve => this.child.once('exit', () => resolve()))
    await this.call('stop', {}, 15_000).catch(() => {})
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5_000)
    await gone
    clearTimeout(t)
  }
}

export interface NodeRef { worker: Worker, proc: number, local: number, peerId: string }

export async function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const t = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms) })
  try {
    return await Promise.race([p, t])
  } finally {
    clearTimeout(timer)
  }
}

async function randomCid (): Promise<CID> {
  return CID.create(1, raw.code, await sha256.digest(randomBytes(32)))
}

const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]

export interface Swarm { workers: Worker[], nodes: NodeRef[], layout: string, perProc: number, network: string, boot: string }

/** Starts n nodes in worker processes, all bootstrapped to the first. */
export async function startSwarm (n: number, dir: string, workers: Worker[]): Promise<Swarm> {
  const procs = Math.min(n, MAX_PROCS)
  const perProc = Math.ceil(n / procs)
  // a network of this run's own: no other cairn node on this machine can join it
  const network = `bench-${randomBytes(4).toString('hex')}`
  for (let p = 0; p < procs; p++) workers.push(new Worker())
  await withTimeout(Promise.all(workers.map(async w => { await w.ready })), REQUEST_TIMEOUT_MS, 'dht workers did not start')
  const counts = workers.map((_, p) => Math.min(perProc, n - p * perProc)).filter(c => c > 0)
  const layout = `${counts.length} processes, ${[...new Set(counts)].join('/')} node${perProc > 1 ? 's' : ''} each`
  let made = 0
  const dirsFor = (count: number): string[] => Array.from({ length: count }, () => path.join(dir, `node-${made++}`))
  // worker 0 hosts the bootstrap node, started first so the others have its address
  const first = await workers[0].call<Array<{ peerId: string, addrs: string[] }>>('start', { dirs: dirsFor(1), network, bootstrap: [] })
  const boot = first[0].addrs.find(a => a.startsWith('/ip4/127.0.0.1/tcp/'))
  if (boot == null) throw new Error(`the bootstrap node has no 127.0.0.1 address: ${first[0].addrs.join(' ')}`)
  const nodes: NodeRef[] = [{ worker: workers[0], proc: 0, local: 0, peerId: first[0].peerId }]
  const started = await Promise.all(counts.map(async (count, p) => {
    const c = p === 0 ? count - 1 : count
    if (c === 0) return []
    return await workers[p].call<Array<{ peerId: string }>>('start', { dirs: dirsFor(c), network, bootstrap: [boot] })
  }))
  // a worker numbers its nodes in the order it started them; worker 0's first is the bootstrap node
  started.forEach((list, p) => list.forEach((s, j) => nodes.push({ worker: workers[p], proc: p, local: (p === 0 ? 1 : 0) + j, peerId: s.peerId })))
  return { workers, nodes, layout, perProc, network, boot }
}

export interface Tables { sizes: number[], want: number, ms: number }

/**
 * Waits until every routing table holds min(N-1, K) peers, or the tables
 * settled after the nodes' second self-query, or TABLE_WAIT_MS.
 */
export async function waitForTables (s: Swarm, log: (s: string) => void): Promise<Tables> {
  const want = Math.min(s.nodes.length - 1, K)
  const t0 = performance.now()
  let sizes: number[] = []
  let changed = t0
  for (;;) {
    const tabs = (await Promise.all(s.workers.map(async w => await w.call<Array<{ routingTable: number, peers: number }>>('tables')))).flat()
    const now = performance.now()
    const next = tabs.map(t => t.routingTable)
    if (next.join() !== sizes.join()) changed = now
    sizes = next
    if (DEBUG) log(`  +${((now - t0) / 1000).toFixed(1)} s routing table/connections ${tabs.map(t => `${t.routingTable}/${t.peers}`).join(' ')}`)
    if (sizes.every(x => x >= want)) break
    if (now - t0 > SELF_QUERY_MS + SETTLED_MS && now - changed > SETTLED_MS) break
    if (now - t0 > TABLE_WAIT_MS) break
    await new Promise(resolve => setTimeout(resolve, 500))
  }
  return { sizes, want, ms: performance.now() - t0 }
}

interface FindResult { found: boolean, ms: number | null, queried: number, depth: number | null, local: boolean }

interface Measured {
  provides: number[]
  provideFailures: string[]
  records: number[]
  finds: FindResult[]
  findFailures: string[]
  ms: number
  /** the swarm's CPU use, in cores: idle just before, and while measuring */
  idleCpu: number
  busyCpu: number
  load: [string, string]
}

/** CIDS rounds of: provide from a random node, then find from another (in another process when there is one). */
async function measure (s: Swarm, log: (s: string) => void): Promise<Measured> {
  const swarmCpu = async (): Promise<number> => (await Promise.all(s.workers.map(async w => await w.call<number>('cpu')))).reduce((a, b) => a + b, 0)
  const c0 = await swarmCpu()
  const tIdle = performance.now()
  await new Promise(resolve => setTimeout(resolve, IDLE_SAMPLE_MS))
  const c1 = await swarmCpu()
  const idleCpu = (c1 - c0) / (performance.now() - tIdle)
  const m: Measured = { provides: [], provideFailures: [], records: [], finds: [], findFailures: [], ms: 0, idleCpu, busyCpu: 0, load: [load(), ''] }
  const t0 = performance.now()
  for (let i = 0; i < CIDS; i++) {
    const cid = (await randomCid()).toString()
    const p = pick(s.nodes)
    const others = s.nodes.filter(x => x.proc !== p.proc)
    const f = pick(others.length > 0 ? others : s.nodes.filter(x => x !== p))
    try {
      const pr = await p.worker.call<{ ms: number, records: number }>('provide', { node: p.local, cid })
      m.provides.push(pr.ms)
      m.records.push(pr.records)
      if (DEBUG) log(`  cid ${i}: provide ${pr.ms.toFixed(1)} ms (${pr.records} records) from ${p.proc}/${p.local}`)
    } catch (err) {
      m.provideFailures.push((err as Error).message.split('\n')[0])
    }
    try {
      const fr = await f.worker.call<FindResult>('find', { node: f.local, cid, provider: p.peerId, timeoutMs: FIND_TIMEOUT_MS })
      m.finds.push(fr)
      if (DEBUG) log(`  cid ${i}: find from ${f.proc}/${f.local}: ${JSON.stringify(fr)}`)
    } catch (err) {
      m.finds.push({ found: false, ms: null, queried: 0, depth: null, local: false })
      m.findFailures.push((err as Error).message.split('\n')[0])
    }
  }
  m.ms = performance.now() - t0
  m.busyCpu = (await swarmCpu() - c1) / m.ms
  m.load[1] = load()
  return m
}

function rowsFor (n: number, s: Swarm, t: Tables, upMs: number, m: Measured): Row[] {
  const tag = `DHT ${n} nodes`
  const found = m.finds.filter(f => f.found && f.ms != null)
  const firsts = found.map(f => f.ms as number)
  const local = found.filter(f => f.local)
  const network = found.filter(f => !f.local)
  const queried = network.map(f => f.queried)
  const depths = network.flatMap(f => f.depth != null ? [f.depth] : [])
  const full = t.sizes.filter(x => x >= t.want).length
  const rows: Row[] = []
  rows.push({
    what: `${tag}: start, routing tables`,
    figure: `${((upMs + t.ms) / 1000).toFixed(1)} s`,
    baseline: '-',
    ratio: '-',
    note: `${s.layout}; routing tables ≥ min(N-1, K=20) = ${t.want} peers on ${full}/${n} nodes (min ${Math.min(...t.sizes)}, median ${median(t.sizes)}) ` +
      `${(t.ms / 1000).toFixed(0)} s after all were up; swarm CPU ${(100 * m.idleCpu).toFixed(0)}% of a core idle, ${(100 * m.busyCpu).toFixed(0)}% while measuring (${(m.ms / 1000).toFixed(1)} s); ` +
      `load average ${m.load[0]} → ${m.load[1]} on ${os.cpus().length} cores`
  })
  if (m.provides.length > 0) {
    const med = median(m.provides)
    rows.push({
      what: `${tag}: provide`,
      figure: `${fmtMs(med)} median`,
      baseline: STACK_PROVIDE,
      ratio: `${(med / GOAL_PROVIDE_MS).toFixed(2)}× goal`,
      note: `goal ≤ ${GOAL_PROVIDE_MS} ms; p90 ${fmtMs(quantile(m.provides, 0.9))}; libp2p.contentRouting.provide of ${CIDS} random raw CIDs, each from a random node; ` +
        `record sent to median ${median(m.records)} peers` + (m.provideFailures.length > 0 ? `; ${m.provideFailures.length} FAILED: ${m.provideFailures[0]}` : '')
    })
  } else {
    rows.push({ what: `${tag}: provide`, figure: 'all failed', baseline: STACK_PROVIDE, ratio: '-', note: m.provideFailures[0] ?? '' })
  }
  rows.push({
    what: `${tag}: first provider`,
    figure: firsts.length > 0 ? `${fmtMs(median(firsts))} median` : 'none found',
    baseline: STACK_FIRST,
    ratio: firsts.length > 0 ? `${(median(firsts) / GOAL_FIRST_PROVIDER_MS).toFixed(2)}× goal` : '-',
    note: `goal ≤ ${GOAL_FIRST_PROVIDER_MS} ms` + (firsts.length > 0 ? `; p90 ${fmtMs(quantile(firsts, 0.9))}` : '') +
      `; first provider yielded by libp2p.contentRouting.findProviders on a random other node${s.perProc > 1 ? ' in another process' : ''}; ` +
      `${local.length}/${found.length} answered from the finder's own provider store (it was among the K closest and got the record)` +
      (local.length > 0 ? ` in median ${fmtMs(median(local.map(f => f.ms as number)))}` : '') +
      (network.length > 0 ? `; ${network.length} over the network in median ${fmtMs(median(network.map(f => f.ms as number)))}, p90 ${fmtMs(quantile(network.map(f => f.ms as number), 0.9))}` : '')
  })
  rows.push({
    what: `${tag}: providers found`,
    figure: `${found.length}/${CIDS} (${(100 * found.length / CIDS).toFixed(0)}%)`,
    baseline: '4/4 STACK.md (10 procs)',
    ratio: '-',
    note: `goal 100%; a lookup gives up after ${FIND_TIMEOUT_MS / 1000} s` + (m.findFailures.length > 0 ? `; ${m.findFailures.length} FAILED: ${m.findFailures[0]}` : '')
  })
  rows.push({
    what: `${tag}: lookup hops`,
    figure: queried.length > 0 ? `${median(queried)} peers queried` : 'no network lookups',
    baseline: '-',
    ratio: '-',
    note: queried.length > 0
      ? `median (p90 ${quantile(queried, 0.9)}) of GET_PROVIDERS requests sent (SEND_QUERY events) before the first PROVIDER event naming the provider, over the ${queried.length} lookups the network answered; ` +
        `hop depth of the peer that answered: median ${depths.length > 0 ? median(depths) : '?'}, max ${depths.length > 0 ? Math.max(...depths) : '?'} ` +
        '(1 = a peer from the finder\'s own routing table, d+1 = first named by a depth-d peer); kad-dht 16 starts up to K=20 disjoint paths at once, one peer each'
      : `all ${found.length} found lookups were answered from the finder's own provider store (0 peers queried)`
  })
  return rows
}

async function swarm (n: number, tmp: string, log: (s: string) => void): Promise<Row[]> {
  const dir = fs.mkdtempSync(path.join(tmp, `dht-${n}-`))
  const workers: Worker[] = []
  try {
    const t0 = performance.now()
    const s = await startSwarm(n, dir, workers)
    const upMs = performance.now() - t0
    const t = await waitForTables(s, log)
    log(`dht ${n}: ${s.layout}; up in ${(upMs / 1000).toFixed(1)} s; routing tables ≥ ${t.want} on ${t.sizes.filter(x => x >= t.want).length}/${n} after ${(t.ms / 1000).toFixed(1)} s more (min ${Math.min(...t.sizes)}, median ${median(t.sizes)})`)
    // measure a settled swarm: past the first periodic self-query of every
    // node (SELF_QUERY_MS after its start, the last one up at t0 + upMs), whose
    // wave of queries would otherwise land among the timed provides whenever
    // the tables filled first
    const settled = t0 + upMs + SELF_QUERY_MS + SETTLED_MS - performance.now()
    if (settled > 0) await new Promise(resolve => setTimeout(resolve, settled))
    const m = await measure(s, log)
    log(`dht ${n}: ${CIDS} provides + lookups in ${(m.ms / 1000).toFixed(1)} s`)
    return rowsFor(n, s, t, upMs, m)
  } finally {
    await Promise.allSettled(workers.map(async w => { await w.close() }))
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** The DHT rows for the bench table, one swarm after another. */
export async function dhtFigures (tmp: string, log: (s: string) => void = s => console.log(s)): Promise<Row[]> {
  const rows: Row[] = []
  for (const n of SIZES) rows.push(...await swarm(n, tmp, log))
  return rows
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-dht-'))
  try {
    const t0 = performance.now()
    const rows = await dhtFigures(tmp)
    console.log(`DHT part: ${((performance.now() - t0) / 1000).toFixed(0)} s`)
    printTable(rows)
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

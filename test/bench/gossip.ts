// Anchor gossip latency for `npm run bench`: a swarm of N cairn nodes (10
// by default), one process each (gossip-worker.ts: real repo, CairnNode on
// 127.0.0.1, the chain on disk, AnchorGossip as in a seed), all
// bootstrapped to node 0 (the DHT then connects them further; gossipsub
// builds its mesh of D = 4 on those connections). The blocks are mined here
// on the `test` network beforehand; for each one, the last node submits it
// to its chain and publishes it, and every node reports when the block
// became its head. Latency of a block = the last node's head time minus the
// time the publisher began submitting (one clock: every process reads
// performance.timeOrigin + now). Medians over BLOCKS blocks, one at a time.
//
//   node dist/test/bench/gossip.js      runs this part alone
//   BENCH_GOSSIP_NODES=10  BENCH_GOSSIP_BLOCKS=20

import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { TEST } from '../../core/anchor/params.ts'
import { metaAfter, mineBlock, type MinedBlock } from '../../core/anchor/test-miner.ts'
import { genesisMeta } from '../../core/anchor/validate.ts'
import { GOSSIP_D } from '../../core/anchor/gossip-params.ts'
import { printTable, type Row } from './table.ts'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const NODES = Number(process.env.BENCH_GOSSIP_NODES ?? 10)
const BLOCKS = Number(process.env.BENCH_GOSSIP_BLOCKS ?? 20)
/** any one request to a worker (a node starting on a busy 2-core box) */
const REQUEST_TIMEOUT_MS = 120_000
/** waiting for every node to have gossip peers */
const MESH_WAIT_MS = 60_000
/** a block not on every node's head by then counts as lost */
const BLOCK_TIMEOUT_MS = 10_000
/** between blocks, so one block's traffic is over before the next */
const PAUSE_MS = 200

class GossipWorker {
  readonly child: ChildProcess
  private next = 1
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  /** block CID → when it became this node's head */
  readonly heads = new Map<string, number>()

  constructor () {
    this.child = fork(path.join(HERE, 'gossip-worker.js'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'advanced' })
    this.child.on('message', (m: { id?: number, result?: unknown, error?: string, accepted?: string, t?: number }) => {
      if (m.accepted != null) { this.heads.set(m.accepted, m.t as number); return }
      const w = this.waiting.get(m.id as number)
      if (w == null) return
      this.waiting.delete(m.id as number)
      if (m.error != null) w.reject(new Error(m.error))
      else w.resolve(m.result)
    })
  }

  async call<T> (op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.next++
    return await new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => { this.waiting.delete(id); reject(new Error(`gossip worker: ${op} timed out`)) }, REQUEST_TIMEOUT_MS)
      this.waiting.set(id, { resolve: v => { clearTimeout(t); resolve(v as T) }, reject: e => { clearTimeout(t); reject(e) } })
      this.child.send({ id, op, ...args })
    })
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]
const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

/** Blocks on the `test` network from genesis, times one second apart from now (never in the future). */
function mineChain (n: number): MinedBlock[] {
  const start = Date.now() - n * TEST.params.interval - 60_000
  const out: MinedBlock[] = []
  let parent = genesisMeta(TEST)
  for (let i = 0; i < n; i++) {
    const b = mineBlock(TEST, parent, [], { time: start + i * TEST.params.interval })
    out.push(b)
    parent = metaAfter(b, parent)
  }
  return out
}

export async function gossipFigures (tmp = os.tmpdir()): Promise<Row[]> {
  const root = fs.mkdtempSync(path.join(tmp, 'gossip-'))
  const workers: GossipWorker[] = []
  try {
    const network = `bench-gossip-${randomBytes(4).toString('hex')}`
    for (let i = 0; i < NODES; i++) workers.push(new GossipWorker())
    const first = await workers[0].call<{ addrs: string[] }>('start', { dir: path.join(root, 'n0'), network, bootstrap: [] })
    await Promise.all(workers.slice(1).map(async (w, i) => await w.call('start', { dir: path.join(root, `n${i + 1}`), network, bootstrap: [first.addrs[0]] })))
    // every node has a gossip peer (node 0 at least), node 0 has them all
    const deadline = Date.now() + MESH_WAIT_MS
    let peers: number[] = []
    for (;;) {
      peers = await Promise.all(workers.map(async w => await w.call<number>('peers')))
      if ((peers.every(p => p >= 1) && peers[0] >= NODES - 1) || Date.now() > deadline) break
      await sleep(500)
    }
    // heartbeats (1 s) graft the mesh
    await sleep(3000)
    const blocks = mineChain(BLOCKS)
    const origin = workers[NODES - 1]
    const lat: number[] = []
    const perNode: number[] = []
    let lost = 0
    for (const b of blocks) {
      const key = b.cid.toString()
      const { t } = await origin.call<{ t: number }>('publish', { header: b.header, body: b.body })
      const until = Date.now() + BLOCK_TIMEOUT_MS
      while (Date.now() < until && !workers.every(w => w.heads.has(key))) await sleep(5)
      if (!workers.every(w => w.heads.has(key))) { lost++; continue }
      const times = workers.filter(w => w !== origin).map(w => (w.heads.get(key) as number) - t)
      lat.push(Math.max(...times))
      perNode.push(...times)
      await sleep(PAUSE_MS)
    }
    const submits = (await Promise.all(workers.map(async w => await w.call<number[]>('submits')))).flat()
    const ms = (x: number): string => `${x.toFixed(1)} ms`
    const note = `${NODES} processes on 127.0.0.1, bootstrapped to one, D=${GOSSIP_D}; gossip peers per node ${Math.min(...peers)}–${Math.max(...peers)}; ${BLOCKS - lost}/${BLOCKS} blocks reached all${lost > 0 ? ` (${lost} LOST)` : ''}`
    if (lat.length === 0) return [{ what: `gossip: a new head on all ${NODES} nodes`, figure: 'none arrived', baseline: '-', ratio: '-', note }]
    return [
      { what: `gossip: a new head on all ${NODES} nodes (publish → last node's head)`, figure: ms(median(lat)), baseline: '-', ratio: '-', note: `median of ${lat.length}; p90 ${ms(pct(lat, 0.9))}, max ${ms(Math.max(...lat))}; ${note}` },
      { what: '  per node (publish → that node\'s head)', figure: ms(median(perNode)), baseline: '-', ratio: '-', note: `median; p90 ${ms(pct(perNode, 0.9))}` },
      { what: '  chain.submit per node per block (checks + fsyncs)', figure: ms(median(submits)), baseline: '-', ratio: '-', note: `median of ${submits.length}; p90 ${ms(pct(submits, 0.9))}; a node forwards only after it` }
    ]
  } finally {
    await Promise.allSettled(workers.map(async w => {
      const gone = new Promise(resolve => w.child.once('exit', resolve))
      try { await w.call('stop') } catch { w.child.kill('SIGKILL') }
      const t = setTimeout(() => w.child.kill('SIGKILL'), 10_000)
      await gone
      clearTimeout(t)
    }))
    fs.rmSync(root, { recursive: true, force: true })
  }
}

// run alone: node dist/test/bench/gossip.js
if (process.argv[1]?.endsWith('gossip.js') === true) printTable(await gossipFigures())

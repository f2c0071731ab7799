// The simulation, for `npm run bench` (BENCH_ONLY=sim): the numbers this
// machine cannot run as processes. Whole kad-dht instances in one process
// over an in-memory wire (sim-net.ts says which parts are kad-dht's own and
// which are not), in a network grown through BENCH_SIM_NODES
// (50,100,200,500,1000,1500,2000). At each size:
//   - BENCH_SIM_LOOKUPS (30) lookups of random keys from random nodes: hops
//     to the key's closest node (sim-net.ts: lookup), FIND_NODE requests,
//     and the share of the true 20 closest the lookup returned;
//   - one full round of cairn's own Sweeper (core/net/sweeper.ts, with its
//     keyspace.ts regions and its network-size estimate) from a random node
//     for each of BENCH_SIM_CIDS (1000,10000,100000) CIDs, its wire a
//     kad-dht lookup in the simulation: lookups per round against the batch
//     provider's one per CID; then BENCH_SIM_FINDS (30) random CIDs of the
//     round looked up from random nodes: found when a peer the lookup
//     returned holds the record.
// Then the model to 10,000 nodes (sim-model.ts), checked against every
// simulated point; the table rows, an SVG plot to docs/sim.svg and its
// points to docs/sim.json.
//
//   node dist/test/bench/sim.js   runs this part alone

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { Sweeper, K } from '../../core/net/sweeper.ts'
import { ProvideFailure } from '../../core/net/sweep-wire.ts'
import { SimNetwork, kadKey, PREFIX_BITS, type SimNode } from './sim-net.ts'
import { fitLine, hopsModel, regionCount, sweepLookups, tableCapacity } from './sim-model.ts'
import { simSvg } from './sim-plot.ts'
import { printTable, type Row } from './table.ts'

const list = (v: string | undefined, d: string): number[] => (v ?? d).split(',').map(Number).filter(n => n > 0).sort((a, b) => a - b)
const SIZES = list(process.env.BENCH_SIM_NODES, '50,100,200,500,1000,1500,2000')
const CID_COUNTS = list(process.env.BENCH_SIM_CIDS, '1000,10000,100000')
const LOOKUPS = Number(process.env.BENCH_SIM_LOOKUPS ?? 30)
const FINDS = Number(process.env.BENCH_SIM_FINDS ?? 30)
/** where the model is taken */
const MODEL_NODES = [5000, 10_000]
/** one sweep round may take this long */
const ROUND_TIMEOUT_MS = 5 * 60_000
/** the plot, from the repo's root (dist/test/bench/ → ../../../docs) */
const HERE = path.dirname(fileURLToPath(import.meta.url))
export const SIM_SVG = process.env.BENCH_SIM_SVG ?? path.join(HERE, '..', '..', '..', 'docs', 'sim.svg')

const load = (): string => os.loadavg()[0].toFixed(1)
const cpuS = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6 }

interface HopStat { nodes: number, hops: number, maxHops: number, reached: number, requests: number, closest20: number }
interface SweepStat { nodes: number, cids: number, lookups: number, regions: number, depth: number, records: number, found: number }

async function makeCids (n: number): Promise<CID[]> {
  const out: CID[] = []
  const salt = Math.random().toString(36).slice(2)
  for (let i = 0; i < n; i++) out.push(CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(`${salt}-${i}`))))
  return out
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]

async function lookups (net: SimNetwork): Promise<HopStat> {
  let hopSum = 0
  let maxHops = 0
  let reached = 0
  let requests = 0
  let closest20 = 0
  for (let i = 0; i < LOOKUPS; i++) {
    const from = pick(net.nodes)
    const mh = (await sha256.digest(new TextEncoder().encode(`lookup-${Math.random()}`))).bytes
    const r = await net.lookup(from, mh)
    const truth = net.trueClosest(kadKey(mh), K + 1).filter(n => n !== from).slice(0, K)
    const got = new Set(r.peers.map(p => p.index))
    closest20 += truth.filter(t => got.has(t.index)).length / truth.length
    const h = got.has(truth[0].index) ? r.hops.get(truth[0].peerId.toString()) : undefined
    if (h != null) { reached++; hopSum += h; maxHops = Math.max(maxHops, h) }
    requests += r.requests
  }
  return { nodes: net.nodes.length, hops: reached > 0 ? hopSum / reached : NaN, maxHops, reached: reached / LOOKUPS, requests: requests / LOOKUPS, closest20: closest20 / LOOKUPS }
}

/** One catch-up round of cairn's Sweeper from `seed`, its wire the simulation's lookups; records counted, kept for `watch`. */
async function sweepRound (net: SimNetwork, seed: SimNode, cids: CID[], watch: Set<string>): Promise<{ stat: SweepStat, holders: Map<string, Set<number>> }> {
  const holders = new Map<string, Set<number>>()
  let records = 0
  const sweeper = new Sweeper<SimNode>({
    wire: {
      lookup: async (cid) => {
        const r = await net.lookup(seed, cid.multihash.bytes)
        if (r.peers.length === 0) throw new ProvideFailure('no-peers', 'the lookup found no peers')
        return r.peers
      },
      send: async (peer, batch) => {
        records += batch.length
        for (const c of batch) {
          const k = c.toString()
          if (!watch.has(k)) continue
          let s = holders.get(k)
          if (s == null) holders.set(k, s = new Set())
          s.add(peer.index)
        }
      },
      peerKey: (peer) => peer.key
    },
    store: { load: async () => null, save: async () => {} },
    targets: async function * () { yield * cids },
    strategy: 'all',
    intervalMs: 22 * 3600_000
  })
  sweeper.start()
  try {
    const stat = await sweeper.roundEnded(AbortSignal.timeout(ROUND_TIMEOUT_MS))
    const last = stat.lastRound
    if (last == null) throw new Error('the sweep round did not end')
    return { stat: { nodes: net.nodes.length, cids: cids.length, lookups: last.lookups, regions: last.regions, depth: stat.depth, records, found: 0 }, holders }
  } finally {
    await sweeper.stop()
  }
}

export async function simFigures (log: (s: string) => void = s => console.log(s)): Promise<Row[]> {
  const rows: Row[] = []
  const net = new SimNetwork()
  const hopStats: HopStat[] = []
  const sweeps: SweepStat[] = []
  const cpu0 = cpuS()
  const t0 = Date.now()
  log(`sim: whole kad-dht instances in one process, N = ${SIZES.join(', ')}; ${LOOKUPS} lookups per N; sweep rounds of ${CID_COUNTS.join(', ')} CIDs; load ${load()} (machine shared with other helpers)`)
  const allCids = await makeCids(Math.max(...CID_COUNTS))
  try {
    for (const n of SIZES) {
      const before = net.nodes.length
      if (n <= before) continue
      const added = await net.add(n - before)
      await net.start(added, [])
      const tf = Date.now()
      await net.fill(before)
      const sizes = net.nodes.map(x => x.dht.routingTable.size).sort((a, b) => a - b)
      log(`  N=${n}: tables filled in ${((Date.now() - tf) / 1000).toFixed(0)} s, sizes min ${sizes[0]} median ${sizes[sizes.length >> 1]} max ${sizes[sizes.length - 1]}; heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB; load ${load()}`)
      const h = await lookups(net)
      hopStats.push(h)
      log(`  N=${n}: ${h.hops.toFixed(2)} hops to the closest node (max ${h.maxHops}, reached in ${(h.reached * 100).toFixed(0)}%), ${h.requests.toFixed(1)} requests, ${(h.closest20 * 100).toFixed(0)}% of the true ${K} closest`)
      for (const c of CID_COUNTS) {
        const cids = allCids.slice(0, c)
        const sample = Array.from({ length: FINDS }, () => pick(cids))
        const watch = new Set(sample.map(x => x.toString()))
        const { stat, holders } = await sweepRound(net, pick(net.nodes), cids, watch)
        let found = 0
        for (const cid of sample) {
          const r = await net.lookup(pick(net.nodes), cid.multihash.bytes)
          const held = holders.get(cid.toString())
          if (held != null && r.peers.some(p => held.has(p.index))) found++
        }
        stat.found = found / FINDS
        sweeps.push(stat)
        log(`  N=${n}, ${c} CIDs: ${stat.lookups} lookups (${stat.regions} regions, depth ${stat.depth}), ${stat.records} records; ${(stat.found * 100).toFixed(0)}% of ${FINDS} found`)
      }
    }
  } finally {
    await net.stop()
  }
  const cpu = cpuS() - cpu0
  log(`  sim: ${((Date.now() - t0) / 1000).toFixed(0)} s, ${cpu.toFixed(0)} s of CPU, ${net.requests} requests; load ${load()}`)

  // the model: hops fitted past the table's capacity (one hop below it)
  const capacity = tableCapacity(PREFIX_BITS, K)
  const past = hopStats.filter(h => h.nodes - 1 > capacity && Number.isFinite(h.hops))
  const fit = past.length >= 2 ? fitLine(past.map(h => Math.log2(h.nodes)), past.map(h => h.hops)) : null
  const hopsAt = (n: number): number => hopsModel(n, capacity, fit)
  const fitText = fit == null
    ? `1 hop up to ${capacity + 1} nodes; too few points past it to fit`
    : fit.b > 0
      ? `1 hop up to ${capacity + 1} nodes, then ${fit.a.toFixed(2)} + ${fit.b.toFixed(2)}·log2(N) (fitted past ${capacity + 1})`
      : `1 hop up to ${capacity + 1} nodes; past it the simulated hops do not grow (fit slope ${fit.b.toFixed(2)}): not extrapolated`
  const hopsText = (v: number): string => Number.isFinite(v) ? v.toFixed(2) : 'not extrapolated'

  for (const h of hopStats) {
    rows.push({ what: `sim lookup, N = ${h.nodes}`, figure: `${h.hops.toFixed(2)} hops (max ${h.maxHops})`, baseline: `log2(N) = ${Math.log2(h.nodes).toFixed(1)}`, ratio: `model ${hopsText(hopsAt(h.nodes))}`, note: `${h.requests.toFixed(0)} requests; ${(h.closest20 * 100).toFixed(0)}% of the true ${K} closest; closest reached ${(h.reached * 100).toFixed(0)}%` })
  }
  for (const n of MODEL_NODES) rows.push({ what: `model lookup, N = ${n}`, figure: Number.isFinite(hopsAt(n)) ? `${hopsAt(n).toFixed(2)} hops` : 'not extrapolated', baseline: `log2(N) = ${Math.log2(n).toFixed(1)}`, ratio: '-', note: fitText })
  for (const s of sweeps) {
    const m = sweepLookups(s.nodes, s.cids, K)
    rows.push({ what: `sim sweep, N = ${s.nodes}, ${s.cids} CIDs`, figure: `${s.lookups} lookups`, baseline: `${s.cids} batch (one per CID)`, ratio: `${(s.cids / Math.max(1, s.lookups)).toFixed(0)}× fewer`, note: `model ${m.toFixed(0)} (${regionCount(s.nodes, K)} regions); depth ${s.depth}; ${(s.found * 100).toFixed(0)}% of ${FINDS} found` })
  }
  for (const n of MODEL_NODES) {
    for (const c of CID_COUNTS) {
      const m = sweepLookups(n, c, K)
      rows.push({ what: `model sweep, N = ${n}, ${c} CIDs`, figure: `${m.toFixed(0)} lookups`, baseline: `${c} batch`, ratio: `${(c / m).toFixed(0)}× fewer`, note: `R = 2^floor(log2(N/${K})) = ${regionCount(n, K)}; R·(1 − (1 − 1/R)^C) + 1` })
    }
  }

  fs.mkdirSync(path.dirname(SIM_SVG), { recursive: true })
  // the simulated points beside the plot: the model and the drawing can be checked without a run
  fs.writeFileSync(SIM_SVG.replace(/\.svg$/, '.json'), JSON.stringify({ load: load(), cpuS: Math.round(cpu), hops: hopStats, sweeps }, null, 1) + '\n')
  fs.writeFileSync(SIM_SVG, simSvg({
    hops: hopStats.filter(h => Number.isFinite(h.hops)).map(h => ({ nodes: h.nodes, hops: h.hops, maxHops: h.maxHops })),
    hopsModel: hopsAt,
    sweep: sweeps.map(s => ({ nodes: s.nodes, cids: s.cids, lookups: s.lookups })),
    sweepModel: (n, c) => sweepLookups(n, c, K),
    cidCounts: CID_COUNTS,
    capacity,
    maxNodes: MODEL_NODES[MODEL_NODES.length - 1],
    caption: `kad-dht ${K}-buckets, ${2 ** PREFIX_BITS}-bucket trie, simulated N ≤ ${SIZES[SIZES.length - 1]}; model to ${MODEL_NODES[MODEL_NODES.length - 1]}. ${fitText}. Load ${load()} on 2 shared cores.`
  }))
  log(`  plot: ${SIM_SVG} (points: ${SIM_SVG.replace(/\.svg$/, '.json')})`)
  return rows
}

// run alone: node dist/test/bench/sim.js
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  printTable(await simFigures())
  process.exit(0)
}

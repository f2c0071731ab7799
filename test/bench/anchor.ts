// Anchor chain figures for `npm run bench`:
// - the fastest plain sha256 loop over the same header bytes the miner hashes
//   (node:crypto createHash per try, @noble/hashes cloning a midstate, and
//   cairn's own TailHasher that the miner uses), measured on this thread in
//   this run: the fastest is the baseline;
// - the miner's hash rate with 1 and 2 worker threads (a target no hash
//   meets, so the workers never stop), and its ratio to the baseline per worker;
// - validating a 10,000-block chain built by the test miner on an easy
//   network (headers, bodies, 100 signed manifests), and verifying a proof
//   that carries all its headers.
//
//   node dist/test/bench/anchor.js        runs this part alone
//   BENCH_ANCHOR_SECONDS=3 (per hash-rate figure and round)  BENCH_ANCHOR_ROUNDS=3  BENCH_ANCHOR_BLOCKS=10000

import { createHash } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { sha256 } from '@noble/hashes/sha2.js'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 as mh } from 'multiformats/hashes/sha2'
import { AnchorChain } from '../../core/anchor/chain.ts'
import { encodeHeader, nonceOffset, cborCid, encodeBody, NONCE_BYTES } from '../../core/anchor/encoding.ts'
import { signManifest, type EncodedManifest } from '../../core/anchor/manifest.ts'
import { Miner } from '../../core/anchor/miner.ts'
import { defineNetwork, LOCAL } from '../../core/anchor/params.ts'
import { exportProof, verifyProof } from '../../core/anchor/proof.ts'
import { MemoryChainStore } from '../../core/anchor/store.ts'
import { mineBlock, testNetwork, type MinedBlock } from '../../core/anchor/test-miner.ts'
import { printTable, type Row } from './table.ts'
import { TailHasher } from '../../core/anchor/sha256-tail.ts'
import type { BlockMeta } from '../../core/anchor/validate.ts'

const SECONDS = Number(process.env.BENCH_ANCHOR_SECONDS ?? 3)
/** interleaved rounds of the hash-rate figures; medians are reported */
const ROUNDS = Number(process.env.BENCH_ANCHOR_ROUNDS ?? 3)
const BLOCKS = Number(process.env.BENCH_ANCHOR_BLOCKS ?? 10_000)
/** one block in this many carries a signed manifest */
const MANIFEST_EVERY = 100

const mhs = (n: number): string => `${(n / 1e6).toFixed(2)} M/s`

/** A realistic header: the local network's, at a height of 10,000. */
function sampleHeader (): { bytes: Uint8Array, offset: number } {
  const body = encodeBody([])
  const h = { v: 1 as const, net: LOCAL.id, height: 10_000, prev: cborCid(new Uint8Array([1])), time: Date.now(), target: LOCAL.params.initialTarget, body: cborCid(body), nonce: new Uint8Array(NONCE_BYTES) }
  const bytes = encodeHeader(h)
  return { bytes, offset: nonceOffset(bytes, h) }
}

/** Hashes per second of wall time, and per second of this process's CPU time (all threads). */
interface Rate { wall: number, cpu: number }

const cpuSeconds = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6 }

/** Runs `step` (which hashes `batch` headers) for ~SECONDS. */
function rateOf (batch: number, step: () => void): Rate {
  const end = performance.now() + 300
  while (performance.now() < end) step() // warm up the JIT
  let n = 0
  const t0 = performance.now()
  const c0 = cpuSeconds()
  while (performance.now() - t0 < SECONDS * 1000) { step(); n += batch }
  return { wall: n / ((performance.now() - t0) / 1000), cpu: n / (cpuSeconds() - c0) }
}

function nodeCryptoRate (bytes: Uint8Array, offset: number): Rate {
  const buf = Buffer.from(bytes)
  let i = 0
  return rateOf(1000, () => {
    for (let k = 0; k < 1000; k++) {
      buf.writeUInt32BE(i++ >>> 0, offset + 4)
      createHash('sha256').update(buf).digest()
    }
  })
}

function tailRate (bytes: Uint8Array, offset: number): Rate {
  const h = new TailHasher(bytes, offset)
  let i = 0
  return rateOf(1000, () => {
    for (let k = 0; k < 1000; k++) h.hash(i++)
  })
}

function nobleMidstateRate (bytes: Uint8Array, offset: number): Rate {
  const mid = sha256.create()
  mid.update(bytes.subarray(0, offset))
  const work = sha256.create()
  const tail = bytes.slice(offset)
  const view = new DataView(tail.buffer)
  const out = new Uint8Array(32)
  let i = 0
  return rateOf(1000, () => {
    for (let k = 0; k < 1000; k++) {
      view.setUint32(4, i++ >>> 0)
      mid._cloneInto(work)
      work.update(tail)
      work.digestInto(out)
    }
  })
}

async function minerRate (threads: number): Promise<Rate> {
  // target 1: no hash meets it, so the workers hash without pause
  const net = defineNetwork('bench-unreachable', { initialTarget: 0x03000001, easiestTarget: 0x03000001, interval: 10_000, window: 10, maxAdjust: 4 })
  const chain = await AnchorChain.open(net, new MemoryChainStore())
  const miner = new Miner(chain, { threads })
  await miner.start()
  try {
    await new Promise(resolve => setTimeout(resolve, 1000)) // workers warm up
    const h0 = miner.hashesSoFar()
    const t0 = performance.now()
    const c0 = cpuSeconds()
    await new Promise(resolve => setTimeout(resolve, SECONDS * 1000))
    const n = miner.hashesSoFar() - h0
    return { wall: n / ((performance.now() - t0) / 1000), cpu: n / (cpuSeconds() - c0) }
  } finally {
    await miner.stop()
    chain.close()
  }
}

async function validationFigures (): Promise<Row[]> {
  const net = testNetwork('bench-chain', { window: 10 })
  const key = await generateKeyPair('Ed25519')
  const profile = { cidVersion: 1 as const, rawLeaves: true, chunker: 'size-1048576', width: 1024, hamt: 'block-bytes' as const }
  const blocks: MinedBlock[] = []
  const t0 = performance.now()
  let parent: BlockMeta = { cid: net.id, key: net.id.toString(), height: 0, time: net.genesis.time, target: net.params.initialTarget, parent: null, work: 0n }
  let first: EncodedManifest | null = null
  for (let i = 1; i <= BLOCKS; i++) {
    let ms: EncodedManifest[] = []
    if (i % MANIFEST_EVERY === 0) {
      const root = CID.createV1(raw.code, await mh.digest(new TextEncoder().encode(`bench ${i}`)))
      const m = await signManifest(key, { root, name: `file-${i}`, type: 'file', size: i, profile, time: net.genesis.time + i })
      first ??= m
      ms = [m]
    }
    const b = mineBlock(net, parent, ms)
    blocks.push(b)
    parent = { cid: b.cid, key: b.cid.toString(), height: i, time: b.fields.time, target: b.fields.target, parent, work: 0n }
  }
  const buildS = (performance.now() - t0) / 1000
  const chain = await AnchorChain.open(net, new MemoryChainStore(), { now: () => net.genesis.time + BLOCKS * net.params.interval + 60_000 })
  const t1 = performance.now()
  for (const b of blocks) {
    const r = await chain.submit(b.header, b.body, b.manifests)
    if (r.status !== 'accepted') throw new Error(`bench chain block refused: ${JSON.stringify(r)}`)
  }
  const validateS = (performance.now() - t1) / 1000
  const a = chain.anchorings((first as EncodedManifest).manifest.root)[0]
  const proof = await exportProof(chain, a.manifest, a.block as BlockMeta)
  const t2 = performance.now()
  await verifyProof(proof)
  const proofS = (performance.now() - t2) / 1000
  return [
    { what: `validate a ${BLOCKS}-block chain (submit each block)`, figure: `${validateS.toFixed(2)} s`, baseline: '-', ratio: '-', note: `${Math.round(BLOCKS / validateS)} blocks/s; ${BLOCKS / MANIFEST_EVERY} signed manifests; built in ${buildS.toFixed(1)} s` },
    { what: `verify a proof with ${BLOCKS} headers`, figure: `${(proofS * 1000).toFixed(0)} ms`, baseline: '-', ratio: '-', note: `${(proof.byteLength / 1024).toFixed(0)} KiB, no repo` }
  ]
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

export async function anchorFigures (): Promise<Row[]> {
  const { bytes, offset } = sampleHeader()
  // the box is shared and its load moves: every figure is measured in each
  // of ROUNDS interleaved rounds and the median kept
  const runs: Record<string, Rate[]> = { node: [], noble: [], own: [], m1: [], m2: [] }
  for (let r = 0; r < ROUNDS; r++) {
    runs.node.push(nodeCryptoRate(bytes, offset))
    runs.noble.push(nobleMidstateRate(bytes, offset))
    runs.own.push(tailRate(bytes, offset))
    runs.m1.push(await minerRate(1))
    runs.m2.push(await minerRate(2))
  }
  const wall = (k: string): number => median(runs[k].map(r => r.wall))
  const cpu = (k: string): number => median(runs[k].map(r => r.cpu))
  const nodeRate = wall('node')
  const nobleRate = wall('noble')
  const ownRate = wall('own')
  const loops: Array<[string, string]> = [['node:crypto', 'node'], ['@noble midstate', 'noble'], ['cairn tail', 'own']]
  const [baseName, baseKey] = loops.reduce((a, b) => wall(b[1]) > wall(a[1]) ? b : a)
  const base = wall(baseKey)
  const baseCpu = cpu(baseKey)
  const rows: Row[] = [
    { what: `sha256 of a ${bytes.byteLength}-byte header, node:crypto per try`, figure: mhs(nodeRate), baseline: '-', ratio: '-', note: 'plain loop, 1 thread' },
    { what: `  @noble/hashes, midstate of the ${offset} bytes before the nonce`, figure: mhs(nobleRate), baseline: '-', ratio: '-', note: 'plain loop, 1 thread' },
    { what: '  cairn TailHasher (midstate + early rounds + fixed padding block)', figure: mhs(ownRate), baseline: mhs(nobleRate) + ' @noble', ratio: `${(ownRate / nobleRate).toFixed(2)}×`, note: 'plain loop, 1 thread; what the miner uses' }
  ]
  for (const threads of [1, 2]) {
    const key = threads === 1 ? 'm1' : 'm2'
    const r = wall(key)
    rows.push({ what: `miner, ${threads} worker thread(s)`, figure: mhs(r), baseline: `${mhs(base)} ${baseName}`, ratio: `${(r / threads / base).toFixed(2)}× per worker`, note: `goal ≥ 0.9× per worker; per CPU-second ${(cpu(key) / baseCpu).toFixed(2)}× (${mhs(cpu(key))} vs ${mhs(baseCpu)})` })
  }
  rows.push(...await validationFigures())
  return rows
}

// run alone: node dist/test/bench/anchor.js
if (process.argv[1]?.endsWith('anchor.js') === true) printTable(await anchorFigures())

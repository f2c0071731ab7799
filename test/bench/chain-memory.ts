// What the anchor chain keeps in memory for each block (issue 22). Builds
// BENCH_CHAIN_BLOCKS blocks with the test miner, submits the second half to
// a chain whose store keeps no bytes, and prints the heap and buffer memory
// that half added, per block, after full collections: once for a chain whose
// window holds every block (what a block in the window costs), once with the
// default window (KEPT_DEPTH: what the chain grows by past it). A bench, not
// a test.
//
//   npm run build && node --expose-gc dist/test/bench/chain-memory.js

import { AnchorChain, KEPT_DEPTH } from '../../core/anchor/chain.ts'
import { genesisMeta } from '../../core/anchor/validate.ts'
import { MemoryChainStore } from '../../core/anchor/store.ts'
import { mineChain, testNetwork, type MinedBlock } from '../../core/anchor/test-miner.ts'

const BLOCKS = Number(process.env.BENCH_CHAIN_BLOCKS ?? 3000)

const gc = globalThis.gc
if (typeof gc !== 'function') throw new Error('run with node --expose-gc')

class NoBytesStore extends MemoryChainStore {
  override async put (): Promise<void> {}
  override async appendIndex (): Promise<void> {}
}

const NET = testNetwork()
const mined = mineChain(NET, genesisMeta(NET), BLOCKS)
const used = (): number => { gc(); gc(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers }

async function perBlock (keep: number): Promise<string> {
  const chain = await AnchorChain.open(NET, new NoBytesStore(), { now: () => NET.genesis.time + 100_000_000, keep })
  // each submit gets bytes of its own, as from a peer; the first half warms up
  const submit = async (b: MinedBlock): Promise<void> => {
    const r = await chain.submit(b.header.slice(), b.body.slice(), [])
    if (r.status !== 'accepted') throw new Error(`block ${r.cid?.toString() ?? '?'}: ${r.status}`)
  }
  const half = Math.floor(BLOCKS / 2)
  for (const b of mined.slice(0, half)) await submit(b)
  const before = used()
  for (const b of mined.slice(half)) await submit(b)
  const after = used()
  return `${((after - before) / (BLOCKS - half)).toFixed(0)} bytes a block (heap used + array buffers, ${BLOCKS - half} blocks at height ${chain.height - (BLOCKS - half)}-${chain.height}, ${chain.keptCount} kept as objects)`
}

console.log(`chain memory, every block in the window: ${await perBlock(BLOCKS)}`)
console.log(`chain memory, a window of ${KEPT_DEPTH}: ${await perBlock(KEPT_DEPTH)}`)

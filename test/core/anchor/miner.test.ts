import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AnchorChain, type SubmitResult } from '../../../core/anchor/chain.ts'
import { MemoryChainStore } from '../../../core/anchor/store.ts'
import { Miner } from '../../../core/anchor/miner.ts'
import { mineBlock, testNetwork } from '../../../core/anchor/test-miner.ts'
import { manifestFor } from './helpers.ts'

/** every wait here is bounded */
const WAIT_MS = 30_000

async function until (what: string, cond: () => boolean): Promise<void> {
  const end = Date.now() + WAIT_MS
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

test('worker threads mine valid blocks, empty ones too, and anchor pending manifests; hash rate is reported', async () => {
  // ~256 hashes a block; the retarget (1 s interval) hardens it as blocks come fast
  const net = testNetwork('mine', { initialTarget: 0x2000ffff, easiestTarget: 0x2000ffff, window: 5 })
  const chain = await AnchorChain.open(net, new MemoryChainStore())
  const results: SubmitResult[] = []
  const miner = new Miner(chain, { threads: 2, onBlock: r => results.push(r) })
  await miner.start()
  try {
    await until('3 blocks', () => chain.height >= 3)
    const m = await manifestFor(900)
    assert.equal((await chain.addPending(m.bytes)).status, 'pending')
    await until('the manifest anchored', () => chain.anchorings(m.manifest.root)[0]?.block != null)
    await until('a hash rate', () => miner.stats.hashRate > 0)
    assert.equal(chain.pending.size, 0)
    assert.ok(results.every(r => r.status === 'accepted'), JSON.stringify(results.filter(r => r.status !== 'accepted')))
    assert.equal(miner.stats.blocksMined, results.length)
  } finally {
    await miner.stop()
  }
  const h = chain.height
  await new Promise(resolve => setTimeout(resolve, 300))
  assert.equal(chain.height, h, 'no block after stop')
})

test('a better head from elsewhere moves the miner onto it at once', async () => {
  // ~65536 hashes a block: the miner is slower than a test block is to make here
  const net = testNetwork('switch', { initialTarget: 0x1f00ffff, easiestTarget: 0x1f00ffff, window: 1000 })
  const chain = await AnchorChain.open(net, new MemoryChainStore())
  const mined: SubmitResult[] = []
  const miner = new Miner(chain, { threads: 1, onBlock: r => mined.push(r) })
  await miner.start()
  try {
    let external = 0
    for (let i = 0; i < 5; i++) {
      const b = mineBlock(net, chain.head, [], { salt: 0xffff0000 + i, time: Date.now() })
      const r = await chain.submit(b.header, b.body)
      if (r.status === 'accepted') external++
    }
    const heightBefore = chain.height
    await until('the miner extends the external chain', () => mined.some(r => r.status === 'accepted' && r.height > heightBefore))
    // every miner block found after the last external one builds on it or above
    const stale = mined.filter(r => r.status === 'accepted' && !r.head)
    assert.ok(stale.length <= external, `${stale.length} stale blocks for ${external} head changes`)
  } finally {
    await miner.stop()
  }
})

test('a slow submit does not make a second block at the same height; blocks that lose count as stale', async () => {
  // ~256 hashes a block: a template on the old head would win within ms
  const net = testNetwork('slow-submit', { initialTarget: 0x2000ffff, easiestTarget: 0x2000ffff, window: 5 })
  const chain = await AnchorChain.open(net, new MemoryChainStore())
  // a loaded disk: each submit takes longer than the template refresh (1 s)
  const submit = chain.submit.bind(chain)
  chain.submit = async (...args: Parameters<typeof chain.submit>) => {
    await new Promise(resolve => setTimeout(resolve, 1300))
    return await submit(...args)
  }
  const mined: SubmitResult[] = []
  const miner = new Miner(chain, { threads: 2, onBlock: r => mined.push(r) })
  await miner.start()
  try {
    await until('3 blocks', () => chain.height >= 3)
  } finally {
    await miner.stop()
  }
  const heights = mined.flatMap(r => r.status === 'accepted' ? [r.height] : [])
  assert.deepEqual(heights, [...new Set(heights)], `one block per height: mined ${JSON.stringify(heights)}`)
  assert.ok(mined.every(r => r.status === 'accepted' && r.head), JSON.stringify(mined))
  assert.equal(miner.stats.staleBlocks, 0)

  // a heavier branch from elsewhere replaces our last two blocks: they are stale now
  const fork = chain.mainAt(chain.height - 2)
  assert.ok(fork != null)
  let tip = fork
  for (let i = 0; i < 3; i++) {
    // above the parent's time even when blocks come within one millisecond (the median-time rule)
    const b = mineBlock(net, tip, [], { salt: 0xfeed0000 + i, time: Math.max(Date.now(), tip.time + 1) })
    const r = await submit(b.header, b.body)
    assert.equal(r.status, 'accepted')
    tip = chain.block(b.cid) ?? tip
  }
  assert.equal(miner.stats.staleBlocks, 2)
  assert.equal(miner.stats.blocksMined, heights.length)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { AnchorChain } from '../../../core/anchor/chain.ts'
import { ChainFiles } from '../../../storage/chain-files.ts'
import { mineBlock, metaAfter, testNetwork } from '../../../core/anchor/test-miner.ts'
import { expandTarget } from '../../../core/anchor/target.ts'
import { MemoryChainStore } from '../../../core/anchor/store.ts'
import { withTemp } from '../../helpers.ts'
import { manifestFor } from './helpers.ts'
import type { BlockMeta } from '../../../core/anchor/validate.ts'

const NET = testNetwork('persist')
const now = (): number => NET.genesis.time + 10_000_000

async function openFiles (dir: string, writable = true): Promise<AnchorChain> {
  const files = new ChainFiles(dir, writable)
  await files.open()
  return await AnchorChain.open(NET, files, { now, writable })
}

test('blocks, head and pending survive a reopen; a read-only open sees the same', async () => {
  await withTemp('cairn-chain-', async dir => {
    const chain = await openFiles(dir)
    const ms = await Promise.all([1, 2, 3].map(async n => await manifestFor(700 + n)))
    let parent: BlockMeta = chain.head
    for (let i = 0; i < 8; i++) {
      const b = mineBlock(NET, parent, i === 3 ? [ms[0]] : [])
      assert.equal((await chain.submit(b.header, b.body, b.manifests)).status, 'accepted')
      parent = chain.head
    }
    await chain.addPending(ms[1].bytes)
    await chain.addPending(ms[2].bytes)
    const head = chain.head
    for (const writable of [true, false]) {
      const again = await openFiles(dir, writable)
      assert.ok(again.head.cid.equals(head.cid))
      assert.equal(again.head.work, head.work)
      assert.deepEqual(again.pending.keys().sort(), [ms[1].cid.toString(), ms[2].cid.toString()].sort())
      assert.ok(again.anchorings(ms[0].manifest.root)[0].block?.cid.equals(again.mainAt(4)?.cid as never))
    }
    // read-only: no writes
    const ro = await openFiles(dir, false)
    const b = mineBlock(NET, ro.head)
    await assert.rejects(ro.submit(b.header, b.body), /read-only/)
  })
})

test('a torn index line or a lost object (crash) leaves a consistent chain below it', async () => {
  await withTemp('cairn-chain-', async dir => {
    const chain = await openFiles(dir)
    const blocks = []
    for (let i = 0; i < 6; i++) {
      const b = mineBlock(NET, chain.head)
      await chain.submit(b.header, b.body)
      blocks.push(b)
    }
    await fs.appendFile(path.join(dir, 'index'), 'bafyrei') // torn append
    // block 5's header lost: 5 and 6 are dropped, 4 is the head
    const key = blocks[4].cid.toString()
    await fs.rm(path.join(dir, 'objects', key.slice(-2), key))
    await fs.writeFile(path.join(dir, 'head'), blocks[5].cid.toString() + '\n')
    const again = await openFiles(dir)
    assert.equal(again.height, 4)
    assert.ok(again.head.cid.equals(blocks[3].cid))
    // and it keeps going from there
    const b = mineBlock(NET, again.head)
    assert.equal((await again.submit(b.header, b.body)).status, 'accepted')
  })
})

test('retarget: blocks faster than the interval make the next window harder, slower ones easier (capped)', async () => {
  const net = testNetwork('retarget', { initialTarget: 0x1f7fffff, easiestTarget: 0x207fffff })
  const chain = await AnchorChain.open(net, new MemoryChainStore(), { now: () => net.genesis.time + 1e9 })
  let parent = chain.head
  const w = net.params.window
  // first window: 10× too fast
  for (let i = 1; i <= w; i++) {
    const b = mineBlock(net, parent, [], { time: net.genesis.time + i * net.params.interval / 10 })
    assert.equal((await chain.submit(b.header, b.body)).status, 'accepted', `block ${i}`)
    parent = metaAfter(b, parent)
  }
  const t0 = expandTarget(net.params.initialTarget) as bigint
  const t1 = expandTarget(chain.head.target) as bigint
  assert.ok(t1 < t0 && t1 >= t0 / 4n - (t0 >> 14n), `harder by at most 4×: ${t0} → ${t1}`)
  // second window: very slow → easier, by at most 4×
  for (let i = 1; i < w; i++) {
    const b = mineBlock(net, parent, [], { time: parent.time + net.params.interval * 100 })
    assert.equal((await chain.submit(b.header, b.body)).status, 'accepted')
    parent = metaAfter(b, parent)
  }
  const b = mineBlock(net, parent)
  await chain.submit(b.header, b.body)
  const t2 = expandTarget(chain.head.target) as bigint
  assert.ok(t2 > t1 && t2 <= t1 * 4n, `easier by at most 4×: ${t1} → ${t2}`)
})

// The chain's window (issue 22): the last blocks below the head are kept as
// objects, the main chain below them as CIDs in a spine, with headers and
// bodies read from the store. What a peer, a proof or an anchoring sees is
// the same as from a chain that keeps every block; a branch from below the
// window is not followed.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AnchorChain } from '../../../core/anchor/chain.ts'
import { MemoryChainStore } from '../../../core/anchor/store.ts'
import { exportProof, verifyProof } from '../../../core/anchor/proof.ts'
import { syncFrom, SyncAborted } from '../../../core/anchor/sync.ts'
import { mineBlock, testNetwork, type MinedBlock } from '../../../core/anchor/test-miner.ts'
import type { EncodedManifest } from '../../../core/anchor/manifest.ts'
import type { BlockMeta } from '../../../core/anchor/validate.ts'
import { manifestFor } from './helpers.ts'
import { loopPeer } from './forge.ts'
import { summarize } from '../../../core/anchor/service.ts'

const NET = testNetwork('window')
const NOW = (): number => NET.genesis.time + 1_000_000_000
const KEEP = 40
const HEIGHT = 300

async function open (store = new MemoryChainStore(), keep?: number): Promise<AnchorChain> {
  return await AnchorChain.open(NET, store, { now: NOW, keep })
}

/** Mines `n` blocks on `from` in `chain`, submitting each; manifests[h] go in the block at height h. */
async function grow (chain: AnchorChain, n: number, o: { from?: BlockMeta, manifests?: Map<number, EncodedManifest>, salt?: number } = {}): Promise<MinedBlock[]> {
  const out: MinedBlock[] = []
  let p = o.from ?? chain.head
  for (let i = 0; i < n; i++) {
    const m = o.manifests?.get(p.height + 1)
    const b = mineBlock(NET, p, m != null ? [m] : [], { salt: o.salt ?? 0 })
    assert.equal((await chain.submit(b.header, b.body, b.manifests)).status, 'accepted')
    out.push(b)
    p = chain.block(b.cid) as BlockMeta
  }
  return out
}

/** The same blocks in a chain that keeps them all and in one with a window of KEEP. */
async function twoChains (): Promise<{ full: AnchorChain, windowed: AnchorChain, store: MemoryChainStore, mined: MinedBlock[], early: EncodedManifest, late: EncodedManifest }> {
  const early = await manifestFor(10)
  const late = await manifestFor(250)
  const full = await open()
  const mined = await grow(full, HEIGHT, { manifests: new Map([[10, early], [250, late]]) })
  const store = new MemoryChainStore()
  const windowed = await open(store, KEEP)
  for (const b of mined) assert.equal((await windowed.submit(b.header, b.body, b.manifests)).status, 'accepted')
  return { full, windowed, store, mined, early, late }
}

const keys = (cids: Array<{ toString: () => string }>): string[] => cids.map(c => c.toString())

test('below the window a chain answers locators, headers, bodies, anchorings and proofs as one that keeps every block', async () => {
  const { full, windowed, store, mined, early, late } = await twoChains()
  assert.equal(full.keptCount, HEIGHT + 1)
  assert.ok(windowed.keptCount <= KEEP + 64, `${windowed.keptCount} blocks kept`)
  assert.equal(windowed.mainAt(5), undefined)
  // `cairn chain --json` says so
  const summary = summarize(windowed)
  assert.deepEqual([summary.kept, summary.floor, summarize(full).floor], [windowed.keptCount, windowed.floor, 0])
  assert.ok(summary.floor > HEIGHT - KEEP - 64, `floor ${summary.floor}`)
  assert.ok(windowed.head.cid.equals(full.head.cid))
  // the full chain's locator, and the floor's block
  const floorKey = mined[windowed.floor - 1].cid.toString()
  assert.deepEqual(keys(windowed.locator()).filter(k => k !== floorKey), keys(full.locator()))
  assert.ok(keys(windowed.locator()).includes(floorKey))
  assert.deepEqual(await windowed.headersAfter([], 1000), await full.headersAfter([], 1000))
  // a locator that meets our main chain below the window, after a CID we do not know
  const locator = [mineBlock(NET, full.genesis, [], { salt: 9 }).cid, mined[49].cid]
  assert.deepEqual(await windowed.headersAfter(locator, 20), await full.headersAfter(locator, 20))
  for (const h of [1, 10, 50, 250, HEIGHT]) {
    assert.ok(windowed.mainCid(h).equals(mined[h - 1].cid))
    assert.deepEqual(await windowed.served(mined[h - 1].cid), await full.served(mined[h - 1].cid), `height ${h}`)
  }
  assert.deepEqual((await windowed.served(mined[9].cid))?.manifests, [early.bytes])
  for (const m of [early, late]) {
    const [w] = windowed.anchorings(m.manifest.root)
    const [f] = full.anchorings(m.manifest.root)
    assert.ok(w.block != null && f.block != null)
    assert.equal(w.block.height, f.block.height)
    assert.equal(w.block.key, f.block.key)
    assert.equal(w.block.time, f.block.time)
    const proof = await exportProof(windowed, w.manifest, w.block)
    assert.deepEqual(proof, await exportProof(full, f.manifest, f.block))
    const checked = await verifyProof(proof)
    assert.equal(checked.block.height, f.block.height)
    assert.equal(checked.work, (f.block.parent == null ? full.head.work : full.head.work - f.block.parent.work).toString())
  }
  // a newcomer syncs the whole chain from it
  const newcomer = await open()
  assert.equal((await syncFrom(newcomer, loopPeer(windowed))).status, 'synced')
  assert.ok(newcomer.head.cid.equals(full.head.cid))
  // opened again, from its store: the same window and answers
  const reopened = await open(store, KEEP)
  assert.ok(reopened.head.cid.equals(full.head.cid))
  assert.ok(reopened.keptCount <= KEEP + 1, `${reopened.keptCount} blocks kept after a restart`)
  assert.deepEqual(keys(reopened.locator()).filter(k => k !== mined[reopened.floor - 1].cid.toString()), keys(full.locator()))
  assert.equal(reopened.anchorings(early.manifest.root)[0].block?.height, 10)
})

test('a block that builds below the floor is stale, a branch from the window is followed, and a sync from below is given up without blame', async () => {
  const { windowed, mined } = await twoChains()
  const floor = windowed.floor
  assert.ok(floor > 0 && floor < HEIGHT - 11, `floor ${floor}`)
  const at = (h: number): BlockMeta => windowed.block(mined[h - 1].cid) as BlockMeta
  // on a window block under the floor, on a pruned block, on genesis: stale, and nothing kept
  const full = await open()
  for (const b of mined) await full.submit(b.header, b.body, b.manifests)
  assert.equal(windowed.block(mined[floor - 30].cid), undefined)
  for (const parent of [at(floor - 1), full.block(mined[floor - 30].cid) as BlockMeta, full.genesis]) {
    const b = mineBlock(NET, parent, [], { salt: 1 })
    assert.equal((await windowed.submit(b.header, b.body)).status, 'stale', `on height ${parent.height}`)
    assert.equal(windowed.block(b.cid), undefined)
  }
  assert.equal(windowed.orphanCount, 0)
  // on a block never seen: an orphan, as before
  const unknown = mineBlock(NET, full.head, [], { salt: 5 })
  const child = mineBlock(NET, { ...full.head, cid: unknown.cid, key: unknown.cid.toString(), height: full.head.height + 1, time: unknown.fields.time }, [], { salt: 5 })
  assert.equal((await windowed.submit(child.header, child.body)).status, 'orphan')
  // a branch from the floor up that outweighs the main chain: a reorganisation inside the window
  const branch = await grow(windowed, HEIGHT - floor + 2, { from: at(floor), salt: 2 })
  assert.ok(windowed.head.cid.equals(branch.at(-1)?.cid ?? NET.id))
  assert.ok(windowed.isOnMain(windowed.block(branch[0].cid) as BlockMeta))
  // a peer whose better branch leaves ours under the floor: the sync stops, the peer is not blamed
  const rival = await open()
  for (const b of mined.slice(0, floor - 20)) await rival.submit(b.header, b.body, b.manifests)
  await grow(rival, 200, { salt: 3 })
  assert.ok(rival.head.work > windowed.head.work)
  await assert.rejects(syncFrom(windowed, loopPeer(rival)), SyncAborted)
  assert.ok(windowed.head.cid.equals(branch.at(-1)?.cid ?? NET.id))
})

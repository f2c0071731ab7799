// What the chain keeps in memory for each block (issue 22): a seed keeps
// every block's meta and header for as long as it runs, a block every 10 s
// on `local` and every second on `test`. Counted in heap snapshots of this
// process: objects, not bytes.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { create } from 'multiformats/hashes/digest'
import { AnchorChain } from '../../../core/anchor/chain.ts'
import { cborCid, sha256 } from '../../../core/anchor/encoding.ts'
import { MemoryChainStore } from '../../../core/anchor/store.ts'
import { mineChain, testNetwork } from '../../../core/anchor/test-miner.ts'
import { heapCounts } from '../../heap-count.ts'

const NET = testNetwork()
const BLOCKS = 200

/** A store that keeps no bytes: what is counted is the chain's own memory. */
class NoBytesStore extends MemoryChainStore {
  override async put (): Promise<void> {}
}

test("cborCid: one buffer for the CID, its multihash and its digest, the same CID as multiformats'", async () => {
  const bytes = new TextEncoder().encode('a header')
  const cid = cborCid(bytes)
  assert.equal(cid.multihash.bytes.buffer, cid.bytes.buffer)
  assert.equal(cid.multihash.digest.buffer, cid.bytes.buffer)
  assert.deepEqual(cid.multihash.digest, new Uint8Array(sha256(bytes)))
  const theirs = CID.createV1(dagCbor.code, create(0x12, sha256(bytes)))
  assert.ok(cid.equals(theirs))
  assert.equal(cid.toString(), theirs.toString())
  assert.throws(() => cborCid(bytes, new Uint8Array(20)), /32 bytes/)
})

test('the chain keeps no buffer or CID object of its own per block (its CID and header bytes in shared slabs) and no cached CID text', async () => {
  const chain = await AnchorChain.open(NET, new NoBytesStore(), { now: () => NET.genesis.time + 10_000_000 })
  const mined = mineChain(NET, chain.head, BLOCKS)
  const before = await heapCounts()
  // the chain gets bytes of its own, as from a peer
  for (const b of mined) assert.equal((await chain.submit(b.header.slice(), b.body.slice(), [])).status, 'accepted')
  // the mined blocks are still held: only what the chain keeps is counted
  const after = await heapCounts()
  assert.equal(chain.height, BLOCKS)
  assert.equal(mined.length, BLOCKS)
  // what is kept is what came in: each block's CID and header bytes
  for (const b of mined) {
    const kept = chain.block(b.cid)
    assert.ok(kept?.cid.equals(b.cid))
    assert.deepEqual(chain.headerBytes(b.cid), b.header)
  }
  const added = (k: string): number => ((after.get(k) ?? 0) - (before.get(k) ?? 0)) / BLOCKS
  // multiformats' CID.createV1 makes three buffers a CID (4 a block in all) and a Map per CID when its text is made;
  // a buffer of its own for the header and the CID was 2 a block, their views 4; a slab of 64 KiB holds ~300 blocks
  assert.ok(added('object:ArrayBuffer') <= 0.1, `${added('object:ArrayBuffer')} ArrayBuffers a block`)
  assert.ok(added('object:Uint8Array') <= 0.1, `${added('object:Uint8Array')} Uint8Arrays a block`)
  assert.ok(added('object:CID') <= 0.1, `${added('object:CID')} CIDs a block`)
  assert.ok(added('object:Map') < 0.1, `${added('object:Map')} Maps a block`)
  assert.ok(added('object:Array') < 0.1, `${added('object:Array')} Arrays a block (its manifests: none)`)
})

test('below its window the chain keeps no block object: a long chain holds as many as a short one', async () => {
  const keep = 100
  const chain = await AnchorChain.open(NET, new MemoryChainStore(), { now: () => NET.genesis.time + 10_000_000, keep })
  const mined = mineChain(NET, chain.head, 20 * keep)
  for (const b of mined) assert.equal((await chain.submit(b.header, b.body, [])).status, 'accepted')
  const counts = await heapCounts()
  assert.equal(chain.height, 20 * keep)
  // the window, the blocks since the last cut (at most 64), and the bottom block's parent as a PrunedBlock
  const blocks = (counts.get('object:KeptBlock') ?? 0) + (counts.get('object:PrunedBlock') ?? 0)
  assert.ok(blocks <= keep + 64 + 2, `${blocks} block objects for a window of ${keep}`)
  assert.ok(chain.keptCount <= keep + 64 + 1, `${chain.keptCount} blocks in the map`)
  // the deepest block still reads back, from the spine and the store
  assert.ok(chain.mainCid(1).equals(mined[0].cid))
})

// The gateway's per-request block buffers (core/gateway/pool.ts): raw
// leaves held in the repo are read into a few reused buffers, each free
// again only once the socket has taken the chunk cut from it; dag-pb nodes
// (whose links are views of their bytes) and blocks not held never are.

import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { BlockPool, POOL_BUFFERS } from '../../../core/gateway/pool.ts'
import { BlockNotFoundError } from '../../../core/util/errors.ts'
import { Blocks } from '../../../storage/blocks.ts'
import { pseudoRandom, tempDir } from '../../helpers.ts'

async function put (blocks: Blocks, code: number, bytes: Uint8Array): Promise<CID> {
  const cid = CID.createV1(code, await sha256.digest(bytes))
  await blocks.put(cid, bytes)
  return cid
}

test('raw leaves go into reused buffers, freed by written(); dag-pb and missing blocks go to the request\'s own reader', async () => {
  const t = await tempDir()
  const blocks = new Blocks(path.join(t.dir, 'blocks'))
  try {
    await blocks.open()
    const leaves = await Promise.all(Array.from({ length: POOL_BUFFERS + 2 }, async (_, i) => await put(blocks, 0x55, pseudoRandom(1000 + i, i + 1))))
    const node = dagPb.encode(dagPb.prepare({ Links: [{ Hash: leaves[0], Name: 'a', Tsize: 1000 }] }))
    const nodeCid = await put(blocks, dagPb.code, node)
    const missing = CID.createV1(0x55, await sha256.digest(pseudoRandom(10, 99)))
    const asked: string[] = []
    const fallback = {
      getBytes: async (cid: CID) => { asked.push(cid.toString()); return await blocks.getBytes(cid) },
      get: async function * (cid: CID) { yield await blocks.getBytes(cid) },
      has: async (cid: CID) => await blocks.has(cid)
    }
    const pool = new BlockPool(blocks)
    const reader = pool.reader(fallback)
    // as many as the pool has: each a view of a pool buffer, all distinct
    const views = []
    for (let i = 0; i < POOL_BUFFERS; i++) views.push(await reader.getBytes(leaves[i]))
    assert.equal(new Set(views.map(v => v.buffer)).size, POOL_BUFFERS)
    for (let i = 0; i < POOL_BUFFERS; i++) assert.deepEqual(Buffer.from(views[i]), pseudoRandom(1000 + i, i + 1))
    assert.equal(asked.length, 0)
    // none free: the next is read the plain way, not waited for
    const extra = await reader.getBytes(leaves[POOL_BUFFERS])
    assert.ok(!views.some(v => v.buffer === extra.buffer))
    assert.deepEqual(asked, [leaves[POOL_BUFFERS].toString()])
    // written: its buffer takes the next leaf
    pool.written(views[1].subarray(0, 10))
    const reused = await reader.getBytes(leaves[POOL_BUFFERS + 1])
    assert.equal(reused.buffer, views[1].buffer)
    assert.deepEqual(Buffer.from(reused), pseudoRandom(1000 + POOL_BUFFERS + 1, POOL_BUFFERS + 2))
    // a dag-pb node never goes into a pool buffer (its links are views of its bytes)
    pool.written(views[2])
    const n = await reader.getBytes(nodeCid)
    assert.notEqual(n.buffer, views[2].buffer)
    assert.ok(asked.includes(nodeCid.toString()))
    // not held: the request's reader is asked (it fetches or fails), and the buffer is not lost
    await assert.rejects(reader.getBytes(missing), BlockNotFoundError)
    assert.ok(asked.includes(missing.toString()))
    const again = await reader.getBytes(leaves[0])
    assert.equal(again.buffer, views[2].buffer, 'the buffer tried for the missing block is free again')
  } finally {
    await blocks.close()
    await t.cleanup()
  }
})

// Fetched blocks are hashed and written on the block writer's thread
// (storage/block-writer.ts): what matches is stored whole, what does not is
// never written, a failed write is one RepoError, and bytes moved to the
// thread come back unchanged.

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { CID } from 'multiformats/cid'
import { sha256, sha512 } from 'multiformats/hashes/sha2'
import { Blocks } from '../../storage/blocks.ts'
import { RepoError } from '../../storage/errors.ts'
import { pseudoRandom, tempDir } from '../helpers.ts'

const RAW = 0x55

async function withStore (fn: (blocks: Blocks, dir: string) => Promise<void>): Promise<void> {
  const t = await tempDir()
  const dir = path.join(t.dir, 'blocks')
  const blocks = new Blocks(dir)
  try {
    await blocks.open()
    await fn(blocks, dir)
  } finally {
    await blocks.close()
    await t.cleanup()
  }
}

test('a matching block moved to the thread comes back unchanged and is on disk', async () => {
  await withStore(async blocks => {
    for (const [hasher, size] of [[sha256, 1024 * 1024], [sha512, 3000]] as const) {
      const data = new Uint8Array(pseudoRandom(size, size))
      const cid = CID.createV1(RAW, await hasher.digest(data))
      const sent = data.slice()
      const r = await blocks.putChecked(cid, sent, true)
      assert.equal(r.match, true)
      assert.equal(sent.byteLength, 0, 'moved, not copied')
      assert.deepEqual(Buffer.from(r.bytes), Buffer.from(data))
      assert.deepEqual(Buffer.from(await blocks.getBytes(cid)), Buffer.from(data))
    }
  })
})

test('bytes shared with others are copied, and stay whole where they were', async () => {
  await withStore(async blocks => {
    const whole = new Uint8Array(pseudoRandom(4096, 7))
    const part = whole.subarray(100, 1100)
    const cid = CID.createV1(RAW, await sha256.digest(part))
    const r = await blocks.putChecked(cid, part, true)
    assert.equal(r.match, true)
    assert.equal(whole.byteLength, 4096)
    assert.deepEqual(Buffer.from(r.bytes), Buffer.from(part))
  })
})

test('bytes that do not match the CID are reported and never written', async () => {
  await withStore(async (blocks, dir) => {
    const data = new Uint8Array(pseudoRandom(5000, 3))
    const cid = CID.createV1(RAW, await sha256.digest(data))
    const lie = data.slice()
    lie[10] ^= 1
    const r = await blocks.putChecked(cid, lie, true)
    assert.equal(r.match, false)
    assert.equal(await blocks.has(cid), false)
    assert.deepEqual(await fs.readdir(dir), [])
  })
})

test('a block that cannot be written is one RepoError naming it, and no temp file stays', async () => {
  await withStore(async (blocks, dir) => {
    const data = new Uint8Array(pseudoRandom(2000, 4))
    const cid = CID.createV1(RAW, await sha256.digest(data))
    // the block's shard directory is taken by a file: mkdir fails (root or not)
    const shard = path.dirname(blocks.pathOf(cid))
    await fs.writeFile(shard, 'in the way')
    await assert.rejects(blocks.putChecked(cid, data, true), (err: Error) => err instanceof RepoError && err.message.includes(cid.toString()))
    assert.deepEqual(await fs.readdir(dir), [path.basename(shard)])
  })
})

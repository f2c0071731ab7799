// FetchingStore: what a reader reads through while a fetch runs. A block the
// swarm is still fetching is waited for from the swarm, with no look on disk
// first (that look failed with ENOENT for nearly every block of a fetch);
// a block the repo holds is read from it. A stand-in swarm (unit test): the
// real one needs libp2p peers, which the integration tests give it.

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { FetchingStore, type Swarm } from '../../../core/unixfs/fetch.ts'
import { Blocks } from '../../../storage/blocks.ts'
import { tempDir } from '../../helpers.ts'

const RAW = 0x55

async function rawBlock (text: string): Promise<{ cid: CID, bytes: Uint8Array }> {
  const bytes = new TextEncoder().encode(text)
  return { cid: CID.createV1(RAW, await sha256.digest(bytes)), bytes }
}

/** A swarm that is fetching `pending` and hands each out when asked; counts what it was asked. */
function standIn (pending: Map<string, Uint8Array>): { swarm: Swarm, fetched: string[] } {
  const fetched: string[] = []
  const swarm = {
    takeFresh: () => null,
    stored: () => false,
    fetching: (cid: CID) => pending.has(cid.toString()),
    prefetch: () => {},
    fetch: async (cid: CID) => {
      fetched.push(cid.toString())
      const bytes = pending.get(cid.toString())
      if (bytes == null) throw new Error(`the stand-in swarm was asked for ${cid.toString()}, which it does not have`)
      return bytes
    }
  }
  return { swarm: swarm as unknown as Swarm, fetched }
}

test('a block the swarm is fetching is waited for without a look on disk; a held block is read from the repo', async () => {
  const t = await tempDir('cairn-fetching-store-')
  try {
    const blocks = new Blocks(path.join(t.dir, 'blocks'))
    await fs.mkdir(blocks.dir, { recursive: true })
    await blocks.open()
    const held = await rawBlock('held in the repo')
    const first = await rawBlock('missing: starts the swarm')
    const next = await rawBlock('missing: on its way')
    await blocks.put(held.cid, held.bytes)

    const disk: string[] = []
    const read = blocks.getBytes.bind(blocks)
    blocks.getBytes = async (cid, options) => { disk.push(cid.toString()); return await read(cid, options) }
    const { swarm, fetched } = standIn(new Map([[first.cid.toString(), first.bytes], [next.cid.toString(), next.bytes]]))
    const store = new FetchingStore(blocks, async () => swarm)

    // the first missing block: looked for on disk (no swarm yet), then fetched
    assert.deepEqual(Buffer.from(await store.getBytes(first.cid)), Buffer.from(first.bytes))
    assert.deepEqual(disk, [first.cid.toString()])
    // the swarm is running and fetching this one: straight to it
    assert.deepEqual(Buffer.from(await store.getBytes(next.cid)), Buffer.from(next.bytes))
    assert.deepEqual(disk, [first.cid.toString()], 'no look on disk for a block the swarm is fetching')
    assert.deepEqual(fetched, [first.cid.toString(), next.cid.toString()])
    // a block the swarm is not fetching comes from the repo
    assert.deepEqual(Buffer.from(await store.getBytes(held.cid)), Buffer.from(held.bytes))
    assert.deepEqual(disk, [first.cid.toString(), held.cid.toString()])
    assert.equal(fetched.length, 2)
    await blocks.close()
  } finally {
    await t.cleanup()
  }
})

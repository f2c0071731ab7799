// walkDag's onLeaf (core/repo/dag.ts): a walk that wants the CIDs alone
// (announcing a DAG just added, core/net/provider.ts) looks its leaves up
// and does not read them. Reading them cost a seed ~0.4 s of CPU for a
// 512 MiB file, right when a fetch started at once (docs/bench.md, "Add,
// then fetch at once"). A unit test: the store is a Map that counts reads.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { walkDag } from '../../../core/repo/dag.ts'
import { BlockNotFoundError } from '../../../core/util/errors.ts'
import type { BlockReader } from '../../../storage/blocks.ts'

async function put (blocks: Map<string, Uint8Array>, code: number, bytes: Uint8Array): Promise<CID> {
  const cid = CID.createV1(code, await sha256.digest(bytes))
  blocks.set(cid.toString(), bytes)
  return cid
}

/** root → [leaf 0, inner → [leaf 1, leaf 2]]; a store that counts what is read */
async function tree (): Promise<{ root: CID, inner: CID, leaves: CID[], blocks: Map<string, Uint8Array>, store: BlockReader, reads: string[] }> {
  const blocks = new Map<string, Uint8Array>()
  const leaves = await Promise.all([0, 1, 2].map(async i => await put(blocks, raw.code, Uint8Array.of(i, i, i))))
  const node = async (links: CID[]): Promise<CID> => await put(blocks, dagPb.code, dagPb.encode(dagPb.prepare({ Links: links.map(Hash => ({ Hash, Tsize: 3 })) })))
  const inner = await node([leaves[1], leaves[2]])
  const root = await node([leaves[0], inner])
  const reads: string[] = []
  const store: BlockReader = {
    getBytes: async cid => {
      reads.push(cid.toString())
      const b = blocks.get(cid.toString())
      if (b == null) throw new BlockNotFoundError(cid.toString(), 'not found')
      return b
    },
    get: async function * () {},
    has: async cid => blocks.has(cid.toString())
  }
  return { root, inner, leaves, blocks, store, reads }
}

test('walkDag with onLeaf reads the nodes that link, and only looks the leaves up', async () => {
  const t = await tree()
  const nodes: string[] = []
  const leaves: string[] = []
  const stats = await walkDag(t.store, t.root, { onBlock: cid => { nodes.push(cid.toString()) }, onLeaf: cid => { leaves.push(cid.toString()) } })
  assert.deepEqual(nodes, [t.root.toString(), t.inner.toString()])
  assert.deepEqual(leaves, t.leaves.map(String))
  assert.deepEqual(t.reads, [t.root.toString(), t.inner.toString()], 'no leaf was read')
  assert.equal(stats.blocks, 5)
})

test('walkDag with onLeaf: a missing leaf is missing, as a read would find it', async () => {
  const t = await tree()
  t.blocks.delete(t.leaves[1].toString())
  const missing: string[] = []
  const leaves: string[] = []
  const stats = await walkDag(t.store, t.root, { allowMissing: true, onMissing: cid => { missing.push(cid.toString()) }, onLeaf: cid => { leaves.push(cid.toString()) } })
  assert.deepEqual(missing, [t.leaves[1].toString()])
  assert.deepEqual(leaves, [t.leaves[0], t.leaves[2]].map(String))
  assert.equal(stats.missing, 1)
  await assert.rejects(walkDag(t.store, t.root, { onLeaf: () => {} }), { name: 'BlockNotFoundError' })
})

test('walkDag without onLeaf still reads (and so verifies) every block', async () => {
  const t = await tree()
  const seen: string[] = []
  await walkDag(t.store, t.root, { onBlock: cid => { seen.push(cid.toString()) } })
  assert.equal(seen.length, 5)
  assert.equal(t.reads.length, 5)
})

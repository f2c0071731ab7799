// The fetch's DAG walk on hostile shapes (issue 22): a chain of depth d
// costs the wants O(d) positions, not a copied path each (O(d²)), and a DAG
// deeper than MAX_DAG_DEPTH is refused with DagTooDeepError. Structure is
// counted, not timed; the repo is an in-memory fake (a unit test).

import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { DagWalker, MAX_DAG_DEPTH } from '../../../core/swarm/walker.ts'
import { DagTooDeepError } from '../../../core/swarm/errors.ts'
import { blockKey } from '../../../core/repo/dag.ts'
import type { Blocks } from '../../../storage/blocks.ts'

/** A chain: `depth` dag-pb nodes, each linking to the next, over one raw leaf; the root first. */
async function chain (depth: number): Promise<{ root: CID, bytes: Map<string, Uint8Array> }> {
  const bytes = new Map<string, Uint8Array>()
  const leafBytes = new TextEncoder().encode('the bottom')
  let cid: CID = CID.createV1(raw.code, await sha256.digest(leafBytes))
  bytes.set(blockKey(cid), leafBytes)
  for (let i = 0; i < depth; i++) {
    const node = dagPb.encode(dagPb.prepare({ Links: [{ Hash: cid, Name: '', Tsize: 1 }] }))
    cid = CID.createV1(dagPb.code, await sha256.digest(node))
    bytes.set(blockKey(cid), node)
  }
  return { root: cid, bytes }
}

/** A repo holding `held` (by block key). */
function repo (held: Map<string, Uint8Array>): Blocks {
  return {
    has: async (cid: CID) => held.has(blockKey(cid)),
    getBytes: async (cid: CID) => {
      const b = held.get(blockKey(cid))
      if (b == null) throw new Error(`not held: ${cid.toString()}`)
      return b
    }
  } as unknown as Blocks
}

/**
 * Cells of memory reachable from `roots`: every field of every distinct
 * object, every element of every distinct array. Shared structure counts
 * once; a copy counts again.
 */
function cells (roots: unknown[]): number {
  const seen = new Set<object>()
  const stack = [...roots]
  let n = 0
  while (stack.length > 0) {
    const v = stack.pop()
    if (v == null || typeof v !== 'object' || seen.has(v)) continue
    seen.add(v)
    const values = Object.values(v)
    n += values.length
    stack.push(...values)
  }
  return n
}

test('a chain fetched block by block: the wants\' positions grow with its depth, not its square', async () => {
  const depth = 600
  const { root, bytes } = await chain(depth)
  const walker = new DagWalker(root, repo(new Map()), () => {}, () => false)
  await walker.expand([{ cid: root, path: null }])
  // every block "arrives" in turn: the walk queues the next one down
  let arrived = 0
  for (let w = walker.queue.take(() => true); w != null; w = walker.queue.take(() => true)) {
    const s = walker.get(w.key)
    assert.ok(s != null)
    s.done = true
    s.stored = true
    await walker.arrived(s, bytes.get(w.key) as Uint8Array)
    arrived++
  }
  assert.equal(arrived, depth + 1, 'every block of the chain was wanted')
  const paths = [...walker.wants.values()].map(w => w.path)
  const n = cells(paths)
  // a position per level, a few fields each: O(depth); a path copied into
  // each want would be depth²/2 = 180,000 indexes
  assert.ok(n <= 4 * (depth + 1), `${n} cells for a chain of depth ${depth}`)
})

test(`a DAG more than ${MAX_DAG_DEPTH} links deep is refused with DagTooDeepError; one at the limit is walked`, async () => {
  const atLimit = await chain(MAX_DAG_DEPTH)
  const ok = new DagWalker(atLimit.root, repo(atLimit.bytes), () => {}, () => false)
  await ok.expand([{ cid: atLimit.root, path: null }])
  assert.equal(ok.wants.size, 0, 'everything was in the repo: nothing wanted')

  const deep = await chain(MAX_DAG_DEPTH + 1)
  const walker = new DagWalker(deep.root, repo(deep.bytes), () => {}, () => false)
  await assert.rejects(walker.expand([{ cid: deep.root, path: null }]), (err: Error) => {
    assert.ok(err instanceof DagTooDeepError, `${err.name}: ${err.message}`)
    assert.match(err.message, new RegExp(`^${deep.root.toString()} is more than ${MAX_DAG_DEPTH} links deep`))
    return true
  })
})

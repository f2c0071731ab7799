// A CID's text, kept for hours, is kept flat (core/util/flat-string.ts).
// Each test counts V8's concatenated strings ("cons strings") in heap
// snapshots of this process, before and after keeping some CIDs' text: a
// CIDv1 from multiformats is ~47 of them until it is made flat.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { create } from 'multiformats/hashes/digest'
import { flat } from '../../../core/util/flat-string.ts'
import { BoundedMap } from '../../../core/util/bounded-map.ts'
import { ManifestIndex } from '../../../core/anchor/manifest-index.ts'
import { manifestFor } from '../anchor/helpers.ts'
import { heapCounts } from '../../heap-count.ts'

const SHA256 = 0x12

/** Concatenated strings alive in this process now. */
async function consStrings (): Promise<number> {
  return (await heapCounts()).get('concatenated string:') ?? 0
}

/** `n` distinct CIDv1s (raw, sha256), their text not yet made */
function cids (n: number, seed: number): CID[] {
  return Array.from({ length: n }, (_, i) => {
    const digest = new Uint8Array(32)
    new DataView(digest.buffer).setUint32(0, i)
    digest[31] = seed
    return CID.createV1(raw.code, create(SHA256, digest))
  })
}

test('flat: the same string back', () => {
  const s = cids(1, 1)[0].toString()
  assert.equal(flat(s), s)
  assert.equal(flat(s), cids(1, 1)[0].toString())
})

test("a CID's text is a tree of concatenations until flat() (the premise of the fixes below)", async () => {
  const held = cids(200, 2)
  const before = await consStrings()
  const texts = held.map(c => c.toString())
  const tree = await consStrings() - before
  assert.ok(tree >= 20 * held.length, `${tree} concatenated strings for ${held.length} CIDs' text`)
  for (const t of texts) flat(t)
  const left = await consStrings() - before
  assert.ok(left < held.length, `${left} concatenated strings left after flat()`)
})

test('BoundedMap keeps its string keys flat, also while the CIDs that made them live on', async () => {
  const held = cids(300, 3)
  const map = new BoundedMap<string, number>(1000)
  const before = await consStrings()
  for (const c of held) map.set(c.toString(), 1)
  const added = await consStrings() - before
  assert.equal(map.size, held.length)
  assert.ok(added < held.length, `${added} concatenated strings for ${held.length} keys`)
})

test("the chain's manifest index keeps each manifest's key and its root's key flat", async () => {
  const manifests = await Promise.all(Array.from({ length: 100 }, async (_, i) => await manifestFor(i)))
  const index = new ManifestIndex()
  const before = await consStrings()
  for (const m of manifests) index.remember(m)
  const added = await consStrings() - before
  assert.equal(index.get(manifests[0].cid.toString()), manifests[0])
  assert.ok(added < manifests.length, `${added} concatenated strings for ${manifests.length} manifests`)
})

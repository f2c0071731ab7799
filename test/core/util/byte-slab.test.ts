// ByteSlab (core/util/byte-slab.ts): copies of small byte strings in shared slabs.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ByteSlab, SLAB_BYTES } from '../../../core/util/byte-slab.ts'

test('ByteSlab.keep: a copy, a view of one shared slab until it is full, then of a new one', () => {
  const slab = new ByteSlab()
  const a = Uint8Array.of(1, 2, 3)
  const ka = slab.keep(a)
  a[0] = 9 // the caller's bytes may change afterwards
  assert.deepEqual(ka, Uint8Array.of(1, 2, 3))
  const kb = slab.keep(Uint8Array.of(4, 5))
  assert.equal(kb.buffer, ka.buffer)
  assert.equal(kb.byteOffset, ka.byteOffset + 3)
  assert.equal(ka.buffer.byteLength, SLAB_BYTES)
  // fill the slab: the next string that does not fit starts another
  const chunk = new Uint8Array(SLAB_BYTES / 4).fill(7)
  const kept = [slab.keep(chunk), slab.keep(chunk), slab.keep(chunk)]
  for (const k of kept) assert.equal(k.buffer, ka.buffer)
  const next = slab.keep(chunk)
  assert.notEqual(next.buffer, ka.buffer)
  assert.deepEqual(next, chunk)
  // the views kept before are unchanged
  assert.deepEqual(ka, Uint8Array.of(1, 2, 3))
  assert.deepEqual(kb, Uint8Array.of(4, 5))
})

test('ByteSlab.keep: a string larger than a quarter slab gets a buffer of its own', () => {
  const slab = new ByteSlab()
  const small = slab.keep(Uint8Array.of(1))
  const big = new Uint8Array(SLAB_BYTES / 4 + 1).fill(3)
  const kept = slab.keep(big)
  assert.notEqual(kept.buffer, small.buffer)
  assert.equal(kept.buffer.byteLength, big.byteLength)
  assert.deepEqual(kept, big)
  assert.notEqual(kept, big)
})

// The seed's collection schedule (core/daemon/collector.ts), with a fake gc,
// heap sizes and clock.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { COLLECT_EVERY_MS, COLLECT_GROWTH_BYTES, Collector, collectionDue } from '../../../core/daemon/collector.ts'

const MIB = 1024 * 1024

test('collectionDue: by growth since the last collection, or by time', () => {
  assert.equal(collectionDue(40 * MIB, 40 * MIB, 0), false)
  assert.equal(collectionDue(40 * MIB + COLLECT_GROWTH_BYTES - 1, 40 * MIB, COLLECT_EVERY_MS - 1), false)
  assert.equal(collectionDue(40 * MIB + COLLECT_GROWTH_BYTES, 40 * MIB, 0), true)
  assert.equal(collectionDue(40 * MIB, 40 * MIB, COLLECT_EVERY_MS), true)
  // a heap smaller than after the last collection is no reason
  assert.equal(collectionDue(30 * MIB, 40 * MIB, 1000), false)
})

test('Collector: none at start, then one when the heap has grown enough or the time is up, measuring from each collection', () => {
  let heap = 40 * MIB
  let clock = 0
  let collections = 0
  const c = new Collector(o => { assert.equal(o.flavor, 'last-resort'); collections++; heap -= 10 * MIB }, () => ({ heap, external: 0 }), () => clock)
  c.start()
  c.stop() // the timer is not under test: check() is called by hand
  assert.equal(collections, 0)
  // measured from the heap at start: 40 MiB
  heap += COLLECT_GROWTH_BYTES - MIB
  clock += 5000
  c.check()
  assert.equal(collections, 0)
  heap += MIB
  c.check()
  assert.equal(collections, 1)
  // the new mark is the heap after that collection, the clock restarts
  heap += MIB
  clock += COLLECT_EVERY_MS - 1
  c.check()
  assert.equal(collections, 1)
  clock += 1
  c.check()
  assert.equal(collections, 2)
})

test('Collector.liveHeap: null until the first collection, then the heap right after the last one', () => {
  let heap = 40 * MIB
  const c = new Collector(() => { heap = 25 * MIB }, () => ({ heap, external: 5 * MIB }), () => 0)
  c.start()
  c.stop()
  assert.equal(c.liveHeap, null)
  heap += COLLECT_GROWTH_BYTES
  c.check()
  assert.equal(c.liveHeap, 25 * MIB, 'the heap alone, without external memory')
  // garbage piling up after it is not live heap
  heap += MIB
  c.check()
  assert.equal(c.liveHeap, 25 * MIB)
})

test('Collector: the bytes outside the heap that V8 frees count towards the growth (buffers a seed has let go of)', () => {
  const sizes = { heap: 40 * MIB, external: 6 * MIB }
  let collections = 0
  const c = new Collector(() => { collections++; sizes.external = 6 * MIB }, () => ({ ...sizes }), () => 0)
  c.start()
  c.stop()
  // the heap stays where it was; released blocks and socket reads pile up outside it
  sizes.external += COLLECT_GROWTH_BYTES - MIB
  c.check()
  assert.equal(collections, 0)
  sizes.external += MIB
  c.check()
  assert.equal(collections, 1, 'external memory grown by COLLECT_GROWTH_BYTES')
  // measured from both sizes after that collection: half the growth in each is not enough, all of it is
  sizes.heap += COLLECT_GROWTH_BYTES / 2
  sizes.external += COLLECT_GROWTH_BYTES / 2 - 1
  c.check()
  assert.equal(collections, 1)
  sizes.external += 1
  c.check()
  assert.equal(collections, 2)
})

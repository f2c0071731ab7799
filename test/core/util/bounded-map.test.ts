// core/util/bounded-map.ts: never more than its bound, the oldest insertion
// forgotten first, renew() making an entry the youngest.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BoundedMap } from '../../../core/util/bounded-map.ts'

test('past its bound the oldest insertion goes; a get does not save it', () => {
  const m = new BoundedMap<string, number>(3)
  m.set('a', 1).set('b', 2).set('c', 3)
  assert.equal(m.get('a'), 1)
  m.set('d', 4)
  assert.deepEqual([...m.keys()], ['b', 'c', 'd'])
})

test('setting an existing key keeps its place; renew makes it the youngest', () => {
  const m = new BoundedMap<string, number>(3)
  m.set('a', 1).set('b', 2).set('c', 3)
  m.set('a', 10)
  m.set('d', 4)
  assert.deepEqual([...m.entries()], [['b', 2], ['c', 3], ['d', 4]])
  m.renew('b', 20)
  m.set('e', 5)
  assert.deepEqual([...m.entries()], [['d', 4], ['b', 20], ['e', 5]])
})

test('never holds more than its bound', () => {
  const m = new BoundedMap<number, number>(100)
  for (let i = 0; i < 10_000; i++) i % 3 === 0 ? m.renew(i % 250, i) : m.set(i, i)
  assert.equal(m.size, 100)
})

test('forgetWhile forgets from the oldest on while the test holds, and stops at the first it does not', () => {
  const m = new BoundedMap<string, number>(10)
  m.set('a', 1).set('b', 2).set('c', 9).set('d', 3)
  m.forgetWhile(t => t < 5)
  assert.deepEqual([...m.entries()], [['c', 9], ['d', 3]])
  m.forgetWhile(() => true)
  assert.equal(m.size, 0)
  m.forgetWhile(() => true)
  assert.equal(m.size, 0)
})

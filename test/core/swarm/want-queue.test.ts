import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import { identity } from 'multiformats/hashes/identity'
import * as raw from 'multiformats/codecs/raw'
import { WantQueue, pathOf, positionOf, type Want } from '../../../core/swarm/want-queue.ts'

const want = (path: number[], tag = path.join('.')): Want => ({
  cid: CID.createV1(raw.code, identity.digest(new TextEncoder().encode(tag))),
  key: tag,
  path: positionOf(path),
  urgent: false,
  refusedBy: new Set(),
  inFlight: new Map(),
  done: false,
  queued: false,
  waiters: []
})

const drain = (q: WantQueue, eligible: (w: Want) => boolean = () => true): Want[] => {
  const out: Want[] = []
  for (let w = q.take(eligible); w != null; w = q.take(eligible)) out.push(w)
  return out
}

test('wants come out in depth-first order of their paths, whatever order they went in', () => {
  fc.assert(fc.property(fc.uniqueArray(fc.array(fc.nat(20), { minLength: 1, maxLength: 4 }), { selector: p => p.join('.'), maxLength: 60 }), paths => {
    const q = new WantQueue()
    for (const p of paths) q.push(want(p))
    const got = drain(q).map(w => pathOf(w.path))
    const expected = [...paths].sort((a, b) => {
      for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i]
      return a.length - b.length
    })
    assert.deepEqual(got, expected)
    assert.equal(q.size, 0)
  }), { numRuns: 300 })
})

test('an urgent want jumps the queue, once', () => {
  const q = new WantQueue()
  const ws = [0, 1, 2, 3].map(i => want([i]))
  for (const w of ws) q.push(w)
  q.promote(ws[3])
  assert.deepEqual(drain(q).map(w => w.key), ['3', '0', '1', '2'])
})

test('wants a lane may not take stay queued, in order, for the others', () => {
  const q = new WantQueue()
  for (let i = 0; i < 6; i++) q.push(want([i]))
  const even = drain(q, w => pathOf(w.path)[0] % 2 === 0).map(w => w.key)
  assert.deepEqual(even, ['0', '2', '4'])
  assert.deepEqual(drain(q).map(w => w.key), ['1', '3', '5'])
})

test('done wants are dropped; a want is queued at most once', () => {
  const q = new WantQueue()
  const a = want([0])
  const b = want([1])
  q.push(a)
  q.push(a)
  q.push(b)
  b.done = true
  assert.deepEqual(drain(q).map(w => w.key), ['0'])
  a.queued = false
  q.push(a)
  assert.equal(q.take(() => true), a)
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { compactTarget, expandTarget, MAX_256, retarget, workOf } from '../../../core/anchor/target.ts'

const target = fc.bigInt({ min: 1n, max: MAX_256 })

test('compact targets: Bitcoin examples expand as Bitcoin expands them', () => {
  assert.equal(expandTarget(0x1d00ffff), 0xffffn << 208n)
  assert.equal(compactTarget(0xffffn << 208n), 0x1d00ffff)
  assert.equal(expandTarget(0x1b0404cb), 0x0404cbn << 192n)
  assert.equal(expandTarget(0x207fffff), 0x7fffffn << 232n)
  // sign bit, zero and overflow are invalid
  assert.equal(expandTarget(0x04923456), null)
  assert.equal(expandTarget(0x00000000), null)
  assert.equal(expandTarget(0x01003456), null)
  assert.equal(expandTarget(0xff123456), null)
  assert.equal(expandTarget(0x2200ffff), null)
})

test('compact targets: round down, never up, and are stable (property)', () => {
  fc.assert(fc.property(target, t => {
    const c = compactTarget(t)
    const back = expandTarget(c)
    assert.ok(back != null && back <= t && back > 0n)
    // 23 bits of mantissa: within a factor 2^-15 of the original
    assert.ok(t - back <= t >> 15n)
    assert.equal(compactTarget(back), c)
    assert.equal((c & 0x00800000), 0)
  }), { numRuns: 500 })
})

test('work: 2^256/(target+1), larger for harder targets (property)', () => {
  assert.equal(workOf(MAX_256), 1n)
  fc.assert(fc.property(target, target, (a, b) => {
    if (a < b) assert.ok(workOf(a) >= workOf(b))
  }), { numRuns: 300 })
})

test('retarget: integer rule, clamped by maxAdjust and the easiest target (property)', () => {
  const p = { interval: 1000, window: 10, maxAdjust: 4, easiestTarget: 0x207fffff }
  const expected = (p.window - 1) * p.interval
  fc.assert(fc.property(fc.bigInt({ min: 1n << 20n, max: expandTarget(0x207fffff) as bigint }), fc.integer({ min: 0, max: expected * 20 }), (t, span) => {
    const old = compactTarget(t)
    const oldT = expandTarget(old) as bigint
    const next = expandTarget(retarget(old, span, p)) as bigint
    assert.ok(next <= (expandTarget(p.easiestTarget) as bigint))
    assert.ok(next <= oldT * 4n)
    assert.ok(next >= (oldT / 4n) - (oldT >> 14n))
    // the exact rule
    const clamped = BigInt(Math.min(Math.max(span, Math.floor(expected / 4)), expected * 4))
    let want = oldT * clamped / BigInt(expected)
    if (want > (expandTarget(p.easiestTarget) as bigint)) want = expandTarget(p.easiestTarget) as bigint
    assert.equal(next, expandTarget(compactTarget(want)))
  }), { numRuns: 300 })
  // on schedule: unchanged
  assert.equal(retarget(0x1f00ffff, expected, p), 0x1f00ffff)
})

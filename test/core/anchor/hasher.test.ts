import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { TailHasher } from '../../../core/anchor/sha256-tail.ts'
import { HeaderHasher, mineHeader } from '../../../core/anchor/hasher.ts'
import { digestValue, expandTarget } from '../../../core/anchor/target.ts'
import { sha256 } from '../../../core/anchor/encoding.ts'
import { testNetwork } from '../../../core/anchor/test-miner.ts'
import { cborCid, NONCE_BYTES, type Header } from '../../../core/anchor/encoding.ts'

const plain = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest()

test('TailHasher gives sha256 for any message, nonce position and counter (property)', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 8, maxLength: 400 }), fc.nat(), fc.array(fc.nat({ max: 0xffffffff }), { minLength: 1, maxLength: 4 }), (bytes, at, counters) => {
    const nonceAt = at % (bytes.byteLength - 7)
    let h: TailHasher
    try {
      h = new TailHasher(bytes, nonceAt)
    } catch (err) {
      // only a counter straddling a block boundary is refused (the caller falls back)
      assert.ok((nonceAt % 64) + 8 > 64, String(err))
      return
    }
    for (const c of counters) {
      const msg = Uint8Array.from(bytes)
      new DataView(msg.buffer).setUint32(nonceAt + 4, c)
      h.hash(c)
      assert.deepEqual(Buffer.from(h.digest()), plain(msg))
    }
  }), { numRuns: 400 })
})

test('HeaderHasher: a nonce it accepts meets the target, one it refuses does not (property)', () => {
  const net = testNetwork('hasher')
  fc.assert(fc.property(fc.nat({ max: 2 ** 40 }), fc.nat({ max: 0xffffffff }), fc.constantFrom(0x207fffff, 0x2000ffff, 0x1f7fffff), (time, high, target) => {
    const h: Header = { v: 1, net: net.id, height: 1 + (time % 70000), prev: net.id, time, target, body: cborCid(new Uint8Array([0x80])), nonce: new Uint8Array(NONCE_BYTES) }
    const hasher = HeaderHasher.forHeader(h)
    hasher.setHigh(high)
    const t = expandTarget(target) as bigint
    for (let i = 0; i < 20; i++) {
      const ok = hasher.tryNonce(i)
      const bytes = hasher.header()
      assert.equal(ok, digestValue(sha256(bytes)) <= t)
    }
  }), { numRuns: 100 })
  const mined = mineHeader({ v: 1, net: net.id, height: 5, prev: net.id, time: 1, target: 0x2000ffff, body: net.id, nonce: new Uint8Array(8) }) as Uint8Array
  assert.ok(digestValue(sha256(mined)) <= (expandTarget(0x2000ffff) as bigint))
})

test('HeaderHasher on any bytes and nonce position, both paths (TailHasher and @noble): accepts exactly the nonces that meet the target (property)', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 300 }), fc.nat(), fc.nat({ max: 0xffffffff }), (bytes, at, high) => {
    const offset = at % (bytes.byteLength - 7)
    const target = 1n << 254n
    const hasher = new HeaderHasher(bytes, offset, target)
    hasher.setHigh(high)
    for (let i = 0; i < 8; i++) {
      const ok = hasher.tryNonce(i * 7919)
      const header = hasher.header()
      assert.equal(new DataView(header.buffer).getUint32(offset + 4), i * 7919)
      assert.equal(new DataView(header.buffer).getUint32(offset), high)
      assert.equal(ok, digestValue(plain(header)) <= target)
    }
  }), { numRuns: 300 })
})

// The sweep provider's keyspace arithmetic (core/net/keyspace.ts), by
// property: regions partition the sorted keys, in order, each key in its
// own region's prefix; a region's lookup target lies in the region; the
// cursor walk (nextPrefix) visits every region once, in key order; the
// depth grows with the network so regions hold about K peers; and kad-dht's
// key is the SHA-256 of the multihash.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { compareKeys, estimateNetworkSize, groupByRegion, inRegion, KEY_BYTES, lowerBound, position, prefixOf, regionDepth, regionStart, regionTarget } from '../../../core/net/keyspace.ts'
import { nextPrefix } from '../../../core/net/sweeper.ts'
import { dhtKey } from '../../../core/net/sweep-wire.ts'

const key = fc.uint8Array({ minLength: KEY_BYTES, maxLength: KEY_BYTES })
const keys = fc.array(key, { maxLength: 300 }).map(ks => ks.sort(compareKeys))
const depth = fc.integer({ min: 0, max: 12 })
const prefix = fc.array(fc.constantFrom('0', '1'), { maxLength: 20 }).map(a => a.join(''))

test('regions partition the sorted keys: contiguous, in order, each key inside its region, prefixes strictly increasing', () => {
  fc.assert(fc.property(keys, depth, (ks, d) => {
    const regions = groupByRegion(ks, d)
    let next = 0
    for (const [i, r] of regions.entries()) {
      assert.equal(r.start, next)
      assert.ok(r.end > r.start)
      assert.equal(r.prefix.length, d)
      for (let j = r.start; j < r.end; j++) assert.ok(inRegion(ks[j], r.prefix))
      if (i > 0) assert.ok(regions[i - 1].prefix < r.prefix, 'one region per prefix, in key order')
      next = r.end
    }
    assert.equal(next, ks.length)
  }), { numRuns: 300 })
})

test('a region\'s lookup target and its first key lie in the region; position is monotone in key order', () => {
  fc.assert(fc.property(prefix, p => {
    assert.ok(inRegion(regionTarget(p), p))
    assert.ok(inRegion(regionStart(p), p))
    assert.ok(position(regionStart(p)) === position(p) || p.length > 48)
    const n = nextPrefix(p)
    if (n != null) assert.ok(position(n) > position(p))
  }), { numRuns: 500 })
  fc.assert(fc.property(key, key, (a, b) => {
    if (compareKeys(a, b) <= 0) assert.ok(position(a) <= position(b))
  }))
})

test('walking the cursor from the empty prefix visits every non-empty region once, in order (what a round sweeps)', () => {
  fc.assert(fc.property(keys, depth, (ks, d) => {
    const expected = groupByRegion(ks, d).map(r => r.prefix)
    const seen: string[] = []
    let cursor: string | null = ''
    for (let steps = 0; cursor != null && steps <= ks.length + 1; steps++) {
      const start = lowerBound(ks, regionStart(cursor))
      if (start >= ks.length) break
      const p = prefixOf(ks[start], d)
      seen.push(p)
      cursor = nextPrefix(p)
    }
    assert.deepEqual(seen, expected)
  }), { numRuns: 300 })
})

test('lowerBound finds the first key at or after the target', () => {
  fc.assert(fc.property(keys, key, (ks, k) => {
    const i = lowerBound(ks, k)
    if (i > 0) assert.ok(compareKeys(ks[i - 1], k) < 0)
    if (i < ks.length) assert.ok(compareKeys(ks[i], k) >= 0)
  }))
})

test('depth: one region up to 2K peers; then regions of K to 2K peers each', () => {
  assert.equal(regionDepth(0, 20), 0)
  assert.equal(regionDepth(39, 20), 0)
  fc.assert(fc.property(fc.integer({ min: 40, max: 10_000_000 }), n => {
    const d = regionDepth(n, 20)
    const perRegion = n / 2 ** d
    assert.ok(perRegion >= 20 && perRegion < 40, `${n} peers, depth ${d}: ${perRegion} per region`)
  }))
})

test('the network size estimate from the K closest of N evenly spread peers is within a factor of 2', () => {
  fc.assert(fc.property(fc.integer({ min: 100, max: 20_000 }), fc.integer({ min: 0, max: 2 ** 31 }), (n, seed) => {
    // N peers at random positions; the estimate sees the 20 closest to a random target
    let x = seed | 1
    const rnd = (): number => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) / 2 ** 32 }
    const target = new Uint8Array(KEY_BYTES).map(() => Math.floor(rnd() * 256))
    const peers = Array.from({ length: n }, () => new Uint8Array(KEY_BYTES).map(() => Math.floor(rnd() * 256)))
    const dist = (k: Uint8Array): number => { let f = 0; for (let i = 0; i < 6; i++) f += (k[i] ^ target[i]) * 2 ** (-8 * (i + 1)); return f }
    const closest = peers.sort((a, b) => dist(a) - dist(b)).slice(0, 20)
    const est = estimateNetworkSize(target, closest)
    assert.ok(est >= n / 2 && est <= n * 2, `${n} peers estimated at ${Math.round(est)}`)
    // a statistical estimate from 20 samples: fixed cases, so the test does not flake on a rare draw
  }), { numRuns: 30, seed: 20261204 })
})

test('the DHT key is kad-dht\'s: SHA-256 of the multihash bytes', async () => {
  const cid = CID.createV1(raw.code, await sha256.digest(new Uint8Array([1, 2, 3])))
  assert.deepEqual(dhtKey(cid), (await sha256.digest(cid.multihash.bytes)).digest)
  // a CIDv0 and v1 of the same multihash share a key (records are by multihash)
  const v0 = CID.createV0(await sha256.digest(new Uint8Array([4])))
  assert.deepEqual(dhtKey(v0), dhtKey(CID.createV1(0x70, v0.multihash)))
})

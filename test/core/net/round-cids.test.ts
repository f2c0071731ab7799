// A sweep round's packed CIDs (core/net/round-cids.ts), by property: the
// keys come out sorted and distinct, each the DHT key of the CID at the same
// position; a multihash listed twice (or under two codecs) is kept once;
// region() decodes the same CIDs as cids(), clipped to the region.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { compareKeys } from '../../../core/net/keyspace.ts'
import { RoundCids } from '../../../core/net/round-cids.ts'
import { dhtKey } from '../../../core/net/sweep-wire.ts'

const DAG_PB = 0x70

async function * from (cids: CID[]): AsyncGenerator<CID> { yield * cids }

test('round CIDs: sorted by key, distinct, each key its CID\'s', async () => {
  await fc.assert(fc.asyncProperty(fc.array(fc.nat(300), { maxLength: 3000 }), fc.boolean(), async (ids, v0) => {
    const cids: CID[] = []
    for (const i of ids) {
      const mh = await sha256.digest(new TextEncoder().encode(`block ${i}`))
      // the same multihash as raw and dag-pb (or CIDv0): one DHT key
      cids.push(i % 3 === 0 ? (v0 ? CID.createV0(mh) : CID.createV1(DAG_PB, mh)) : CID.createV1(raw.code, mh))
    }
    const round = await RoundCids.collect(from(cids))
    const distinct = new Set(ids)
    assert.equal(round.length, distinct.size)
    for (let i = 1; i < round.length; i++) assert.ok(compareKeys(round.keys[i - 1], round.keys[i]) < 0)
    const all = round.cids(0, round.length)
    all.forEach((cid, i) => assert.deepEqual(dhtKey(cid), round.keys[i]))
    const mhs = new Set(all.map(c => c.multihash.bytes.join(',')))
    assert.equal(mhs.size, distinct.size)
    // a region decodes the same CIDs, a slice at a time, clipped to its end
    if (round.length >= 2) {
      const a = Math.floor(round.length / 3)
      const b = round.length - 1
      const region = round.region(a, b)
      assert.equal(region.length, b - a)
      assert.deepEqual(region.slice(0, 1e9).map(String), all.slice(a, b).map(String))
      if (b - a >= 2) assert.deepEqual(region.slice(1, 2).map(String), [all[a + 1].toString()])
    }
  }), { numRuns: 30 })
})

test('round CIDs: an empty listing is an empty round', async () => {
  const round = await RoundCids.collect(from([]))
  assert.equal(round.length, 0)
  assert.deepEqual(round.cids(0, 0), [])
  assert.equal(RoundCids.empty().length, 0)
})

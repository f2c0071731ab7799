import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createIPNSRecord, marshalIPNSRecord, unmarshalIPNSRecord } from 'ipns'
import { validate } from 'ipns/validator'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { BadRecordError, MAX_RECORD_BYTES, createRecord, describeRecord, nameOfPeer, parseName, validateRecord } from '../../../core/names/record.ts'
import { UsageError } from '../../../core/util/errors.ts'

const cidOf = async (n: number): Promise<CID> => CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(`v${n}`)))
const keyP = generateKeyPair('Ed25519')
const otherP = generateKeyPair('Ed25519')

const reasonOf = async (p: Promise<unknown>): Promise<string> => {
  try { await p } catch (err) { if (err instanceof BadRecordError) return err.message; throw err }
  return 'accepted'
}

test('names parse from k51…, 12D3Koo… and /ipns/…, all to one canonical k51 name', async () => {
  const key = await keyP
  const id = peerIdFromPrivateKey(key)
  const n = nameOfPeer(id)
  assert.match(n.text, /^k51/)
  for (const text of [n.text, id.toString(), `/ipns/${n.text}`, `/ipns/${id.toString()}`]) assert.equal(parseName(text).text, n.text, text)
  for (const bad of ['', 'example.com', '/ipns/', 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi', 'k51\u001b[2J']) {
    assert.throws(() => parseName(bad), (e: Error) => e instanceof UsageError && !e.message.includes('\u001b'), bad)
  }
})

test('a record round-trips: value, sequence, TTL and expiry as given (property)', async () => {
  const key = await keyP
  const name = nameOfPeer(peerIdFromPrivateKey(key))
  await fc.assert(fc.asyncProperty(fc.nat({ max: 1000 }), fc.bigInt({ min: 0n, max: 2n ** 53n }), fc.integer({ min: 60_000, max: 10 * 365 * 86_400_000 }), fc.integer({ min: 1000, max: 86_400_000 }), async (n, seq, lifetimeMs, ttlMs) => {
    const cid = await cidOf(n)
    const t0 = Date.now()
    const bytes = await createRecord(key, cid, seq, { lifetimeMs, ttlMs })
    const d = describeRecord(await validateRecord(name, bytes))
    assert.equal(d.value, `/ipfs/${cid.toString()}`)
    assert.ok(d.cid?.equals(cid))
    assert.equal(d.seq, seq)
    assert.equal(d.ttlMs, ttlMs)
    assert.ok(Math.abs(d.expires - (t0 + lifetimeMs)) < 5000, `${d.expires} vs ${t0 + lifetimeMs}`)
    // the other side's library accepts it too (the same bytes Kubo and Helia check)
    await validate(key.publicKey, bytes)
  }), { numRuns: 50 })
})

test('bad records are refused with their reason: expired, forged, oversized, another key', async () => {
  const key = await keyP
  const other = await otherP
  const name = nameOfPeer(peerIdFromPrivateKey(key))
  const cid = await cidOf(1)
  const expired = marshalIPNSRecord(await createIPNSRecord(key, `/ipfs/${cid.toString()}`, 1n, -60_000))
  assert.match(await reasonOf(validateRecord(name, expired)), /expired/)
  assert.ok((await validateRecord(name, expired, { allowExpired: true })).sequence === 1n)

  const good = await createRecord(key, cid, 5n)
  const record = unmarshalIPNSRecord(good)
  const forged = marshalIPNSRecord({ ...record, value: `/ipfs/${(await cidOf(2)).toString()}`, data: record.data })
  assert.match(await reasonOf(validateRecord(name, forged)), /forged|signature|malformed/)
  const sig = Uint8Array.from(record.signatureV2)
  sig[3] ^= 1
  assert.match(await reasonOf(validateRecord(name, marshalIPNSRecord({ ...record, signatureV2: sig }))), /signature does not verify/)

  assert.match(await reasonOf(validateRecord(name, new Uint8Array(MAX_RECORD_BYTES + 1))), /larger than/)
  assert.match(await reasonOf(validateRecord(name, await createRecord(other, cid, 5n))), /another key|signature/)
})

test('record decoding never crashes: 10,000 random and mutated inputs end in a BadRecordError or a valid record', async () => {
  const key = await keyP
  const name = nameOfPeer(peerIdFromPrivateKey(key))
  const good = await createRecord(key, await cidOf(3), 7n)
  let accepted = 0
  await fc.assert(fc.asyncProperty(fc.oneof(
    fc.uint8Array({ maxLength: 600 }),
    fc.tuple(fc.integer({ min: 0, max: good.byteLength - 1 }), fc.integer({ min: 1, max: 255 })).map(([at, x]) => { const b = Uint8Array.from(good); b[at] ^= x; return b }),
    fc.integer({ min: 0, max: good.byteLength }).map(n => good.subarray(0, n))
  ), async bytes => {
    try {
      const r = await validateRecord(name, bytes)
      accepted++
      // whatever passes says what the owner signed: never another value or sequence
      assert.equal(r.sequence, 7n)
    } catch (err) {
      assert.ok(err instanceof BadRecordError, `${(err as Error).name}: ${(err as Error).message}`)
      // eslint-disable-next-line no-control-regex -- the message must carry no raw control character
      assert.doesNotMatch(err.message, /[\u0000-\u001f]/)
    }
  }), { numRuns: 10_000 })
  assert.ok(accepted < 10_000)
})

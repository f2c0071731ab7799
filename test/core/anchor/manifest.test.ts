import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import * as dagCbor from '@ipld/dag-cbor'
import { decodeManifest, readManifest, signedBytes, MANIFEST_DOMAIN } from '../../../core/anchor/manifest.ts'
import { AnchorRuleError } from '../../../core/anchor/rules.ts'
import { decodeHeader } from '../../../core/anchor/encoding.ts'
import { manifestFor, testKeys } from './helpers.ts'

const ruleOf = async (p: Promise<unknown>): Promise<string> => {
  try { await p } catch (err) { if (err instanceof AnchorRuleError) return err.rule; throw err }
  return 'accepted'
}

test('a signed manifest verifies; its CID is the dag-cbor CID of its bytes', async () => {
  const m = await manifestFor(1)
  const r = await readManifest(m.bytes)
  assert.ok(r.cid.equals(m.cid))
  assert.ok(r.manifest.type === 'file')
  assert.equal(r.manifest.name, 'file-1.txt')
  assert.equal(r.manifest.profile.chunker, 'size-1048576')
})

test('the signature is domain-separated: it covers the tag, not the bare dag-cbor', async () => {
  const m = await manifestFor(2)
  const signed = signedBytes(m.manifest)
  assert.equal(new TextDecoder().decode(signed.subarray(0, MANIFEST_DOMAIN.length)), MANIFEST_DOMAIN)
  const [key] = await testKeys()
  const { sig: _s, ...rest } = m.manifest
  const bare = await key.sign(dagCbor.encode(rest))
  assert.equal(await ruleOf(readManifest(dagCbor.encode({ ...m.manifest, sig: bare }))), 'BadSignature')
})

test('any altered byte of a manifest is rejected (property)', async () => {
  const m = await manifestFor(3)
  await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: m.bytes.byteLength - 1 }), fc.integer({ min: 1, max: 255 }), async (at, x) => {
    const bad = Uint8Array.from(m.bytes)
    bad[at] ^= x
    const rule = await ruleOf(readManifest(bad))
    assert.ok(['BadManifest', 'BadSignature'].includes(rule), `byte ${at} ^ ${x}: ${rule}`)
  }), { numRuns: 200 })
})

test('any changed field breaks the signature; a field out of range is BadManifest', async () => {
  const m = await manifestFor(4)
  const [, other] = await testKeys()
  const changes: Array<Record<string, unknown>> = [
    { name: 'other.txt' }, { size: 1 }, { time: 1 }, { type: 'directory' }, { root: (await manifestFor(5)).manifest.root },
    { profile: { ...m.manifest.profile, width: 174 } }, { publisher: (await manifestFor(1, other)).manifest.publisher }
  ]
  for (const c of changes) assert.equal(await ruleOf(readManifest(dagCbor.encode({ ...m.manifest, ...c }))), 'BadSignature', JSON.stringify(Object.keys(c)))
  const bad: Array<Record<string, unknown>> = [{ v: 2 }, { name: 'a/b' }, { name: '' }, { size: -1 }, { type: 'link' }, { extra: 1 }, { sig: new Uint8Array(3) },
    { publisher: new Uint8Array(5) }, { profile: { ...m.manifest.profile, chunker: 'nope' } }, { profile: { ...m.manifest.profile, extra: 1 } }, { name: 'x'.repeat(300) }]
  for (const c of bad) assert.throws(() => decodeManifest(dagCbor.encode({ ...m.manifest, ...c })), (e: AnchorRuleError) => e.rule === 'BadManifest', JSON.stringify(c))
})

test('field names from a peer are quoted on one line in errors (found by the fuzz test: a header key with a newline)', async () => {
  const m = await manifestFor(1)
  const odd = { ...m.manifest, 'heigh\n\u2028x': 1, ['k'.repeat(200)]: 2 }
  assert.throws(() => decodeManifest(dagCbor.encode(odd)), (e: AnchorRuleError) => e.rule === 'BadManifest' && !/[\n\r\u2028\u2029]/.test(e.message) && e.message.length < 300)
  const header = { v: 1, net: m.cid, body: m.cid, prev: null, time: 1, nonce: new Uint8Array(8), 'heigh\nt': 1, target: 1 }
  assert.throws(() => decodeHeader(dagCbor.encode(header)), (e: AnchorRuleError) => e.rule === 'BadEncoding' && !e.message.includes('\n') && e.message.includes('"heigh\\nt"'))
})

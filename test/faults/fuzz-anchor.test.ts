// Fuzzing the anchor chain's decoders with fast-check, in process: block
// headers, bodies, manifests (decoded and signature-checked) and proofs,
// 10,000 cases each, from random bytes and from mutations of real,
// valid encodings. Every case ends in no error or one of cairn's own
// (an AnchorRuleError naming the rule) — never a crash, a library's raw
// error or a hang — and nothing mutated is ever accepted as the original.

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { AnchorChain } from '../../core/anchor/chain.ts'
import { decodeBody, decodeHeader, encodeBody, encodeHeader } from '../../core/anchor/encoding.ts'
import { readManifest } from '../../core/anchor/manifest.ts'
import { exportProof, verifyProof } from '../../core/anchor/proof.ts'
import { MemoryChainStore } from '../../core/anchor/store.ts'
import { mineBlock, testNetwork } from '../../core/anchor/test-miner.ts'
import { CairnError } from '../../storage/errors.ts'
import { manifestFor } from '../core/anchor/helpers.ts'

/** cases per decoder (the issue asks for at least 10,000) */
const RUNS = 10_000
/** one case's time limit */
const CASE_TIMEOUT_MS = 5_000

async function clean (what: string, fn: () => unknown): Promise<'ok' | 'refused'> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      Promise.resolve().then(fn),
      new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what}: hung for ${CASE_TIMEOUT_MS} ms`)), CASE_TIMEOUT_MS) })
    ])
    return 'ok'
  } catch (err) {
    if (err instanceof CairnError) {
      assert.ok(err.message.length > 0 && !err.message.includes('\n'), `${what}: one line, got ${JSON.stringify(err.message)}`)
      return 'refused'
    }
    throw new Error(`${what}: not a clean error: ${(err as Error)?.name}: ${(err as Error)?.message}`, { cause: err })
  } finally {
    clearTimeout(timer)
  }
}

/** Random bytes, or `valid` with bits flipped, cut, or bytes inserted. */
function inputs (valid: Uint8Array): fc.Arbitrary<{ bytes: Uint8Array, changed: boolean }> {
  const mutation = fc.record({
    kind: fc.constantFrom('flip', 'cut', 'insert'),
    at: fc.nat({ max: valid.byteLength - 1 }),
    bit: fc.nat({ max: 7 }),
    junk: fc.uint8Array({ minLength: 1, maxLength: 16 })
  }).map(({ kind, at, bit, junk }) => {
    const b = Buffer.from(valid)
    if (kind === 'flip') { b[at] ^= 1 << bit; return { bytes: new Uint8Array(b), changed: true } }
    if (kind === 'cut') return { bytes: new Uint8Array(b.subarray(0, at)), changed: true }
    return { bytes: new Uint8Array(Buffer.concat([b.subarray(0, at), junk, b.subarray(at)])), changed: true }
  })
  return fc.oneof(mutation, fc.uint8Array({ maxLength: 512 }).map(bytes => ({ bytes, changed: true })))
}

const NET = testNetwork('fuzz')

describe('fuzzing the anchor chain decoders', { timeout: 300_000 }, () => {
  test('block headers: 10,000 cases, clean refusals only, only canonical headers decode', async () => {
    const chain = await AnchorChain.open(NET, new MemoryChainStore(), { now: () => NET.genesis.time + 1e9 })
    const valid = mineBlock(NET, chain.head).header
    assert.equal(Buffer.compare(encodeHeader(decodeHeader(valid)), valid), 0)
    await fc.assert(fc.asyncProperty(inputs(valid), async ({ bytes }) => {
      let reencoded: Uint8Array | null = null
      await clean('header', () => { reencoded = encodeHeader(decodeHeader(bytes)) })
      // canonical only: a header that decodes is exactly its bytes, so other bytes are another header (another block id)
      if (reencoded != null) assert.equal(Buffer.compare(reencoded, bytes), 0, 'a non-canonical header decoded')
    }), { numRuns: RUNS })
  })

  test('bodies: 10,000 cases, clean refusals only', async () => {
    const ms = await Promise.all([1, 2, 3].map(async n => await manifestFor(n)))
    const valid = encodeBody(ms.map(m => m.cid))
    await fc.assert(fc.asyncProperty(inputs(valid), async ({ bytes }) => { await clean('body', () => decodeBody(bytes)) }), { numRuns: RUNS })
  })

  test('manifests: 10,000 cases decoded and signature-checked, clean refusals only, no altered manifest verifies', async () => {
    const m = await manifestFor(7)
    await fc.assert(fc.asyncProperty(inputs(m.bytes), async ({ bytes }) => {
      const r = await clean('manifest', async () => await readManifest(bytes))
      // the signature covers every field: other bytes that still verify must encode the same manifest
      if (r === 'ok') assert.equal(Buffer.compare(Buffer.from(bytes), Buffer.from(m.bytes)), 0, 'an altered manifest verified')
    }), { numRuns: RUNS })
  })

  test('proofs: 10,000 cases, clean refusals only, no altered proof verifies', async () => {
    const chain = await AnchorChain.open(NET, new MemoryChainStore(), { now: () => NET.genesis.time + 1e9 })
    const m = await manifestFor(42)
    for (let i = 0; i < 4; i++) {
      const b = mineBlock(NET, chain.head, i === 1 ? [m] : [])
      assert.equal((await chain.submit(b.header, b.body, b.manifests)).status, 'accepted')
    }
    const a = chain.anchorings(m.manifest.root)[0]
    const valid = await exportProof(chain, a.manifest, a.block as never)
    await verifyProof(valid)
    await fc.assert(fc.asyncProperty(inputs(valid), async ({ bytes }) => {
      const r = await clean('proof', async () => await verifyProof(bytes))
      assert.notEqual(r, 'ok', 'an altered proof verified')
    }), { numRuns: RUNS })
  })
})

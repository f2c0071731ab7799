import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import * as dagCbor from '@ipld/dag-cbor'
import { AnchorChain, type SubmitResult } from '../../../core/anchor/chain.ts'
import { cborCid, decodeHeader, encodeBody, encodeHeader, sha256, type Header } from '../../../core/anchor/encoding.ts'
import { MemoryChainStore } from '../../../core/anchor/store.ts'
import { mineBlock, metaAfter, testNetwork, type MinedBlock } from '../../../core/anchor/test-miner.ts'
import { mineHeader } from '../../../core/anchor/hasher.ts'
import { digestValue, expandTarget } from '../../../core/anchor/target.ts'
import { MAX_FUTURE_MS, medianTimePast, type BlockMeta } from '../../../core/anchor/validate.ts'
import type { EncodedManifest } from '../../../core/anchor/manifest.ts'
import { manifestFor, testKeys } from './helpers.ts'

const NET = testNetwork()
const T0 = NET.genesis.time

async function freshChain (now = () => T0 + 10_000_000): Promise<AnchorChain> {
  return await AnchorChain.open(NET, new MemoryChainStore(), { now })
}

const submit = async (c: AnchorChain, b: MinedBlock): Promise<SubmitResult> => await c.submit(b.header, b.body, b.manifests)

/** Builds `n` blocks on `parent` (not submitted). */
function build (parent: BlockMeta, n: number, manifests: EncodedManifest[][] = [], salt = 0): Array<{ block: MinedBlock, meta: BlockMeta }> {
  const out: Array<{ block: MinedBlock, meta: BlockMeta }> = []
  let p = parent
  for (let i = 0; i < n; i++) {
    const block = mineBlock(NET, p, manifests[i] ?? [], { salt })
    const meta = metaAfter(block, p)
    out.push({ block, meta })
    p = meta
  }
  return out
}

test('valid chains built by the test miner are accepted, head and work follow (property)', async () => {
  const ms = await Promise.all([1, 2, 3, 4, 5, 6].map(async n => await manifestFor(n)))
  await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 25 }), fc.array(fc.integer({ min: 0, max: 24 }), { maxLength: 6 }), async (n, where) => {
    const chain = await freshChain()
    const placed: EncodedManifest[][] = []
    ms.forEach((m, i) => { const h = where[i]; if (h != null && h < n) (placed[h] ??= []).push(m) })
    const blocks = build(chain.head, n, placed)
    for (const { block } of blocks) assert.equal((await submit(chain, block)).status, 'accepted')
    assert.equal(chain.height, n)
    assert.ok(chain.head.cid.equals(blocks[n - 1].block.cid))
    assert.equal(chain.head.work, blocks.reduce((s, b) => s + 2n ** 256n / ((expandTarget(b.block.fields.target) as bigint) + 1n), 0n))
    for (const m of placed.flat()) {
      const a = chain.anchorings(m.manifest.root)
      assert.equal(a.length, 1)
      assert.ok(a[0].block != null)
    }
  }), { numRuns: 15 })
})

/** Mines a header from fields, whatever they say. */
function mineFields (h: Header): Uint8Array { return mineHeader(h) as Uint8Array }

type Breaker = (c: AnchorChain, good: MinedBlock, x: number) => Promise<SubmitResult>

const BREAKERS: Record<string, Breaker> = {
  BadEncoding: async (c, g, x) => {
    const variants = [
      () => dagCbor.encode({ ...g.fields, extra: x }),
      () => dagCbor.encode({ ...g.fields, nonce: new Uint8Array(7) }),
      () => dagCbor.encode({ ...g.fields, height: -1 }),
      () => { const b = Uint8Array.from(g.header); b[0] = 0xb9; return Uint8Array.from([...b.subarray(0, 1), 0, 8, ...b.subarray(1)]) }, // non-minimal map length
      () => dagCbor.encode([1, 2, 3])
    ]
    const bytes = variants[x % variants.length]()
    return await c.submit(bytes, g.body, g.manifests)
  },
  BadVersion: async (c, g) => await c.submit(mineFields({ ...g.fields, v: 2 as 1 }), g.body, g.manifests),
  WrongNetwork: async (c, g, x) => await c.submit(mineFields({ ...g.fields, net: testNetwork(`other-${x}`).id }), g.body, g.manifests),
  HeaderTooLarge: async (c, g, x) => await c.submit(dagCbor.encode({ ...g.fields, pad: new Uint8Array(400 + x) }), g.body, g.manifests),
  BadProofOfWork: async (c, g, x) => {
    // a nonce whose hash is above the target
    const h = { ...g.fields, nonce: new Uint8Array(8) }
    for (let i = x; ; i++) {
      new DataView(h.nonce.buffer).setUint32(4, i)
      const bytes = encodeHeader(h)
      if (digestValue(sha256(bytes)) > (expandTarget(h.target) as bigint)) return await c.submit(bytes, g.body, g.manifests)
    }
  },
  BadTarget: async (c, g, x) => {
    const target = [0x207ffffe, 0x1f00ffff, 0x2100ffff, 0x04923456, 0][x % 5]
    // an invalid compact form is rejected before any hashing: no need to mine it
    const bytes = expandTarget(target) == null ? encodeHeader({ ...g.fields, target }) : mineFields({ ...g.fields, target })
    return await c.submit(bytes, g.body, g.manifests)
  },
  TimeTooOld: async (c, g, x) => await c.submit(mineFields({ ...g.fields, time: medianTimePast(c.head) - (x % 3) * 1000 }), g.body, g.manifests),
  BadHeight: async (c, g, x) => await c.submit(mineFields({ ...g.fields, height: g.fields.height + 1 + (x % 5) }), g.body, g.manifests),
  BodyMismatch: async (c, g) => await c.submit(g.header, encodeBody([cborCid(new Uint8Array([1]))]), g.manifests),
  BodyTooLarge: async (c, g, x) => {
    const body = encodeBody(Array.from({ length: 257 + x * 50 }, (_, i) => cborCid(new Uint8Array([i & 255, i >> 8]))))
    return await c.submit(mineFields({ ...g.fields, body: cborCid(body) }), body, [])
  },
  DuplicateManifest: async (c, g, x) => {
    const m = await manifestFor(100 + x)
    const body = encodeBody([m.cid, m.cid])
    return await c.submit(mineFields({ ...g.fields, body: cborCid(body) }), body, [m.bytes])
  },
  MissingManifest: async (c, g, x) => {
    const m = await manifestFor(200 + x)
    const body = encodeBody([m.cid])
    const supplied = x % 2 === 0 ? [] : [(await manifestFor(201 + x)).bytes]
    return await c.submit(mineFields({ ...g.fields, body: cborCid(body) }), body, supplied)
  },
  BadManifest: async (c, g, x) => {
    const m = await manifestFor(300 + x)
    const bad = dagCbor.encode({ ...m.manifest, size: 'big' })
    const body = encodeBody([cborCid(bad)])
    return await c.submit(mineFields({ ...g.fields, body: cborCid(body) }), body, [bad])
  },
  BadSignature: async (c, g, x) => {
    const m = await manifestFor(400 + x)
    const forged = dagCbor.encode({ ...m.manifest, name: `forged-${x}` })
    const body = encodeBody([cborCid(forged)])
    return await c.submit(mineFields({ ...g.fields, body: cborCid(body) }), body, [forged])
  }
}

test('a block breaking any one rule is rejected with that rule named, and the chain is unchanged (property)', async () => {
  const chain = await freshChain()
  for (const { block } of build(chain.head, 12)) await submit(chain, block)
  const head = chain.head
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(BREAKERS)), fc.integer({ min: 0, max: 40 }), async (rule, x) => {
    const good = mineBlock(NET, chain.head, [], { salt: x + 1 })
    const r = await BREAKERS[rule](chain, good, x)
    assert.equal(r.status, 'invalid', `${rule}: ${JSON.stringify(r)}`)
    assert.equal((r as { rule: string }).rule, rule, (r as { message: string }).message)
    assert.equal(chain.head, head)
  }), { numRuns: 120 })
  // every rule was exercised at least once more, by name
  for (const rule of Object.keys(BREAKERS)) {
    const r = await BREAKERS[rule](chain, mineBlock(NET, chain.head, [], { salt: 99 }), 1)
    assert.equal((r as { rule: string }).rule, rule)
  }
})

test('a manifest already anchored on the branch is a DuplicateManifest; on another branch it is fine', async () => {
  const chain = await freshChain()
  const m = await manifestFor(7)
  const a = build(chain.head, 3, [[], [m]])
  for (const { block } of a) assert.equal((await submit(chain, block)).status, 'accepted')
  const again = mineBlock(NET, a[2].meta, [m])
  const r = await submit(chain, again)
  assert.equal(r.status, 'invalid')
  assert.equal((r as { rule: string }).rule, 'DuplicateManifest')
  // a side branch from height 1 may carry it
  const side = build(a[0].meta, 1, [[m]], 7)
  assert.equal((await submit(chain, side[0].block)).status, 'accepted')
})

test('a block too far in the future is held back, not judged, and accepted once the clock catches up', async () => {
  let now = T0 + 10_000_000
  const chain = await freshChain(() => now)
  const b = mineBlock(NET, chain.head, [], { time: now + MAX_FUTURE_MS + 5000 })
  const r = await submit(chain, b)
  assert.equal(r.status, 'held')
  assert.equal(chain.height, 0)
  assert.equal(chain.heldCount, 1)
  now += 6000
  const retried = await chain.retryHeld()
  assert.equal(retried[0].status, 'accepted')
  assert.equal(chain.height, 1)
  chain.close()
})

test('orphans wait for their parent, then join', async () => {
  const chain = await freshChain()
  const bs = build(chain.head, 4)
  for (const i of [3, 1, 2]) assert.equal((await submit(chain, bs[i].block)).status, 'orphan')
  assert.equal(chain.orphanCount, 3)
  assert.equal((await submit(chain, bs[0].block)).status, 'accepted')
  assert.equal(chain.height, 4)
  assert.equal(chain.orphanCount, 0)
  assert.equal((await submit(chain, bs[2].block)).status, 'known')
})

test('fork choice: most cumulative work wins; equal work keeps the first seen', async () => {
  const chain = await freshChain()
  const base = build(chain.head, 2)
  for (const { block } of base) await submit(chain, block)
  const a = build(base[1].meta, 2, [], 1)
  const b = build(base[1].meta, 2, [], 2)
  for (const { block } of a) await submit(chain, block)
  for (const { block } of b) await submit(chain, block)
  assert.ok(chain.head.cid.equals(a[1].block.cid), 'tie: first seen stays')
  const b3 = build(b[1].meta, 1, [], 2)
  const r = await submit(chain, b3[0].block)
  assert.equal(r.status, 'accepted')
  assert.equal((r as { head: boolean }).head, true)
  assert.ok(chain.head.cid.equals(b3[0].block.cid))
  assert.equal(chain.mainAt(3), chain.block(b[0].block.cid))
})

test('reorgs keep the pending pool consistent (property)', async () => {
  const ms = await Promise.all(Array.from({ length: 8 }, async (_, i) => await manifestFor(500 + i)))
  // a random tree: each block picks a parent among earlier ones and some manifests
  const spec = fc.array(fc.record({ parent: fc.nat(), take: fc.subarray([0, 1, 2, 3, 4, 5, 6, 7], { maxLength: 3 }) }), { minLength: 1, maxLength: 14 })
  await fc.assert(fc.asyncProperty(spec, fc.subarray([0, 1, 2, 3, 4, 5, 6, 7]), async (tree, pendingFirst) => {
    const chain = await freshChain()
    for (const i of pendingFirst) await chain.addPending(ms[i].bytes)
    const metas: BlockMeta[] = [chain.head]
    const ever = new Set(pendingFirst.map(i => ms[i].cid.toString()))
    for (const [i, node] of tree.entries()) {
      const parent = metas[node.parent % metas.length]
      const block = mineBlock(NET, parent, node.take.map(k => ms[k]), { salt: i })
      const r = await submit(chain, block)
      if (r.status === 'accepted') metas.push(chain.block(block.cid) as BlockMeta)
      else assert.equal((r as { rule?: string }).rule, 'DuplicateManifest')
      // invariants after every block
      const mainManifests = new Set<string>()
      for (let h = 1; h <= chain.height; h++) for (const k of chain.manifestsOf(chain.mainAt(h) as BlockMeta)) mainManifests.add(k)
      for (const k of mainManifests) ever.add(k)
      for (const k of chain.pending.keys()) assert.ok(!mainManifests.has(k), 'a pending manifest is anchored on the main chain')
      for (const k of ever) assert.ok(mainManifests.has(k) || chain.pending.has(k), `manifest ${k} was lost`)
      // the head has the most work of all blocks
      for (const m of metas) assert.ok(m.work <= chain.head.work)
    }
  }), { numRuns: 40 })
})

test('template: mines the pending manifests on the head; the pool empties once anchored', async () => {
  const chain = await freshChain()
  const ms = await Promise.all([1, 2, 3].map(async n => await manifestFor(600 + n)))
  for (const m of ms) assert.equal((await chain.addPending(m.bytes)).status, 'pending')
  assert.equal((await chain.addPending(ms[0].bytes)).status, 'known')
  const t = chain.template(T0 + 5000)
  assert.equal(t.manifests.length, 3)
  const header = mineHeader(t.header) as Uint8Array
  const r = await chain.submit(header, t.body)
  assert.equal(r.status, 'accepted')
  assert.equal(chain.pending.size, 0)
  assert.equal((await chain.addPending(ms[1].bytes)).status, 'anchored')
  assert.deepEqual(decodeHeader(chain.headerBytes(chain.head.cid) as Uint8Array).height, 1)
})

test('pending pool: bounded per publisher key and overall', async () => {
  const { PendingPool, PendingFullError } = await import('../../../core/anchor/pending.ts')
  const [k1, k2] = await testKeys()
  const pool = new PendingPool(3, 2)
  pool.add(await manifestFor(1, k1))
  pool.add(await manifestFor(2, k1))
  await assert.rejects(async () => { pool.add(await manifestFor(3, k1)) }, PendingFullError)
  pool.add(await manifestFor(4, k2))
  await assert.rejects(async () => { pool.add(await manifestFor(5, k2)) }, PendingFullError)
  pool.remove((await manifestFor(1, k1)).cid.toString())
  pool.add(await manifestFor(3, k1))
  assert.equal(pool.size, 3)
})

test('headersAfter and locator serve a peer the headers it lacks', async () => {
  const chain = await freshChain()
  const bs = build(chain.head, 30)
  for (const { block } of bs) await submit(chain, block)
  const loc = chain.locator()
  assert.ok(loc[0].equals(chain.head.cid))
  assert.ok(loc.at(-1)?.equals(NET.id))
  const after = await chain.headersAfter([bs[9].block.cid], 5)
  assert.equal(after.length, 5)
  assert.equal(decodeHeader(after[0]).height, 11)
  assert.equal((await chain.headersAfter([], 1000)).length, 30)
})

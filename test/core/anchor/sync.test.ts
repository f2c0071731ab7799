import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as dagCbor from '@ipld/dag-cbor'
import { AnchorChain } from '../../../core/anchor/chain.ts'
import { MemoryChainStore } from '../../../core/anchor/store.ts'
import { decodeReply, decodeRequest, encodeMessage, MAX_BODIES_PER_REQUEST, MAX_HEADERS_PER_REPLY, MAX_LOCATOR, SyncFrameError, type SyncRequest } from '../../../core/anchor/sync-protocol.ts'
import { syncFrom, SyncViolation } from '../../../core/anchor/sync.ts'
import { mineBlock, testNetwork } from '../../../core/anchor/test-miner.ts'
import { medianTimePast, type BlockMeta } from '../../../core/anchor/validate.ts'
import type { EncodedManifest } from '../../../core/anchor/manifest.ts'
import { manifestFor } from './helpers.ts'
import { ChainFiles } from '../../../storage/chain-files.ts'
import { withTemp } from '../../helpers.ts'
import fs from 'node:fs/promises'
import path from 'node:path'
import { hostileReplies, loopPeer } from './forge.ts'

const NET = testNetwork('sync-unit')
const T0 = NET.genesis.time
const NOW = (): number => T0 + 1_000_000_000

async function freshChain (): Promise<AnchorChain> {
  return await AnchorChain.open(NET, new MemoryChainStore(), { now: NOW })
}

/** Mines `n` blocks on the chain's head (or `from`), submitting each; manifests[i] go in block i. */
async function grow (chain: AnchorChain, n: number, o: { from?: BlockMeta, manifests?: EncodedManifest[][], salt?: number } = {}): Promise<BlockMeta> {
  let p = o.from ?? chain.head
  for (let i = 0; i < n; i++) {
    const b = mineBlock(NET, p, o.manifests?.[i] ?? [], { salt: o.salt ?? 0 })
    const r = await chain.submit(b.header, b.body, b.manifests)
    assert.equal(r.status, 'accepted')
    p = chain.block(b.cid) as BlockMeta
  }
  return p
}

test('codec: requests and replies out of shape or bounds are refused', () => {
  const cid = NET.id
  assert.deepEqual(decodeRequest(encodeMessage({ op: 'status' })), { op: 'status' })
  const bad = [
    new Uint8Array([1, 2, 3]),
    dagCbor.encode([1]),
    dagCbor.encode({ op: 'status', extra: 1 }),
    dagCbor.encode({ op: 'headers', locator: [cid], max: MAX_HEADERS_PER_REPLY + 1 }),
    dagCbor.encode({ op: 'headers', locator: Array.from({ length: MAX_LOCATOR + 1 }, () => cid), max: 10 }),
    dagCbor.encode({ op: 'headers', locator: ['x'], max: 10 }),
    dagCbor.encode({ op: 'bodies', blocks: [] }),
    dagCbor.encode({ op: 'bodies', blocks: Array.from({ length: MAX_BODIES_PER_REQUEST + 1 }, () => cid) }),
    dagCbor.encode({ op: 'mine-for-me' })
  ]
  for (const b of bad) assert.throws(() => decodeRequest(b), SyncFrameError)
  const headersReq: SyncRequest = { op: 'headers', locator: [cid], max: 2 }
  const badReplies: Array<[Uint8Array, SyncRequest]> = [
    [encodeMessage({ op: 'status', head: cid, height: 1, work: '12' }), headersReq],
    [encodeMessage({ op: 'headers', headers: [new Uint8Array(1), new Uint8Array(1), new Uint8Array(1)] }), headersReq],
    [encodeMessage({ op: 'headers', headers: [new Uint8Array(600)] }), headersReq],
    [encodeMessage({ op: 'status', head: cid, height: 1, work: '-5' }), { op: 'status' }],
    [encodeMessage({ op: 'status', head: cid, height: 1, work: '9'.repeat(100) }), { op: 'status' }],
    [encodeMessage({ op: 'bodies', blocks: [] }), { op: 'bodies', blocks: [cid] }],
    [encodeMessage({ op: 'bodies', blocks: [null, null] }), { op: 'bodies', blocks: [cid] }],
    [dagCbor.encode({ op: 'bodies', blocks: [{ body: 'x', manifests: [] }] }), { op: 'bodies', blocks: [cid] }]
  ]
  for (const [b, req] of badReplies) assert.throws(() => decodeReply(b, req), SyncFrameError)
})

test('a fresh chain syncs a longer one in batches: same head, manifests anchored, nothing asked twice', async () => {
  const server = await freshChain()
  const ms = await Promise.all([1, 2, 3].map(async n => await manifestFor(700 + n)))
  const n = MAX_HEADERS_PER_REPLY + 300
  const manifests: EncodedManifest[][] = []
  manifests[5] = [ms[0]]
  manifests[MAX_HEADERS_PER_REPLY + 10] = [ms[1], ms[2]]
  await grow(server, n, { manifests })
  const client = await freshChain()
  const peer = loopPeer(server)
  const r = await syncFrom(client, peer, { now: NOW })
  assert.equal(r.status, 'synced')
  assert.equal(r.blocks, n)
  assert.ok(client.head.cid.equals(server.head.cid))
  assert.equal(client.head.work, server.head.work)
  for (const m of ms) assert.ok(client.anchorings(m.manifest.root)[0]?.block != null)
  const asked = peer.requests.flatMap(q => q.op === 'bodies' ? q.blocks.map(c => c.toString()) : [])
  assert.equal(asked.length, n)
  assert.equal(new Set(asked).size, n)
  assert.ok(peer.requests.filter(q => q.op === 'headers').length >= 2)
  // again: nothing to do
  assert.equal((await syncFrom(client, loopPeer(server), { now: NOW })).status, 'not-better')
})

test('a heavier branch replaces ours; our branch\'s manifests go back to pending', async () => {
  const server = await freshChain()
  const client = await freshChain()
  const common = await grow(server, 8)
  await syncFrom(client, loopPeer(server), { now: NOW })
  assert.ok(client.head.cid.equals(common.cid))
  const mine = await manifestFor(801)
  await grow(client, 3, { manifests: [[], [mine]], salt: 1 })
  assert.equal(client.anchorings(mine.manifest.root)[0].pending, false)
  await grow(server, 6, { salt: 2 })
  assert.ok(server.head.work > client.head.work)
  // the lighter side asking the heavier one: nothing to take the other way
  assert.equal((await syncFrom(server, loopPeer(client), { now: NOW })).status, 'not-better')
  const r = await syncFrom(client, loopPeer(server), { now: NOW })
  assert.equal(r.status, 'synced')
  assert.ok(client.head.cid.equals(server.head.cid))
  const a = client.anchorings(mine.manifest.root)[0]
  assert.equal(a.block, null)
  assert.equal(a.pending, true)
  assert.ok(client.pending.has(mine.cid.toString()))
})

test('a peer that sends a forged header or body, garbage or more than asked is a violation; our head stays', async () => {
  const server = await freshChain()
  await grow(server, 30)
  for (const [name, h] of Object.entries(hostileReplies(NET))) {
    const client = await freshChain()
    const before = client.head
    const err = await syncFrom(client, loopPeer(server, h.mutate), { now: NOW }).then(() => null, e => e as Error)
    assert.ok(err instanceof SyncViolation, `${name}: ${String(err)}`)
    assert.equal(err.offence, h.offence, name)
    if (h.rule != null) assert.match(err.message, h.rule, name)
    // blocks before the bad one may be kept (they are valid); the bad one and anything after it never
    assert.ok(client.head.work >= before.work)
    if (name !== 'more work claimed than its headers carry') assert.ok(client.height <= 4, `${name}: height ${client.height}`)
  }
})

test('a header from the future stops the sync without blame; the blocks before it are kept', async () => {
  const server = await freshChain()
  const tip = await grow(server, 5)
  const late = mineBlock(NET, tip, [], { time: Math.max(NOW() + 10 * 60_000, medianTimePast(tip) + 1) })
  // the server takes it (its clock is ahead), the client is not there yet
  const serverAhead = await AnchorChain.open(NET, new MemoryChainStore(), { now: () => late.fields.time })
  await syncFrom(serverAhead, loopPeer(server), { now: () => late.fields.time })
  assert.equal((await serverAhead.submit(late.header, late.body)).status, 'accepted')
  const client = await freshChain()
  const r = await syncFrom(client, loopPeer(serverAhead), { now: NOW })
  assert.equal(r.status, 'held')
  assert.equal(client.height, 5)
})

test('a synced chain on disk reopens whole; a batch stops at its first bad block and keeps the ones before', async () => {
  const server = await freshChain()
  const m = await manifestFor(950)
  await grow(server, 40, { manifests: Object.assign([], { 12: [m] }) })
  await withTemp('cairn-sync-unit-', async dir => {
    const open = async (): Promise<AnchorChain> => {
      const files = new ChainFiles(dir, true)
      await files.open()
      return await AnchorChain.open(NET, files, { now: NOW })
    }
    const client = await open()
    assert.equal((await syncFrom(client, loopPeer(server), { now: NOW })).blocks, 40)
    client.close()
    const again = await open()
    assert.ok(again.head.cid.equals(server.head.cid))
    assert.ok(again.anchorings(m.manifest.root)[0].block != null)
    assert.equal((await fs.readFile(path.join(dir, 'index'), 'utf8')).trim().split('\n').length, 40)

    // a batch of three whose second breaks a rule: the first is kept and indexed, the third never tried
    const tip = again.head
    const b1 = mineBlock(NET, tip)
    const b1meta = { ...tip, cid: b1.cid, key: b1.cid.toString(), height: tip.height + 1, time: b1.fields.time, parent: tip }
    const bad = mineBlock(NET, b1meta, [], { tweak: h => { h.height += 3 } })
    const b3 = mineBlock(NET, tip, [], { salt: 5 })
    const r = await again.submitBatch([b1, bad, b3])
    assert.deepEqual(r.map(x => x.status), ['accepted', 'invalid'])
    assert.ok(again.head.cid.equals(b1.cid))
    again.close()
    const third = await open()
    assert.ok(third.head.cid.equals(b1.cid))
    assert.equal(third.block(b3.cid), undefined)
  })
})

test('bodies are asked for only once the headers outweigh our head: a lighter branch stores nothing, a heavier one across batches is taken whole', async () => {
  const light = await freshChain()
  await grow(light, 15, { salt: 1 })
  const client = await freshChain()
  await grow(client, 20, { salt: 2 })
  const head = client.head
  // a lighter branch, claimed heavier: judged, never fetched, the claim found out
  const liar = loopPeer(light, (req, reply) => reply.op === 'status' ? { ...reply, work: (client.head.work + 1n).toString() } : reply)
  const err = await syncFrom(client, liar, { now: NOW }).then(() => null, e => e as Error)
  assert.ok(err instanceof SyncViolation && err.offence === 'sync-bad-reply', String(err))
  assert.equal(liar.requests.filter(q => q.op === 'bodies').length, 0)
  assert.equal(client.block(light.head.cid), undefined)
  assert.equal(client.head, head)

  // a branch from genesis that outweighs ours only in its second headers batch
  const ours = MAX_HEADERS_PER_REPLY + 100
  const long = await freshChain()
  await grow(long, ours + 100, { salt: 3 })
  // a window over the whole branch: a reorganisation this deep is past the default one (chain-window.test.ts)
  const mine = await AnchorChain.open(NET, new MemoryChainStore(), { now: NOW, keep: 2 * ours })
  await grow(mine, ours, { salt: 4 })
  const peer = loopPeer(long)
  const r = await syncFrom(mine, peer, { now: NOW })
  assert.equal(r.status, 'synced')
  assert.equal(r.blocks, ours + 100)
  assert.ok(mine.head.cid.equals(long.head.cid))
  // every body asked for after the second headers batch, none before
  const ops = peer.requests.map(q => q.op)
  assert.deepEqual(ops.slice(0, 3), ['status', 'headers', 'headers'])
})

// libp2p's datastore keeps each value in a buffer of its own size
// (core/net/peer-datastore.ts): on Node 24 libp2p's encoders hand it views
// of a shared 64 KiB pool, and a plain MemoryDatastore kept one pool alive
// per record (the soak's creep, docs/faults.md).

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromMultihash, peerIdFromPrivateKey } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'
import type { PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { createLibp2p } from 'libp2p'
import { ownBuffer, PEER_FORGET_MS, PeerDatastore, PeerSweeper } from '../../../core/net/peer-datastore.ts'
import { heapCounts } from '../../heap-count.ts'

const owns = (v: Uint8Array): boolean => v.byteOffset === 0 && v.byteLength === v.buffer.byteLength

/** Every value a libp2p node's peer store wrote for a few peers, read back from its datastore. */
async function peerRecords (datastore: MemoryDatastore): Promise<Uint8Array[]> {
  const node = await createLibp2p({ datastore, start: false })
  try {
    for (let i = 0; i < 4; i++) {
      const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
      await node.peerStore.save(peer, { multiaddrs: [multiaddr(`/ip4/127.0.0.1/tcp/${4001 + i}`)], protocols: ['/cairn/blocks/1.0.0'] })
    }
    const values: Uint8Array[] = []
    for await (const { value } of datastore.query({ prefix: '/peers' })) values.push(value)
    return values
  } finally {
    await node.stop()
  }
}

test('a plain MemoryDatastore keeps the pooled views libp2p\'s peer store hands it (why PeerDatastore exists)', async () => {
  const values = await peerRecords(new MemoryDatastore())
  assert.equal(values.length, 4)
  assert.ok(values.some(v => !owns(v)), 'on this Node the peer store encodes into a shared pool, and the plain store keeps the view')
})

test('PeerDatastore keeps every peer record in a buffer of its own size', async () => {
  const values = await peerRecords(new PeerDatastore())
  assert.equal(values.length, 4)
  for (const v of values) assert.ok(owns(v), `a ${v.byteLength}-byte record keeps a ${v.buffer.byteLength}-byte buffer`)
})

test('PeerDatastore: a view of a larger buffer is stored as a copy of its bytes; a buffer of its own is stored as is', async () => {
  const store = new PeerDatastore()
  const big = new Uint8Array(65_536).map((_, i) => i & 255)
  const view = big.subarray(1000, 1009)
  await store.put(new Key('/dht/provider/a'), view)
  const stored = await store.get(new Key('/dht/provider/a'))
  assert.deepEqual([...stored], [...view])
  assert.equal(stored.buffer.byteLength, 9)
  big[1000] = 0 // the caller reusing its buffer does not change the record
  assert.equal(stored[0], 1000 & 255)

  const own = Uint8Array.of(1, 2, 3)
  assert.equal(ownBuffer(own), own)
  await store.put(new Key('/peers/b'), own)
  assert.equal(await store.get(new Key('/peers/b')), own)
})

/** A libp2p node (not started) whose peer records expire after `ageMs`, with `n` peers saved that have no address (as a `cairn get` has: it listens nowhere). */
async function agingNode (ageMs: number, n: number): Promise<{ node: Awaited<ReturnType<typeof createLibp2p>>, datastore: PeerDatastore }> {
  const datastore = new PeerDatastore()
  const node = await createLibp2p({ datastore, start: false, peerStore: { maxPeerAge: ageMs, maxAddressAge: ageMs } })
  for (let i = 0; i < n; i++) {
    await node.peerStore.save(peerIdFromPrivateKey(await generateKeyPair('Ed25519')), { protocols: ['/cairn/blocks/1.0.0'] })
  }
  return { node, datastore }
}

async function peerKeys (datastore: MemoryDatastore): Promise<number> {
  const keys = []
  for await (const key of datastore.queryKeys({ prefix: '/peers' })) keys.push(key)
  return keys.length
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

test('libp2p\'s peer store keeps an expired record until something reads it (why PeerSweeper exists)', async () => {
  const { node, datastore } = await agingNode(50, 3)
  try {
    await sleep(120)
    assert.equal(await peerKeys(datastore), 3, 'expired, and still kept: nothing read them')
  } finally {
    await node.stop()
  }
})

test('PeerSweeper drops expired peer records on its timer, and keeps fresh ones', async () => {
  // records without an address expire after 0.3 s; an address seen keeps a record 60 s; the sweeper looks every 50 ms
  const datastore = new PeerDatastore()
  const node = await createLibp2p({ datastore, start: false, peerStore: { maxPeerAge: 300, maxAddressAge: 60_000 } })
  for (let i = 0; i < 3; i++) {
    await node.peerStore.save(peerIdFromPrivateKey(await generateKeyPair('Ed25519')), { protocols: ['/cairn/blocks/1.0.0'] })
  }
  const fresh = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  await node.peerStore.save(fresh, { multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/4001')], protocols: ['/cairn/blocks/1.0.0'] })
  const sweeper = new PeerSweeper(node, { sweepMs: 50 })
  try {
    sweeper.start()
    let left = 4
    for (let i = 0; i < 200 && left > 1; i++) { await sleep(25); left = await peerKeys(datastore) }
    assert.equal(left, 1, 'the three expired records dropped by the sweeps')
    assert.equal(await datastore.has(new Key(`/peers/${fresh.toCID().toString()}`)), true, 'the fresh one kept through them')
    // and through more sweeps
    await sleep(300)
    assert.equal(await peerKeys(datastore), 1)
  } finally {
    sweeper.stop()
    await node.stop()
  }
})

test('PeerSweeper forgets a peer PEER_FORGET_MS after its last connection closed, unless it came back or is tagged', async () => {
  const node = await createLibp2p({ datastore: new PeerDatastore(), start: false })
  let clock = 0
  // the timers are not under test (an hour apart): forget() is called by hand
  const sweeper = new PeerSweeper(node, { sweepMs: 3_600_000, forgetCheckMs: 3_600_000, now: () => clock })
  const peers: PeerId[] = []
  for (let i = 0; i < 4; i++) {
    const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    await node.peerStore.save(peer, { multiaddrs: [multiaddr(`/ip4/127.0.0.1/tcp/${4001 + i}`)], protocols: ['/cairn/blocks/1.0.0'] })
    peers.push(peer)
  }
  // the fourth never disconnects
  const [gone, back, tagged] = peers
  await node.peerStore.merge(tagged, { tags: { 'keep-alive': { value: 1 } } })
  const kept = async (): Promise<boolean[]> => await Promise.all(peers.map(async p => await node.peerStore.has(p)))
  try {
    sweeper.start()
    for (const p of [gone, back, tagged]) node.safeDispatchEvent('peer:disconnect', { detail: p })
    clock += 60_000
    node.safeDispatchEvent('peer:connect', { detail: back })
    clock = PEER_FORGET_MS - 1
    assert.equal(await sweeper.forget(), 0)
    assert.deepEqual(await kept(), [true, true, true, true], 'not gone long enough yet')
    clock = PEER_FORGET_MS
    assert.equal(await sweeper.forget(), 1)
    assert.deepEqual(await kept(), [false, true, true, true], 'only the peer gone PEER_FORGET_MS, not connected again and untagged')
    // it disconnects again: its own PEER_FORGET_MS from then
    node.safeDispatchEvent('peer:disconnect', { detail: back })
    clock += PEER_FORGET_MS - 1
    assert.equal(await sweeper.forget(), 0)
    clock += 1
    assert.equal(await sweeper.forget(), 1)
    assert.deepEqual(await kept(), [false, false, true, true])
  } finally {
    sweeper.stop()
    await node.stop()
  }
})

/** A PeerId as libp2p makes one from a connection: its bytes a view of a larger (pooled) buffer. */
async function pooledPeerId (): Promise<PeerId> {
  const mh = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toMultihash().bytes
  const pool = new Uint8Array(65_536)
  pool.set(mh, 1000)
  return peerIdFromMultihash(Digest.decode(pool.subarray(1000, 1000 + mh.byteLength)))
}

test('PeerSweeper keeps no PeerId of a peer gone, so no pooled buffer: only its text', async () => {
  const node = await createLibp2p({ datastore: new PeerDatastore(), start: false })
  const sweeper = new PeerSweeper(node, { sweepMs: 3_600_000, forgetCheckMs: 3_600_000 })
  const buffers = async (): Promise<number> => (await heapCounts()).get('object:ArrayBuffer') ?? 0
  try {
    sweeper.start()
    const before = await buffers()
    for (let i = 0; i < 50; i++) node.safeDispatchEvent('peer:disconnect', { detail: await pooledPeerId() })
    const after = await buffers()
    assert.ok(after - before < 10, `${after - before} more ArrayBuffers alive after 50 peers left (one 64 KiB pool each if their PeerIds are kept)`)
  } finally {
    sweeper.stop()
    await node.stop()
  }
})

// The sweep wire's records (core/net/sweep-wire.ts): length-prefixed as a
// peer's kad-dht reads them, and encoded once per chunk for all its peers
// (a round sends every chunk to ~20 peers; encoded per peer, the seed made
// 1.9 million messages of throwaway objects for 100,000 CIDs).

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { tcp } from '@libp2p/tcp'
import { LengthPrefixedDecoder } from '@libp2p/utils'
import { createLibp2p } from 'libp2p'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { setTimeout as sleep } from 'node:timers/promises'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { MemoryDatastore } from 'datastore-core'
import type { Key } from 'interface-datastore'
import type { AbortOptions } from '@libp2p/interface'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { lengthPrefixed, SweepWire } from '../../../core/net/sweep-wire.ts'

const decodeAll = (bytes: Uint8Array): Uint8Array[] => [...new LengthPrefixedDecoder().decode(bytes)].map(l => l.subarray())

test('lengthPrefixed: each message after its varint length, as libp2p\'s decoder reads them back', () => {
  // lengths around the varint's 1-, 2- and 3-byte boundaries (a kad-dht message is never empty)
  const messages = [1, 127, 128, 300, 16_383, 16_384, 70_000].map(n => Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 255))
  const bytes = lengthPrefixed(messages)
  assert.equal(bytes.byteLength, messages.reduce((a, m) => a + m.length, 0) + 1 + 1 + 2 + 2 + 2 + 3 + 3)
  assert.deepEqual(decodeAll(bytes), messages)
  assert.deepEqual(lengthPrefixed([]), new Uint8Array(0))
})

test('a chunk\'s records are encoded once for all its peers: ADD_PROVIDERs of its CIDs, in order, naming this node', async t => {
  const libp2p = await dhtNode()
  t.after(async () => { await libp2p.stop() })
  const wire = new SweepWire(libp2p, libp2p.services.dht)
  const cids = await Promise.all(Array.from({ length: 600 }, async (_, i) => CID.createV1(raw.code, await sha256.digest(new Uint8Array([i & 255, i >> 8])))))
  const chunk = cids.slice(0, 600)
  // every peer of a region asks at once, as the sweeper's Promise.all does
  const [a, b, c] = await Promise.all([wire.records(chunk), wire.records(chunk), wire.records(chunk)])
  assert.equal(a, b, 'one encoding for every peer')
  assert.equal(a, c)
  // another chunk (even of the same CIDs) is its own
  assert.notEqual(await wire.records(cids.slice(0, 600)), a)

  const { Message } = await import(new URL('./message/dht.js', import.meta.resolve('@libp2p/kad-dht')).href)
  // WRITE_BATCH (256) records to a buffer
  assert.equal(a.length, 3)
  // each buffer ends with a PING, whose answer says the peer has stored the records before it
  const decoded = a.flatMap(decodeAll).map(m => Message.decode(m))
  assert.deepEqual(decoded.map((m, i) => m.type === 'PING' ? i : -1).filter(i => i >= 0), [256, 513, 602])
  decoded.splice(602, 1)
  decoded.splice(513, 1)
  decoded.splice(256, 1)
  assert.equal(decoded.length, 600)
  const self = libp2p.peerId.toMultihash().bytes
  const addrs = libp2p.getMultiaddrs().map(m => m.bytes)
  decoded.forEach((m, i) => {
    assert.equal(m.type, 'ADD_PROVIDER')
    assert.deepEqual(m.key, chunk[i].multihash.bytes)
    assert.equal(m.providers.length, 1)
    assert.deepEqual(m.providers[0].id, self)
    assert.deepEqual(m.providers[0].multiaddrs, addrs)
  })
})

/** A datastore whose provider records take `ms` each to store: a peer busier than the seed that sends to it. */
class SlowProviderStore extends MemoryDatastore {
  stored = 0
  constructor (private readonly ms: number) { super() }
  override async put (key: Key, value: Uint8Array, options?: AbortOptions): Promise<Key> {
    if (key.toString().startsWith('/dht/provider/')) {
      await sleep(this.ms)
      this.stored++
    }
    return super.put(key, value, options)
  }
}

async function dhtNode (datastore?: MemoryDatastore) {
  return await createLibp2p({
    datastore,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ping: ping(), dht: kadDHT({ protocol: '/cairn/test-wire/kad/1.0.0', clientMode: false, peerInfoMapper: passthroughMapper }) }
  })
}

test('a send returns once the peer has stored every record, not once the bytes are in its stream', async t => {
  const store = new SlowProviderStore(1)
  const [seed, peer] = await Promise.all([dhtNode(), dhtNode(store)])
  t.after(async () => { await Promise.all([seed.stop(), peer.stop()]) })
  await seed.dial(peer.getMultiaddrs()[0])
  const wire = new SweepWire(seed, seed.services.dht)
  const cids = await Promise.all(Array.from({ length: 800 }, async (_, i) => CID.createV1(raw.code, await sha256.digest(new Uint8Array([i & 255, i >> 8, 7])))))
  // two chunks on one stream, as a region's are
  await wire.send(peer.peerId, cids.slice(0, 600))
  assert.equal(store.stored, 600, 'the first chunk is stored when its send returns')
  await wire.send(peer.peerId, cids.slice(600))
  assert.equal(store.stored, 800, 'and the second')
  wire.release(peer.peerId)
  // what the peer stored is what a finder gets: this node as the provider
  const found = []
  for await (const p of peer.services.dht.findProviders(cids[799], { signal: AbortSignal.timeout(5_000) })) {
    if (p.name === 'PROVIDER') found.push(...p.providers.map(x => x.id.toString()))
    if (found.length > 0) break
  }
  assert.deepEqual(found, [seed.peerId.toString()])
})

// kad-dht's undeclared parts, read through runtime checks: what is there is
// used, what is missing or of another shape is refused by name.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { dhtProtocol, kadMessage, routingTableSize, tableClosest } from '../../../core/net/kad-internals.ts'
import { UpstreamPatchError } from '../../../core/util/errors.ts'

test('the routing table: its size and closest peers when there, nothing when absent or odd', async () => {
  const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const asked: unknown[] = []
  const table = {
    size: 3,
    closestPeers (key: Uint8Array, o: { count: number }) { asked.push(this, key, o.count); return [peer, 'not a peer id', null] }
  }
  const key = new Uint8Array([1, 2, 3])
  assert.equal(routingTableSize({ routingTable: table }), 3)
  // called as the table's own method; entries that are not peer ids are dropped
  assert.deepEqual(tableClosest({ routingTable: table }, key, 5), [peer])
  assert.deepEqual(asked, [table, key, 5])
  for (const dht of [null, {}, { routingTable: null }, { routingTable: { size: '3', closestPeers: 'no' } }, { routingTable: { closestPeers: () => 'no list' } }]) {
    assert.equal(routingTableSize(dht), 0)
    assert.deepEqual(tableClosest(dht, key, 5), [])
  }
})

test('the DHT protocol: the field when a string, an UpstreamPatchError otherwise', () => {
  assert.equal(dhtProtocol({ protocol: '/cairn/kad/1.0.0' }), '/cairn/kad/1.0.0')
  assert.throws(() => dhtProtocol({}), UpstreamPatchError)
  assert.throws(() => dhtProtocol({ protocol: 7 }), UpstreamPatchError)
})

test('the installed kad-dht\'s Message codec loads and encodes an ADD_PROVIDER that decodes back', async () => {
  const m = await kadMessage()
  assert.equal(m.addProvider, 'ADD_PROVIDER')
  assert.equal(m.ping, 'PING')
  const record = { type: m.addProvider, key: new Uint8Array([0x12, 0x20, ...new Uint8Array(32)]), closer: [], providers: [{ id: new Uint8Array([1, 2]), multiaddrs: [new Uint8Array([4, 127, 0, 0, 1])] }] }
  const bytes = m.encode(record)
  assert.ok(bytes instanceof Uint8Array && bytes.byteLength > 0)
  // decoded with kad-dht's own module, as a peer's kad-dht reads it
  const { Message } = await import(new URL('./message/dht.js', import.meta.resolve('@libp2p/kad-dht')).href)
  const back = Message.decode(bytes)
  assert.equal(back.type, 'ADD_PROVIDER')
  assert.deepEqual(back.key, record.key)
  assert.deepEqual(back.providers[0].id, record.providers[0].id)
  assert.deepEqual(back.providers[0].multiaddrs, record.providers[0].multiaddrs)
})

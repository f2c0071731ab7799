// A connection's remote peer ID keeps no buffer larger than itself
// (core/net/own-peer-ids.ts): noise's IDs are views of 64 KiB buffers on
// Node 24, and every ID libp2p keeps kept one alive.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { noise } from '@libp2p/noise'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import type { PeerId } from '@libp2p/interface'
import { ownPeerId, ownRemotePeers } from '../../../core/net/own-peer-ids.ts'

/** the largest buffer the ID's bytes keep alive */
const kept = (id: PeerId): number => Math.max(id.toMultihash().bytes.buffer.byteLength, id.toMultihash().digest.buffer.byteLength)

type Encrypters = Array<ReturnType<typeof noise>>

/** Two libp2p nodes on loopback (no discovery, no services) with these encrypters; the remote peer IDs each side's connection names. */
async function connectedPair (encrypters: () => Encrypters): Promise<PeerId[]> {
  const make = async (): Promise<Awaited<ReturnType<typeof createLibp2p>>> => await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: encrypters(),
    streamMuxers: [yamux()]
  })
  const a = await make()
  const b = await make()
  try {
    const conn = await a.dial(b.getMultiaddrs()[0])
    let inbound = b.getConnections(a.peerId)[0]
    for (let i = 0; i < 100 && inbound == null; i++) {
      await new Promise(resolve => setTimeout(resolve, 20))
      inbound = b.getConnections(a.peerId)[0]
    }
    assert.ok(inbound != null, 'b saw the connection')
    assert.ok(conn.remotePeer.equals(b.peerId))
    assert.ok(inbound.remotePeer.equals(a.peerId))
    return [conn.remotePeer, inbound.remotePeer]
  } finally {
    await a.stop()
    await b.stop()
  }
}

test('plain noise names the remote peer by an ID on a buffer far larger than itself (why ownRemotePeers exists)', async () => {
  const ids = await connectedPair(() => [noise()])
  assert.ok(ids.some(id => kept(id) >= 4096), `kept ${ids.map(kept).join(', ')} bytes`)
})

test('with ownRemotePeers both sides name the remote peer by an ID no larger than its bytes, the same ID with the same key', async () => {
  const ids = await connectedPair(() => [ownRemotePeers(noise())])
  for (const id of ids) {
    assert.ok(kept(id) <= id.toMultihash().bytes.byteLength, `an ID of ${id.toMultihash().bytes.byteLength} bytes keeps ${kept(id)}`)
    assert.equal(id.type, 'Ed25519')
    assert.ok(id.publicKey != null)
    assert.equal(id.publicKey.toString(), id.toString())
  }
})

test('ownPeerId: a view of a larger buffer becomes a copy that equals it; an ID of its own stays as it is', async () => {
  const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  assert.ok(kept(id) >= 4096, `libp2p's encoder gave this ID a buffer of ${kept(id)} bytes`)
  const own = ownPeerId(id)
  assert.notEqual(own, id)
  assert.ok(own.equals(id))
  assert.equal(own.toString(), id.toString())
  assert.ok(own.publicKey?.equals(id.publicKey))
  assert.ok(kept(own) <= own.toMultihash().bytes.byteLength)
  assert.equal(ownPeerId(own), own)
})

// A connection's remote peer ID in a buffer of its own.
//
// Noise builds the remote's peer ID from the key in its handshake, and the
// ID's multihash ends up a view of a 64 KiB buffer (Node 24's shared pool, or
// the read it arrived in): one per connection. The ID outlives the
// connection wherever libp2p keeps peers (gossipsub's peers, the DHT's
// closest peers, our block channels), and each kept ID keeps its 64 KiB.
// In a soak seed such IDs held 7 buffers at minute 5 and 19 at minute 20
// (1.2 MiB for ~700 bytes of IDs; docs/faults.md, "Peer IDs on a buffer of
// their own"). So the encrypter's result carries a copy of the ID whose
// bytes are its own (peer-datastore.ts does the same for libp2p's records).

import { peerIdFromMultihash } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'
import type { ConnectionEncrypter, PeerId, SecuredConnection } from '@libp2p/interface'

/** the identity multihash: Ed25519 and secp256k1 IDs carry their key in it, so a copy keeps the key */
const IDENTITY = 0x00

/** `id` itself when its bytes keep no buffer larger than the ID, else the same ID (and key) read from a copy of its bytes. RSA IDs (a hash of the key) stay as they are: a copy would lose the key. */
export function ownPeerId (id: PeerId): PeerId {
  const mh = id.toMultihash()
  const size = mh.bytes.byteLength
  if (mh.code !== IDENTITY || (mh.bytes.buffer.byteLength <= size && mh.digest.buffer.byteLength <= size)) return id
  // Digest.decode keeps views of the copy: bytes and digest share its 38-odd bytes
  return peerIdFromMultihash(Digest.decode(new Uint8Array(mh.bytes)))
}

/** An encrypter factory like `factory` whose secured connections name their remote peer by an ID of its own (ownPeerId). */
export function ownRemotePeers<C, E> (factory: (components: C) => ConnectionEncrypter<E>): (components: C) => ConnectionEncrypter<E> {
  return components => {
    const inner = factory(components)
    const own = (s: SecuredConnection<E>): SecuredConnection<E> => ({ ...s, remotePeer: ownPeerId(s.remotePeer) })
    return {
      protocol: inner.protocol,
      secureInbound: async (connection, options) => own(await inner.secureInbound(connection, options)),
      secureOutbound: async (connection, options) => own(await inner.secureOutbound(connection, options))
    }
  }
}

// libp2p's datastore: peer records and other nodes' provider records, in
// memory (node.ts says why not in the repo).
//
// Node 24 hands out small buffers (Buffer.allocUnsafe, which uint8arrays'
// allocUnsafe uses, so protons' and uint8-varint's encoders too) as views
// of one shared pool of Buffer.poolSize, 64 KiB there (8 KiB in Node 22).
// A view kept for hours keeps its whole pool alive. A plain MemoryDatastore
// keeps the view it is given: in a 15-minute soak, seed 0's peer records
// and provider records, ~100 KiB of bytes, held 496 pools, 31 MiB, one more
// with nearly every new peer (docs/faults.md, "The soak's creep found").
// So each value is kept in a buffer of its own size.

import { MemoryDatastore } from 'datastore-core'
import type { AbortOptions } from '@libp2p/interface'
import type { Key } from 'interface-datastore'

/** `bytes`, or a copy of it when it is a view of a larger buffer. */
export function ownBuffer (bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes)
}

/** A MemoryDatastore whose values never keep a larger buffer alive. */
export class PeerDatastore extends MemoryDatastore {
  override put (key: Key, value: Uint8Array, options?: AbortOptions): Key | Promise<Key> {
    return super.put(key, ownBuffer(value), options)
  }
}

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
import type { AbortOptions, PeerStore } from '@libp2p/interface'
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

/** how often a node drops expired peer records */
export const PEER_SWEEP_MS = 10 * 60_000

/**
 * libp2p's peer store drops a record that has expired (not updated for its
 * maxPeerAge, 6 h, and no address seen for its maxAddressAge, 1 h) only
 * when it reads that record: a lookup of that peer, or a listing of every
 * peer, which libp2p and kad-dht do once, at start. A seed never reads
 * again the record of a peer that came once (each `cairn get` has an
 * identity of its own; in `ipfs` mode, every DHT peer that queried it), so
 * those records stayed for as long as it ran: ~0.3 MiB in 10 minutes of
 * the soak, one a fetch, without end. The sweeper lists every peer each
 * PEER_SWEEP_MS, which drops the expired ones.
 */
export class PeerSweeper {
  private timer: NodeJS.Timeout | null = null
  private running = false

  constructor (private readonly peerStore: PeerStore, private readonly everyMs = PEER_SWEEP_MS) {}

  start (): void {
    if (this.timer != null) return
    this.timer = setInterval(() => { void this.sweep() }, this.everyMs)
    this.timer.unref()
  }

  /** One listing of every peer (the store drops the expired ones as it goes); none while one runs. */
  async sweep (): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      await this.peerStore.forEach(() => {})
    } catch {
      // the node is stopping: the next start begins with libp2p's own listing
    } finally {
      this.running = false
    }
  }

  stop (): void {
    if (this.timer != null) clearInterval(this.timer)
    this.timer = null
  }
}

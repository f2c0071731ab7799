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

import { peerIdFromString } from '@libp2p/peer-id'
import { MemoryDatastore } from 'datastore-core'
import type { AbortOptions, Libp2p, PeerId } from '@libp2p/interface'
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

/** how often a node lists every peer record, which drops the expired ones */
export const PEER_SWEEP_MS = 10 * 60_000
/** how long a peer's record stays once its last connection has closed (go-libp2p keeps a recently connected peer's addresses 15 minutes) */
export const PEER_FORGET_MS = 15 * 60_000
/** how often a node looks for peers to forget */
export const PEER_FORGET_CHECK_MS = 60_000

/** what the sweeper uses of a libp2p node */
export type SweptNode = Pick<Libp2p, 'peerStore' | 'getConnections' | 'addEventListener' | 'removeEventListener'>

export interface PeerSweeperOptions {
  sweepMs?: number
  forgetMs?: number
  forgetCheckMs?: number
  now?: () => number
}

/**
 * Keeps libp2p's peer records from piling up.
 *
 * libp2p's peer store drops a record that has expired (not updated for its
 * maxPeerAge, 6 h, and no address seen for its maxAddressAge, 1 h) only
 * when it reads that record: a lookup of that peer, or a listing of every
 * peer, which libp2p and kad-dht do once, at start. A seed never reads
 * again the record of a peer that came once (each `cairn get` has an
 * identity of its own; in `ipfs` mode, every DHT peer that queried it), so
 * those records stayed for as long as it ran: ~0.3 MiB in 10 minutes of
 * the soak, one a fetch, without end. The sweeper lists every peer each
 * PEER_SWEEP_MS, which drops the expired ones.
 *
 * Expired takes 6 hours: a seed that serves a fetch a second would hold
 * ~20,000 records of peers long gone (a heap snapshot of a soak seed: 48
 * more a minute). So, as go-libp2p forgets a peer it was connected to (its
 * keys and protocols a minute after, its addresses 15 minutes after), the
 * sweeper deletes a peer's record PEER_FORGET_MS after its last connection
 * closed, unless it has connected again or carries a tag (something in
 * the node wants it kept). Bootstrap peers are dialled from the config, not
 * from their records (bootstrap-keeper.ts).
 */
export class PeerSweeper {
  private timers: NodeJS.Timeout[] = []
  private running = false
  /**
   * peers whose last connection closed (their IDs as text), and when; not
   * the event's PeerId: its bytes are a view of a pooled 64 KiB buffer
   * (the soak that caught it: 789 gone peers held 50 MiB)
   */
  private readonly gone = new Map<string, number>()
  private readonly sweepMs: number
  private readonly forgetMs: number
  private readonly forgetCheckMs: number
  private readonly now: () => number

  constructor (private readonly node: SweptNode, o: PeerSweeperOptions = {}) {
    this.sweepMs = o.sweepMs ?? PEER_SWEEP_MS
    this.forgetMs = o.forgetMs ?? PEER_FORGET_MS
    this.forgetCheckMs = o.forgetCheckMs ?? PEER_FORGET_CHECK_MS
    this.now = o.now ?? Date.now
  }

  start (): void {
    if (this.timers.length > 0) return
    this.node.addEventListener('peer:disconnect', this.onDisconnect)
    this.node.addEventListener('peer:connect', this.onConnect)
    this.timers = [
      setInterval(() => { void this.sweep() }, this.sweepMs),
      setInterval(() => { void this.forget() }, this.forgetCheckMs)
    ]
    for (const t of this.timers) t.unref()
  }

  private readonly onDisconnect = (e: CustomEvent<PeerId>): void => {
    this.gone.set(e.detail.toString(), this.now())
  }

  private readonly onConnect = (e: CustomEvent<PeerId>): void => {
    this.gone.delete(e.detail.toString())
  }

  /** One listing of every peer (the store drops the expired ones as it goes); none while one runs. */
  async sweep (): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      await this.node.peerStore.forEach(() => {})
    } catch {
      // the node is stopping: the next start begins with libp2p's own listing
    } finally {
      this.running = false
    }
  }

  /** Deletes the records of peers gone PEER_FORGET_MS or longer (not connected again, not tagged); the number deleted. */
  async forget (): Promise<number> {
    let deleted = 0
    const now = this.now()
    for (const [id, at] of this.gone) {
      if (now - at < this.forgetMs) continue
      this.gone.delete(id)
      try {
        const peer = peerIdFromString(id)
        if (this.node.getConnections(peer).length > 0) continue
        const record = await this.node.peerStore.get(peer)
        if (record.tags.size > 0) continue
        await this.node.peerStore.delete(peer)
        deleted++
      } catch {
        // no record (deleted, or expired on this read), or the node is stopping
      }
    }
    return deleted
  }

  stop (): void {
    for (const t of this.timers) clearInterval(t)
    this.timers = []
    this.node.removeEventListener('peer:disconnect', this.onDisconnect)
    this.node.removeEventListener('peer:connect', this.onConnect)
    this.gone.clear()
  }
}

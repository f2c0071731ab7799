// Whom to ask next: the providers of one fetch as lanes (lane.ts), opened
// over /cairn/blocks or, for a peer that does not speak it, bitswap
// (bitswap-lane.ts); and how the wants waiting are shared out between their
// windows.

import { performance } from 'node:perf_hooks'
import { Lane, MAX_WINDOW, MIN_WINDOW } from './lane.ts'
import { BitswapWire, bitswapAsker } from './bitswap-lane.ts'
import type { CairnNode } from '../net/node.ts'
import type { PeerId } from '@libp2p/interface'
import { errorMessage, isNamedError } from '../util/errors.ts'
import { PeerStallError } from './errors.ts'

/** the bitswap version the engine's send queue speaks */
const BITSWAP_PROTOCOL = '/ipfs/bitswap/1.2.0'
/**
 * a provider dropped for a stall is opened again, at most this many times a
 * fetch, when every live provider refuses a block or the DHT names it again:
 * under load a seed holding the whole DAG paused for 5 s, was dropped, and
 * the fetch failed on the providers left, which held only part of it
 */
const MAX_REOPENS = 3
/** bytes in flight over all providers: bounds the fetcher's memory */
export const MAX_TOTAL_IN_FLIGHT = 40 * 1024 * 1024

export class LaneSet {
  private readonly lanes = new Map<string, Lane>()
  private readonly opening = new Set<string>()
  /** peers whose block stream could not be opened, and why */
  readonly unreachable = new Map<string, string>()

  private wire: BitswapWire | null = null
  /** every provider asked, by key: a stalled one is opened again by its id */
  private readonly ids = new Map<string, PeerId>()
  /** stalled providers opened again, by key: how often */
  private readonly reopened = new Map<string, number>()

  constructor (private readonly node: CairnNode, private readonly signal: AbortSignal) {}

  get (key: string): Lane | undefined { return this.lanes.get(key) }
  has (key: string): boolean { return this.lanes.has(key) || this.opening.has(key) }
  /** Keeps a provider's id, so that it can be opened again after a stall. */
  remember (id: PeerId): void { this.ids.set(id.toString(), id) }

  /** Forgets `key`'s lane if it died of a stall and may be opened again (MAX_REOPENS a fetch); whether it did. */
  mayReopen (key: string): boolean {
    const lane = this.lanes.get(key)
    if (!(lane?.dead instanceof PeerStallError)) return false
    const n = this.reopened.get(key) ?? 0
    if (n >= MAX_REOPENS) return false
    this.reopened.set(key, n + 1)
    this.lanes.delete(key)
    return true
  }

  /** The providers dropped for a stall that may be opened again, each forgotten so that it can be. */
  reopenable (): PeerId[] {
    const out: PeerId[] = []
    for (const lane of this.all()) {
      const id = this.ids.get(lane.key)
      if (id != null && this.mayReopen(lane.key)) out.push(id)
    }
    return out
  }

  all (): Lane[] { return [...this.lanes.values()] }
  live (): Lane[] { return this.all().filter(l => l.dead == null) }
  values (): IterableIterator<Lane> { return this.lanes.values() }
  /** lanes opened, alive or not */
  get size (): number { return this.lanes.size }
  /** lanes being opened */
  get pending (): number { return this.opening.size }
  /** providers found so far: opened and opening */
  get count (): number { return this.lanes.size + this.opening.size }

  get inFlightBytes (): number {
    let n = 0
    for (const l of this.lanes.values()) n += l.inFlightBytes
    return n
  }

  /** Whether some provider has served a block of this fetch. */
  served (): boolean {
    for (const l of this.lanes.values()) if (l.blocks > 0) return true
    return false
  }

  /** Whether every provider open so far has refused something, none served: worth a lookup at once. */
  refusedByAll (): boolean {
    if (this.opening.size > 0) return false
    for (const l of this.lanes.values()) if (l.dead == null && (l.blocks > 0 || l.refusals === 0)) return false
    return true
  }

  /**
   * Opens a lane to `id`; `opened` hears of it (null: no lane; the reason
   * is in `unreachable` if the peer could not be reached). `closed` says
   * whether the fetch ended meanwhile: the lane is then closed again.
   */
  open (id: PeerId, closed: () => boolean, opened: (lane: Lane | null) => void): void {
    const key = id.toString()
    this.opening.add(key)
    void (async () => {
      let lane: Lane
      try {
        // asking for the protocol is the test: identify may not have told us yet
        const channel = await this.node.channels.get(id, this.signal, MAX_WINDOW)
        // the stream outlives this fetch unless the peer misbehaved on it
        lane = new Lane(key, { ask: async cid => await channel.request(cid), cancel: cid => { channel.cancel(cid) }, close: err => { if (err != null) channel.close(err) } }, 'cairn', performance.now())
      } catch (err) {
        // a peer that does not speak /cairn/blocks is an IPFS peer: bitswap;
        // one we cannot reach at all is no provider
        if (!isNamedError(err, 'UnsupportedProtocolError') || this.node.libp2p.getConnections(id).length === 0) {
          this.opening.delete(key)
          this.unreachable.set(key, errorMessage(err))
          opened(null)
          return
        }
        if (!await this.speaksBitswap(id)) {
          // a DHT server, a relay: connected, but no block exchange at all
          this.opening.delete(key)
          opened(null)
          return
        }
        lane = this.bitswapLane(id)
      }
      this.opening.delete(key)
      if (closed()) { lane.asker.close(); return }
      if (!this.lanes.has(lane.key)) this.lanes.set(lane.key, lane)
      opened(lane)
    })()
  }

  /**
   * Whether `id` speaks bitswap 1.2 (the version @helia/bitswap sends): a
   * stream opened and closed. Identify's list may not be complete yet when
   * the peer has just connected.
   */
  private async speaksBitswap (id: PeerId): Promise<boolean> {
    try {
      const stream = await this.node.libp2p.dialProtocol(id, BITSWAP_PROTOCOL, { signal: this.signal, runOnLimitedConnection: true })
      await stream.close().catch(() => {})
      return true
    } catch {
      return false
    }
  }

  private bitswapLane (id: PeerId): Lane {
    this.wire ??= new BitswapWire(this.node.bitswap.bitswap, this.signal, cid => { this.node.guard.wanted(cid) })
    let lane: Lane | null = null
    lane = new Lane(id.toString(), bitswapAsker(this.wire, id, () => (lane?.blocks ?? 0) > 0), 'bitswap', performance.now())
    return lane
  }

  /** Stops listening for bitswap answers (the fetch is over). */
  close (): void {
    this.wire?.close()
  }

  /**
   * The live lanes, fastest first (they get the blocks the reader needs
   * soonest), and how many wants each may hold: no lane holds more than its
   * share of what is outstanding while other providers work or are still
   * opening, so one fast early lane cannot take the whole file into its
   * window before the others can ask for any of it.
   */
  plan (now: number, queued: number): { lanes: Lane[], share: number } {
    const lanes = this.live().sort((a, b) => b.meter.rate(now) - a.meter.rate(now))
    let sent = 0
    for (const l of lanes) sent += l.inFlight.size
    const share = Math.max(MIN_WINDOW, Math.ceil((queued + sent) / Math.max(1, lanes.length + this.opening.size)))
    return { lanes, share }
  }
}

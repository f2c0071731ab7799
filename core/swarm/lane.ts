// One provider as the scheduler sees it: how to ask it for a block, what is
// in flight on it, and how much may be, from its measured rate and latency.

import { RateMeter } from '../util/rate.ts'
import type { Answer } from '../net/block-protocol.ts'
import type { CID } from 'multiformats/cid'

/** wants in flight on a lane before its rate is known */
export const INITIAL_WINDOW = 8
/** never fewer than this in flight on a working lane: a round trip per block is what made 1-at-a-time slow (26 MiB/s) */
export const MIN_WINDOW = 4
/** never more wants than this on one lane (the server queues up to 512) */
export const MAX_WINDOW = 128
/** never more bytes than this in flight on one lane: bounds the fetcher's memory */
export const MAX_LANE_BYTES = 32 * 1024 * 1024
/**
 * Queueing each lane should carry beyond its base latency: enough that the
 * peer never idles between answers, short enough that a slow peer does not
 * sit on blocks the reader needs soon. Window = rate × (base latency + this).
 */
export const QUEUE_TARGET_MS = 250

/** How a lane asks: its own block stream, or bitswap's want list. */
export interface Asker {
  ask: (cid: CID) => Promise<Answer>
  cancel: (cid: CID) => void
  close: (err?: Error) => void
}

export class Lane {
  /** wants sent and not yet answered; change it through track/untrack, which keep the byte count */
  readonly inFlight = new Map<string, { cid: CID, sentAt: number, bytesGuess: number }>()
  private bytesInFlight = 0
  window = INITIAL_WINDOW
  /** the lowest round trip seen: the peer's latency without our queue */
  baseLatencyMs = Infinity
  /** a smoothed round trip, queueing included: how late an answer may be before it looks stuck */
  latencyMs = 0
  /** bytes delivered; fed and read with performance.now() times */
  readonly meter = new RateMeter()
  /** answers seen (any kind) and when the last came */
  answers = 0
  lastAnswerAt: number
  blocks = 0
  bytes = 0
  refusals = 0
  dead: Error | null = null

  constructor (readonly key: string, readonly asker: Asker, readonly kind: 'cairn' | 'bitswap', now: number) {
    this.lastAnswerAt = now
  }

  get inFlightBytes (): number { return this.bytesInFlight }

  track (key: string, f: { cid: CID, sentAt: number, bytesGuess: number }): void {
    this.inFlight.set(key, f)
    this.bytesInFlight += f.bytesGuess
  }

  untrack (key: string): void {
    const f = this.inFlight.get(key)
    if (f == null) return
    this.inFlight.delete(key)
    this.bytesInFlight -= f.bytesGuess
  }

  untrackAll (): void {
    this.inFlight.clear()
    this.bytesInFlight = 0
  }

  /** Whether another want of about `bytes` may go out now. */
  hasRoom (bytes: number): boolean {
    if (this.dead != null) return false
    // a peer that has refused everything it was asked gets one want at a time
    const window = this.blocks === 0 && this.refusals > 0 ? 1 : this.window
    return this.inFlight.size < window && this.inFlightBytes + bytes <= MAX_LANE_BYTES
  }

  /** Records an answer and resizes the window from what it tells. */
  answered (now: number, sentAt: number, bytes: number | null, avgBlock: number): void {
    this.answers++
    this.lastAnswerAt = now
    // the quickest round trip is the one that waited behind nothing
    this.baseLatencyMs = Math.min(this.baseLatencyMs, Math.max(1, now - sentAt))
    this.latencyMs = this.answers === 1 ? now - sentAt : this.latencyMs * 0.8 + (now - sentAt) * 0.2
    if (bytes == null) { this.refusals++; return }
    this.blocks++
    this.bytes += bytes
    this.meter.count(now, bytes)
    if (this.blocks < 4) return // too few answers to judge a rate
    const rate = this.meter.rate(now) // bytes/s
    const want = Math.ceil(rate * (this.baseLatencyMs + QUEUE_TARGET_MS) / 1000 / Math.max(1, avgBlock))
    // grow gently (a window limits the rate it measures), shrink at once
    const next = want > this.window ? Math.min(want, this.window * 2) : want
    this.window = Math.max(MIN_WINDOW, Math.min(MAX_WINDOW, next))
  }
}

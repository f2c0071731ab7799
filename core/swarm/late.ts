// What is late, and what to do about it: providers that stall lose their
// wants, blocks a reader waits for get a second copy, the last blocks are
// also asked of idle providers (endgame), and a fetch where nothing arrives
// for its idle limit ends.

import type { Lane } from './lane.ts'
import type { Want } from './want-queue.ts'

/** a provider with wants in flight that answers nothing for this long is dropped and its wants go elsewhere */
export const STALL_MS = 5000
/** ... or for the time this many blocks take at the peer's own measured rate, if longer */
const STALL_BLOCKS = 4
/** a block the reader waits for, in flight this long on one peer, is asked of a second one */
const URGENT_COPY_MS = 750
/** copies of one block in flight at once (endgame and urgent re-asks) */
export const MAX_COPIES = 2
/** an endgame copy is only sent for a block this much later than its peer's usual round trip */
const ENDGAME_LATE_FACTOR = 2
/** ... and never sooner than this after it was first sent */
const ENDGAME_MIN_AGE_MS = 200
/** an idle lane takes endgame copies only while it has fewer than this in flight */
const ENDGAME_LANE_SLOTS = 4

/**
 * Nothing left to ask (`queued` is 0): the oldest block in flight elsewhere
 * that may have another copy on `lane`, if any is late.
 */
export function endgameFor<W extends Want> (lane: Lane, lanes: Iterable<Lane>, queued: number, wantOf: (key: string) => W | undefined, now: number): W | null {
  if (queued > 0 || lane.inFlight.size >= ENDGAME_LANE_SLOTS) return null
  let best: W | null = null
  let bestAt = Infinity
  for (const other of lanes) {
    if (other === lane) continue
    // a copy of a block about to arrive is only a duplicate: ask again only for late ones
    const late = now - Math.max(ENDGAME_MIN_AGE_MS, ENDGAME_LATE_FACTOR * other.latencyMs)
    for (const [key, f] of other.inFlight) {
      if (f.sentAt > late) continue
      const w = wantOf(key)
      if (w == null || w.done || w.inFlight.has(lane.key) || w.refusedBy.has(lane.key) || w.inFlight.size >= MAX_COPIES) continue
      if (f.sentAt < bestAt) { best = w; bestAt = f.sentAt }
    }
  }
  return best
}

/**
 * How long `lane` has been silent past its stall limit, in ms (the limit),
 * or null while it is not stalled. A slow link (a low upload cap) is not a
 * stall: it gets a few blocks' time at its own rate.
 */
export function stallLimit (lane: Lane, now: number, avgBlock: number): number | null {
  if (lane.inFlight.size === 0) return null
  const rate = lane.meter.rate(now)
  const limit = Math.max(STALL_MS, rate > 0 ? STALL_BLOCKS * avgBlock / rate * 1000 : 0)
  return now - lane.lastAnswerAt > limit ? limit : null
}

/**
 * Blocks the reader waits for, stuck on one peer for URGENT_COPY_MS: each
 * with another lane that has served before and may be asked too.
 */
export function urgentCopies<W extends Want> (lanes: Lane[], wantOf: (key: string) => W | undefined, now: number): Array<{ lane: Lane, want: W }> {
  const out: Array<{ lane: Lane, want: W }> = []
  for (const lane of lanes) {
    for (const [key, f] of lane.inFlight) {
      const w = wantOf(key)
      if (w == null || w.done || w.waiters.length === 0 || w.inFlight.size >= MAX_COPIES || now - f.sentAt < URGENT_COPY_MS) continue
      const other = lanes.find(l => l.dead == null && l !== lane && !w.inFlight.has(l.key) && !w.refusedBy.has(l.key) && l.blocks > 0)
      if (other != null) out.push({ lane: other, want: w })
    }
  }
  return out
}

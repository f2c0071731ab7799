// The blocks a fetch still has to send for, in the order a reader wants
// them: depth-first in link order, each block named by its path of link
// indexes from the root (lexicographic order of paths = depth-first order).
// Blocks the reader is waiting for right now jump the queue.

import type { CID } from 'multiformats/cid'

/** One block a fetch wants, and who is working on it. */
export interface Want {
  cid: CID
  /** multihash key: blocks are the same whatever the CID version */
  key: string
  /** link indexes from the root; [] for a block wanted on its own */
  path: number[]
  /** a reader is waiting for it now */
  urgent: boolean
  /** peers that said they don't have it */
  refusedBy: Set<string>
  /** lanes it is in flight on, with when it was sent */
  inFlight: Map<string, number>
  done: boolean
  /** whether it sits in the queue now */
  queued: boolean
  waiters: Array<{ resolve: (b: Uint8Array) => void, reject: (e: unknown) => void }>
}

function before (a: Want, b: Want): boolean {
  const n = Math.min(a.path.length, b.path.length)
  for (let i = 0; i < n; i++) if (a.path[i] !== b.path[i]) return a.path[i] < b.path[i]
  return a.path.length < b.path.length
}

/** A binary min-heap on depth-first position, behind a FIFO of urgent wants. */
export class WantQueue {
  private readonly heap: Want[] = []
  private readonly urgent: Want[] = []

  get size (): number { return this.heap.length + this.urgent.length }

  push (w: Want): void {
    if (w.queued || w.done) return
    w.queued = true
    if (w.urgent) {
      this.urgent.push(w)
      return
    }
    const h = this.heap
    h.push(w)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]]
      i = p
    }
  }

  /** Moves a queued want to the urgent line (a reader waits for it). */
  promote (w: Want): void {
    if (w.urgent) return
    w.urgent = true
    if (w.queued) this.urgent.push(w) // its heap entry is skipped when popped
  }

  /**
   * The first want `eligible` accepts, taken out of the queue; wants it
   * rejects stay queued in order. Looks at most `scan` entries deep.
   */
  take (eligible: (w: Want) => boolean, scan = 64): Want | null {
    for (let i = 0; i < this.urgent.length && i < scan; i++) {
      const w = this.urgent[i]
      if (w.done || !w.queued) { this.urgent.splice(i--, 1); continue }
      if (eligible(w)) {
        this.urgent.splice(i, 1)
        w.queued = false
        return w
      }
    }
    const skipped: Want[] = []
    let found: Want | null = null
    while (this.heap.length > 0 && skipped.length < scan) {
      const w = this.popHeap()
      if (w.done || !w.queued || w.urgent) continue // stale, or taken from the urgent line
      if (eligible(w)) { found = w; break }
      skipped.push(w)
    }
    for (const w of skipped) { w.queued = false; this.push(w) }
    if (found != null) found.queued = false
    return found
  }

  private popHeap (): Want {
    const h = this.heap
    const top = h[0]
    const last = h.pop() as Want
    if (h.length > 0) {
      h[0] = last
      let i = 0
      while (true) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && before(h[l], h[m])) m = l
        if (r < h.length && before(h[r], h[m])) m = r
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]]
        i = m
      }
    }
    return top
  }
}

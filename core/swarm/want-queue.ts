// The blocks a fetch still has to send for, in the order a reader wants
// them: depth-first in link order, each block placed by its path of link
// indexes from the root (lexicographic order of paths = depth-first order).
// Blocks the reader is waiting for right now jump the queue.
//
// A path is not copied into each want: a position is its last link index
// and a pointer to its parent's position, shared by all the children, so a
// DAG's wants hold O(blocks) positions, not O(blocks × depth) indexes (a
// chain of depth d held d²/2 of them). Comparing two positions walks up to
// where they meet: O(depth), and UnixFS files are a few levels deep.

import type { CID } from 'multiformats/cid'

/** Where a block sits in the DAG: link `index` of the block at `parent` (null: the root's links). */
export interface Position {
  readonly parent: Position | null
  readonly index: number
  /** links from the root: 1 for the root's own links */
  readonly depth: number
}

/** The position of link `index` of the block at `parent` (null: the root, or a block wanted on its own). */
export function childOf (parent: Position | null, index: number): Position {
  return { parent, index, depth: (parent?.depth ?? 0) + 1 }
}

/** A position from a path of link indexes ([] is null). */
export function positionOf (path: number[]): Position | null {
  let p: Position | null = null
  for (const i of path) p = childOf(p, i)
  return p
}

/** The path of link indexes from the root to `p`. */
export function pathOf (p: Position | null): number[] {
  const out: number[] = []
  for (let x = p; x != null; x = x.parent) out.push(x.index)
  return out.reverse()
}

/** One block a fetch wants, and who is working on it. */
export interface Want {
  cid: CID
  /** multihash key: blocks are the same whatever the CID version */
  key: string
  /** where it sits under the root; null for the root and a block wanted on its own */
  path: Position | null
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

/** Whether `a`'s path comes before `b`'s in lexicographic (depth-first) order. */
function before (a: Want, b: Want): boolean {
  let x = a.path
  let y = b.path
  const dx = x?.depth ?? 0
  const dy = y?.depth ?? 0
  // the deeper one up to the other's depth: its own path below that decides nothing unless the rest is equal
  while (x != null && x.depth > dy) x = x.parent
  while (y != null && y.depth > dx) y = y.parent
  // up to where they meet; the highest level where the indexes differ decides
  let decided: boolean | null = null
  while (x !== y && x != null && y != null) {
    if (x.index !== y.index) decided = x.index < y.index
    x = x.parent
    y = y.parent
  }
  // one path a prefix of the other: the shorter first
  return decided ?? dx < dy
}

/** A binary min-heap on depth-first position, behind a FIFO of urgent wants. */
export class WantQueue<W extends Want = Want> {
  private readonly heap: W[] = []
  private readonly urgent: W[] = []

  get size (): number { return this.heap.length + this.urgent.length }

  push (w: W): void {
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
  promote (w: W): void {
    if (w.urgent) return
    w.urgent = true
    if (w.queued) this.urgent.push(w) // its heap entry is skipped when popped
  }

  /**
   * The first want `eligible` accepts, taken out of the queue; wants it
   * rejects stay queued in order. Looks at most `scan` entries deep.
   */
  take (eligible: (w: W) => boolean, scan = 64): W | null {
    for (let i = 0; i < this.urgent.length && i < scan; i++) {
      const w = this.urgent[i]
      if (w.done || !w.queued) { this.urgent.splice(i--, 1); continue }
      if (eligible(w)) {
        this.urgent.splice(i, 1)
        w.queued = false
        return w
      }
    }
    const skipped: W[] = []
    let found: W | null = null
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

  private popHeap (): W {
    const h = this.heap
    const top = h[0]
    const last = h.pop()
    if (last != null && h.length > 0) {
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

// The seed's own garbage collections (docs/design.md, "The seed's memory").
// The launcher's large old-generation start (cli/cairn.js) spares transfers
// the full collections a small one runs every few MiB, but lets a
// long-running seed pile up garbage for minutes before V8 collects. So a
// seed whose launcher gave it `gc` (--expose-gc) collects all it can
// (gc's "last-resort" flavour: full collections until nothing more is
// freed, V8's unused pages given back) once its heap has grown
// COLLECT_GROWTH_BYTES since the last collection, and at least every
// COLLECT_EVERY_MS.
//
// Collecting every 30 s alone, a soak seed's V8 memory rose and fell by
// 16-20 MiB between collections; by growth, 9-12 MiB (docs/faults.md,
// "The chain's memory, and collecting by growth").

import v8 from 'node:v8'

/** how often the heap's size is read (v8.getHeapStatistics, which collects nothing) */
export const COLLECT_CHECK_MS = 5_000
/** a collection once the heap holds this much more than after the last one */
export const COLLECT_GROWTH_BYTES = 8 * 1024 * 1024
/** and one at least this often */
export const COLLECT_EVERY_MS = 30_000

/** Whether to collect now: `used` bytes in the heap, `after` right after the last collection, `sinceMs` since it. */
export function collectionDue (used: number, after: number, sinceMs: number): boolean {
  return used - after >= COLLECT_GROWTH_BYTES || sinceMs >= COLLECT_EVERY_MS
}

type Gc = (o: { type: 'major', flavor: 'last-resort' }) => void

export class Collector {
  private timer: NodeJS.Timeout | null = null
  /** the heap's size right after the last collection (at start: the heap then) */
  private after = 0
  private at = 0
  private collected = false

  constructor (private readonly gc: Gc, private readonly used = (): number => v8.getHeapStatistics().used_heap_size, private readonly now = Date.now) {}

  /** Starts looking; no collection at start (a seed's start is slow enough), the first once the heap has grown or the time is up. */
  start (): void {
    if (this.timer != null) return
    this.mark()
    this.timer = setInterval(() => { this.check() }, COLLECT_CHECK_MS)
    this.timer.unref()
  }

  /** One look at the heap (the timer's; tests call it). */
  check (): void {
    if (collectionDue(this.used(), this.after, this.now() - this.at)) this.collect()
  }

  private collect (): void {
    this.gc({ type: 'major', flavor: 'last-resort' })
    this.mark()
    this.collected = true
  }

  /** The heap's size right after the last collection (what was alive then), or null before the first: what the soak watches for a leak. */
  get liveHeap (): number | null {
    return this.collected ? this.after : null
  }

  private mark (): void {
    this.after = this.used()
    this.at = this.now()
  }

  stop (): void {
    if (this.timer != null) clearInterval(this.timer)
    this.timer = null
  }
}

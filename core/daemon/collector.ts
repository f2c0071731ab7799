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
//
// Growth counts the heap and the memory outside it that V8 frees with it
// (external_memory: every ArrayBuffer's bytes, so every block, socket read
// and file read a seed has let go of). Those bytes live in glibc's malloc,
// not in V8's pages: in a soak seed they ran to 12-27 MiB (median 18)
// while ~5 MiB of ArrayBuffers were alive, and malloc's heaps kept each
// new high-water mark (docs/faults.md, "External memory, and peers forgotten").

import v8 from 'node:v8'

/** how often the heap's size is read (v8.getHeapStatistics, which collects nothing) */
export const COLLECT_CHECK_MS = 5_000
/** a collection once the heap and its external memory hold this much more than after the last one */
export const COLLECT_GROWTH_BYTES = 8 * 1024 * 1024
/** and one at least this often */
export const COLLECT_EVERY_MS = 30_000

/** Whether to collect now: `used` bytes (heap and external), `after` right after the last collection, `sinceMs` since it. */
export function collectionDue (used: number, after: number, sinceMs: number): boolean {
  return used - after >= COLLECT_GROWTH_BYTES || sinceMs >= COLLECT_EVERY_MS
}

type Gc = (o: { type: 'major', flavor: 'last-resort' }) => void

/** The bytes V8 holds: in its heap, and outside it (ArrayBuffers' bytes, freed by its collections too). */
export interface HeapSizes { heap: number, external: number }

function heapSizes (): HeapSizes {
  const s = v8.getHeapStatistics()
  return { heap: s.used_heap_size, external: s.external_memory }
}

export class Collector {
  private timer: NodeJS.Timeout | null = null
  /** the sizes right after the last collection (at start: the sizes then) */
  private after: HeapSizes = { heap: 0, external: 0 }
  private at = 0
  private collected = false

  constructor (private readonly gc: Gc, private readonly sizes: () => HeapSizes = heapSizes, private readonly now = Date.now) {}

  /** Starts looking; no collection at start (a seed's start is slow enough), the first once the heap has grown or the time is up. */
  start (): void {
    if (this.timer != null) return
    this.mark()
    this.timer = setInterval(() => { this.check() }, COLLECT_CHECK_MS)
    this.timer.unref()
  }

  /** One look at the heap (the timer's; tests call it). */
  check (): void {
    const now = this.sizes()
    if (collectionDue(now.heap + now.external, this.after.heap + this.after.external, this.now() - this.at)) this.collect()
  }

  private collect (): void {
    this.gc({ type: 'major', flavor: 'last-resort' })
    this.mark()
    this.collected = true
  }

  /** The heap's size right after the last collection (what was alive then), or null before the first: what the soak watches for a leak. */
  get liveHeap (): number | null {
    return this.collected ? this.after.heap : null
  }

  private mark (): void {
    this.after = this.sizes()
    this.at = this.now()
  }

  stop (): void {
    if (this.timer != null) clearInterval(this.timer)
    this.timer = null
  }
}

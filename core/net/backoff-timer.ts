// Waits that double: `firstMs`, twice that, and so on up to `maxMs`.
// backoffDelays() is the sequence, for a loop that awaits its own pauses
// (findProviders' re-lookups); BackoffTimer runs a task again and again on it,
// and reset() starts over at `firstMs` (the bootstrap keeper, the
// routing-table filler, the swarm's provider discovery).

/** `firstMs`, then each wait twice the last, never more than `maxMs`; endless. */
export function * backoffDelays (firstMs: number, maxMs: number): Generator<number, never> {
  for (let delay = firstMs; ; delay = Math.min(delay * 2, maxMs)) yield delay
}

export class BackoffTimer {
  private timer: NodeJS.Timeout | null = null
  private delays: Generator<number, never>
  private delay: number
  private stopped = false

  constructor (private readonly task: () => Promise<void>, private readonly firstMs: number, private readonly maxMs: number) {
    this.delays = backoffDelays(firstMs, maxMs)
    this.delay = this.delays.next().value
  }

  /** Schedules the next run after the current wait (replacing any pending one). */
  schedule (): void {
    if (this.stopped) return
    if (this.timer != null) clearTimeout(this.timer)
    this.timer = setTimeout(() => { void this.run() }, this.delay)
    this.timer.unref() // never keeps a process alive
  }

  /** Back to the shortest wait, and schedule. */
  reset (): void {
    this.delays = backoffDelays(this.firstMs, this.maxMs)
    this.delay = this.delays.next().value
    this.schedule()
  }

  stop (): void {
    this.stopped = true
    if (this.timer != null) clearTimeout(this.timer)
  }

  private async run (): Promise<void> {
    try {
      await this.task()
    } catch { /* the task reports its own failures; the next run retries */ }
    this.delay = this.delays.next().value
    this.schedule()
  }
}

// Runs a task again and again with a growing wait: first after `firstMs`,
// then twice as long each time up to `maxMs`; reset() starts over at
// `firstMs`. Shared by the bootstrap keeper and the routing-table filler.

export class BackoffTimer {
  private timer: NodeJS.Timeout | null = null
  private delay: number
  private stopped = false

  constructor (private readonly task: () => Promise<void>, private readonly firstMs: number, private readonly maxMs: number) {
    this.delay = firstMs
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
    this.delay = this.firstMs
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
    this.delay = Math.min(this.delay * 2, this.maxMs)
    this.schedule()
  }
}

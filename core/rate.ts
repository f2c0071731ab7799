// A recent rate: bytes per second over the last RATE_WINDOW_MS.

/** the rate is measured over roughly this window */
export const RATE_WINDOW_MS = 2000

export class RateMeter {
  private readonly samples: Array<[number, number]> = []
  private total = 0

  /** Records that the running total is now `bytes` (absolute) at `now`. */
  add (now: number, bytes: number): void {
    this.total = bytes
    this.samples.push([now, bytes])
    while (this.samples.length > 2 && now - this.samples[0][0] > RATE_WINDOW_MS) this.samples.shift()
  }

  /** Adds `delta` bytes to the running total at `now`. */
  count (now: number, delta: number): void { this.add(now, this.total + delta) }

  get bytes (): number { return this.total }

  rate (now = Date.now()): number {
    if (this.samples.length === 0) return 0
    // an idle meter decays to 0 rather than showing its last burst for ever
    const [t1, b1] = this.samples[this.samples.length - 1]
    const [t0, b0] = this.samples[0]
    const end = Math.max(t1, now)
    return end > t0 ? (b1 - b0) * 1000 / Math.max(end - t0, RATE_WINDOW_MS / 4) : 0
  }
}

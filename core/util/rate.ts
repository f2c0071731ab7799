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

/** the bucket holds at most this much time's worth of tokens: bursts stay short */
const BURST_MS = 100

/**
 * A token bucket shared by everything it limits (all uploads of a seed, or
 * all downloads). `take` may run the bucket into debt, so a block larger
 * than the burst still passes; later takers wait the debt off. Waiters are
 * served first come, first served, which is what makes it fair across peers.
 */
export class RateLimiter {
  private tokens: number
  private last: number
  private readonly waiters: Array<{ bytes: number, resolve: () => void, reject: (e: unknown) => void, signal?: AbortSignal, onAbort?: () => void }> = []
  private timer: NodeJS.Timeout | null = null

  /** `rate` in bytes per second; 0 = unlimited */
  constructor (private rate: number, private readonly now: () => number = () => performance.now()) {
    this.last = now()
    this.tokens = this.burst
  }

  get limit (): number { return this.rate }

  /** Changes the rate at once (0 = unlimited). */
  setRate (rate: number): void {
    this.rate = rate
    this.tokens = Math.min(this.tokens, this.burst)
    this.drain()
  }

  private get burst (): number { return this.rate * BURST_MS / 1000 }

  private refill (): void {
    const t = this.now()
    this.tokens = Math.min(this.burst, this.tokens + (t - this.last) * this.rate / 1000)
    this.last = t
  }

  /**
   * Counts `bytes` that already passed without asking (traffic the limiter
   * cannot hold back, such as what our relay service forwards): the debt
   * makes the next takers wait it off.
   */
  charge (bytes: number): void {
    if (this.rate === 0) return
    this.refill()
    this.tokens -= bytes
  }

  /** when bytes last passed (Date.now()): the sweep provider yields while transfers run (core/net/sweeper.ts) */
  lastUse = 0

  /** Waits until `bytes` may pass. */
  async take (bytes: number, signal?: AbortSignal): Promise<void> {
    this.lastUse = Date.now()
    if (this.rate === 0) return
    signal?.throwIfAborted()
    this.refill()
    if (this.waiters.length === 0 && this.tokens >= 0) {
      this.tokens -= bytes
      return
    }
    await new Promise<void>((resolve, reject) => {
      const w: RateLimiter['waiters'][number] = { bytes, resolve, reject, signal }
      if (signal != null) {
        w.onAbort = () => {
          const i = this.waiters.indexOf(w)
          if (i >= 0) this.waiters.splice(i, 1)
          reject(signal.reason)
        }
        signal.addEventListener('abort', w.onAbort, { once: true })
      }
      this.waiters.push(w)
      this.drain()
    })
  }

  private drain (): void {
    if (this.timer != null) return
    this.refill()
    while (this.rate === 0 || this.tokens >= 0) {
      const w = this.waiters.shift()
      if (w == null) break
      if (w.onAbort != null) w.signal?.removeEventListener('abort', w.onAbort)
      if (this.rate !== 0) this.tokens -= w.bytes
      w.resolve()
    }
    if (this.waiters.length > 0) {
      // the debt is paid off at `rate`: wake when it is
      const ms = Math.max(1, Math.ceil(-this.tokens * 1000 / this.rate))
      this.timer = setTimeout(() => { this.timer = null; this.drain() }, ms)
    }
  }
}

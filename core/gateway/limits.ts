// Bounds on what HTTP clients can make the gateway hold. Requests take a
// slot for their whole life (a client that stops reading keeps its slot
// until it leaves: the socket's backpressure stops the reader, so it holds
// its read-ahead and no more); more wait a short while in a bounded queue,
// then get 429 with Retry-After. Requests that must fetch from the swarm
// also take one of a few fetch slots, since each running fetch may hold up
// to the scheduler's in-flight and held bytes (core/swarm/scheduler.ts).

/** blocks of a file read ahead of the socket per request (each ≤ 1 MiB): with the slot count, this bounds memory */
export const READ_AHEAD_BLOCKS = 1
/** requests waiting for a slot, per slot */
export const QUEUE_PER_SLOT = 4
/** a queued request that got no slot in this long is answered 429 */
export const QUEUE_WAIT_MS = 10_000
/** Retry-After (seconds) on a 429 */
export const RETRY_AFTER_S = 1
/** requests fetching from the swarm at once */
export const FETCH_SLOTS = 4

export class Slots {
  private used = 0
  private readonly waiting: Array<{ grant: () => void }> = []

  constructor (readonly size: number, readonly maxQueue: number) {}

  get inUse (): number { return this.used }
  get queued (): number { return this.waiting.length }

  /**
   * A slot, or null when the queue is full or `waitMs` passed first (the
   * caller answers 429). Aborting `signal` gives up the place in the queue.
   * The release function is idempotent.
   */
  async acquire (waitMs: number, signal?: AbortSignal): Promise<(() => void) | null> {
    if (this.used < this.size && this.waiting.length === 0) return this.take()
    if (this.waiting.length >= this.maxQueue || signal?.aborted === true) return null
    return await new Promise(resolve => {
      const entry = {
        grant: () => { cleanup(); resolve(this.take()) }
      }
      const giveUp = (): void => {
        const i = this.waiting.indexOf(entry)
        if (i !== -1) this.waiting.splice(i, 1)
        cleanup()
        resolve(null)
      }
      const timer = setTimeout(giveUp, waitMs)
      const cleanup = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', giveUp)
      }
      signal?.addEventListener('abort', giveUp, { once: true })
      this.waiting.push(entry)
    })
  }

  private take (): () => void {
    this.used++
    let released = false
    return () => {
      if (released) return
      released = true
      this.used--
      const next = this.waiting.shift()
      if (next != null) next.grant()
    }
  }
}

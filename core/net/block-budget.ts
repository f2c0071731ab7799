// One memory budget for blocks in flight, node-wide: every block this node
// has read from disk to send, over /cairn/blocks or bitswap, to any peer,
// counts against it from the read until the send has drained. Without it
// memory grew with peers: a /cairn/blocks stream holds up to three blocks
// (~3 MiB), four streams per connection, 64 connections per IP, ~768 MiB
// from one address (computed), and bitswap loads every block of a peer's
// want list (up to 1024) into one message before sending any.
//
// A reader asks before it reads (the block's size is not known until then,
// so it reserves the largest block and gives back the difference), and
// waits while the budget is full: backpressure, never an error. Nobody
// waits while holding a reservation (see block-protocol.ts and
// bitswap-serve.ts), so a full budget always drains.

/** the default, config transfer.blockMemory */
export const DEFAULT_BLOCK_MEMORY = 64 * 1024 * 1024

export interface BudgetStats {
  /** bytes the budget allows */
  limit: number
  /** bytes reserved now */
  held: number
  /** the most ever reserved at once */
  peak: number
  /** readers that had to wait for room */
  waits: number
}

export class BlockBudget {
  private heldBytes = 0
  private peakBytes = 0
  private waitCount = 0
  private readonly waiters: Array<{ bytes: number, resolve: () => void, reject: (e: unknown) => void, signal?: AbortSignal, onAbort?: () => void }> = []

  constructor (readonly limit: number = DEFAULT_BLOCK_MEMORY) {}

  get stats (): BudgetStats { return { limit: this.limit, held: this.heldBytes, peak: this.peakBytes, waits: this.waitCount } }

  /** room for `bytes` now (one larger than the whole budget fits only into an empty one) */
  private fits (bytes: number): boolean {
    return this.heldBytes + bytes <= this.limit || this.heldBytes === 0
  }

  private take (bytes: number): void {
    this.heldBytes += bytes
    if (this.heldBytes > this.peakBytes) this.peakBytes = this.heldBytes
  }

  /** Reserves `bytes` if there is room now, without waiting (and never ahead of a waiter). */
  tryAcquire (bytes: number): boolean {
    if (this.waiters.length > 0 || !this.fits(bytes)) return false
    this.take(bytes)
    return true
  }

  /** Reserves `bytes`, waiting (first come, first served) while the budget is full. */
  async acquire (bytes: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    if (this.tryAcquire(bytes)) return
    this.waitCount++
    await new Promise<void>((resolve, reject) => {
      const w: BlockBudget['waiters'][number] = { bytes, resolve, reject, signal }
      if (signal != null) {
        w.onAbort = () => {
          const i = this.waiters.indexOf(w)
          if (i >= 0) this.waiters.splice(i, 1)
          reject(signal.reason)
          this.wake()
        }
        signal.addEventListener('abort', w.onAbort, { once: true })
      }
      this.waiters.push(w)
    })
  }

  /** Gives back `bytes` reserved earlier. */
  release (bytes: number): void {
    this.heldBytes = Math.max(0, this.heldBytes - bytes)
    this.wake()
  }

  private wake (): void {
    for (let w = this.waiters[0]; w != null && this.fits(w.bytes); w = this.waiters[0]) {
      this.waiters.shift()
      if (w.onAbort != null) w.signal?.removeEventListener('abort', w.onAbort)
      this.take(w.bytes)
      w.resolve()
    }
  }
}

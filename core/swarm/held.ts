// Blocks a fetch stored moments ago, held in memory for the reader, and the
// pace that follows from them.
//
// Blocks stored and verified are held until the reader takes them (up to
// MAX_HELD). While the reader is busy and waits for no block, the fetch runs
// at most PACE_AHEAD (in flight plus held) ahead of it, so every block
// reaches the output from memory. Letting the fetch run ahead unbounded made
// the reader read half of a 512 MiB file back from disk, which cost the
// (single-threaded) fetcher more than the fetch itself (a read, a 1 MiB
// allocation and its garbage per block). While the reader waits for a block
// still in flight (on a slow provider), the others keep going: pausing them
// then cost 3 → 1 and capped seeders a quarter of their rate.

/** blocks held in memory for a reader, at most; beyond it the reader reads them back from disk */
export const MAX_HELD = 24 * 1024 * 1024
/**
 * while the reader waits for nothing, the fetch runs no further ahead of it
 * than this (in flight plus held); at most MAX_HELD, or blocks arriving past
 * the held bound would leave the count and the fetch would never pause
 */
export const PACE_AHEAD = MAX_HELD
/** stored blocks kept in memory while no reader has asked for any (a prefetch alone): a reader takes them once it comes */
export const FRESH_MAX = 8 * 1024 * 1024

export class HeldBlocks {
  private readonly blocks = new Map<string, Uint8Array>()
  /** bytes held now */
  bytes = 0
  /** a reader has asked for a block: hold blocks for it and pace the fetch by it */
  reading = false

  /** The bytes of a block held for the reader (once), or null. */
  take (key: string): Uint8Array | null {
    this.reading = true
    const bytes = this.blocks.get(key)
    if (bytes == null) return null
    this.blocks.delete(key)
    this.bytes -= bytes.byteLength
    return bytes
  }

  /** Keeps a stored block for the reader, which is usually just behind, if there is room. */
  offer (key: string, bytes: Uint8Array): void {
    if (this.bytes + bytes.byteLength > (this.reading ? MAX_HELD : FRESH_MAX)) return
    this.blocks.set(key, bytes)
    this.bytes += bytes.byteLength
  }

  /** Whether sending `next` more bytes would put the fetch further than PACE_AHEAD ahead of the reader. */
  tooFarAhead (inFlight: number, next: number): boolean {
    return inFlight + this.bytes + next > PACE_AHEAD
  }

  clear (): void {
    this.blocks.clear()
    this.bytes = 0
  }
}

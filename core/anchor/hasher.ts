// The proof-of-work inner loop. The bytes before the nonce never change while
// mining, so their sha256 state (the midstate) is computed once; per try only
// the nonce and the few bytes after it are hashed again — by TailHasher
// (sha256-tail.ts), or by @noble/hashes cloning its midstate when the
// counter would straddle a 64-byte block. Used by the miner's workers and by
// the test miner.

import { sha256 } from '@noble/hashes/sha2.js'
import { encodeHeader, nonceOffset, NONCE_BYTES, type Header } from './encoding.ts'
import { targetOf, targetBytes } from './target.ts'
import { TailHasher } from './sha256-tail.ts'

type Sha = ReturnType<typeof sha256.create>

export class HeaderHasher {
  private readonly mid: Sha
  private readonly work: Sha
  /** the nonce and every byte after it; the nonce's low 4 bytes are the counter */
  readonly tail: Uint8Array
  private readonly tailView: DataView
  readonly digest = new Uint8Array(32)
  private readonly target: Uint8Array
  private readonly target0: number
  private fast: TailHasher | null = null

  constructor (readonly bytes: Uint8Array, readonly offset: number, target: bigint) {
    this.mid = sha256.create()
    this.mid.update(bytes.subarray(0, offset))
    this.work = sha256.create()
    this.tail = bytes.slice(offset)
    this.tailView = new DataView(this.tail.buffer, this.tail.byteOffset, this.tail.byteLength)
    this.target = targetBytes(target)
    this.target0 = new DataView(this.target.buffer).getUint32(0)
    this.setHigh(0)
  }

  static forHeader (h: Header): HeaderHasher {
    const bytes = encodeHeader(h)
    return new HeaderHasher(bytes, nonceOffset(bytes, h), targetOf(h.target))
  }

  /** Sets the nonce's high 4 bytes (one range per worker). */
  setHigh (high: number): void {
    this.tailView.setUint32(0, high >>> 0)
    try {
      this.fast = new TailHasher(this.header(), this.offset)
    } catch (err) {
      // the counter straddles a block boundary: @noble's midstate does it
      if (!(err instanceof RangeError)) throw err
      this.fast = null
    }
  }

  /** Hashes with the nonce's low 4 bytes = `low`; true when the digest meets the target. */
  tryNonce (low: number): boolean {
    this.tailView.setUint32(4, low >>> 0)
    const fast = this.fast
    if (fast != null) {
      fast.hash(low)
      const d0 = fast.state[0] >>> 0
      if (d0 !== this.target0) return d0 < this.target0
      this.digest.set(fast.digest())
      return Buffer.compare(this.digest, this.target) <= 0
    }
    this.mid._cloneInto(this.work)
    this.work.update(this.tail)
    this.work.digestInto(this.digest)
    const d0 = ((this.digest[0] << 24) | (this.digest[1] << 16) | (this.digest[2] << 8) | this.digest[3]) >>> 0
    if (d0 !== this.target0) return d0 < this.target0
    return Buffer.compare(this.digest, this.target) <= 0
  }

  /** The header bytes with the current nonce. */
  header (): Uint8Array {
    const out = Uint8Array.from(this.bytes)
    out.set(this.tail, this.offset)
    return out
  }

  nonce (): Uint8Array { return this.tail.slice(0, NONCE_BYTES) }
}

/**
 * Mines a header on this thread: for tests and the bench's chains, on easy
 * targets. Returns the header bytes, or null after `maxTries`.
 */
export function mineHeader (h: Header, maxTries = 2 ** 32, high = 0): Uint8Array | null {
  const hasher = HeaderHasher.forHeader(h)
  hasher.setHigh(high)
  for (let i = 0; i < maxTries; i++) {
    if (hasher.tryNonce(i)) return hasher.header()
  }
  return null
}

// The main chain's block CIDs below the chain's window (core/anchor/chain.ts
// keeps the last blocks as objects): 36 bytes a height in one buffer that
// doubles as it fills, no object per block. Those heights are final, so the
// spine only grows. It answers the locator of a headers-first sync and
// whether a block below the window is on the main chain; headers and bodies
// below the window are read from the store.

import type { CID } from 'multiformats/cid'
import { cborCidOn } from './encoding.ts'

/** the bytes of a CIDv1 dag-cbor sha2-256 */
const CID_BYTES = 36
const FIRST_CAPACITY = 1024

export class MainSpine {
  private bytes = new Uint8Array(0)
  private count = 0

  /** Appends the CID of the main block one above the highest held (height 1 first). */
  push (cid: CID): void {
    if (cid.bytes.byteLength !== CID_BYTES) throw new RangeError(`not a block CID: ${cid.toString()}`)
    if ((this.count + 1) * CID_BYTES > this.bytes.byteLength) {
      const grown = new Uint8Array(Math.max(FIRST_CAPACITY, this.count * 2) * CID_BYTES)
      grown.set(this.bytes.subarray(0, this.count * CID_BYTES))
      this.bytes = grown
    }
    this.bytes.set(cid.bytes, this.count * CID_BYTES)
    this.count++
  }

  /** The CID of the main block at `height` (1 to the highest held), on a copy of its bytes. */
  cidAt (height: number): CID {
    if (!Number.isInteger(height) || height < 1 || height > this.count) throw new RangeError(`height ${height} is not in the spine (1 to ${this.count})`)
    const at = (height - 1) * CID_BYTES
    return cborCidOn(this.bytes.slice(at, at + CID_BYTES))
  }

  keyAt (height: number): string { return this.cidAt(height).toString() }
}

// A sweep round's CIDs (sweeper.ts), sorted by DHT key and packed: the
// keys 32 bytes each in one buffer, the CIDs' bytes in another with their
// offsets. A seed of 100,000 CIDs held them as CID objects beside a key
// array each: 90 MB of heap after GC (~900 bytes a CID), and a Set of
// joined-byte strings to drop duplicates on top while listing. Packed, the
// same round is ~3.2 MB of keys and ~3.6 MB of CID bytes, plus one view
// object per key (the keyspace functions take Uint8Array[]); the CIDs of a
// region are decoded when the region is swept. Duplicates (one multihash
// under two codecs: the same DHT key) are dropped after the sort, as
// neighbours.

import { CID } from 'multiformats/cid'
import { KEY_BYTES } from './keyspace.ts'
import { dhtKey } from './sweep-wire.ts'

/** room for this many CIDs at first; the buffers double as they fill */
const FIRST_CAPACITY = 1024
/** bytes a CID takes at first guess (a CIDv1 of a sha2-256 multihash: 36) */
const CID_BYTES_GUESS = 40

/** CIDs by position: an array, or a region of a round decoded on demand. */
export interface CidList {
  readonly length: number
  slice: (start: number, end: number) => CID[]
}

export class RoundCids {
  /** sorted keys, each a view into one buffer */
  readonly keys: Uint8Array[]
  private constructor (keys: Uint8Array[], private readonly cidBytes: Uint8Array, private readonly offsets: Uint32Array) {
    this.keys = keys
  }

  static empty (): RoundCids {
    return new RoundCids([], new Uint8Array(0), new Uint32Array(1))
  }

  get length (): number { return this.keys.length }

  /** The CIDs of sorted[start, end), decoded. */
  cids (start: number, end: number): CID[] {
    const out: CID[] = []
    for (let i = start; i < end; i++) out.push(CID.decode(this.cidBytes.subarray(this.offsets[i], this.offsets[i + 1])))
    return out
  }

  /** sorted[start, end) as a list that decodes only the slices asked for. */
  region (start: number, end: number): CidList {
    return { length: end - start, slice: (a, b) => this.cids(start + a, start + Math.min(b, end - start)) }
  }

  /** Lists CIDs, sorts them by DHT key and drops duplicates. */
  static async collect (source: AsyncIterable<CID>): Promise<RoundCids> {
    let keys: Uint8Array = new Uint8Array(FIRST_CAPACITY * KEY_BYTES)
    let bytes: Uint8Array = new Uint8Array(FIRST_CAPACITY * CID_BYTES_GUESS)
    let starts: Uint32Array = new Uint32Array(FIRST_CAPACITY + 1)
    let n = 0
    let used = 0
    for await (const cid of source) {
      if ((n + 1) * KEY_BYTES > keys.length) keys = grow(keys, keys.length * 2)
      if (n + 2 > starts.length) starts = grow32(starts, starts.length * 2)
      const b = cid.bytes
      if (used + b.length > bytes.length) bytes = grow(bytes, Math.max(bytes.length * 2, used + b.length))
      keys.set(dhtKey(cid), n * KEY_BYTES)
      bytes.set(b, used)
      starts[n] = used
      used += b.length
      n++
    }
    starts[n] = used
    const order = new Uint32Array(n)
    for (let i = 0; i < n; i++) order[i] = i
    order.sort((a, b) => {
      const x = a * KEY_BYTES
      const y = b * KEY_BYTES
      for (let i = 0; i < KEY_BYTES; i++) {
        const d = keys[x + i] - keys[y + i]
        if (d !== 0) return d
      }
      return 0
    })
    // the sorted, distinct keys and their CIDs' bytes, in the same order
    const sortedKeys = new Uint8Array(n * KEY_BYTES)
    const sortedBytes = new Uint8Array(used)
    const offsets = new Uint32Array(n + 1)
    let m = 0
    let at = 0
    for (const i of order) {
      const key = keys.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES)
      if (m > 0 && sameKey(sortedKeys, (m - 1) * KEY_BYTES, key)) continue
      sortedKeys.set(key, m * KEY_BYTES)
      const cid = bytes.subarray(starts[i], starts[i + 1])
      offsets[m] = at
      sortedBytes.set(cid, at)
      at += cid.length
      m++
    }
    offsets[m] = at
    const views: Uint8Array[] = []
    for (let i = 0; i < m; i++) views.push(sortedKeys.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES))
    return new RoundCids(views, sortedBytes.slice(0, at), offsets.slice(0, m + 1))
  }
}

function grow (a: Uint8Array, size: number): Uint8Array {
  const b = new Uint8Array(size)
  b.set(a)
  return b
}

function grow32 (a: Uint32Array, size: number): Uint32Array {
  const b = new Uint32Array(size)
  b.set(a)
  return b
}

function sameKey (buf: Uint8Array, at: number, key: Uint8Array): boolean {
  for (let i = 0; i < KEY_BYTES; i++) if (buf[at + i] !== key[i]) return false
  return true
}

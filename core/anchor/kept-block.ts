// What the chain keeps of each accepted block in its window (the last
// KEPT_DEPTH blocks below the head, core/anchor/chain.ts). Its CID's bytes
// and its header are one copy in the chain's slab (core/util/byte-slab.ts);
// the CID object and the header view are made when asked for, not kept: a
// CID is five objects (~0.45 KiB with its buffer views), a view ~0.1 KiB,
// and the chain asks for them only to sync, mine on the head, or prove.
// The fields the rules read on every block (height, time, target, parent,
// work) are plain fields.

import { CID } from 'multiformats/cid'
import { cborCidOn } from './encoding.ts'
import type { BlockMeta, CheckedHeader } from './validate.ts'
import { flat } from '../util/flat-string.ts'
import type { ByteSlab } from '../util/byte-slab.ts'

/** the bytes of a CIDv1 dag-cbor sha2-256 */
const CID_BYTES = 36

export class KeptBlock implements BlockMeta {
  readonly key: string
  readonly height: number
  readonly time: number
  readonly target: number
  readonly work: bigint
  /** the slab holding the CID's bytes, then the header's, from `at` */
  private readonly slab: ArrayBufferLike
  private readonly at: number
  private readonly headerLength: number

  /** its parent; the chain cuts the window's bottom block loose from the pruned blocks below it */
  parent: BlockMeta

  /** The block of a checked header with bytes `header`, accepted on top of `parent`; copies both into `slab`. */
  constructor (c: CheckedHeader, header: Uint8Array, parent: BlockMeta, slab: ByteSlab) {
    const both = new Uint8Array(CID_BYTES + header.byteLength)
    both.set(c.cid.bytes)
    both.set(header, CID_BYTES)
    const kept = slab.keep(both)
    this.slab = kept.buffer
    this.at = kept.byteOffset
    this.headerLength = header.byteLength
    this.parent = parent
    this.key = flat(c.cid.toString())
    this.height = c.header.height
    this.time = c.header.time
    this.target = c.header.target
    this.work = parent.work + c.work
  }

  /** its CID, a new object on the slab's bytes at each call */
  get cid (): CID { return cborCidOn(new Uint8Array(this.slab, this.at, CID_BYTES)) }

  /** its header's bytes, a view of the slab */
  get header (): Uint8Array { return new Uint8Array(this.slab, this.at + CID_BYTES, this.headerLength) }
}

/**
 * What the chain keeps of a block below its window: the fields alone, its
 * header read from the store when asked. Kept for the main-chain blocks that
 * carry manifests (with a parent that is its work alone, for a proof's
 * confirmations), and as the parent of the window's bottom block.
 */
export class PrunedBlock implements BlockMeta {
  readonly key: string
  readonly height: number
  readonly time: number
  readonly target: number
  readonly work: bigint
  readonly parent: BlockMeta | null

  /** `b`'s fields; its parent too when `withParent` (that parent's own parent is not kept) */
  constructor (b: BlockMeta, withParent: boolean) {
    this.key = b.key
    this.height = b.height
    this.time = b.time
    this.target = b.target
    this.work = b.work
    this.parent = withParent && b.parent != null ? new PrunedBlock(b.parent, false) : null
  }

  get cid (): CID { return CID.parse(this.key) }
}

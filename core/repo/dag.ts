// Walking DAGs by their links, whatever the codec: pins, gc, CAR export and
// completeness checks all need the set of blocks under a root.

import * as dagCbor from '@ipld/dag-cbor'
import * as dagJson from '@ipld/dag-json'
import * as dagPb from '@ipld/dag-pb'
import { createUnsafe } from 'multiformats/block'
import type { BlockDecoder } from 'multiformats/codecs/interface'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { BlockNotFoundError, UnsupportedError } from '../util/errors.ts'
import type { BlockReader } from '../../storage/blocks.ts'

const CODECS = new Map<number, BlockDecoder<number, unknown>>([
  [dagPb.code, dagPb],
  [raw.code, raw],
  [dagCbor.code, dagCbor],
  [dagJson.code, dagJson]
])

/** The CIDs a block links to (its bytes already verified against `cid`). */
/** Codecs whose blocks cannot link: raw bytes, plain CBOR and plain JSON (no tag 42 / no {"/": …} links). */
export const LEAF_CODECS = new Set([raw.code, 0x51, 0x0200])

export function linksOf (cid: CID, bytes: Uint8Array): CID[] {
  if (LEAF_CODECS.has(cid.code)) return []
  if (cid.code === dagPb.code) return dagPb.decode(bytes).Links.map(l => l.Hash)
  const codec = CODECS.get(cid.code)
  if (codec == null) throw new UnsupportedError(`block ${cid.toString()} uses codec 0x${cid.code.toString(16)}, which cairn cannot walk`)
  const block = createUnsafe({ bytes, cid, codec, value: codec.decode(bytes) })
  return [...block.links()].map(([, link]) => {
    const linked = CID.asCID(link)
    if (linked == null) throw new UnsupportedError(`block ${cid.toString()} links to something that is no CID`)
    return linked
  })
}

export interface WalkOptions {
  signal?: AbortSignal
  /** skip missing blocks (reporting them) instead of failing */
  allowMissing?: boolean
  onBlock?: (cid: CID, bytes: Uint8Array) => void | Promise<void>
  onMissing?: (cid: CID) => void
}

/** Multihash bytes as a map key: blocks are the same whatever the CID version. */
export const blockKey = (cid: CID): string => Buffer.from(cid.multihash.bytes).toString('base64')

/**
 * Visits every block under `root` once, depth-first in link order (the
 * order a CAR file and a reader want), each verified as it is read.
 */
export async function walkDag (store: BlockReader, root: CID, o: WalkOptions = {}, seen = new Set<string>()): Promise<{ blocks: number, bytes: number, missing: number }> {
  const stats = { blocks: 0, bytes: 0, missing: 0 }
  const stack: CID[] = [root]
  for (let cid = stack.pop(); cid != null; cid = stack.pop()) {
    o.signal?.throwIfAborted()
    const key = blockKey(cid)
    if (seen.has(key)) continue
    seen.add(key)
    let bytes: Uint8Array
    try {
      bytes = await store.getBytes(cid, { signal: o.signal })
    } catch (err) {
      if (err instanceof BlockNotFoundError && o.allowMissing === true) {
        stats.missing++
        o.onMissing?.(cid)
        continue
      }
      throw err
    }
    stats.blocks++
    stats.bytes += bytes.byteLength
    await o.onBlock?.(cid, bytes)
    const links = linksOf(cid, bytes)
    for (let i = links.length - 1; i >= 0; i--) stack.push(links[i])
  }
  return stats
}

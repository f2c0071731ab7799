// Walking DAGs by their links, whatever the codec: pins, gc, CAR export and
// completeness checks all need the set of blocks under a root.
// A DAG deeper than MAX_DAG_DEPTH links is refused (DagTooDeepError), by
// these walks and by the fetch's (core/swarm/walker.ts) alike: what a fetch
// refuses, no import, pin or gc walks without end either.

import * as dagCbor from '@ipld/dag-cbor'
import * as dagJson from '@ipld/dag-json'
import * as dagPb from '@ipld/dag-pb'
import { createUnsafe } from 'multiformats/block'
import type { BlockDecoder } from 'multiformats/codecs/interface'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { BlockNotFoundError, DagTooDeepError, UnsupportedError } from '../util/errors.ts'
import type { BlockReader } from '../../storage/blocks.ts'

const CODECS = new Map<number, BlockDecoder<number, unknown>>([
  [dagPb.code, dagPb],
  [raw.code, raw],
  [dagCbor.code, dagCbor],
  [dagJson.code, dagJson]
])

/**
 * links from the root to the deepest block a walk follows: Kubo's traversal
 * limit (boxo's default, 1024). A UnixFS file of 1 MiB chunks reaches
 * terabytes at depth 4; a trickle DAG grows a level per few hundred MiB.
 */
export const MAX_DAG_DEPTH = 1024

/** The error for `root`'s DAG, whose block `cid` has links at MAX_DAG_DEPTH. */
export function dagTooDeep (root: CID, cid: CID): DagTooDeepError {
  return new DagTooDeepError(`${root.toString()} is more than ${MAX_DAG_DEPTH} links deep (block ${cid.toString()} has links at that depth): refused, as Kubo refuses such DAGs`)
}

/** Codecs whose blocks cannot link: raw bytes, plain CBOR and plain JSON (no tag 42 / no {"/": …} links). */
export const LEAF_CODECS = new Set([raw.code, 0x51, 0x0200])

/** The CIDs a block links to (its bytes already verified against `cid`). */
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
  /**
   * Given, blocks that cannot link (LEAF_CODECS) are looked up (`has`),
   * neither read nor verified, and told here instead of onBlock: a walk
   * that wants the CIDs alone (announcing a DAG) spares reading and hashing
   * every leaf. Read, a 512 MiB file's leaves cost a seed ~0.4 s of CPU
   * right after its add, beside the fetch that came at once.
   */
  onLeaf?: (cid: CID) => void
}

/** Multihash bytes as a map key: blocks are the same whatever the CID version. */
export const blockKey = (cid: CID): string => Buffer.from(cid.multihash.bytes).toString('base64')

/**
 * Visits every block under `root` once, depth-first in link order (the
 * order a CAR file and a reader want), each verified as it is read. A block
 * with links MAX_DAG_DEPTH below the root ends the walk with
 * DagTooDeepError. The stack holds the links still to visit, each with its
 * depth: for a chain, one entry; in general O(depth × fan-out).
 */
export async function walkDag (store: BlockReader, root: CID, o: WalkOptions = {}, seen = new Set<string>()): Promise<{ blocks: number, bytes: number, missing: number }> {
  const stats = { blocks: 0, bytes: 0, missing: 0 }
  const stack: CID[] = [root]
  /** depths[i]: links from the root to stack[i] */
  const depths: number[] = [0]
  for (let cid = stack.pop(), depth = depths.pop(); cid != null && depth != null; cid = stack.pop(), depth = depths.pop()) {
    o.signal?.throwIfAborted()
    const key = blockKey(cid)
    if (seen.has(key)) continue
    let bytes: Uint8Array | null = null
    try {
      if (o.onLeaf == null || !LEAF_CODECS.has(cid.code)) bytes = await store.getBytes(cid, { signal: o.signal })
      else if (!await store.has(cid, { signal: o.signal })) throw new BlockNotFoundError(cid.toString(), `block ${cid.toString()} is not in the repo`)
    } catch (err) {
      if (err instanceof BlockNotFoundError && o.allowMissing === true) {
        seen.add(key)
        stats.missing++
        o.onMissing?.(cid)
        continue
      }
      throw err
    }
    if (bytes == null) {
      seen.add(key)
      stats.blocks++
      o.onLeaf?.(cid)
      continue
    }
    const links = linksOf(cid, bytes)
    // before the block counts as seen: a walk sharing `seen` (gc's) must not take this DAG as walked
    if (links.length > 0 && depth >= MAX_DAG_DEPTH) throw dagTooDeep(root, cid)
    seen.add(key)
    stats.blocks++
    stats.bytes += bytes.byteLength
    await o.onBlock?.(cid, bytes)
    for (let i = links.length - 1; i >= 0; i--) {
      stack.push(links[i])
      depths.push(depth + 1)
    }
  }
  return stats
}

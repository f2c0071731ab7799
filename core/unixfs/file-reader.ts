// Reads a UnixFS file's bytes in order with a bounded read-ahead.
//
// Our own instead of ipfs-unixfs-exporter's file content reader: that one
// pushes every block into an unbounded queue with no backpressure, so a
// consumer slower than the disk (a pipe, a network peer) makes it hold the
// whole file in memory (measured: 330-375 MiB RSS for `get`/`cat` of a
// 200 MiB file). Here at most `readAhead` leaves are in flight or buffered.

import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import * as raw from 'multiformats/codecs/raw'
import { CairnError, UnsupportedError } from '../util/errors.ts'
import type { CID } from 'multiformats/cid'
import type { BlockReader } from '../../storage/blocks.ts'

export class MalformedFileError extends CairnError {}

type Reader = Pick<BlockReader, 'getBytes'>

interface Piece {
  /** a leaf to read, or bytes already in hand (data inside a branch node) */
  cid?: CID
  bytes?: Uint8Array
  /** this piece's bytes in the file: [start, end) */
  start: bigint
  end: bigint
}

/** Splits a dag-pb file node into its own data and its children's ranges. */
export function fileNode (cid: CID, bytes: Uint8Array): { data: Uint8Array | undefined, links: Array<{ cid: CID, size: bigint }> } {
  const node = dagPb.decode(bytes)
  if (node.Data == null) throw new MalformedFileError(`block ${cid.toString()} is not a UnixFS file node`)
  const fs = UnixFS.unmarshal(node.Data)
  if (fs.type !== 'file' && fs.type !== 'raw') throw new MalformedFileError(`block ${cid.toString()} is a UnixFS ${fs.type}, not file data`)
  if (node.Links.length !== fs.blockSizes.length) throw new MalformedFileError(`block ${cid.toString()} lists ${node.Links.length} links but ${fs.blockSizes.length} sizes`)
  return { data: fs.data, links: node.Links.map((l, i) => ({ cid: l.Hash, size: fs.blockSizes[i] })) }
}

/**
 * how deep a file's DAG may go below its root. A balanced DAG of 174-link
 * nodes (Kubo's and cairn's layout) of 1 MiB leaves is past a zettabyte at
 * depth 6; trickle DAGs grow deeper, by about one level per 4× the leaves,
 * so 64 holds any file an importer makes, and refuses a hostile chain of
 * single-link nodes (each level costs a block read and a frame) early.
 */
export const MAX_FILE_DEPTH = 64

/** A file's DAG deeper than MAX_FILE_DEPTH: refused as hostile or broken, never walked. */
export class DagTooDeepError extends MalformedFileError {}

/** one branch node on the path from the root to the piece being read */
interface Frame { links: Array<{ cid: CID, size: bigint }>, next: number, pos: bigint }

/**
 * The pieces of the file overlapping [from, to), in order. Branch nodes are
 * read as the walk reaches them (they are small); leaves are left to the
 * caller to read ahead. An explicit stack, one frame per level: memory is
 * O(depth) and each piece costs O(1) to hand over, where one generator per
 * level passed every piece up through all of them.
 */
async function * pieces (store: Reader, root: CID, rootBytes: Uint8Array, from: bigint, to: bigint, signal?: AbortSignal): AsyncGenerator<Piece> {
  if (root.code === raw.code) {
    yield { cid: root, bytes: rootBytes, start: 0n, end: -1n }
    return
  }
  const stack: Frame[] = []
  /** a dag-pb node entered at `pos`: its own data is a piece, its links a new frame */
  const enter = function * (cid: CID, bytes: Uint8Array, pos: bigint): Generator<Piece> {
    if (stack.length >= MAX_FILE_DEPTH) throw new DagTooDeepError(`file ${root.toString()} is more than ${MAX_FILE_DEPTH} levels deep (at block ${cid.toString()}): refused as malformed`)
    const { data, links } = fileNode(cid, bytes)
    if (data != null && data.byteLength > 0) {
      const end = pos + BigInt(data.byteLength)
      if (end > from && pos < to) yield { bytes: data, start: pos, end }
      pos = end
    }
    stack.push({ links, next: 0, pos })
  }
  if (root.code !== dagPb.code) throw new UnsupportedError(`block ${root.toString()} has codec 0x${root.code.toString(16)}: not part of a UnixFS file`)
  yield * enter(root, rootBytes, 0n)
  while (stack.length > 0) {
    signal?.throwIfAborted()
    const top = stack[stack.length - 1]
    if (top.next >= top.links.length || top.pos >= to) {
      stack.pop()
      continue
    }
    const link = top.links[top.next++]
    const start = top.pos
    const end = start + link.size
    top.pos = end
    if (end <= from) continue
    if (link.cid.code === raw.code) {
      yield { cid: link.cid, start, end }
    } else if (link.cid.code === dagPb.code) {
      yield * enter(link.cid, await store.getBytes(link.cid, { signal }), start)
    } else {
      throw new UnsupportedError(`block ${link.cid.toString()} has codec 0x${link.cid.code.toString(16)}: not part of a UnixFS file`)
    }
  }
}

/** The data of a leaf block: raw bytes, or a dag-pb leaf's UnixFS data. */
async function leafData (store: Reader, p: Piece, signal?: AbortSignal): Promise<Uint8Array> {
  const cid = p.cid
  if (cid == null) {
    if (p.bytes != null) return p.bytes
    throw new Error('a file piece with neither a CID nor bytes')
  }
  const bytes = p.bytes ?? await store.getBytes(cid, { signal })
  return cid.code === raw.code ? bytes : (fileNode(cid, bytes).data ?? new Uint8Array())
}

export interface ReadFileOptions {
  offset?: bigint
  length?: bigint
  signal?: AbortSignal
  /** leaves read ahead of the consumer */
  readAhead: number
}

/**
 * Yields bytes [offset, offset + length) of the file rooted at `root`
 * (whose block, already read, is `rootBytes`), each block verified as read.
 */
export async function * readFile (store: Reader, root: CID, rootBytes: Uint8Array, fileSize: bigint, o: ReadFileOptions): AsyncGenerator<Uint8Array> {
  const from = o.offset ?? 0n
  const to = o.length == null ? fileSize : (from + o.length < fileSize ? from + o.length : fileSize)
  if (from >= to) return
  const window: Array<{ piece: Piece, data: Promise<Uint8Array> }> = []
  const source = pieces(store, root, rootBytes, from, to, o.signal)
  let exhausted = false
  let pos = from
  const fill = async (): Promise<void> => {
    while (!exhausted && window.length < o.readAhead) {
      const next = await source.next()
      if (next.done === true) { exhausted = true; break }
      const data = leafData(store, next.value, o.signal)
      data.catch(() => {}) // awaited in order below; avoid an unhandled rejection meanwhile
      window.push({ piece: next.value, data })
    }
  }
  await fill()
  while (window.length > 0) {
    const { piece } = window[0]
    const data = await window[0].data
    window.shift()
    await fill()
    const start = piece.start
    const end = piece.end === -1n ? start + BigInt(data.byteLength) : piece.end
    if (end - start !== BigInt(data.byteLength)) {
      throw new MalformedFileError(`block ${piece.cid?.toString() ?? root.toString()} holds ${data.byteLength} bytes where its parent says ${end - start}`)
    }
    const a = from > start ? Number(from - start) : 0
    const b = to < end ? Number(to - start) : data.byteLength
    if (start !== pos && a === 0) throw new MalformedFileError(`file ${root.toString()} has a gap or overlap at byte ${pos}`)
    if (b > a) {
      yield data.subarray(a, b)
      pos = start + BigInt(b)
    }
  }
  if (pos !== to) throw new MalformedFileError(`file ${root.toString()} ended at byte ${pos}, expected ${to}`)
}

/** The bytes of an exported file, raw or identity entry, read with bounded read-ahead. */
export async function * entryBytes (store: Reader, entry: { type: string, cid: CID, size: bigint }, o: ReadFileOptions): AsyncGenerator<Uint8Array> {
  if (entry.type === 'identity') {
    const data = entry.cid.multihash.digest
    const from = Number(o.offset ?? 0n)
    yield data.subarray(from, o.length == null ? undefined : from + Number(o.length))
    return
  }
  const rootBytes = await store.getBytes(entry.cid, { signal: o.signal })
  const size = entry.type === 'raw' ? BigInt(rootBytes.byteLength) : entry.size
  yield * readFile(store, entry.cid, rootBytes, size, o)
}

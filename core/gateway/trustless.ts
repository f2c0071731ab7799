// The trustless gateway (specs.ipfs.tech/http-gateways/trustless-gateway):
// raw blocks and CAR v1 streams the client verifies itself. A CAR holds the
// blocks that walk the path, then the terminal DAG by dag-scope (block,
// entity, all) and entity-bytes, depth-first in link order, each block once.

import * as dagCbor from '@ipld/dag-cbor'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import * as raw from 'multiformats/codecs/raw'
import { blockKey, linksOf } from '../repo/dag.ts'
import { fileNode } from '../unixfs/file-reader.ts'
import { asGatewayError, ipfsHeaders, resolvePath } from './path.ts'
import { entityRange, noneMatch, parseDagScope, parseEntityBytes, contentDisposition, type ContentRequest, type DagScope, type EntityBytes } from './request.ts'
import type { Exchange } from './exchange.ts'
import type { BlockReader } from '../../storage/blocks.ts'
import type { CID } from 'multiformats/cid'

export const CAR_TYPE = 'application/vnd.ipld.car; version=1; order=dfs; dups=n'

/** GET/HEAD ?format=raw: the terminal block's bytes. */
export async function serveRaw (x: Exchange, req: ContentRequest): Promise<void> {
  const r = await resolvePath(x.store, req.cid, req.segments, x.signal)
  const cid = r.entry.cid
  const etag = `"${cid.toString()}.raw"`
  const headers = { ...ipfsHeaders(req, r, etag), 'content-type': 'application/vnd.ipld.raw', vary: 'Accept' }
  if (noneMatch(x.header('if-none-match'), etag)) { x.respond(304, headers); return }
  let bytes: Uint8Array
  try {
    bytes = await x.store.getBytes(cid, { signal: x.signal })
  } catch (err) { throw asGatewayError(err) }
  x.respond(200, { ...headers, 'content-disposition': contentDisposition('attachment', req.query.get('filename') ?? `${cid.toString()}.bin`) }, bytes)
}

const varint = (n: number): Uint8Array => {
  const out: number[] = []
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128) }
  out.push(n)
  return Uint8Array.from(out)
}

/** A CAR v1 header naming `root`. */
export function carHeader (root: CID): Uint8Array {
  const h = dagCbor.encode({ roots: [root], version: 1 })
  return Buffer.concat([varint(h.byteLength), h])
}

/** One CAR section: length, CID, bytes (two chunks; the block is not copied). */
function section (cid: CID, bytes: Uint8Array): Uint8Array[] {
  return [Buffer.concat([varint(cid.bytes.byteLength + bytes.byteLength), cid.bytes]), bytes]
}

/** GET/HEAD ?format=car (or Accept: application/vnd.ipld.car). */
export async function serveCar (x: Exchange, req: ContentRequest): Promise<void> {
  const scope = parseDagScope(req.query.get('dag-scope'))
  const range = parseEntityBytes(req.query.get('entity-bytes'))
  const r = await resolvePath(x.store, req.cid, req.segments, x.signal)
  const terminal = r.entry.cid
  // the same CAR for the same request: the terminal CID and what selects its blocks
  const etag = `"${terminal.toString()}.car.${scope}${range != null ? `.${range.from}-${range.to}` : ''}"`
  const headers = {
    ...ipfsHeaders(req, r, etag),
    'content-type': CAR_TYPE,
    vary: 'Accept',
    'content-disposition': contentDisposition('attachment', req.query.get('filename') ?? `${terminal.toString()}.car`)
  }
  if (noneMatch(x.header('if-none-match'), etag)) { x.respond(304, headers); return }
  if (x.head) { x.respond(200, headers); return }
  if (scope === 'all') x.store.prefetch?.(terminal)
  await x.stream(200, headers, carBody(x.store, req.cid, r.traversal, terminal, scope, range, x.signal))
}

async function * carBody (store: BlockReader, root: CID, traversal: CID[], terminal: CID, scope: DagScope, range: EntityBytes | null, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  yield carHeader(root)
  const seen = new Set<string>()
  try {
    for (const cid of traversal) {
      if (cid.equals(terminal)) continue
      const key = blockKey(cid)
      if (seen.has(key) || cid.multihash.code === 0) continue
      seen.add(key)
      yield * section(cid, await store.getBytes(cid, { signal }))
    }
    for await (const [cid, bytes] of terminalBlocks(store, terminal, scope, range, signal)) {
      const key = blockKey(cid)
      if (seen.has(key)) continue
      seen.add(key)
      yield * section(cid, bytes)
    }
  } catch (err) {
    throw asGatewayError(err)
  }
}

type Block = [CID, Uint8Array]

/** The terminal's blocks for a scope, depth-first in link order (duplicates left to the caller). */
async function * terminalBlocks (store: BlockReader, cid: CID, scope: DagScope, range: EntityBytes | null, signal: AbortSignal): AsyncGenerator<Block> {
  const bytes = await store.getBytes(cid, { signal })
  if (scope === 'block') { yield [cid, bytes]; return }
  if (scope === 'all' && range == null) { yield * allBlocks(store, cid, bytes, signal); return }
  // entity (or all with entity-bytes, which narrows a file to its range)
  if (cid.code === dagPb.code) {
    const node = dagPb.decode(bytes)
    const fs = node.Data != null ? tryUnixFS(node.Data) : null
    if (fs != null && (fs.type === 'file' || fs.type === 'raw')) {
      const size = Number(fs.fileSize())
      const { start, end } = range != null ? entityRange(range, size) : { start: 0, end: size }
      yield * fileBlocks(store, cid, bytes, 0, start, end, signal)
      return
    }
    if (fs != null && fs.type === 'hamt-sharded-directory') {
      if (scope === 'all') { yield * allBlocks(store, cid, bytes, signal); return }
      yield * hamtShards(store, cid, bytes, fs, signal)
      return
    }
    if (scope === 'all') { yield * allBlocks(store, cid, bytes, signal); return }
  } else if (scope === 'all') { yield * allBlocks(store, cid, bytes, signal); return }
  yield [cid, bytes]
}

function tryUnixFS (data: Uint8Array): UnixFS | null {
  try { return UnixFS.unmarshal(data) } catch { return null }
}

async function * allBlocks (store: BlockReader, root: CID, rootBytes: Uint8Array, signal: AbortSignal): AsyncGenerator<Block> {
  const stack: Array<{ cid: CID, bytes?: Uint8Array }> = [{ cid: root, bytes: rootBytes }]
  const seen = new Set<string>()
  for (let top = stack.pop(); top != null; top = stack.pop()) {
    signal.throwIfAborted()
    const { cid, bytes: known } = top
    const key = blockKey(cid)
    if (seen.has(key)) continue
    seen.add(key)
    const bytes = known ?? await store.getBytes(cid, { signal })
    yield [cid, bytes]
    const links = linksOf(cid, bytes)
    for (let i = links.length - 1; i >= 0; i--) stack.push({ cid: links[i] })
  }
}

/** The blocks of a UnixFS file that hold bytes [from, to), with the branch nodes above them. */
async function * fileBlocks (store: BlockReader, cid: CID, bytes: Uint8Array, base: number, from: number, to: number, signal: AbortSignal): AsyncGenerator<Block> {
  signal.throwIfAborted()
  yield [cid, bytes]
  if (cid.code === raw.code) return
  const { data, links } = fileNode(cid, bytes)
  let pos = base + (data?.byteLength ?? 0)
  for (const link of links) {
    const end = pos + Number(link.size)
    // an empty range still gets the first leaf's parent only
    if (end > from && pos < to) yield * fileBlocks(store, link.cid, await store.getBytes(link.cid, { signal }), pos, from, to, signal)
    pos = end
    if (pos >= to) break
  }
}

/** A HAMT directory's own shard nodes (not the entries they point at). */
async function * hamtShards (store: BlockReader, cid: CID, bytes: Uint8Array, fs: UnixFS, signal: AbortSignal): AsyncGenerator<Block> {
  yield [cid, bytes]
  const pad = (Number(fs.fanout ?? 256n) - 1).toString(16).length
  for (const link of dagPb.decode(bytes).Links) {
    // a link named only by its bucket prefix is a sub-shard; longer names are entries
    if ((link.Name ?? '').length !== pad) continue
    const sub = await store.getBytes(link.Hash, { signal })
    const subNode = dagPb.decode(sub)
    const subFs = subNode.Data != null ? tryUnixFS(subNode.Data) : null
    if (subFs?.type !== 'hamt-sharded-directory') continue
    yield * hamtShards(store, link.Hash, sub, subFs, signal)
  }
}

// The path gateway (specs.ipfs.tech/http-gateways/path-gateway): GET/HEAD
// /ipfs/{cid}[/path] answered with the file's bytes (a single Range as 206),
// a directory's index.html, or an HTML listing whose every name is escaped.

import { exporter, walkPath, type UnixFSEntry } from 'ipfs-unixfs-exporter'
import { escapeHtml } from '../util/escape.ts'
import { entryBytes } from '../unixfs/file-reader.ts'
import { mapExportError } from '../unixfs/resolve.ts'
import { BlockNotFoundError, PathNotFoundError, UnsupportedError } from '../util/errors.ts'
import { MalformedFileError } from '../unixfs/file-reader.ts'
import { FetchTimeoutError, NoProvidersError } from '../swarm/scheduler.ts'
import { typeFromBytes, typeFromName } from './content-type.ts'
import { READ_AHEAD_BLOCKS } from './limits.ts'
import { GatewayError, contentDisposition, noneMatch, parseRange, type ContentRequest } from './request.ts'
import type { Exchange } from './exchange.ts'
import type { BlockReader } from '../../storage/blocks.ts'
import type { CID } from 'multiformats/cid'

/** `Cache-Control` of everything under /ipfs/: the content of a CID never changes */
export const IMMUTABLE = 'public, max-age=29030400, immutable'
/** first bytes read to guess a type when the name says nothing */
const SNIFF_BYTES = 512

export interface Resolved {
  entry: UnixFSEntry
  /** the CID of each node along the path, root first (X-Ipfs-Roots) */
  roots: CID[]
  /** every block read to walk the path, in order (a CAR answer sends them first) */
  traversal: CID[]
}

/** A reader that notes every block asked of it. */
function recording (store: BlockReader, seen: CID[]): BlockReader {
  return {
    getBytes: async (cid, o) => { seen.push(cid); return await store.getBytes(cid, o) },
    get: async function * (cid, o) { seen.push(cid); yield await store.getBytes(cid, o) },
    has: async (cid, o) => await store.has(cid, o)
  }
}

/** Walks /ipfs/CID/a/b to its entry, noting the nodes and blocks on the way. */
export async function resolvePath (store: BlockReader, cid: CID, segments: string[], signal: AbortSignal): Promise<Resolved> {
  const traversal: CID[] = []
  const rec = recording(store, traversal)
  const what = [cid.toString(), ...segments].join('/')
  try {
    let target = cid
    let roots: CID[] = [cid]
    if (segments.length > 0) {
      for await (const step of walkPath(what, rec, { signal })) {
        target = step.cid
        roots = step.roots
      }
    }
    const entry = await exporter(target, rec, { signal })
    return { entry, roots, traversal }
  } catch (err) {
    throw asGatewayError(mapExportError(err, what))
  }
}

/** A CairnError from below to the answer it means; anything else passes (the server answers 500). */
export function asGatewayError (err: unknown): unknown {
  if (err instanceof GatewayError) return err
  if (err instanceof PathNotFoundError) return new GatewayError(404, err.message)
  if (err instanceof BlockNotFoundError) return new GatewayError(504, `block ${err.message} is not held here and this gateway does not fetch`)
  if (err instanceof NoProvidersError || err instanceof FetchTimeoutError) return new GatewayError(504, err.message)
  if (err instanceof UnsupportedError || err instanceof MalformedFileError) return new GatewayError(422, err.message)
  return err
}

/** Headers every /ipfs/ answer carries. */
export function ipfsHeaders (req: ContentRequest, r: Resolved, etag: string): Record<string, string> {
  return {
    etag,
    'cache-control': req.cacheControl ?? IMMUTABLE,
    'x-ipfs-path': encodeURI(req.path),
    'x-ipfs-roots': r.roots.map(c => c.toString()).join(','),
    'x-content-type-options': 'nosniff',
    // the same URL answers a file, a block or a CAR by Accept: caches must keep them apart
    vary: 'Accept'
  }
}

/** GET/HEAD of a path as content: a file, index.html, or a listing. */
export async function servePath (x: Exchange, req: ContentRequest): Promise<void> {
  const r = await resolvePath(x.store, req.cid, req.segments, x.signal)
  const { entry } = r
  if (entry.type === 'directory') {
    if (!req.trailingSlash) {
      // relative links in index.html and the listing resolve against the directory itself
      const q = req.query.toString()
      x.respond(301, { location: `${encodePath(req.path)}/${q === '' ? '' : `?${q}`}`, 'cache-control': req.cacheControl ?? IMMUTABLE }, 'moved\n')
      return
    }
    let index: UnixFSEntry | null = null
    try {
      index = await exporter(`${entry.cid.toString()}/index.html`, x.store, { signal: x.signal })
    } catch (err) {
      const mapped = mapExportError(err, 'index.html')
      if (!(mapped instanceof PathNotFoundError)) throw asGatewayError(mapped)
    }
    if (index != null && (index.type === 'file' || index.type === 'raw' || index.type === 'identity')) {
      await serveFile(x, req, r, index, 'index.html')
      return
    }
    await serveListing(x, req, r, entry)
    return
  }
  if (entry.type === 'object') {
    // dag-cbor / dag-json: the block itself, typed, as Kubo's ?format=dag-* would
    const bytes = entry.node
    const type = entry.cid.code === 0x71 ? 'application/vnd.ipld.dag-cbor' : entry.cid.code === 0x0129 ? 'application/vnd.ipld.dag-json' : entry.cid.code === 0x0200 ? 'application/json' : 'application/cbor'
    const etag = `"${entry.cid.toString()}"`
    if (noneMatch(x.header('if-none-match'), etag)) { x.respond(304, ipfsHeaders(req, r, etag)); return }
    x.respond(200, { ...ipfsHeaders(req, r, etag), 'content-type': type, 'content-length': String(bytes.byteLength) }, bytes)
    return
  }
  await serveFile(x, req, r, entry, req.segments.at(-1) ?? null)
}

function encodePath (p: string): string {
  return p.split('/').map(encodeURIComponent).join('/')
}

async function serveFile (x: Exchange, req: ContentRequest, r: Resolved, entry: UnixFSEntry, name: string | null): Promise<void> {
  const etag = `"${entry.cid.toString()}"`
  const headers = ipfsHeaders(req, r, etag)
  if (noneMatch(x.header('if-none-match'), etag)) { x.respond(304, headers); return }
  if (entry.type === 'file' && entry.unixfs.type === 'symlink') {
    // the link's target as text: a gateway never follows a symlink out of the DAG
    const target = entry.unixfs.data ?? new Uint8Array()
    x.respond(200, { ...headers, 'content-type': 'text/plain; charset=utf-8', 'content-length': String(target.byteLength) }, target)
    return
  }
  const size = Number(entry.size)
  const filename = req.query.get('filename')
  const download = req.query.get('download') === 'true'
  const typeName = filename ?? name
  headers['accept-ranges'] = 'bytes'
  if (filename != null || download) headers['content-disposition'] = contentDisposition(download ? 'attachment' : 'inline', filename ?? name ?? entry.cid.toString())
  let start = 0
  let end = size
  let status = 200
  const range = parseRange(x.header('range'), size)
  if (range === 'unsatisfiable') {
    x.respond(416, { ...headers, 'content-range': `bytes */${size}`, 'content-type': 'text/plain; charset=utf-8' }, `range not satisfiable: the file has ${size} bytes\n`)
    return
  }
  if (range != null) {
    ({ start, end } = range)
    status = 206
    headers['content-range'] = `bytes ${start}-${end - 1}/${size}`
  }
  headers['content-length'] = String(end - start)
  let body: AsyncGenerator<Uint8Array> | null = null
  if (!x.head && end > start) {
    if (start === 0 && end === size) x.store.prefetch?.(entry.cid)
    // a short read-ahead bounds memory per request (a slow client holds it all the while); content being
    // fetched needs no more, since the swarm walks ahead of the reader and holds what arrives (core/unixfs/fetch.ts)
    body = entryBytes(x.store, entry, { offset: BigInt(start), length: BigInt(end - start), signal: x.signal, readAhead: READ_AHEAD_BLOCKS })
  }
  // the type: the name's extension, else the first bytes, read before any header goes out (a missing block is still a clean 504)
  const byName = typeName != null ? typeFromName(typeName) : null
  if (byName != null) headers['content-type'] = byName
  else if (body != null && start === 0) {
    // the body's first chunk is the file's start: sniffed there, not read twice
    const first = await body.next()
    headers['content-type'] = typeFromBytes(first.done === true ? new Uint8Array() : first.value)
    body = prepend(first.done === true ? null : first.value, body)
  } else {
    headers['content-type'] = size === 0 ? typeFromBytes(new Uint8Array()) : typeFromBytes(await collect(entryBytes(x.store, entry, { length: BigInt(Math.min(size, SNIFF_BYTES)), signal: x.signal, readAhead: 1 })))
  }
  if (body == null) { x.respond(status, headers, x.head ? undefined : new Uint8Array()); return }
  await x.stream(status, headers, body)
}

async function * prepend (first: Uint8Array | null, rest: AsyncGenerator<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (first != null) yield first
  yield * rest
}

async function collect (source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const p of source) parts.push(p)
  return Buffer.concat(parts)
}

function formatSize (n: bigint | number | null): string {
  if (n == null) return '-'
  const v = Number(n)
  if (v < 1024) return `${v} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let u = -1
  let x = v
  while (x >= 1024 && u < units.length - 1) { x /= 1024; u++ }
  return `${x.toFixed(1)} ${units[u]}`
}

/** The listing: a small HTML page streamed row by row (a HAMT directory may be large). */
async function serveListing (x: Exchange, req: ContentRequest, r: Resolved, dir: UnixFSEntry & { type: 'directory' }): Promise<void> {
  const etag = `W/"DirIndex-${dir.cid.toString()}"`
  const headers = ipfsHeaders(req, r, etag)
  if (noneMatch(x.header('if-none-match'), etag)) { x.respond(304, headers); return }
  headers['content-type'] = 'text/html; charset=utf-8'
  if (x.head) { x.respond(200, headers); return }
  const base = encodePath(req.path)
  const store = x.store
  const signal = x.signal
  const title = escapeHtml(req.path)
  async function * page (): AsyncGenerator<Uint8Array> {
    const enc = (s: string): Uint8Array => Buffer.from(s, 'utf8')
    yield enc(`<!doctype html>\n<html><head><meta charset="utf-8"><title>${title}</title>\n<style>body{font-family:sans-serif;margin:2em}td{padding:.2em 1em}.cid{font-family:monospace;color:#666}</style></head>\n<body><h1>Index of ${title}</h1>\n<p class="cid">${escapeHtml(dir.cid.toString())}</p>\n<table>\n<tr><th>Name</th><th>Size</th><th>CID</th></tr>\n`)
    if (req.segments.length > 0) yield enc(`<tr><td><a href="${escapeHtml(encodePath(['/ipfs', req.cid.toString(), ...req.segments.slice(0, -1)].join('/')))}/">..</a></td><td></td><td></td></tr>\n`)
    try {
      for await (const child of dir.entries({ signal })) {
        let size: bigint | null = null
        let isDir = false
        try {
          const e = await exporter(child.cid, store, { signal })
          isDir = e.type === 'directory'
          size = isDir ? null : e.size
        } catch (err) {
          // a child we cannot read still gets its row; its size is unknown
          if (signal.aborted) throw err
        }
        const href = `${base}/${encodeURIComponent(child.name)}${isDir ? '/' : ''}`
        const cid = child.cid.toString()
        yield enc(`<tr><td><a href="${escapeHtml(href)}">${escapeHtml(child.name)}${isDir ? '/' : ''}</a></td><td>${formatSize(size)}</td><td class="cid"><a href="/ipfs/${escapeHtml(cid)}">${escapeHtml(cid)}</a></td></tr>\n`)
      }
    } catch (err) {
      throw asGatewayError(mapExportError(err, req.path))
    }
    yield enc('</table>\n</body></html>\n')
  }
  await x.stream(200, headers, page())
}

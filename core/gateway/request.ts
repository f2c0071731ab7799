// Parsing what an HTTP client sends the gateway: the URL path and query, and
// the headers that change the answer (Accept, Range, If-None-Match,
// Cache-Control). Pure functions of strings, so the fuzz tests drive them
// directly; each bad input is a GatewayError with its HTTP status, never a
// crash.

import { base36 } from 'multiformats/bases/base36'
import { CID } from 'multiformats/cid'
import { CairnError } from '../util/errors.ts'

/** An answer other than success: its HTTP status and one plain line for the body. */
export class GatewayError extends CairnError {
  constructor (readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message)
  }
}

/** longest URL accepted (Node's own limit on the header block is 16 KiB) */
export const MAX_URL_LENGTH = 8192
/** path segments below the root CID, at most */
export const MAX_SEGMENTS = 256

export type Format = 'raw' | 'car'
export type DagScope = 'block' | 'entity' | 'all'

export interface ContentRequest {
  kind: 'ipfs'
  cid: CID
  /** decoded path segments below the CID */
  segments: string[]
  /** the path as asked, /ipfs/CID/a/b (decoded), for X-Ipfs-Path */
  path: string
  /** the request path ended in '/' */
  trailingSlash: boolean
  query: URLSearchParams
  /** for content reached through a name: what its record's TTL allows (else immutable) */
  cacheControl?: string
}

/** /ipns/NAME[/path]: resolved to a ContentRequest, or answered with the record (?format=ipns-record) */
export interface NameRequest {
  kind: 'ipns'
  /** the name as given (k51…, 12D3Koo…) */
  name: string
  segments: string[]
  trailingSlash: boolean
  query: URLSearchParams
}

export interface RoutingRequest {
  kind: 'providers' | 'peers'
  /** the CID or peer ID as given */
  key: string
}

export type GatewayRequest = ContentRequest | NameRequest | RoutingRequest

export function parseCid (text: string): CID {
  try {
    return text.startsWith('k') ? CID.parse(text, base36) : CID.parse(text)
  } catch {
    throw new GatewayError(400, `invalid CID "${text.slice(0, 100)}"`)
  }
}

function decodeSegment (s: string): string {
  let d: string
  try {
    d = decodeURIComponent(s)
  } catch {
    throw new GatewayError(400, 'malformed percent-encoding in the path')
  }
  if (d.includes('/') || d.includes('\0')) throw new GatewayError(400, 'a path segment holds "/" or NUL')
  return d
}

/** The request line's target (path and query) to what is asked for. */
export function parseTarget (rawUrl: string): GatewayRequest {
  if (rawUrl.length > MAX_URL_LENGTH) throw new GatewayError(414, 'URL too long')
  if (!rawUrl.startsWith('/')) throw new GatewayError(400, 'the request target must be a path')
  const q = rawUrl.indexOf('?')
  const pathPart = q === -1 ? rawUrl : rawUrl.slice(0, q)
  const query = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1))
  const parts = pathPart.split('/').slice(1)
  if (parts[0] === 'routing' && parts[1] === 'v1' && (parts[2] === 'providers' || parts[2] === 'peers')) {
    if (parts.length !== 4 || parts[3] === '') throw new GatewayError(400, `use /routing/v1/${parts[2]}/{${parts[2] === 'peers' ? 'peer-id' : 'cid'}}`)
    return { kind: parts[2], key: decodeSegment(parts[3]) }
  }
  if (parts[0] !== 'ipfs' && parts[0] !== 'ipns') {
    throw new GatewayError(404, 'not found: this gateway serves /ipfs/{cid}[/path], /ipns/{name}[/path] and /routing/v1/')
  }
  if (parts.length < 2 || parts[1] === '') throw new GatewayError(400, parts[0] === 'ipfs' ? 'missing CID: use /ipfs/{cid}[/path]' : 'missing name: use /ipns/{name}[/path]')
  const rest = parts.slice(2)
  const trailingSlash = rest.length > 0 && rest[rest.length - 1] === ''
  const segments = pathSegments(rest)
  if (parts[0] === 'ipns') return { kind: 'ipns', name: decodeSegment(parts[1]), segments, trailingSlash, query }
  const cid = parseCid(decodeSegment(parts[1]))
  return { kind: 'ipfs', cid, segments, path: ['/ipfs', cid.toString(), ...segments].join('/'), trailingSlash, query }
}

/** Decoded, checked path segments ('' dropped). */
export function pathSegments (rest: string[]): string[] {
  const segments = rest.filter(s => s !== '').map(decodeSegment)
  if (segments.length > MAX_SEGMENTS) throw new GatewayError(400, 'path too deep')
  if (segments.some(s => s === '.' || s === '..')) throw new GatewayError(400, 'path segments "." and ".." are not allowed')
  return segments
}

/** The client asked for the name's record itself (trustless: ?format=ipns-record or its media type). */
export function wantsIpnsRecord (formatParam: string | null, accept: string | undefined): boolean {
  if (formatParam === 'ipns-record') return true
  if (formatParam != null && formatParam !== '') return false
  return accept != null && parseAccept(accept).some(i => i.type === 'application/vnd.ipfs.ipns-record')
}

const FORMAT_PARAM: Record<string, Format | null> = { raw: 'raw', car: 'car' }
const MEDIA: Record<string, Format> = { 'application/vnd.ipld.raw': 'raw', 'application/vnd.ipld.car': 'car' }

export interface AcceptCar {
  /** the client asked for dups=y; we still send none, and say so */
  dups: boolean
}

/**
 * The response format: `?format=` wins over Accept (as Kubo). null = the
 * path gateway's deserialized answer. Formats this gateway does not make
 * (tar, dag-json, ...) are 400 by ?format= and ignored in Accept, unless
 * they are all the client takes (406).
 */
export function chooseFormat (formatParam: string | null, accept: string | undefined): Format | null {
  if (formatParam != null && formatParam !== '') {
    // own keys only: ?format=valueOf must not find Object.prototype's
    const f = Object.hasOwn(FORMAT_PARAM, formatParam) ? FORMAT_PARAM[formatParam] : null
    if (f == null) throw new GatewayError(400, `format "${formatParam.slice(0, 40)}" is not supported (use raw or car)`)
    return f
  }
  if (accept == null || accept === '') return null
  let sawIpld = false
  for (const item of parseAccept(accept)) {
    const f = Object.hasOwn(MEDIA, item.type) ? MEDIA[item.type] : null
    if (f != null) {
      if (f === 'car') checkCarParams(item.params)
      return f
    }
    if (item.type.startsWith('application/vnd.ipld.') || item.type === 'application/x-tar' || item.type === 'application/vnd.ipfs.ipns-record') sawIpld = true
    else if (item.type !== '') return null
  }
  if (sawIpld) throw new GatewayError(406, 'this gateway makes application/vnd.ipld.raw, application/vnd.ipld.car or the deserialized content only')
  return null
}

/** Accept's media types in the client's order of preference (q=0 dropped). */
export function parseAccept (accept: string): Array<{ type: string, params: Record<string, string>, q: number }> {
  const items = accept.split(',').slice(0, 64).map((raw, i) => {
    const [type, ...ps] = raw.split(';').map(s => s.trim())
    const params: Record<string, string> = {}
    for (const p of ps) {
      const eq = p.indexOf('=')
      if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1')
    }
    const q = params.q != null ? Number(params.q) : 1
    return { type: type.toLowerCase(), params, q: Number.isFinite(q) ? q : 0, i }
  })
  return items.filter(x => x.q > 0).sort((a, b) => b.q - a.q || a.i - b.i)
}

function checkCarParams (params: Record<string, string>): void {
  if (params.version != null && params.version !== '1') throw new GatewayError(400, `CAR version ${params.version.slice(0, 10)} is not supported (version=1 only)`)
  if (params.order != null && params.order !== 'dfs' && params.order !== 'unk') throw new GatewayError(400, `CAR order "${params.order.slice(0, 20)}" is not supported (dfs)`)
  if (params.dups != null && params.dups !== 'y' && params.dups !== 'n') throw new GatewayError(400, 'CAR dups must be y or n')
}

export function parseDagScope (v: string | null): DagScope {
  if (v == null || v === '') return 'all'
  if (v === 'block' || v === 'entity' || v === 'all') return v
  throw new GatewayError(400, 'dag-scope must be block, entity or all')
}

/** entity-bytes=from:to (inclusive; negative counts from the end; to may be *). */
export interface EntityBytes { from: number, to: number | '*' }

const INT = /^-?\d{1,16}$/

export function parseEntityBytes (v: string | null): EntityBytes | null {
  if (v == null || v === '') return null
  const m = /^([^:]+):([^:]+)$/.exec(v)
  if (m == null || !INT.test(m[1]) || !(m[2] === '*' || INT.test(m[2]))) throw new GatewayError(400, 'entity-bytes must be from:to (integers, to may be *)')
  const from = Number(m[1])
  const to = m[2] === '*' ? '*' : Number(m[2])
  if (to !== '*' && from >= 0 && to >= 0 && to < from) throw new GatewayError(400, 'entity-bytes: to is before from')
  return { from, to }
}

/** entity-bytes against a file of `size` bytes: [start, end) clamped, possibly empty. */
export function entityRange (e: EntityBytes, size: number): { start: number, end: number } {
  const start = e.from < 0 ? Math.max(0, size + e.from) : Math.min(e.from, size)
  const last = e.to === '*' ? size - 1 : e.to < 0 ? size + e.to : Math.min(e.to, size - 1)
  return { start, end: Math.max(start, last + 1) }
}

/**
 * A single `bytes=` range against `size`: null = no usable Range (serve
 * everything: absent, malformed, several ranges or another unit, as RFC 9110
 * lets a server ignore); 'unsatisfiable' = 416.
 */
export function parseRange (header: string | undefined, size: number): { start: number, end: number } | null | 'unsatisfiable' {
  if (header == null) return null
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header)
  if (m == null || (m[1] === '' && m[2] === '')) return null
  if (m[1].length > 16 || m[2].length > 16) return null
  if (m[1] === '') {
    const n = Number(m[2])
    // a suffix of nothing, or of an empty file, has no first byte
    if (n === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - n), end: size }
  }
  const start = Number(m[1])
  const end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1)
  if (m[2] !== '' && Number(m[2]) < start) return null
  if (start >= size) return 'unsatisfiable'
  return { start, end }
}

/** If-None-Match holds `etag` (or *): answer 304. */
export function noneMatch (header: string | undefined, etag: string): boolean {
  if (header == null) return false
  const want = etag.replace(/^W\//, '')
  return header.split(',').some(t => {
    const v = t.trim()
    return v === '*' || v.replace(/^W\//, '') === want
  })
}

/** Cache-Control: only-if-cached: the client wants nothing fetched for it. */
export function onlyIfCached (header: string | undefined): boolean {
  return header != null && header.split(',').some(d => d.trim().toLowerCase() === 'only-if-cached')
}

/** ?filename= : a name for Content-Disposition, with no control characters or quotes to break the header. */
export function dispositionName (name: string): string {
  // eslint-disable-next-line no-control-regex -- replacing control characters is this regex's job
  return name.replace(/[\u0000-\u001f\u007f"\\]/g, '_').slice(0, 255)
}

/** Content-Disposition for a download or a named file: ASCII fallback and RFC 8187 UTF-8. */
export function contentDisposition (kind: 'inline' | 'attachment', name: string): string {
  const clean = dispositionName(name)
  const ascii = clean.replace(/[^\x20-\x7e]/g, '_')
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(clean)}`
}

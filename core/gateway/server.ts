// The seed's HTTP gateway (`seed --gateway [HOST:]PORT`, config
// gateway.listen): read-only, no token, loopback unless a host is named.
// Dispatches to the path gateway (path.ts), the trustless gateway
// (trustless.ts) and routing v1 (routing.ts); bounds what clients can make
// it hold (limits.ts); shows each request to the seed's monitor. Content not
// held is fetched from the swarm through the same reader as `cat`
// (core/unixfs/fetch.ts), unless gateway.offline.

import http from 'node:http'
import { escapeTerminal } from '../util/escape.ts'
import { openReader, type ReaderHost } from '../unixfs/fetch.ts'
import { AbortedError, errorMessage, UsageError } from '../util/errors.ts'
import { HttpExchange } from './exchange.ts'
import { BlockPool } from './pool.ts'
import { FETCH_SLOTS, QUEUE_PER_SLOT, QUEUE_WAIT_MS, RETRY_AFTER_S, Slots } from './limits.ts'
import { asGatewayError, servePath } from './path.ts'
import { GatewayError, chooseFormat, onlyIfCached, parseCid, parseTarget, pathSegments, wantsIpnsRecord, type ContentRequest, type NameRequest } from './request.ts'
import { BadRecordError, NameNotFoundError } from '../names/record.ts'
import type { NameService, Resolved } from '../names/service.ts'
import { servePeers, serveProviders, type RoutingHost } from './routing.ts'
import { serveCar, serveRaw } from './trustless.ts'
import type { SeedMonitor } from '../daemon/monitor.ts'

/** Content reached through a name may change: cache it as long as the record's TTL says, never as immutable. */
export const nameCacheControl = (ttlMs: number): string => `public, max-age=${Math.max(0, Math.floor(ttlMs / 1000))}`

/** the empty identity CID: clients probe a gateway with it */
const PROBE_CID = 'bafkqaaa'
/** a client must send its request headers within this */
const HEADERS_TIMEOUT_MS = 10_000
/** the status counted for a request whose client left before the answer was complete (nginx's) */
const CLIENT_LEFT = 499
/** an idle kept-alive connection is closed after this */
const KEEP_ALIVE_MS = 5_000

export interface GatewayOptions {
  /** serve held content only */
  offline: boolean
  /** ms a request may wait for content nobody serves before 504 */
  timeoutMs: number
  /** requests served at once */
  maxRequests: number
}

/** Parses 'PORT' or 'HOST:PORT' ([v6]:PORT); a bare port binds 127.0.0.1. */
export function parseGatewayAddress (text: string): { host: string, port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text)
  const port = Number(m?.[2])
  if (m == null || port > 65535) throw new UsageError(`--gateway needs PORT or HOST:PORT (got "${escapeTerminal(text)}")`)
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1'), port }
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  'access-control-allow-headers': 'Content-Type, Range, User-Agent, X-Requested-With, Accept, If-None-Match, Cache-Control',
  'access-control-expose-headers': 'Content-Range, Content-Length, X-Ipfs-Path, X-Ipfs-Roots, X-Chunked-Output, X-Stream-Output, Etag'
}

export class Gateway {
  private server: http.Server | null = null
  private readonly slots: Slots
  private readonly fetchSlots = new Slots(FETCH_SLOTS, FETCH_SLOTS * QUEUE_PER_SLOT)
  private address: { host: string, port: number } | null = null

  constructor (private readonly host: ReaderHost & { monitor?: SeedMonitor, names?: NameService }, private readonly o: GatewayOptions) {
    this.slots = new Slots(o.maxRequests, o.maxRequests * QUEUE_PER_SLOT)
  }

  /** Listens; returns HOST:PORT as bound (port 0 picks one). */
  async start (host: string, port: number): Promise<string> {
    const server = http.createServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: 0, keepAliveTimeout: KEEP_ALIVE_MS }, (req, res) => { void this.handle(req, res) })
    server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nbad request\n')
      else socket.destroy()
    })
    this.server = server
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, resolve) })
    const a = server.address()
    // a TCP listener's address is an AddressInfo (a string only for a pipe or socket path)
    if (a == null || typeof a === 'string') throw new Error(`the gateway is not listening on TCP (${String(a)})`)
    this.address = { host: a.address, port: a.port }
    return `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`
  }

  /** A name's record, resolved as `cairn name resolve` does; a name that does not resolve in time is 504. */
  private async resolveName (name: string, signal: AbortSignal, nocache = false): Promise<{ resolved: Resolved, record: Uint8Array }> {
    const names = this.host.names
    if (names == null) throw new GatewayError(501, '/ipns/ needs the seed\'s name service')
    try {
      return await names.resolveRecord(name, { signal, timeoutMs: this.o.timeoutMs, nocache })
    } catch (err) {
      if (err instanceof UsageError || err instanceof BadRecordError) throw new GatewayError(400, err.message)
      if (err instanceof NameNotFoundError) throw new GatewayError(504, err.message)
      throw err
    }
  }

  /** /ipns/NAME/path → the content it points at, with X-Ipfs-Path as asked and a cache time from the record's TTL. */
  private async nameTarget (t: NameRequest, signal: AbortSignal): Promise<ContentRequest> {
    const { resolved } = await this.resolveName(t.name, signal)
    const m = /^\/ipfs\/([^/]+)(.*)$/.exec(resolved.value)
    if (m == null) throw new GatewayError(502, `${t.name} points at ${resolved.value.slice(0, 100)}, not an /ipfs/ path`)
    const segments = [...pathSegments(m[2].split('/')), ...t.segments]
    return { kind: 'ipfs', cid: parseCid(m[1]), segments, path: ['/ipns', t.name, ...t.segments].join('/'), trailingSlash: t.trailingSlash, query: t.query, cacheControl: nameCacheControl(resolved.ttlMs) }
  }

  /** The gateway as a multiaddr (for routing answers): /ip4/H/tcp/P/http. */
  httpAddress (): string | null {
    if (this.address == null) return null
    const { host, port } = this.address
    const family = host.includes(':') ? 'ip6' : 'ip4'
    const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
    return `/${family}/${h}/tcp/${port}/http`
  }

  async stop (): Promise<void> {
    const server = this.server
    if (server == null) return
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }

  private async handle (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const abort = new AbortController()
    // the client left before the answer was complete: everything it held is let go
    res.on('close', () => { if (!res.writableFinished) abort.abort(new AbortedError('client disconnected')) })
    const url = req.url ?? '/'
    // a stranger's string: the monitor escapes it where it is shown (its log, the dashboard's rows)
    const shown = url.length > 200 ? `${url.slice(0, 200)}…` : url
    const request = this.host.monitor?.startRequest(req.method ?? '?', shown)
    let status = 0
    const finish = (): void => { request?.end(status) }
    res.on('close', finish)
    let releaseSlot: (() => void) | null = null
    let readerDone: ((ok: boolean) => void) | null = null
    // set from inside the reader's beforeFetch: a field, so the finally below does not take it for never set
    const fetchSlot: { release: (() => void) | null } = { release: null }
    /** set once the answer is complete: a read still in flight must not take a fetch slot after it */
    let finished = false
    const plain = (code: number, line: string, extra: Record<string, string> = {}): void => {
      status = code
      if (res.headersSent || res.destroyed) return
      const body = Buffer.from(line.replace(/[\r\n]+/g, ' ') + '\n', 'utf8')
      res.writeHead(code, { ...CORS, 'content-type': 'text/plain; charset=utf-8', 'content-length': String(body.byteLength), ...extra })
      res.end(req.method === 'HEAD' ? undefined : body)
    }
    try {
      if (req.method === 'OPTIONS') { status = 204; res.writeHead(204, { ...CORS, 'access-control-max-age': '86400' }).end(); return }
      if (req.method !== 'GET' && req.method !== 'HEAD') { plain(405, 'method not allowed: this gateway is read-only', { allow: 'GET, HEAD, OPTIONS' }); return }
      const target = parseTarget(url)
      releaseSlot = await this.slots.acquire(QUEUE_WAIT_MS, abort.signal)
      if (releaseSlot == null) {
        if (abort.signal.aborted) return
        plain(429, 'too many requests: try again shortly', { 'retry-after': String(RETRY_AFTER_S) })
        return
      }
      const routing: RoutingHost = {
        node: this.host.node,
        httpAddress: () => this.httpAddress(),
        holds: async cid => await this.host.blocks.has(cid)
      }
      if (target.kind === 'ipns' && wantsIpnsRecord(target.query.get('format'), req.headers.accept)) {
        const r = await this.resolveName(target.name, abort.signal, true)
        status = 200
        res.writeHead(200, { ...CORS, 'content-type': 'application/vnd.ipfs.ipns-record', 'content-length': String(r.record.byteLength), 'cache-control': nameCacheControl(r.resolved.ttlMs), 'x-ipfs-path': encodeURI(`/ipns/${target.name}`), vary: 'Accept' })
        res.end(req.method === 'HEAD' ? undefined : r.record)
        request?.sent(r.record.byteLength)
        return
      }
      const content = target.kind === 'ipns' ? await this.nameTarget(target, abort.signal) : target
      if (content.kind !== 'ipfs') {
        const x = new HttpExchange(req, res, this.host.blocks, abort.signal, n => request?.sent(n), CORS)
        if (content.kind === 'providers') await serveProviders(x, routing, content.key)
        else await servePeers(x, routing, content.key)
        status = x.status
        return
      }
      const format = chooseFormat(content.query.get('format'), req.headers.accept)
      const held = this.o.offline || onlyIfCached(req.headers['cache-control']) || content.cid.toString() === PROBE_CID
      if (onlyIfCached(req.headers['cache-control']) && !(await this.host.blocks.has(content.cid))) {
        plain(412, `${content.cid.toString()} is not held here (only-if-cached)`)
        return
      }
      const reader = openReader({
        ...this.host,
        beforeFetch: async () => {
          // each running fetch may hold tens of MiB: few at once
          const release = await this.fetchSlots.acquire(QUEUE_WAIT_MS, abort.signal)
          if (release == null) throw new GatewayError(503, 'too many fetches from the swarm in progress: try again shortly', { 'retry-after': String(RETRY_AFTER_S) })
          if (finished) { release(); throw new AbortedError('the request has ended') }
          fetchSlot.release = release
        }
      }, content.cid, { offline: held, idleTimeoutMs: this.o.timeoutMs, signal: abort.signal })
      readerDone = reader.done
      // held raw leaves are read into a few reused buffers (pool.ts)
      const pool = new BlockPool(this.host.blocks)
      const x = new HttpExchange(req, res, pool.reader(reader.store), abort.signal, n => request?.sent(n), CORS, chunk => { pool.written(chunk) })
      let ok = false
      try {
        if (format === 'raw') await serveRaw(x, content)
        else if (format === 'car') await serveCar(x, content)
        else await servePath(x, content)
        ok = true
      } finally {
        status = x.status
        finished = true
        const d = readerDone
        readerDone = null
        d?.(ok)
      }
    } catch (err) {
      const e = asGatewayError(err)
      if (abort.signal.aborted) { status = CLIENT_LEFT; return }
      if (res.headersSent) {
        // the status went out already: cut the connection so the client cannot take a truncated body for a whole one
        this.host.monitor?.log(`gateway: ${shown}: ${errorMessage(e)}`)
        res.destroy()
        return
      }
      if (e instanceof GatewayError) plain(e.status, e.message, e.headers)
      else {
        // a bug or an unexpected failure: logged for the operator; the client gets one line, no stack
        this.host.monitor?.log(`gateway: ${shown}: internal error: ${errorMessage(e)}`)
        plain(500, 'internal error')
      }
    } finally {
      finished = true
      releaseSlot?.()
      const d = readerDone
      d?.(false)
      fetchSlot.release?.()
      // whatever still runs for this request (a read-ahead, a fetch) stops now
      if (!abort.signal.aborted) abort.abort(new AbortedError('request ended'))
    }
  }
}

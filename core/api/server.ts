// The daemon's API server (see protocol.ts). Local only: a Unix socket, or
// 127.0.0.1 with a Host check; a request without the token is refused.

import { randomBytes, timingSafeEqual } from 'node:crypto'
import fs from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { CairnError, RepoError, describeFsError, errorMessage } from '../util/errors.ts'
import { writeFileAtomic } from '../../storage/atomic-file.ts'
import { API_FILE, API_PREFIX, API_SOCKET, BYTE_METHODS, ERROR_TRAILER, PARAMS_HEADER, TOKEN_HEADER, type ApiEndpoint, type WireError } from './protocol.ts'
import type { Readable } from 'node:stream'
import { checkParams } from './contract.ts'
import { tcpAddress } from '../util/address.ts'

/** Longest Unix socket path Linux takes (sun_path is 108 bytes with the NUL). */
const MAX_SOCKET_PATH = 107
/**
 * a JSON params body, at most: params are paths, CIDs and flags (a few
 * hundred bytes; `add` of thousands of paths stays well under). A body past
 * it is refused with 413 before more is read. Bytes streamed to a method
 * (params in the header, as `add` from stdin) are the method's to bound.
 */
export const MAX_PARAMS_BYTES = 1024 * 1024

/** A params body over MAX_PARAMS_BYTES. */
export class RequestTooLargeError extends CairnError {}

export interface CallContext {
  params: Record<string, unknown>
  /** the request body when params came in the header (a stream such as stdin) */
  body: Readable | null
  signal: AbortSignal
  progress: (p: unknown) => void
  item: (i: unknown) => void
}

export type Handler = (c: CallContext) => Promise<unknown> | AsyncIterable<Uint8Array>

function wireError (err: unknown): WireError {
  if (err instanceof CairnError) return { name: err.name, message: err.message, exitCode: err.exitCode }
  return { name: 'Error', message: errorMessage(err), exitCode: 1 }
}

export class ApiServer {
  private server: http.Server | null = null
  private endpoint: ApiEndpoint | null = null
  private readonly controllers = new Set<AbortController>()

  constructor (private readonly repoRoot: string, private readonly handlers: Record<string, Handler>) {}

  /** Listens on `listen` ('unix' or /ip4/127.0.0.1/tcp/N) and writes the api file. */
  async start (listen: string): Promise<ApiEndpoint> {
    const token = randomBytes(32).toString('base64url')
    const server = http.createServer((req, res) => { void this.handle(req, res, token) })
    this.server = server
    let endpoint: ApiEndpoint
    const socketPath = path.join(this.repoRoot, API_SOCKET)
    if (listen === 'unix' && socketPath.length <= MAX_SOCKET_PATH) {
      await fs.rm(socketPath, { force: true }) // left by a daemon that was killed
      // created 0600 from the start (umask), not chmod-ed afterwards
      const umask = process.umask(0o177)
      try {
        await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(socketPath, resolve) })
      } finally {
        process.umask(umask)
      }
      await fs.chmod(socketPath, 0o600)
      endpoint = { socket: socketPath, http: null, token, pid: process.pid }
    } else {
      // a repo path too long for a socket falls back to loopback TCP
      const port = listen === 'unix' ? 0 : Number(listen.split('/')[4])
      await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve) })
      endpoint = { socket: null, http: `127.0.0.1:${tcpAddress(server).port}`, token, pid: process.pid }
    }
    this.endpoint = endpoint
    const file = path.join(this.repoRoot, API_FILE)
    try {
      // no flush: after a crash the endpoint is stale anyway
      await writeFileAtomic(file, JSON.stringify(this.endpoint) + '\n', { durability: 'none', mode: 0o600 })
    } catch (err) {
      throw new RepoError(describeFsError(err, `cannot write ${file}`))
    }
    return endpoint
  }

  private refuse (res: http.ServerResponse, status: number, message: string): void {
    res.writeHead(status, { 'content-type': 'application/x-ndjson' })
    res.end(JSON.stringify({ error: { name: 'ApiAccessError', message, exitCode: 1 } }) + '\n')
  }

  private async handle (req: http.IncomingMessage, res: http.ServerResponse, token: string): Promise<void> {
    // credentials first: a token in the header, and over TCP a loopback Host
    // (a web page cannot reach us by DNS rebinding) and no browser Origin
    const given = Buffer.from(String(req.headers[TOKEN_HEADER] ?? '').replace(/^Bearer /, ''))
    const want = Buffer.from(token)
    if (given.length !== want.length || !timingSafeEqual(given, want)) return this.refuse(res, 401, 'missing or wrong API token')
    if (this.endpoint?.http != null) {
      const host = String(req.headers.host ?? '')
      const port = this.endpoint.http.split(':')[1]
      if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return this.refuse(res, 403, `Host ${host} refused`)
    }
    if (req.headers.origin != null) return this.refuse(res, 403, 'requests from web pages are refused')
    if (req.method !== 'POST' || req.url == null || !req.url.startsWith(API_PREFIX)) return this.refuse(res, 404, 'no such API call')
    const method = req.url.slice(API_PREFIX.length)
    const handler = Object.hasOwn(this.handlers, method) ? this.handlers[method] : undefined
    if (handler == null) return this.refuse(res, 404, `no API method "${method}"`)

    const controller = new AbortController()
    this.controllers.add(controller)
    res.on('close', () => { if (!res.writableFinished) controller.abort() })
    try {
      let raw: unknown
      let body: Readable | null = null
      const header = req.headers[PARAMS_HEADER]
      if (typeof header === 'string') {
        raw = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'))
        body = req
      } else {
        const chunks: Buffer[] = []
        let size = 0
        for await (const c of req) {
          // a request body without an encoding set comes as Buffers
          if (!Buffer.isBuffer(c)) throw new TypeError('request body chunk is not bytes')
          size += c.byteLength
          if (size > MAX_PARAMS_BYTES) {
            this.refuse(res, 413, `request body over ${MAX_PARAMS_BYTES} bytes`)
            req.destroy()
            return
          }
          chunks.push(c)
        }
        raw = chunks.length === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString('utf8'))
      }
      const params = checkParams(method, raw)
      if (BYTE_METHODS.has(method)) await this.sendBytes(res, handler, params, body, controller.signal)
      else await this.sendJson(res, handler, params, body, controller.signal)
    } catch (err) {
      if (!res.headersSent) {
        res.writeHead(400, { 'content-type': 'application/x-ndjson' })
        res.end(JSON.stringify({ error: wireError(err) }) + '\n')
      }
    } finally {
      this.controllers.delete(controller)
    }
  }

  private async sendJson (res: http.ServerResponse, handler: Handler, params: Record<string, unknown>, body: Readable | null, signal: AbortSignal): Promise<void> {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' })
    // a handler's background work may report after the reply ended (a client gone, a fetch closed): drop it, never crash the seed
    const line = (obj: unknown): void => { if (!res.writableEnded && !res.destroyed) res.write(JSON.stringify(obj) + '\n') }
    try {
      // a JSON method's handler answers a promise (a byte method's, bytes: BYTE_METHODS sends those to sendBytes)
      const result: unknown = await handler({ params, body, signal, progress: p => line({ progress: p }), item: i => line({ item: i }) })
      line({ result: result ?? null })
    } catch (err) {
      line({ error: wireError(err) })
    }
    res.end()
  }

  private async sendBytes (res: http.ServerResponse, handler: Handler, params: Record<string, unknown>, body: Readable | null, signal: AbortSignal): Promise<void> {
    const source = handler({ params, body, signal, progress: () => {}, item: () => {} })
    if (source instanceof Promise) {
      void source.catch(() => {})
      throw new CairnError('a byte method\'s handler answered JSON (BYTE_METHODS and the handlers disagree)')
    }
    const iterator = source[Symbol.asyncIterator]()
    let first: IteratorResult<Uint8Array>
    try {
      first = await iterator.next()
    } catch (err) {
      // nothing sent yet: an ordinary JSON error
      res.writeHead(200, { 'content-type': 'application/x-ndjson', 'x-cairn-kind': 'error' })
      res.end(JSON.stringify({ error: wireError(err) }) + '\n')
      return
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', trailer: ERROR_TRAILER })
    // a client gone mid-stream never drains: the wait ends on close too (the
    // call's signal aborts then), where waiting for 'drain' alone hung the
    // call forever, and with it the root it kept in `fetching`
    const write = async (chunk: Uint8Array): Promise<void> => {
      if (res.write(chunk) || signal.aborted) return
      await new Promise<void>(resolve => {
        const done = (): void => { res.off('drain', done); signal.removeEventListener('abort', done); resolve() }
        res.once('drain', done)
        signal.addEventListener('abort', done, { once: true })
      })
    }
    let finished = false
    try {
      if (first.done !== true) await write(first.value)
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
        if (signal.aborted) return
        await write(next.value)
      }
      finished = true
    } catch (err) {
      finished = true
      res.addTrailers({ [ERROR_TRAILER]: Buffer.from(JSON.stringify(wireError(err))).toString('base64url') })
    } finally {
      // stopped early (the client left): the handler's own cleanup runs now,
      // not whenever a suspended generator is collected
      if (!finished) await iterator.return?.(undefined)?.catch(() => {})
    }
    res.end()
  }

  /** Stops listening, aborts calls in flight, removes the api file and socket. */
  async stop (): Promise<void> {
    for (const c of this.controllers) c.abort()
    const server = this.server
    if (server != null) {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
    await fs.rm(path.join(this.repoRoot, API_FILE), { force: true })
    if (this.endpoint?.socket != null) await fs.rm(this.endpoint.socket, { force: true })
  }
}

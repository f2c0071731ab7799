// The Kubo RPC server (`cairn seed --rpc [HOST:]PORT|unix[:PATH]`, config rpc.listen):
// the subset of Kubo's /api/v0 that IPFS Cluster's connector and
// kubo-rpc-client use, answered by cairn's own core functions. Checks in
// Kubo's order of concern: a web page's request (Origin, Referer, a foreign
// Host) is refused with 403, a missing or wrong credential with 401, any
// method but POST with 405, a call cairn does not answer with 404. Without a
// token (rpc.auth none, loopback only) or on a Unix socket (mode 0600: the
// file's permissions are the credential, and no web page reaches a socket,
// so its Host is not checked) the credential check is skipped: what IPFS
// Cluster, which sends none, can use.

import fs from 'node:fs/promises'
import http from 'node:http'
import { authorized, refusedOrigin } from './auth.ts'
import { Params, RpcNotSupportedError, sendError } from './wire.ts'
import { nodeEndpoints } from './node.ts'
import { contentEndpoints } from './content.ts'
import { blockEndpoints } from './blocks.ts'
import { pinEndpoints } from './pins.ts'
import { repoEndpoints } from './repo.ts'
import { nameEndpoints } from './names.ts'
import type { Services } from '../api/handlers.ts'
import type { Endpoint, RpcContext } from './call.ts'

export { parseRpcAddress } from './listen.ts'
import type { RpcAddress } from './listen.ts'

export const API_PATH = '/api/v0/'

export type { Call, Endpoint, RpcContext } from './call.ts'

export class KuboRpcServer {
  private server: http.Server | null = null
  private readonly controllers = new Set<AbortController>()
  private readonly endpoints: Record<string, Endpoint>
  private port = 0
  private host = ''
  private socket: string | null = null

  /** `token`: what every request must carry; null: nothing (a Unix socket, or rpc.auth none on loopback) */
  constructor (services: Services, private readonly token: string | null) {
    const ctx: RpcContext = { services, address: () => this.address() }
    this.endpoints = {
      ...nodeEndpoints(ctx),
      ...contentEndpoints(ctx),
      ...blockEndpoints(ctx),
      ...pinEndpoints(ctx),
      ...repoEndpoints(ctx),
      ...nameEndpoints(ctx)
    }
  }

  /** HOST:PORT, or unix:PATH */
  address (): string {
    if (this.socket != null) return `unix:${this.socket}`
    return `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`
  }

  /** Listens; resolves to HOST:PORT or unix:PATH. */
  async start (at: RpcAddress): Promise<string> {
    const server = http.createServer((req, res) => { void this.handle(req, res) })
    // a 512 MiB add is one long request: no timeout of Node's own ends it
    server.requestTimeout = 0
    // idle keep-alive connections are the client's to close, as Go's server
    // (Kubo's) leaves them: Node's 5 s close raced clients that reuse a
    // connection as it runs out (kubo-rpc-client under load: "other side
    // closed" on a request sent just as the seed closed the socket)
    server.keepAliveTimeout = 0
    this.server = server
    const listen = async (start: (ready: () => void) => void): Promise<void> => {
      await new Promise<void>((resolve, reject) => { server.once('error', reject); start(resolve) })
    }
    if (at.socket != null) {
      // a socket left by a seed that was killed is replaced; any other file is not
      const old = await fs.lstat(at.socket).catch(() => null)
      if (old != null && !old.isSocket()) throw new Error(`${at.socket} exists and is not a socket`)
      if (old != null) await fs.rm(at.socket)
      // created 0600 from the start (umask), not chmod-ed afterwards: only this user (and root) may connect
      const umask = process.umask(0o177)
      try {
        await listen(ready => server.listen(at.socket, ready))
      } finally {
        process.umask(umask)
      }
      await fs.chmod(at.socket, 0o600)
      this.socket = at.socket
    } else {
      await listen(ready => server.listen(at.port, at.host, ready))
      const a = server.address()
      // a TCP listener's address is an AddressInfo (a string only for a pipe or socket path)
      if (a == null || typeof a === 'string') throw new Error(`the RPC API is not listening on TCP (${String(a)})`)
      this.port = a.port
      this.host = at.host
    }
    return this.address()
  }

  private refuse (res: http.ServerResponse, status: number, message: string): void {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' })
    res.end(`${status} - ${message}\n`)
  }

  private async handle (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const origin = refusedOrigin(req, this.socket != null ? null : this.port)
    if (origin != null) return this.refuse(res, 403, `Forbidden: ${origin}`)
    if (this.token != null && !authorized(req.headers.authorization, this.token)) {
      res.setHeader('WWW-Authenticate', 'Basic realm="cairn kubo rpc", charset="UTF-8"')
      return this.refuse(res, 401, 'Unauthorized: give the token of the repo\'s rpc-token file (Authorization: Bearer <token>, or basic auth as cairn:<token>)')
    }
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (!url.pathname.startsWith(API_PATH)) return this.refuse(res, 404, 'Not Found: the Kubo RPC is under /api/v0/')
    if (req.method !== 'POST') return this.refuse(res, 405, 'Method Not Allowed: the Kubo RPC takes POST only')
    const name = url.pathname.slice(API_PATH.length).replace(/\/+$/, '')
    const endpoint = Object.hasOwn(this.endpoints, name) ? this.endpoints[name] : undefined
    if (endpoint == null) {
      req.resume()
      return sendError(res, new RpcNotSupportedError(`cairn does not support /api/v0/${name} (see docs/kubo-rpc.md for what it answers)`))
    }
    const controller = new AbortController()
    this.controllers.add(controller)
    res.on('close', () => { if (!res.writableFinished) controller.abort() })
    try {
      await endpoint({ params: new Params(url.search), req, res, signal: controller.signal })
    } catch (err) {
      sendError(res, err)
    } finally {
      this.controllers.delete(controller)
      // a body the endpoint did not read (an error before it) is drained so the connection can close cleanly
      if (!req.readableEnded) req.resume()
    }
  }

  async stop (): Promise<void> {
    for (const c of this.controllers) c.abort()
    const server = this.server
    if (server == null) return
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
    if (this.socket != null) await fs.rm(this.socket, { force: true })
  }
}

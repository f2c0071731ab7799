// The Kubo RPC server (`cairn seed --rpc [HOST:]PORT`, config rpc.listen):
// the subset of Kubo's /api/v0 that IPFS Cluster's connector and
// kubo-rpc-client use, answered by cairn's own core functions. Checks in
// Kubo's order of concern: a web page's request (Origin, Referer, a foreign
// Host) is refused with 403, a missing or wrong credential with 401, any
// method but POST with 405, a call cairn does not answer with 404.

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

export const API_PATH = '/api/v0/'

export type { Call, Endpoint, RpcContext } from './call.ts'

export class KuboRpcServer {
  private server: http.Server | null = null
  private readonly controllers = new Set<AbortController>()
  private readonly endpoints: Record<string, Endpoint>
  private port = 0
  private host = ''

  constructor (services: Services, private readonly token: string) {
    const ctx: RpcContext = { services, address: () => `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}` }
    this.endpoints = {
      ...nodeEndpoints(ctx),
      ...contentEndpoints(ctx),
      ...blockEndpoints(ctx),
      ...pinEndpoints(ctx),
      ...repoEndpoints(ctx),
      ...nameEndpoints(ctx)
    }
  }

  /** Listens; resolves to HOST:PORT. */
  async start (host: string, port: number): Promise<string> {
    const server = http.createServer((req, res) => { void this.handle(req, res) })
    // a 512 MiB add is one long request: no timeout of Node's own ends it
    server.requestTimeout = 0
    this.server = server
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, resolve) })
    this.port = (server.address() as { port: number }).port
    this.host = host
    return `${host.includes(':') ? `[${host}]` : host}:${this.port}`
  }

  private refuse (res: http.ServerResponse, status: number, message: string): void {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' })
    res.end(`${status} - ${message}\n`)
  }

  private async handle (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const origin = refusedOrigin(req, this.port)
    if (origin != null) return this.refuse(res, 403, `Forbidden: ${origin}`)
    if (!authorized(req.headers.authorization, this.token)) {
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
  }
}

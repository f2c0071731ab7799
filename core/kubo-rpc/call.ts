// One Kubo RPC call as the endpoint modules see it (node.ts, content.ts,
// blocks.ts, pins.ts, repo.ts): kept apart from server.ts, which imports them.

import type http from 'node:http'
import type { ReadContext, Services } from '../api/handlers.ts'
import type { Params } from './wire.ts'

export interface Call {
  params: Params
  req: http.IncomingMessage
  res: http.ServerResponse
  /** aborted when the client goes away or the seed stops */
  signal: AbortSignal
}

/** How an endpoint reads content: through the seed's fetch path, or the repo alone with Kubo's `offline` option. */
export function readContext (c: Call): ReadContext {
  return { params: { offline: c.params.bool(['offline'], false) }, signal: c.signal, progress: () => {} }
}

/** One endpoint: it answers through the wire helpers (sendJson, sendStream, sendBytes). */
export type Endpoint = (c: Call) => Promise<void>

export interface RpcContext {
  services: Services
  /** HOST:PORT the RPC listens on (config/show's Addresses.API) */
  address: () => string
}

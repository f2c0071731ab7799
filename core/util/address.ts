// Where a listening server is bound, typed: node's server.address() answers
// an AddressInfo, a pipe's path or null, and only the caller knows which.

import type { AddressInfo, Server } from 'node:net'

/** The TCP address a listening server is bound to; throws if it listens on a pipe or not at all. */
export function tcpAddress (server: Pick<Server, 'address'>): AddressInfo {
  const a = server.address()
  if (a == null || typeof a === 'string') throw new Error(`the server is not listening on TCP (${String(a)})`)
  return a
}

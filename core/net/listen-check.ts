// Why a node could not listen, in one line. libp2p reports a failed listen
// as one error whose message holds every address's stack trace and advice
// about its own `transportManager.faultTolerance` setting, which is no use to
// someone who started a second seed on the default port. When libp2p fails
// to listen, each TCP address is tried once more with a plain socket to learn
// which one failed and why (in use, not this machine's, not allowed).

import net from 'node:net'
import { CairnError } from '../util/errors.ts'

/** An address to listen on is taken, not this machine's, or needs privileges. */
export class ListenError extends CairnError {}

const TCP_ADDR = /^\/(ip4|ip6)\/([^/]+)\/tcp\/(\d+)(?:\/|$)/

/** The error code of listening on `host:port` now (null: it works). */
async function probe (host: string, port: number): Promise<string | null> {
  return await new Promise(resolve => {
    const server = net.createServer()
    server.once('error', (err: NodeJS.ErrnoException) => { resolve(err.code ?? 'ERROR') })
    server.listen({ host, port, exclusive: true }, () => { server.close(() => { resolve(null) }) })
  })
}

/**
 * The ListenError for the first of `addrs` that cannot be listened on, or
 * null when every one can (the failure was something else). Port 0 always
 * works and is not tried.
 */
export async function explainListenFailure (addrs: string[]): Promise<ListenError | null> {
  for (const a of addrs) {
    const m = TCP_ADDR.exec(a)
    if (m == null || m[3] === '0') continue
    const code = await probe(m[2], Number(m[3]))
    if (code === 'EADDRINUSE') {
      return new ListenError(`${a} is already in use, most likely by another cairn seed: stop that seed, or give this one another address ` +
        `(cairn seed --listen /${m[1]}/${m[2]}/tcp/0 picks a free port; config addresses.listen keeps it)`)
    }
    if (code === 'EADDRNOTAVAIL') return new ListenError(`cannot listen on ${a}: ${m[2]} is not an address of this machine (cairn seed --listen, or config addresses.listen)`)
    if (code === 'EACCES') return new ListenError(`cannot listen on ${a}: ports below 1024 need privileges (cairn seed --listen with a higher port, or config addresses.listen)`)
    if (code != null) return new ListenError(`cannot listen on ${a} (${code}) (cairn seed --listen, or config addresses.listen)`)
  }
  return null
}

// Why a dial to an address the user gave failed, in words that fit the
// cause: a malformed address is a usage error, a closed port says the
// connection was refused, and only a connection the peer accepted and then
// dropped during the handshake gets the hint about its deny list (that is
// what a peer refusing us by deny list or trusted-only mode looks like).

import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { errorMessage, UsageError } from '../util/errors.ts'

/** Parses an address given on the command line; a malformed one is a usage error (exit 2). */
export function parseUserMultiaddr (addr: string, flag: string): Multiaddr {
  try {
    const ma = multiaddr(addr)
    // a /p2p/ part must be a peer ID (libp2p's bootstrap fails at start otherwise)
    for (const c of ma.getComponents()) if (c.name === 'p2p') peerIdFromString(c.value ?? '')
    return ma
  } catch (err) {
    throw new UsageError(`${flag} ${addr} is not a valid multiaddr (${errorMessage(err)})`)
  }
}

/** socket errors that happen before any peer answered: nobody's deny list is involved */
const BEFORE_CONNECT: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing listens there: is the seed running, and is the port right?)',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'the network is unreachable',
  ETIMEDOUT: 'the connection timed out'
}

/** errors libp2p raises when the peer accepted the connection, then closed it in the handshake (as do ECONNRESET and EPIPE) */
const DROPPED_IN_HANDSHAKE = new Set(['EncryptionFailedError', 'MuxerUnavailableError', 'UnexpectedPeerError', 'ConnectionClosedError', 'StreamResetError'])

/** One sentence for a failed dial of `addr`. */
export function describeDialFailure (addr: string, err: unknown): string {
  const code = errnoCode(err) ?? (typeof err === 'object' && err != null && 'cause' in err ? errnoCode(err.cause) : undefined)
  if (code != null && Object.hasOwn(BEFORE_CONNECT, code)) return `cannot connect to ${addr}: ${BEFORE_CONNECT[code]}`
  if ((err instanceof Error && DROPPED_IN_HANDSHAKE.has(err.name)) || code === 'ECONNRESET' || code === 'EPIPE') {
    return `cannot connect to ${addr}: the peer closed the connection during the handshake (${errorMessage(err)}); a peer that refuses us, by its deny list or trusted-only mode, does this`
  }
  return `cannot connect to ${addr}: ${errorMessage(err)}`
}

/** The `code` of a Node system error (ECONNREFUSED, ...), on whatever was thrown. */
function errnoCode (err: unknown): string | undefined {
  return typeof err === 'object' && err != null && 'code' in err && typeof err.code === 'string' ? err.code : undefined
}

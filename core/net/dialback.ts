// /cairn/dialback/1.0.0: "can you dial me at these addresses?" — cairn's
// reachability check (config nat.autonat), in place of @libp2p/autonat.
//
// Why not libp2p's AutoNAT v1: its server dials the asker through the
// connection manager without `force`, so it gets back the connection the
// question came on (never the address asked about), calls that a failure,
// and then closes that connection — every check dropped the asker's link to
// the server (seen here as peers connecting and leaving every second). This
// protocol forces a fresh connection, closes only that one, and keeps
// AutoNAT's safety rules: only addresses on the asker's own IP (no dialling
// third parties on request), never over a relayed connection, a few
// addresses per request, one request per peer at a time.
//
//   client → server   one frame: JSON { addrs: [multiaddr without /p2p, ...] }
//   server → client   one frame: JSON { results: [{ addr, ok }] }

import * as lp from 'it-length-prefixed'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'
import * as v from 'valibot'
import { toError } from '../util/errors.ts'

export const DIALBACK_PROTOCOL = '/cairn/dialback/1.0.0'
/** addresses one request may ask about */
export const MAX_DIALBACK_ADDRS = 4
/** a request or answer: a few multiaddrs in JSON */
const MAX_FRAME = 4096
/** one dial-back attempt; a NAT answers a stray SYN with RST or silence */
export const DIALBACK_TIMEOUT_MS = 10_000

const DialbackResultSchema = v.object({ addr: v.string(), ok: v.boolean() })
export type DialbackResult = v.InferOutput<typeof DialbackResultSchema>
/** a request: a JSON object; `addrs`, when there, a list (entries other than strings are skipped) */
const DialbackRequestSchema = v.object({ addrs: v.optional(v.array(v.unknown()), []) })
/** an answer: a JSON object with a list of results (entries not of the result's shape are skipped) */
const DialbackReplySchema = v.object({ results: v.array(v.unknown()) })

/** The addresses a request asks about, at most MAX_DIALBACK_ADDRS; throws if the frame is not a request. */
export function requestedAddrs (frame: unknown): string[] {
  const req = v.safeParse(DialbackRequestSchema, frame)
  // valibot's object takes a list for an object
  if (!req.success || Array.isArray(frame)) throw new Error('a dial-back request that is not { addrs: [...] }')
  return req.output.addrs.filter(a => typeof a === 'string').slice(0, MAX_DIALBACK_ADDRS)
}

/** The results an answer gives; throws if the frame is not an answer. */
export function answeredResults (frame: unknown): DialbackResult[] {
  const reply = v.safeParse(DialbackReplySchema, frame)
  if (!reply.success) throw new Error('a dial-back answer without results')
  return reply.output.results.filter(r => v.is(DialbackResultSchema, r))
}

async function readFrame (stream: Stream, signal: AbortSignal): Promise<unknown> {
  const frames = lp.decode(stream, { maxDataLength: MAX_FRAME })
  const aborted = new Promise<never>((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason)
    signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
  aborted.catch(() => {})
  const next = await Promise.race([frames.next(), aborted])
  if (next.done === true) throw new Error('the stream ended without an answer')
  return JSON.parse(Buffer.from(next.value.subarray()).toString('utf8'))
}

function hostOf (ma: Multiaddr): string | null {
  const c = ma.getComponents().find(c => c.name === 'ip4' || c.name === 'ip6')
  return c?.value ?? null
}

/** Addresses the server will try: plain TCP, on the asker's own IP. */
export function dialable (addr: string, askerHost: string | null): Multiaddr | null {
  try {
    const ma = multiaddr(addr)
    const names = ma.getComponents().map(c => c.name)
    if (names.length !== 2 || !(names[0] === 'ip4' || names[0] === 'ip6') || names[1] !== 'tcp') return null
    return askerHost != null && hostOf(ma) === askerHost ? ma : null
  } catch {
    return null
  }
}

/** The server side: dials each address on a new connection, reports which answered as the asker. */
export async function serveDialback (stream: Stream, connection: Connection, connectionManager: ConnectionManager, relayed: boolean): Promise<void> {
  const signal = AbortSignal.timeout(DIALBACK_TIMEOUT_MS * (MAX_DIALBACK_ADDRS + 1))
  try {
    const addrs = requestedAddrs(await readFrame(stream, signal))
    // over a relay the remote address is the relay's: nothing to check against
    const askerHost = relayed ? null : hostOf(connection.remoteAddr)
    const results: DialbackResult[] = []
    for (const addr of addrs) {
      const ma = dialable(addr, askerHost)
      results.push({ addr, ok: ma != null && await dialsBack(connectionManager, ma, connection.remotePeer) })
    }
    if (!stream.send(lp.encode.single(Buffer.from(JSON.stringify({ results }))))) await stream.onDrain()
    await stream.close()
  } catch (err) {
    stream.abort(toError(err))
  }
}

async function dialsBack (cm: ConnectionManager, ma: Multiaddr, peer: PeerId): Promise<boolean> {
  let conn: Connection | undefined
  try {
    // force: a new connection to exactly this address, not the one we share
    conn = await cm.openConnection(ma.encapsulate(`/p2p/${peer.toString()}`), { force: true, signal: AbortSignal.timeout(DIALBACK_TIMEOUT_MS) })
    return conn.remotePeer.equals(peer)
  } catch {
    return false
  } finally {
    // only the connection made for the check
    await conn?.close().catch(() => {})
  }
}

/** The client side: asks `connection`'s peer to dial us back at `addrs`. */
export async function askDialback (connection: Connection, addrs: string[], signal: AbortSignal): Promise<DialbackResult[]> {
  const stream = await connection.newStream(DIALBACK_PROTOCOL, { signal })
  try {
    if (!stream.send(lp.encode.single(Buffer.from(JSON.stringify({ addrs: addrs.slice(0, MAX_DIALBACK_ADDRS) }))))) await stream.onDrain()
    const reply = await readFrame(stream, signal)
    await stream.close().catch(() => {})
    return answeredResults(reply)
  } catch (err) {
    stream.abort(toError(err))
    throw err
  }
}

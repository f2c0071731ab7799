// /cairn/<network id>/headers/1.0.0: what one node asks another to catch up
// on its anchor chain. One request, one reply, in order, on a stream; each
// a varint-length-prefixed dag-cbor frame:
//
//   { op: 'status' }                          → { op: 'status', head, height, work }
//   { op: 'headers', locator: [CID], max }    → { op: 'headers', headers: [bytes] }
//   { op: 'bodies', blocks: [CID] }           → { op: 'bodies', blocks: [{ body, manifests } | null] }
//
// `headers` answers main-chain headers after the first locator CID on the
// server's main chain (AnchorChain.headersAfter), at most `max` ≤
// MAX_HEADERS_PER_REPLY. `bodies` answers a prefix of the blocks asked for
// (at least one), each with every manifest its body names, bounded in bytes;
// null for a block the server does not have. `work` is decimal (cumulative
// work outgrows CBOR's 64-bit integers). This module is the codec and the
// server; core/anchor/sync.ts is the client that judges what it gets.

import * as dagCbor from '@ipld/dag-cbor'
import * as lp from 'it-length-prefixed'
import type { CID } from 'multiformats/cid'
import { MAX_HEADER_BYTES, MAX_BODY_BYTES, MAX_BODY_MANIFESTS, isCborCid, isMap, isUint } from './encoding.ts'
import { MAX_MANIFEST_BYTES } from './manifest.ts'
import type { AnchorChain } from './chain.ts'
import type { Network } from './params.ts'
import type { Stream } from '@libp2p/interface'
import { errorMessage, toError } from '../util/errors.ts'

export const syncProtocol = (net: Network): string => `/cairn/${net.id.toString()}/headers/1.0.0`

/** headers in one reply, at most (Bitcoin's figure: ~400 KiB of ours) */
export const MAX_HEADERS_PER_REPLY = 2000
/** blocks asked for in one `bodies` request, at most */
export const MAX_BODIES_PER_REQUEST = 256
/** a `bodies` reply stops adding blocks past this many bytes (it always holds one) */
export const MAX_BODIES_REPLY_BYTES = 4 * 1024 * 1024
/** locator entries, at most: 10 dense, then one per doubling, covers 2^53 heights */
export const MAX_LOCATOR = 64
/** a request: a locator or a list of block CIDs (~40 bytes each) */
export const MAX_REQUEST_FRAME = 16 * 1024
/** the largest reply: a full headers batch, or the byte bound plus one largest block */
export const MAX_REPLY_FRAME = MAX_BODIES_REPLY_BYTES + MAX_BODY_BYTES + MAX_BODY_MANIFESTS * (MAX_MANIFEST_BYTES + 8) + 4096
/** requests on one stream, at most; a client opens another stream after that */
export const MAX_REQUESTS_PER_STREAM = 256
/** a server stream with no request for this long is closed */
export const STREAM_IDLE_MS = 60_000
/** a reply not complete by then ends the stream (client side) */
export const REPLY_TIMEOUT_MS = 30_000
/** sync streams one peer may hold open to us at once */
export const MAX_INBOUND_STREAMS = 2

/** a decimal work figure: 2^256 has 78 digits */
const MAX_WORK_DIGITS = 80

// headers bigger than MAX_HEADER_BYTES break the HeaderTooLarge rule and are judged by the client
if (MAX_HEADERS_PER_REPLY * (MAX_HEADER_BYTES + 3) > MAX_REPLY_FRAME) throw new Error('MAX_REPLY_FRAME cannot hold a full headers reply')

export interface BlockBody { body: Uint8Array, manifests: Uint8Array[] }

/** Each op's request and reply fields (besides `op`). */
interface Ops {
  status: { request: Record<never, never>, reply: { head: CID, height: number, work: string } }
  headers: { request: { locator: CID[], max: number }, reply: { headers: Uint8Array[] } }
  bodies: { request: { blocks: CID[] }, reply: { blocks: Array<BlockBody | null> } }
}
export type SyncOp = keyof Ops

/** A request of op K (of any op by default); written as a map over the ops so a reply's type follows its request's. */
export type SyncRequest<K extends SyncOp = SyncOp> = { [P in K]: { op: P } & Ops[P]['request'] }[K]
export type SyncReply<K extends SyncOp = SyncOp> = { [P in K]: { op: P } & Ops[P]['reply'] }[K]

/** Bytes the other side sent that are not a message of this protocol (or not the one expected). */
export class SyncFrameError extends Error {}

function fail (message: string): never { throw new SyncFrameError(message) }

const keysAre = (v: Record<string, unknown>, keys: string[]): boolean => {
  const k = Object.keys(v).sort()
  return k.length === keys.length && k.every((x, i) => x === keys[i])
}
const bytesList = (v: unknown, max: number, maxEach: number): v is Uint8Array[] =>
  Array.isArray(v) && v.length <= max && v.every(b => b instanceof Uint8Array && b.byteLength <= maxEach)

function decodeFrame (bytes: Uint8Array): Record<string, unknown> {
  let v: unknown
  try {
    v = dagCbor.decode(bytes)
  } catch (err) {
    fail(`not dag-cbor: ${errorMessage(err)}`)
  }
  if (!isMap(v) || typeof v.op !== 'string') fail('not a message (a map with an op)')
  return v
}

export const encodeMessage = <K extends SyncOp>(m: SyncRequest<K> | SyncReply<K>): Uint8Array => dagCbor.encode(m)

/** A request, checked: its shape and its bounds. */
export function decodeRequest (bytes: Uint8Array): SyncRequest {
  if (bytes.byteLength > MAX_REQUEST_FRAME) fail(`request of ${bytes.byteLength} bytes`)
  const v = decodeFrame(bytes)
  if (v.op === 'status' && keysAre(v, ['op'])) return { op: 'status' }
  if (v.op === 'headers' && keysAre(v, ['locator', 'max', 'op']) && Array.isArray(v.locator) && v.locator.length <= MAX_LOCATOR &&
    v.locator.every(isCborCid) && isUint(v.max) && v.max >= 1 && v.max <= MAX_HEADERS_PER_REPLY) {
    return { op: 'headers', locator: v.locator, max: v.max }
  }
  if (v.op === 'bodies' && keysAre(v, ['blocks', 'op']) && Array.isArray(v.blocks) && v.blocks.length >= 1 &&
    v.blocks.length <= MAX_BODIES_PER_REQUEST && v.blocks.every(isCborCid)) {
    return { op: 'bodies', blocks: v.blocks }
  }
  fail(`a malformed or out-of-bounds ${String(v.op)} request`)
}

/** Each op's reply checker: the shape, and no more than `req` asked for. */
const REPLIES: { [K in SyncOp]: (v: Record<string, unknown>, req: SyncRequest<K>) => SyncReply<K> } = {
  status: v => {
    if (keysAre(v, ['head', 'height', 'op', 'work']) && isCborCid(v.head) && isUint(v.height) &&
      typeof v.work === 'string' && v.work.length <= MAX_WORK_DIGITS && /^[0-9]+$/.test(v.work)) {
      return { op: 'status', head: v.head, height: v.height, work: v.work }
    }
    fail('a malformed status reply')
  },
  headers: (v, req) => {
    if (!keysAre(v, ['headers', 'op']) || !Array.isArray(v.headers)) fail('a malformed headers reply')
    if (v.headers.length > req.max) fail(`${v.headers.length} headers, ${req.max} asked for`)
    if (!bytesList(v.headers, req.max, MAX_HEADER_BYTES)) fail('a headers reply with an entry that is not a header-sized byte string')
    return { op: 'headers', headers: v.headers }
  },
  bodies: (v, req) => {
    if (!keysAre(v, ['blocks', 'op']) || !Array.isArray(v.blocks)) fail('a malformed bodies reply')
    if (v.blocks.length > req.blocks.length) fail(`${v.blocks.length} bodies, ${req.blocks.length} asked for`)
    if (v.blocks.length === 0) fail('an empty bodies reply')
    const blocks = v.blocks.map((b: unknown) => {
      if (b === null) return null
      if (!isMap(b) || !keysAre(b, ['body', 'manifests']) || !(b.body instanceof Uint8Array) || b.body.byteLength > MAX_BODY_BYTES ||
        !bytesList(b.manifests, MAX_BODY_MANIFESTS, MAX_MANIFEST_BYTES)) fail('a malformed block body')
      return { body: b.body, manifests: b.manifests }
    })
    return { op: 'bodies', blocks }
  }
}

/** A reply to `req`, checked: the op asked for, its shape, and no more than was asked. */
export function decodeReply<K extends SyncOp> (bytes: Uint8Array, req: SyncRequest<K>): SyncReply<K> {
  const v = decodeFrame(bytes)
  if (v.op !== req.op) fail(`a ${String(v.op)} reply to a ${req.op} request`)
  return replyFor(req.op, v, req)
}

function replyFor<K extends SyncOp> (op: K, v: Record<string, unknown>, req: SyncRequest<K>): SyncReply<K> {
  return REPLIES[op](v, req)
}

/** What the server answers to one request, from its chain. */
export async function answer (chain: AnchorChain, req: SyncRequest): Promise<SyncReply> {
  if (req.op === 'status') return { op: 'status', head: chain.head.cid, height: chain.head.height, work: chain.head.work.toString() }
  if (req.op === 'headers') return { op: 'headers', headers: await chain.headersAfter(req.locator, Math.min(req.max, MAX_HEADERS_PER_REPLY)) }
  const blocks: Array<BlockBody | null> = []
  let bytes = 0
  for (const cid of req.blocks) {
    if (blocks.length > 0 && bytes >= MAX_BODIES_REPLY_BYTES) break
    const served = await chain.served(cid)
    if (served == null) { blocks.push(null); continue }
    const { body, manifests } = served
    bytes += body.byteLength + manifests.reduce((s, m) => s + m.byteLength, 0)
    if (blocks.length > 0 && bytes > MAX_BODIES_REPLY_BYTES) break
    blocks.push({ body, manifests })
  }
  return { op: 'bodies', blocks }
}

export interface ServeSyncOptions {
  /** the peer broke the protocol (a bad or oversized frame, too many requests): reported to the peer guard */
  onViolation?: (message: string) => void
}

/** it-length-prefixed's errors for a length prefix beyond the limit or unreadable */
export const FRAME_ERRORS = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidMessageLengthError'])

/** The server side of one stream: answers each request in turn, within the bounds above. */
export async function serveSync (stream: Stream, chain: AnchorChain, o: ServeSyncOptions = {}): Promise<void> {
  let idle: NodeJS.Timeout | null = null
  const arm = (): void => {
    if (idle != null) clearTimeout(idle)
    idle = setTimeout(() => { stream.abort(new Error('sync stream idle')) }, STREAM_IDLE_MS)
    idle.unref()
  }
  arm()
  let served = 0
  try {
    for await (const frame of lp.decode(stream, { maxDataLength: MAX_REQUEST_FRAME })) {
      if (++served > MAX_REQUESTS_PER_STREAM) throw new SyncFrameError(`more than ${MAX_REQUESTS_PER_STREAM} requests on one stream`)
      const reply = await answer(chain, decodeRequest(frame.subarray()))
      if (!stream.send(lp.encode.single(encodeMessage(reply)))) await stream.onDrain({ signal: AbortSignal.timeout(REPLY_TIMEOUT_MS) })
      arm()
    }
    await stream.close()
  } catch (err) {
    const e = toError(err)
    if (e instanceof SyncFrameError || FRAME_ERRORS.has(e.name)) o.onViolation?.(e.message)
    stream.abort(e)
  } finally {
    if (idle != null) clearTimeout(idle)
  }
}

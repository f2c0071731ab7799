// Header and body encoding: canonical dag-cbor, named by CIDv1 (dag-cbor,
// sha2-256). Decoding is strict: the bytes must re-encode to themselves, and
// every field must be present with its type and width, nothing else.

import { createHash } from 'node:crypto'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { check, quoted } from './rules.ts'
import { errorMessage } from '../util/errors.ts'

const SHA2_256 = 0x12
/** the nonce is a fixed-width byte string, so the bytes before it never move while mining */
export const NONCE_BYTES = 8
/** a header is ~190 bytes; anything much larger is not one */
export const MAX_HEADER_BYTES = 512
/** a body lists at most this many manifests */
export const MAX_BODY_MANIFESTS = 256
/** and encodes to at most this many bytes */
export const MAX_BODY_BYTES = 16 * 1024

export interface Header {
  v: 1
  /** the genesis CID: the network id */
  net: CID
  height: number
  /** the parent block's CID (genesis for height 1) */
  prev: CID
  /** Unix time in milliseconds */
  time: number
  /** compact target (uint32) */
  target: number
  /** the body's CID */
  body: CID
  nonce: Uint8Array
}

export type Body = CID[]

export const sha256 = (bytes: Uint8Array): Uint8Array => createHash('sha256').update(bytes).digest()

/** What a CIDv1 dag-cbor sha2-256 holds before its digest: version, codec, hash, digest length. */
const CBOR_CID_PREFIX = Uint8Array.of(1, dagCbor.code, SHA2_256, 32)

/**
 * CIDv1 dag-cbor sha2-256 of some bytes, in one buffer: its multihash and
 * digest are views of its bytes. (multiformats' createV1 allocates all three,
 * and the chain keeps a CID for every block: ~0.4 KiB a block more.)
 */
export function cborCid (bytes: Uint8Array, digest = sha256(bytes)): CID {
  if (digest.byteLength !== 32) throw new RangeError(`a sha2-256 digest is 32 bytes, not ${digest.byteLength}`)
  const all = new Uint8Array(CBOR_CID_PREFIX.byteLength + 32)
  all.set(CBOR_CID_PREFIX)
  all.set(digest, CBOR_CID_PREFIX.byteLength)
  return cborCidOn(all)
}

/** A CID object on `bytes`, the 36 bytes of a CIDv1 dag-cbor sha2-256 (as `cid.bytes`), its multihash and digest views of them: no copy. */
export function cborCidOn (bytes: Uint8Array): CID {
  if (bytes.byteLength !== CBOR_CID_PREFIX.byteLength + 32 || CBOR_CID_PREFIX.some((b, i) => bytes[i] !== b)) throw new RangeError('not the bytes of a CIDv1 dag-cbor sha2-256')
  const multihash = bytes.subarray(2)
  return new CID(1, dagCbor.code, new Digest.Digest(SHA2_256, 32, multihash.subarray(2), multihash), bytes)
}

/** A block-id-shaped CID: v1, dag-cbor, sha2-256. */
export function isCborCid (v: unknown): v is CID {
  const c = CID.asCID(v)
  return c != null && c.version === 1 && c.code === dagCbor.code && c.multihash.code === SHA2_256 && c.multihash.size === 32
}

/** A whole number ≥ 0 that a double holds exactly. */
export const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
/** A dag-cbor map (not a list, bytes or a link). */
export const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v != null && !Array.isArray(v) && !(v instanceof Uint8Array) && CID.asCID(v) == null
const HEADER_KEYS = ['body', 'height', 'net', 'nonce', 'prev', 'target', 'time', 'v']

function decodeCanonical (bytes: Uint8Array, what: string): unknown {
  let value: unknown
  try {
    value = dagCbor.decode(bytes)
  } catch (err) {
    check(false, 'BadEncoding', `${what} is not dag-cbor: ${errorMessage(err)}`)
  }
  check(Buffer.compare(dagCbor.encode(value), bytes) === 0, 'BadEncoding', `${what} is not canonical dag-cbor`)
  return value
}

export function encodeHeader (h: Header): Uint8Array {
  return dagCbor.encode({ v: h.v, net: h.net, height: h.height, prev: h.prev, time: h.time, target: h.target, body: h.body, nonce: h.nonce })
}

/** Decodes a header, checking its shape (not its place in a chain). Rules: HeaderTooLarge, BadEncoding, BadVersion. */
export function decodeHeader (bytes: Uint8Array): Header {
  check(bytes.byteLength <= MAX_HEADER_BYTES, 'HeaderTooLarge', `header of ${bytes.byteLength} bytes (at most ${MAX_HEADER_BYTES})`)
  const h = decodeCanonical(bytes, 'header')
  check(isMap(h), 'BadEncoding', 'header is not a map')
  const keys = Object.keys(h).sort()
  check(keys.length === HEADER_KEYS.length && keys.every((k, i) => k === HEADER_KEYS[i]), 'BadEncoding',
    `header fields must be ${HEADER_KEYS.join(', ')} (got ${keys.map(quoted).join(', ')})`)
  const { v, net, height, prev, time, target, body, nonce } = h
  check(v === 1, 'BadVersion', `header version ${String(v)} (expected 1)`)
  check(isCborCid(net), 'BadEncoding', 'net must be a CIDv1 dag-cbor sha2-256')
  check(isCborCid(prev), 'BadEncoding', 'prev must be a CIDv1 dag-cbor sha2-256')
  check(isCborCid(body), 'BadEncoding', 'body must be a CIDv1 dag-cbor sha2-256')
  check(isUint(height) && height >= 1, 'BadEncoding', 'height must be a whole number ≥ 1')
  check(isUint(time), 'BadEncoding', 'time must be a whole number of ms')
  check(isUint(target) && target <= 0xffffffff, 'BadEncoding', 'target must be a uint32')
  check(nonce instanceof Uint8Array && nonce.byteLength === NONCE_BYTES, 'BadEncoding', `nonce must be ${NONCE_BYTES} bytes`)
  // in canonical key order, as the decoder gave them
  return { v, net, body, prev, time, nonce, height, target }
}

export function encodeBody (body: Body): Uint8Array {
  return dagCbor.encode(body)
}

/** Decodes a body. Rules: BodyTooLarge, BadEncoding, DuplicateManifest (within the body). */
export function decodeBody (bytes: Uint8Array): Body {
  check(bytes.byteLength <= MAX_BODY_BYTES, 'BodyTooLarge', `body of ${bytes.byteLength} bytes (at most ${MAX_BODY_BYTES})`)
  const b = decodeCanonical(bytes, 'body')
  check(Array.isArray(b), 'BadEncoding', 'body is not a list')
  check(b.length <= MAX_BODY_MANIFESTS, 'BodyTooLarge', `body lists ${b.length} manifests (at most ${MAX_BODY_MANIFESTS})`)
  const seen = new Set<string>()
  const body: Body = []
  for (const c of b) {
    check(isCborCid(c), 'BadEncoding', 'body entries must be manifest CIDs (v1, dag-cbor, sha2-256)')
    const k = c.toString()
    check(!seen.has(k), 'DuplicateManifest', `manifest ${k} is listed twice in the body`)
    seen.add(k)
    body.push(c)
  }
  return body
}

/**
 * Where the nonce's 8 bytes sit in an encoded header. dag-cbor sorts map
 * keys by length, then bytewise: v, net, body, prev, time, nonce, height,
 * target — so the nonce is followed by the height and target entries, and a
 * miner's midstate covers only the bytes before the nonce.
 */
export function nonceOffset (bytes: Uint8Array, h: Header): number {
  const after = dagCbor.encode({ height: h.height, target: h.target }).byteLength - 1 // minus the map's own head byte
  const offset = bytes.byteLength - after - NONCE_BYTES
  // the nonce value is a byte string of 8: head byte 0x48 just before it
  if (bytes[offset - 1] !== 0x48 || Buffer.compare(bytes.subarray(offset, offset + NONCE_BYTES), h.nonce) !== 0) {
    throw new Error('nonce is not where the canonical key order puts it')
  }
  return offset
}

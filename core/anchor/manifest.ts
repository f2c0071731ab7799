// Manifests: "key K published root R (name, size, how it was imported) at
// time t", signed with the node's Ed25519 key. The signature covers a domain
// tag and the dag-cbor of every other field, so it cannot be replayed as a
// signature over anything else the key signs (libp2p records, for one).

import * as dagCbor from '@ipld/dag-cbor'
import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { CID } from 'multiformats/cid'
import { cborCid } from './encoding.ts'
import { check, quoted } from './rules.ts'
import type { PrivateKey } from '@libp2p/interface'

/** prefixed to what is signed */
export const MANIFEST_DOMAIN = 'cairn-manifest/v1\n'
/** a manifest is a few hundred bytes; this bounds what a peer may make us store */
export const MAX_MANIFEST_BYTES = 2048
/** longest name, in UTF-8 bytes (a file name on most systems) */
export const MAX_NAME_BYTES = 255
const ED25519_SIG_BYTES = 64

/** How the content was imported: enough to rebuild the root CID from the files. */
export interface ManifestProfile {
  cidVersion: 0 | 1
  rawLeaves: boolean
  /** 'size-N' or 'rabin-MIN-AVG-MAX' */
  chunker: string
  /** links per file node */
  width: number
  hamt: 'block-bytes' | 'links-bytes'
}

export interface UnsignedManifest {
  v: 1
  root: CID
  name?: string
  type: 'file' | 'directory'
  size: number
  profile: ManifestProfile
  /** Unix ms, as the publisher's clock said */
  time: number
  /** Ed25519 public key, protobuf-encoded (as libp2p encodes keys) */
  publisher: Uint8Array
}

export interface Manifest extends UnsignedManifest {
  sig: Uint8Array
}

export interface EncodedManifest {
  manifest: Manifest
  bytes: Uint8Array
  cid: CID
}

const MANIFEST_KEYS = new Set(['v', 'root', 'name', 'type', 'size', 'profile', 'time', 'publisher', 'sig'])
const PROFILE_KEYS = ['chunker', 'cidVersion', 'hamt', 'rawLeaves', 'width']

/** The bytes a signature covers: domain tag ‖ dag-cbor(manifest without sig). */
export function signedBytes (m: UnsignedManifest): Uint8Array {
  const { sig: _sig, ...rest } = m as Manifest
  const body = dagCbor.encode(rest)
  const domain = new TextEncoder().encode(MANIFEST_DOMAIN)
  const out = new Uint8Array(domain.byteLength + body.byteLength)
  out.set(domain)
  out.set(body, domain.byteLength)
  return out
}

export async function signManifest (key: PrivateKey, m: Omit<UnsignedManifest, 'publisher' | 'v'>): Promise<EncodedManifest> {
  const unsigned: UnsignedManifest = { v: 1, ...m, publisher: publicKeyToProtobuf(key.publicKey) }
  if (unsigned.name === undefined) delete unsigned.name
  const sig = await key.sign(signedBytes(unsigned))
  const manifest: Manifest = { ...unsigned, sig }
  const bytes = dagCbor.encode(manifest)
  // the fields are checked the way a peer would check them
  decodeManifest(bytes)
  return { manifest, bytes, cid: cborCid(bytes) }
}

const uint = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0

/** Decodes a manifest and checks its fields (not its signature). Rule: BadManifest. */
export function decodeManifest (bytes: Uint8Array): Manifest {
  check(bytes.byteLength <= MAX_MANIFEST_BYTES, 'BadManifest', `manifest of ${bytes.byteLength} bytes (at most ${MAX_MANIFEST_BYTES})`)
  let m: Record<string, unknown>
  try {
    m = dagCbor.decode(bytes)
  } catch (err) {
    check(false, 'BadManifest', `manifest is not dag-cbor: ${(err as Error).message}`)
  }
  check(Buffer.compare(dagCbor.encode(m), bytes) === 0, 'BadManifest', 'manifest is not canonical dag-cbor')
  check(typeof m === 'object' && m != null && !Array.isArray(m) && !(m instanceof Uint8Array), 'BadManifest', 'manifest is not a map')
  for (const k of Object.keys(m)) check(MANIFEST_KEYS.has(k), 'BadManifest', `unknown manifest field ${quoted(k)}`)
  check(m.v === 1, 'BadManifest', `manifest version ${String(m.v)} (expected 1)`)
  check(CID.asCID(m.root) != null, 'BadManifest', 'root must be a CID')
  check(m.name === undefined || (typeof m.name === 'string' && m.name !== '' && Buffer.byteLength(m.name) <= MAX_NAME_BYTES && !m.name.includes('/') && !m.name.includes('\0')),
    'BadManifest', `name must be 1-${MAX_NAME_BYTES} bytes without / or NUL`)
  check(m.type === 'file' || m.type === 'directory', 'BadManifest', 'type must be "file" or "directory"')
  check(uint(m.size), 'BadManifest', 'size must be a whole number of bytes')
  check(uint(m.time), 'BadManifest', 'time must be a whole number of ms')
  const p = m.profile as Record<string, unknown>
  check(typeof p === 'object' && p != null && Object.keys(p).sort().join() === PROFILE_KEYS.join(), 'BadManifest', `profile must have exactly ${PROFILE_KEYS.join(', ')}`)
  check((p.cidVersion === 0 || p.cidVersion === 1) && typeof p.rawLeaves === 'boolean' && typeof p.chunker === 'string' && /^(size-\d+|rabin-\d+-\d+-\d+)$/.test(p.chunker) &&
    uint(p.width) && (p.width as number) >= 2 && (p.hamt === 'block-bytes' || p.hamt === 'links-bytes'), 'BadManifest', 'profile field out of range')
  check(m.publisher instanceof Uint8Array, 'BadManifest', 'publisher must be a protobuf public key')
  let type: string | undefined
  try { type = publicKeyFromProtobuf(m.publisher).type } catch {}
  check(type === 'Ed25519', 'BadManifest', 'publisher must be an Ed25519 public key')
  check(m.sig instanceof Uint8Array && m.sig.byteLength === ED25519_SIG_BYTES, 'BadManifest', `sig must be ${ED25519_SIG_BYTES} bytes`)
  return m as unknown as Manifest
}

/** Rule BadSignature: the publisher key signed exactly these fields under the domain tag. */
export async function verifyManifest (m: Manifest): Promise<void> {
  let ok = false
  try {
    ok = await publicKeyFromProtobuf(m.publisher).verify(signedBytes(m), m.sig)
  } catch {}
  check(ok, 'BadSignature', `manifest for ${m.root.toString()}: the signature does not verify under its publisher key`)
}

/** Decodes, checks and verifies manifest bytes; their CID too. */
export async function readManifest (bytes: Uint8Array): Promise<EncodedManifest> {
  const manifest = decodeManifest(bytes)
  await verifyManifest(manifest)
  return { manifest, bytes, cid: cborCid(bytes) }
}

/** A publisher key as text (for per-key bounds and display). */
export const publisherId = (m: Manifest): string => Buffer.from(m.publisher).toString('base64')

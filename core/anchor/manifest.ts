// Manifests: "key K published root R (name, size, how it was imported) at
// time t", signed with the node's Ed25519 key. The signature covers a domain
// tag and the dag-cbor of every other field, so it cannot be replayed as a
// signature over anything else the key signs (libp2p records, for one).
//
// A name manifest (type 'ipns') anchors an IPNS record instead: "the name
// of key K pointed at root R with sequence number s", the record's own bytes
// inside, signed by K itself (the name's key, not the node's), so the
// chain's history of a name holds only what its owner signed.

import * as dagCbor from '@ipld/dag-cbor'
import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { CID } from 'multiformats/cid'
import { cborCid, isMap, isUint } from './encoding.ts'
import { check, quoted } from './rules.ts'
import { unmarshalIPNSRecord, type IPNSRecord } from 'ipns'
import { validate as validateIpns } from 'ipns/validator'
import type { PrivateKey } from '@libp2p/interface'
import { errorMessage, isNamedError } from '../util/errors.ts'

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

export interface UnsignedFileManifest {
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

export interface UnsignedNameManifest {
  v: 1
  type: 'ipns'
  /** the CID the record's /ipfs/ path starts with */
  root: CID
  /** the record's sequence number */
  seq: number
  /** the marshalled IPNS record, signed by the publisher key */
  record: Uint8Array
  time: number
  /** the name's key: the name is its hash */
  publisher: Uint8Array
}

export type UnsignedManifest = UnsignedFileManifest | UnsignedNameManifest
export type FileManifest = UnsignedFileManifest & { sig: Uint8Array }
export type NameManifest = UnsignedNameManifest & { sig: Uint8Array }
export type Manifest = FileManifest | NameManifest

export interface EncodedManifest<M extends Manifest = Manifest> {
  manifest: M
  bytes: Uint8Array
  cid: CID
}

const MANIFEST_KEYS = new Set(['v', 'root', 'name', 'type', 'size', 'profile', 'time', 'publisher', 'sig'])
const NAME_MANIFEST_KEYS = ['publisher', 'record', 'root', 'seq', 'sig', 'time', 'type', 'v']
/** an Ed25519 IPNS record is ~400 bytes; the manifest must stay under MAX_MANIFEST_BYTES */
export const MAX_ANCHORED_RECORD_BYTES = 1024
const PROFILE_KEYS = ['chunker', 'cidVersion', 'hamt', 'rawLeaves', 'width']

/** The bytes a signature covers: domain tag ‖ dag-cbor(manifest without sig). */
export function signedBytes (m: UnsignedManifest & { sig?: Uint8Array }): Uint8Array {
  const { sig: _sig, ...rest } = m
  const body = dagCbor.encode(rest)
  const domain = new TextEncoder().encode(MANIFEST_DOMAIN)
  const out = new Uint8Array(domain.byteLength + body.byteLength)
  out.set(domain)
  out.set(body, domain.byteLength)
  return out
}

export async function signManifest (key: PrivateKey, m: Omit<UnsignedFileManifest, 'publisher' | 'v'>): Promise<EncodedManifest<FileManifest>> {
  const unsigned: UnsignedFileManifest = { v: 1, ...m, publisher: publicKeyToProtobuf(key.publicKey) }
  if (unsigned.name === undefined) delete unsigned.name
  return encoded({ ...unsigned, sig: await key.sign(signedBytes(unsigned)) })
}

/** A name manifest for a record `key` signed (the caller checks the record). */
export async function signNameManifest (key: PrivateKey, m: Omit<UnsignedNameManifest, 'publisher' | 'v' | 'type'>): Promise<EncodedManifest<NameManifest>> {
  const unsigned: UnsignedNameManifest = { v: 1, type: 'ipns', ...m, publisher: publicKeyToProtobuf(key.publicKey) }
  return encoded({ ...unsigned, sig: await key.sign(signedBytes(unsigned)) })
}

/** A signed manifest with its bytes and CID. */
function encoded<M extends Manifest> (manifest: M): EncodedManifest<M> {
  const bytes = dagCbor.encode(manifest)
  // the fields are checked the way a peer would check them
  decodeManifest(bytes)
  return { manifest, bytes, cid: cborCid(bytes) }
}

/** Decodes a manifest and checks its fields (not its signature). Rule: BadManifest. */
export function decodeManifest (bytes: Uint8Array): Manifest {
  check(bytes.byteLength <= MAX_MANIFEST_BYTES, 'BadManifest', `manifest of ${bytes.byteLength} bytes (at most ${MAX_MANIFEST_BYTES})`)
  let m: unknown
  try {
    m = dagCbor.decode(bytes)
  } catch (err) {
    check(false, 'BadManifest', `manifest is not dag-cbor: ${errorMessage(err)}`)
  }
  check(Buffer.compare(dagCbor.encode(m), bytes) === 0, 'BadManifest', 'manifest is not canonical dag-cbor')
  check(isMap(m), 'BadManifest', 'manifest is not a map')
  if (m.type === 'ipns') return decodeNameManifest(m)
  for (const k of Object.keys(m)) check(MANIFEST_KEYS.has(k), 'BadManifest', `unknown manifest field ${quoted(k)}`)
  const { v, root, name, type, size, time } = m
  check(v === 1, 'BadManifest', `manifest version ${String(v)} (expected 1)`)
  const rootCid = CID.asCID(root)
  check(rootCid != null, 'BadManifest', 'root must be a CID')
  check(name === undefined || (typeof name === 'string' && name !== '' && Buffer.byteLength(name) <= MAX_NAME_BYTES && !name.includes('/') && !name.includes('\0')),
    'BadManifest', `name must be 1-${MAX_NAME_BYTES} bytes without / or NUL`)
  check(type === 'file' || type === 'directory', 'BadManifest', 'type must be "file" or "directory"')
  check(isUint(size), 'BadManifest', 'size must be a whole number of bytes')
  check(isUint(time), 'BadManifest', 'time must be a whole number of ms')
  const profile = decodeProfile(m.profile)
  const { publisher, sig } = checkSigner(m)
  // in canonical key order, as the decoder gave them; no name key when there is no name
  return { v, sig, ...(name !== undefined ? { name } : {}), root: rootCid, size, time, type, profile, publisher }
}

function decodeProfile (p: unknown): ManifestProfile {
  check(isMap(p) && Object.keys(p).sort().join() === PROFILE_KEYS.join(), 'BadManifest', `profile must have exactly ${PROFILE_KEYS.join(', ')}`)
  const { hamt, width, chunker, rawLeaves, cidVersion } = p
  check((cidVersion === 0 || cidVersion === 1) && typeof rawLeaves === 'boolean' && typeof chunker === 'string' && /^(size-\d+|rabin-\d+-\d+-\d+)$/.test(chunker) &&
    isUint(width) && width >= 2 && (hamt === 'block-bytes' || hamt === 'links-bytes'), 'BadManifest', 'profile field out of range')
  return { hamt, width, chunker, rawLeaves, cidVersion }
}

function checkSigner (m: Record<string, unknown>): { publisher: Uint8Array, sig: Uint8Array } {
  const { publisher, sig } = m
  check(publisher instanceof Uint8Array, 'BadManifest', 'publisher must be a protobuf public key')
  let type: string | undefined
  try { type = publicKeyFromProtobuf(publisher).type } catch {}
  check(type === 'Ed25519', 'BadManifest', 'publisher must be an Ed25519 public key')
  check(sig instanceof Uint8Array && sig.byteLength === ED25519_SIG_BYTES, 'BadManifest', `sig must be ${ED25519_SIG_BYTES} bytes`)
  return { publisher, sig }
}

/**
 * The fields of a name manifest. That the record is the publisher's and says
 * what the manifest says is checked with the signature (verifyManifest):
 * both need the key. The record's expiry is not a rule: history keeps
 * records long expired.
 */
function decodeNameManifest (m: Record<string, unknown>): NameManifest {
  check(Object.keys(m).sort().join() === NAME_MANIFEST_KEYS.join(), 'BadManifest', `a name manifest has exactly ${NAME_MANIFEST_KEYS.join(', ')}`)
  const { v, seq, root, time, record } = m
  check(v === 1, 'BadManifest', `manifest version ${String(v)} (expected 1)`)
  const rootCid = CID.asCID(root)
  check(rootCid != null, 'BadManifest', 'root must be a CID')
  check(isUint(seq), 'BadManifest', 'seq must be a whole number')
  check(isUint(time), 'BadManifest', 'time must be a whole number of ms')
  check(record instanceof Uint8Array && record.byteLength <= MAX_ANCHORED_RECORD_BYTES, 'BadManifest', `record must be at most ${MAX_ANCHORED_RECORD_BYTES} bytes`)
  const { publisher, sig } = checkSigner(m)
  // in canonical key order, as the decoder gave them
  return { v, seq, sig, root: rootCid, time, type: 'ipns', record, publisher }
}

/** Rule BadSignature: the publisher key signed exactly these fields under the domain tag. */
export async function verifyManifest (m: Manifest): Promise<void> {
  let ok = false
  try {
    ok = await publicKeyFromProtobuf(m.publisher).verify(signedBytes(m), m.sig)
  } catch {}
  check(ok, 'BadSignature', `manifest for ${m.root.toString()}: the signature does not verify under its publisher key`)
  if (m.type === 'ipns') await checkAnchoredRecord(m)
}

/** Rule BadRecord: the record is the publisher's name's, and says what the manifest says. */
async function checkAnchoredRecord (m: NameManifest): Promise<void> {
  const key = publicKeyFromProtobuf(m.publisher)
  let record: IPNSRecord | null = null
  try {
    record = unmarshalIPNSRecord(m.record)
    await validateIpns(key, m.record)
  } catch (err) {
    // an expired record is still the one that was signed
    if (!isNamedError(err, 'RecordExpiredError')) record = null
  }
  check(record != null, 'BadRecord', `name manifest ${m.root.toString()}: the record is not a valid IPNS record of the publisher's key`)
  check(record.sequence === BigInt(m.seq), 'BadRecord', `name manifest: the record's sequence ${record.sequence} is not the manifest's ${m.seq}`)
  check(record.value === `/ipfs/${m.root.toString()}` || record.value.startsWith(`/ipfs/${m.root.toString()}/`), 'BadRecord',
    `name manifest: the record points at ${record.value.slice(0, 100)}, not at ${m.root.toString()}`)
}

/** Decodes, checks and verifies manifest bytes; their CID too. */
export async function readManifest (bytes: Uint8Array): Promise<EncodedManifest> {
  const manifest = decodeManifest(bytes)
  await verifyManifest(manifest)
  return { manifest, bytes, cid: cborCid(bytes) }
}

/** A publisher key as text (for per-key bounds and display). */
export const publisherId = (m: Manifest): string => Buffer.from(m.publisher).toString('base64')

// IPNS names and records (specs.ipfs.tech/ipns/ipns-record): a name is the
// hash of a public key; a record, signed by that key, says which path the
// name points at, with a sequence number (higher wins), an expiry (EOL) and
// a TTL. Records are V1+V2 (signatureV2 over the CBOR data, plus the V1
// fields), as Kubo and Helia make them, built and checked with the `ipns`
// package that Helia uses, so both sides read the same bytes alike.

import { peerIdFromString } from '@libp2p/peer-id'
import { createIPNSRecord, marshalIPNSRecord, multihashToIPNSRoutingKey, unmarshalIPNSRecord, type IPNSRecord } from 'ipns'
import { ipnsValidator } from 'ipns/validator'
import { base36 } from 'multiformats/bases/base36'
import { CID } from 'multiformats/cid'
import { CairnError, errorMessage, UsageError } from '../util/errors.ts'
import type { PeerId, PrivateKey } from '@libp2p/interface'

/** the spec's (and every implementation's) bound on a record */
export const MAX_RECORD_BYTES = 10 * 1024
/** how long a record stays valid: Kubo's default (--lifetime) */
export const DEFAULT_LIFETIME_MS = 48 * 60 * 60 * 1000
/** how long resolvers may cache it: Kubo's default (--ttl) */
export const DEFAULT_TTL_MS = 60 * 60 * 1000

/** A record that fails a check: expired, forged, oversized, signed by another key, malformed. */
export class BadRecordError extends CairnError {}
/** A name that resolves to nothing within the time allowed. */
export class NameNotFoundError extends CairnError {}

/** An IPNS name, parsed: the key's peer ID, the DHT key, the canonical text. */
export interface IpnsName {
  peerId: PeerId
  /** '/ipns/' ‖ multihash, as the DHT and pubsub key it */
  routingKey: Uint8Array
  /** k51… (CIDv1, libp2p-key, base36), as Kubo prints names */
  text: string
}

export function nameOfPeer (peerId: PeerId): IpnsName {
  return {
    peerId,
    routingKey: multihashToIPNSRoutingKey(peerId.toMultihash()),
    text: peerId.toCID().toString(base36)
  }
}

/** Parses `k51…`, `12D3Koo…` or `/ipns/…` (a name, not a DNSLink domain). */
export function parseName (text: string): IpnsName {
  const bare = text.startsWith('/ipns/') ? text.slice('/ipns/'.length) : text
  let peerId: PeerId
  try {
    peerId = peerIdFromString(bare)
  } catch {
    throw new UsageError(`not an IPNS name: "${bare.replace(/[^\x20-\x7e]/g, '?').slice(0, 80)}" (expected k51… or 12D3Koo…; DNSLink names are not supported)`)
  }
  return nameOfPeer(peerId)
}

/** What a record says, in plain values. */
export interface RecordInfo {
  /** the path it points at, '/ipfs/<cid>[/…]' */
  value: string
  /** the CID of that path, when it is an /ipfs/ path */
  cid: CID | null
  seq: bigint
  /** Unix ms after which it is invalid */
  expires: number
  ttlMs: number
}

export function describeRecord (r: IPNSRecord): RecordInfo {
  let cid: CID | null = null
  const m = /^\/ipfs\/([^/]+)/.exec(r.value)
  if (m != null) {
    try { cid = CID.parse(m[1]) } catch {}
  }
  return {
    value: r.value,
    cid,
    seq: r.sequence,
    expires: Date.parse(r.validity),
    ttlMs: Number((r.ttl ?? 0n) / 1_000_000n)
  }
}

export interface CreateOptions {
  lifetimeMs?: number
  ttlMs?: number
}

/** Signs a record pointing `key`'s name at `cid` (or an /ipfs/ path). */
export async function createRecord (key: PrivateKey, value: CID | string, seq: bigint, o: CreateOptions = {}): Promise<Uint8Array> {
  const path = typeof value === 'string' ? value : `/ipfs/${value.toString()}`
  const record = await createIPNSRecord(key, path, seq, o.lifetimeMs ?? DEFAULT_LIFETIME_MS, {
    ttlNs: BigInt(o.ttlMs ?? DEFAULT_TTL_MS) * 1_000_000n,
    v1Compatible: true
  })
  return marshalIPNSRecord(record)
}

const REASONS: Record<string, string> = {
  RecordExpiredError: 'it has expired',
  SignatureVerificationError: 'its signature does not verify (forged or altered)',
  RecordTooLargeError: `it is larger than ${MAX_RECORD_BYTES} bytes`,
  InvalidEmbeddedPublicKeyError: 'it is signed by another key than the name\'s',
  UnsupportedValidityError: 'its validity type is unsupported'
}

/**
 * Checks record bytes for `name` as every IPNS implementation does (size,
 * key, signature, expiry) and returns the record. BadRecordError names the
 * reason. `allowExpired` keeps expired ones (anchored history).
 */
export async function validateRecord (name: IpnsName, bytes: Uint8Array, o: { allowExpired?: boolean } = {}): Promise<IPNSRecord> {
  if (bytes.byteLength > MAX_RECORD_BYTES) throw new BadRecordError(`record for ${name.text} rejected: ${REASONS.RecordTooLargeError}`)
  let record: IPNSRecord
  try {
    record = unmarshalIPNSRecord(bytes)
  } catch (err) {
    throw new BadRecordError(`record for ${name.text} rejected: it is malformed (${errorMessage(err)})`)
  }
  try {
    await ipnsValidator(name.routingKey, bytes)
  } catch (err) {
    const kind = err instanceof Error ? err.name : ''
    if (!(o.allowExpired === true && kind === 'RecordExpiredError')) {
      throw new BadRecordError(`record for ${name.text} rejected: ${REASONS[kind] ?? errorMessage(err)}`)
    }
  }
  return record
}

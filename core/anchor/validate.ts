// The consensus rules, as functions of a header (and its body) and the
// branch below it. AnchorChain applies them to blocks; proofs apply the
// header rules to a list of headers with no repo at all.

import { cborCid, decodeBody, decodeHeader, sha256, type Body, type Header } from './encoding.ts'
import { decodeManifest, verifyManifest, type EncodedManifest } from './manifest.ts'
import { check } from './rules.ts'
import { digestValue, expandTarget, retarget, workOf } from './target.ts'
import type { Network } from './params.ts'
import { CID } from 'multiformats/cid'

/** blocks whose median time the next block must be above */
export const MEDIAN_TIME_SPAN = 11
/** a block more than this far ahead of the local clock is held back, not judged */
export const MAX_FUTURE_MS = 2 * 60 * 1000

/** What the rules need to know of a block already accepted (genesis included). */
export interface BlockMeta {
  /** a getter on the chain's blocks (core/anchor/kept-block.ts): compare with equals(), not === */
  readonly cid: CID
  /** cid.toString(), the map key */
  key: string
  height: number
  time: number
  /** compact */
  target: number
  parent: BlockMeta | null
  /** cumulative work from genesis (genesis: 0) */
  work: bigint
}

export function genesisMeta (net: Network): BlockMeta {
  return { cid: net.id, key: net.id.toString(), height: 0, time: net.genesis.time, target: net.params.initialTarget, parent: null, work: 0n }
}

/** The ancestor of `b` at `height` (≤ b.height), walking parents. */
export function ancestorAt (b: BlockMeta, height: number): BlockMeta {
  let cur: BlockMeta | null = b
  while (cur != null && cur.height > height) cur = cur.parent
  if (cur == null || cur.height !== height) throw new Error(`no ancestor at height ${height}`)
  return cur
}

/** Median of the times of `parent` and up to 10 blocks below it (element n/2 of the sorted list, as Bitcoin). */
export function medianTimePast (parent: BlockMeta): number {
  const times: number[] = []
  for (let b: BlockMeta | null = parent; b != null && times.length < MEDIAN_TIME_SPAN; b = b.parent) times.push(b.time)
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]
}

/**
 * The target a child of `parent` must carry: the parent's, except at heights
 * that are multiples of the window, where the window's blocks (heights
 * h−window … h−1) retarget it from their first and last times.
 */
export function requiredTarget (parent: BlockMeta, net: Network): number {
  const p = net.params
  const height = parent.height + 1
  if (height % p.window !== 0) return parent.target
  const first = ancestorAt(parent, height - p.window)
  return retarget(parent.target, parent.time - first.time, p)
}

export interface CheckedHeader {
  header: Header
  cid: CID
  /** the expanded target */
  target: bigint
  work: bigint
}

/**
 * Rules a header meets on its own: its shape (BadEncoding, BadVersion,
 * HeaderTooLarge), its network (WrongNetwork) and its proof of work
 * (BadProofOfWork: the digest, big-endian, ≤ the expanded target). Cheap,
 * so they run before anything is stored or looked up.
 */
export function checkHeader (bytes: Uint8Array, net: Network): CheckedHeader {
  const header = decodeHeader(bytes)
  check(header.net.equals(net.id), 'WrongNetwork', `header names network ${header.net.toString()}, this is ${net.name} (${net.id.toString()})`)
  const target = expandTarget(header.target)
  check(target != null, 'BadTarget', `target 0x${header.target.toString(16)} is not a valid compact target`)
  const digest = sha256(bytes)
  check(digestValue(digest) <= target, 'BadProofOfWork', 'the header hash is above its target')
  return { header, cid: cborCid(bytes, digest), target, work: workOf(target) }
}

export type ContextResult = { ok: true } | { ok: false, heldUntil: number }

/**
 * Rules that depend on the parent: BadHeight, BadTarget, TimeTooOld. A time
 * more than MAX_FUTURE_MS ahead of `now` is not a violation: the block is
 * held back until the clock catches up (returned as heldUntil).
 */
export function checkContext (h: Header, parent: BlockMeta, net: Network, now: number): ContextResult {
  check(h.height === parent.height + 1, 'BadHeight', `height ${h.height}, parent is at ${parent.height}`)
  const required = requiredTarget(parent, net)
  check(h.target === required, 'BadTarget', `target 0x${h.target.toString(16)}, the retarget rule gives 0x${required.toString(16)} at height ${h.height}`)
  const median = medianTimePast(parent)
  check(h.time > median, 'TimeTooOld', `time ${h.time} is not above the median ${median} of the previous ${MEDIAN_TIME_SPAN} blocks`)
  if (h.time > now + MAX_FUTURE_MS) return { ok: false, heldUntil: h.time - MAX_FUTURE_MS }
  return { ok: true }
}

/** The meta of a header on top of `parent`, for a check of a branch (sync, proofs); the chain keeps KeptBlocks (core/anchor/kept-block.ts). */
export function metaOf (c: CheckedHeader, parent: BlockMeta): BlockMeta {
  return { cid: c.cid, key: c.cid.toString(), height: c.header.height, time: c.header.time, target: c.header.target, parent, work: parent.work + c.work }
}

/**
 * Body rules: BodyMismatch (its CID is the header's `body`), BodyTooLarge,
 * DuplicateManifest (within the body, or already on the branch per
 * `onBranch`), MissingManifest (each listed manifest
 * supplied, its bytes hashing to its CID), BadManifest, BadSignature.
 * `lookup` finds a manifest's bytes by CID (supplied with the block, pending, stored).
 */
export async function checkBody (
  h: Header, bodyBytes: Uint8Array, lookup: (cid: CID) => Uint8Array | undefined, onBranch: (cid: CID) => boolean = () => false
): Promise<{ body: Body, manifests: EncodedManifest[] }> {
  check(cborCid(bodyBytes).equals(h.body), 'BodyMismatch', `the body's CID is not the header's body ${h.body.toString()}`)
  const body = decodeBody(bodyBytes)
  const manifests: EncodedManifest[] = []
  for (const cid of body) {
    const bytes = lookup(cid)
    check(bytes != null, 'MissingManifest', `manifest ${cid.toString()} was not supplied`)
    check(cborCid(bytes).equals(cid), 'MissingManifest', `the bytes supplied for manifest ${cid.toString()} hash to another CID`)
    const manifest = decodeManifest(bytes)
    manifests.push({ manifest, bytes, cid })
  }
  // the branch rule before the signatures: it costs a lookup, they cost a verify each
  for (const m of manifests) check(!onBranch(m.cid), 'DuplicateManifest', `manifest ${m.cid.toString()} is already anchored on this branch`)
  for (const m of manifests) await verifyManifest(m.manifest)
  return { body, manifests }
}

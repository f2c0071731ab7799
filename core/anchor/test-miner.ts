// Builds valid chains in process on easy networks: for tests, the bench and
// anyone checking the rules by hand. Blocks are mined on this thread.

import { encodeBody, cborCid, NONCE_BYTES, type Header } from './encoding.ts'
import { mineHeader } from './hasher.ts'
import { defineNetwork, type Network } from './params.ts'
import { medianTimePast, requiredTarget, type BlockMeta } from './validate.ts'
import { targetOf, workOf } from './target.ts'
import type { EncodedManifest } from './manifest.ts'
import type { CID } from 'multiformats/cid'

/** ~2 hashes a block: chains of thousands of blocks build in a second or two */
export const EASY_TARGET = 0x207fffff
/** nonces tried for one block, every one the 8-byte nonce's low half holds */
const MAX_TRIES = 2 ** 32

/** A network for tests: easy target, short interval and window. */
export function testNetwork (name = 'unit', o: Partial<Network['params']> = {}, time?: number): Network {
  return defineNetwork(name, { initialTarget: EASY_TARGET, easiestTarget: EASY_TARGET, interval: 1000, window: 5, maxAdjust: 4, ...o }, time)
}

export interface MinedBlock { header: Uint8Array, body: Uint8Array, manifests: Uint8Array[], cid: CID, fields: Header }

/** Mines one block on `parent` with the given manifests, at `time` (default: interval after parent). */
export function mineBlock (net: Network, parent: BlockMeta, manifests: EncodedManifest[] = [], o: { time?: number, salt?: number, tweak?: (h: Header) => void } = {}): MinedBlock {
  const body = encodeBody(manifests.map(m => m.cid))
  const fields: Header = {
    v: 1,
    net: net.id,
    height: parent.height + 1,
    prev: parent.cid,
    time: o.time ?? Math.max(parent.time + net.params.interval, medianTimePast(parent) + 1),
    target: requiredTarget(parent, net),
    body: cborCid(body),
    nonce: new Uint8Array(NONCE_BYTES)
  }
  o.tweak?.(fields)
  const header = mineHeader(fields, MAX_TRIES, o.salt ?? 0)
  // at ~2 hashes a block, 2^32 tries without a hit means the target is not an easy one
  if (header == null) throw new Error(`no nonce under target 0x${fields.target.toString(16)} in ${MAX_TRIES} tries`)
  return { header, body, manifests: manifests.map(m => m.bytes), cid: cborCid(header), fields }
}

/** The meta a mined block will have once accepted (for building on it before submitting). */
export function metaAfter (b: MinedBlock, parent: BlockMeta): BlockMeta {
  const { height, time, target } = b.fields
  return { cid: b.cid, key: b.cid.toString(), height, time, target, parent, work: parent.work + workOf(targetOf(target)) }
}

/** `n` empty blocks mined one on another from `parent` (not submitted). */
export function mineChain (net: Network, parent: BlockMeta, n: number): MinedBlock[] {
  const out: MinedBlock[] = []
  let p = parent
  for (let i = 0; i < n; i++) {
    const b = mineBlock(net, p, [])
    out.push(b)
    p = metaAfter(b, p)
  }
  return out
}

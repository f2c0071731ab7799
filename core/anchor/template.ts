// What a miner hashes: a header on the chain's head (nonce zero), with as
// many pending manifests as a body may hold, in arrival order.

import { cborCid, encodeBody, MAX_BODY_BYTES, MAX_BODY_MANIFESTS, NONCE_BYTES, type Header } from './encoding.ts'
import { medianTimePast, requiredTarget } from './validate.ts'
import type { AnchorChain } from './chain.ts'
import type { EncodedManifest } from './manifest.ts'

export interface Template { header: Header, body: Uint8Array, manifests: EncodedManifest[] }

export function blockTemplate (chain: AnchorChain, now: number): Template {
  const parent = chain.head
  const picked: EncodedManifest[] = []
  for (const m of chain.pending.values()) {
    if (picked.length >= MAX_BODY_MANIFESTS) break
    if (chain.onBranch(m.cid.toString(), parent)) continue
    picked.push(m)
  }
  // 256 CIDs encode to ~10.5 KiB, so this never bites today; it keeps the rule if the limits change
  let body = encodeBody(picked.map(m => m.cid))
  while (body.byteLength > MAX_BODY_BYTES) {
    picked.pop()
    body = encodeBody(picked.map(m => m.cid))
  }
  const header: Header = {
    v: 1,
    net: chain.net.id,
    height: parent.height + 1,
    prev: parent.cid,
    // the clock, unless the median rule needs later
    time: Math.max(now, medianTimePast(parent) + 1),
    target: requiredTarget(parent, chain.net),
    body: cborCid(body),
    nonce: new Uint8Array(NONCE_BYTES)
  }
  return { header, body, manifests: picked }
}

// Proofs: everything needed to check, with no repo and no network, that a
// manifest was anchored in a chain with so much work on top of it — the
// genesis, the manifest, the anchoring block's body, and every header from
// height 1 to the head (so targets, times and work are recomputed, not
// trusted). A sha256 of the contents catches any altered byte at once; the
// rules below it catch any change made by someone who also fixes the sum.

import * as dagCbor from '@ipld/dag-cbor'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { publicKeyFromProtobuf } from '@libp2p/crypto/keys'
import { unmarshalIPNSRecord } from 'ipns'
import { base36 } from 'multiformats/bases/base36'
import { cborCid, decodeBody, sha256 } from './encoding.ts'
import { readManifest, type EncodedManifest } from './manifest.ts'
import { fromGenesis, NETWORKS } from './params.ts'
import { AnchorError, check } from './rules.ts'
import { checkContext, checkHeader, genesisMeta, metaOf, type BlockMeta } from './validate.ts'
import type { AnchorChain } from './chain.ts'
import type { CID } from 'multiformats/cid'
import { errorMessage } from '../util/errors.ts'

export const PROOF_KIND = 'cairn-anchor-proof'
const PROOF_KEYS = ['body', 'genesis', 'headers', 'height', 'kind', 'manifest', 'sum', 'v']

interface ProofFields {
  v: 1
  kind: typeof PROOF_KIND
  genesis: Uint8Array
  manifest: Uint8Array
  /** height of the anchoring block */
  height: number
  body: Uint8Array
  /** headers of heights 1 … head, in order */
  headers: Uint8Array[]
}

/** What a proof (or the chain) says about a manifest. */
export interface Anchored {
  network: { name: string, id: string, builtin: boolean }
  /** for a name manifest (type 'ipns'): name is the IPNS name, size 0, and seq and value what its record said */
  manifest: { cid: string, root: string, name: string | null, type: string, size: number, time: number, publisher: string, seq?: number, value?: string }
  block: { cid: string, height: number, time: number }
  head: { cid: string, height: number, time: number }
  confirmations: number
  /** work of the anchoring block and every block above it (decimal) */
  work: string
  /** cumulative work of the whole chain to the head (decimal) */
  chainWork: string
}

export function describeAnchoring (netName: string, netId: CID, m: EncodedManifest, block: BlockMeta, head: BlockMeta): Anchored {
  const builtin = Object.hasOwn(NETWORKS, netName) && NETWORKS[netName].id.equals(netId)
  const mf = m.manifest
  const publisher = peerIdFromPublicKey(publicKeyFromProtobuf(mf.publisher))
  const common = { cid: m.cid.toString(), root: mf.root.toString(), type: mf.type, time: mf.time, publisher: publisher.toString() }
  return {
    network: { name: netName, id: netId.toString(), builtin },
    manifest: mf.type === 'ipns'
      ? { ...common, name: publisher.toCID().toString(base36), size: 0, seq: mf.seq, value: unmarshalIPNSRecord(mf.record).value }
      : { ...common, name: mf.name ?? null, size: mf.size },
    block: { cid: block.cid.toString(), height: block.height, time: block.time },
    head: { cid: head.cid.toString(), height: head.height, time: head.time },
    confirmations: head.height - block.height + 1,
    work: (head.work - (block.parent?.work ?? 0n)).toString(),
    chainWork: head.work.toString()
  }
}

const sumOf = (f: ProofFields): Uint8Array => sha256(dagCbor.encode(f))

/** Exports a proof that manifest `manifestCid` is anchored on the main chain. */
export async function exportProof (chain: AnchorChain, m: EncodedManifest, block: BlockMeta): Promise<Uint8Array> {
  if (!chain.isOnMain(block)) throw new AnchorError(`block ${block.key} is not on the main chain`)
  // every main-chain header after genesis (an empty locator starts there)
  const headers = await chain.headersAfter([], chain.height)
  const fields: ProofFields = { v: 1, kind: PROOF_KIND, genesis: chain.net.genesisBytes, manifest: m.bytes, height: block.height, body: await chain.bodyBytes(block), headers }
  return dagCbor.encode({ ...fields, sum: sumOf(fields) })
}

/** Checks a proof with no repo. Throws AnchorRuleError naming the rule that fails. */
export async function verifyProof (bytes: Uint8Array): Promise<Anchored> {
  let p: ProofFields & { sum: Uint8Array }
  try {
    p = dagCbor.decode(bytes)
  } catch (err) {
    check(false, 'BadProof', `not a proof: ${errorMessage(err)}`)
  }
  check(Buffer.compare(dagCbor.encode(p), bytes) === 0, 'BadProof', 'not canonical dag-cbor')
  check(typeof p === 'object' && p != null && Object.keys(p).sort().join() === PROOF_KEYS.join(), 'BadProof', 'not a cairn proof')
  check(p.v === 1 && p.kind === PROOF_KIND, 'BadProof', 'not a cairn proof of version 1')
  const { sum, ...fields } = p
  check(sum instanceof Uint8Array && Buffer.compare(sum, sumOf(fields)) === 0, 'BadProof', 'the proof was altered: its checksum does not match its contents')
  check(p.genesis instanceof Uint8Array && p.manifest instanceof Uint8Array && p.body instanceof Uint8Array &&
    Array.isArray(p.headers) && p.headers.every(h => h instanceof Uint8Array), 'BadProof', 'malformed proof fields')
  const net = fromGenesis(p.genesis)
  // every header, from genesis up, under every header rule
  let parent = genesisMeta(net)
  let anchoring: BlockMeta | null = null
  for (const hb of p.headers) {
    const c = checkHeader(hb, net)
    check(c.header.prev.equals(parent.cid), 'BadProof', `header at height ${c.header.height} does not follow the one before it`)
    // the future rule holds blocks back from a live chain; a proof is judged on its own
    checkContext(c.header, parent, net, Number.MAX_SAFE_INTEGER)
    parent = metaOf(c, parent)
    if (parent.height === p.height) {
      anchoring = parent
      check(cborCid(p.body).equals(c.header.body), 'BodyMismatch', 'the body is not the anchoring block\'s')
    }
  }
  check(anchoring != null, 'BadProof', `the proof has no header at height ${p.height}`)
  const m = await readManifest(p.manifest)
  check(decodeBody(p.body).some(c => c.equals(m.cid)), 'BadProof', `manifest ${m.cid.toString()} is not in the anchoring block's body`)
  return describeAnchoring(net.name, net.id, m, anchoring, parent)
}

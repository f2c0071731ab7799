// An in-process sync peer (loopPeer), and hostile sync replies: a server's honest reply to a request, altered to
// break one rule each. Shared by the unit tests and the hostile peer process
// of the integration tests (test/integration/hostile-chain-peer.ts).

import * as dagCbor from '@ipld/dag-cbor'
import { cborCid, decodeHeader, encodeBody, encodeHeader, sha256, type Header } from '../../../core/anchor/encoding.ts'
import { checkHeader } from '../../../core/anchor/validate.ts'
import { mineHeader } from '../../../core/anchor/hasher.ts'
import { answer, decodeReply, decodeRequest, encodeMessage, SyncFrameError, type SyncReply, type SyncRequest } from '../../../core/anchor/sync-protocol.ts'
import { SyncViolation, type SyncPeer } from '../../../core/anchor/sync.ts'
import type { AnchorChain } from '../../../core/anchor/chain.ts'
import { testNetwork } from '../../../core/anchor/test-miner.ts'
import { digestValue, expandTarget } from '../../../core/anchor/target.ts'
import type { Network } from '../../../core/anchor/params.ts'
import { manifestFor } from './helpers.ts'

export type Mutate = (req: SyncRequest, reply: SyncReply) => SyncReply | Uint8Array | Promise<SyncReply | Uint8Array>

/** A peer in this process: every request and reply goes through the codec, as on a stream; `mutate` plays a hostile server. */
export function loopPeer (server: AnchorChain, mutate?: Mutate): SyncPeer & { requests: SyncRequest[] } {
  const requests: SyncRequest[] = []
  return {
    id: 'loop',
    requests,
    async request (req) {
      const got = decodeRequest(encodeMessage(req))
      requests.push(got)
      let reply: SyncReply | Uint8Array = await answer(server, got)
      if (mutate != null) reply = await mutate(got, reply)
      const bytes = reply instanceof Uint8Array ? reply : encodeMessage(reply)
      try {
        return decodeReply(bytes, req) as never
      } catch (err) {
        if (err instanceof SyncFrameError) throw new SyncViolation(err.message, 'sync-bad-reply')
        throw err
      }
    },
    close () {}
  }
}

/** Mines a header from fields, whatever they say. */
const mineFields = (h: Header): Uint8Array => mineHeader(h) as Uint8Array

/** The fields of the header at `i` of a headers reply. */
const fieldsOf = (bytes: Uint8Array): Header => dagCbor.decode(bytes)

/** Replaces header `i` of the first headers reply with `forge(fields)` and drops those after it. */
const forgeHeader = (i: number, forge: (h: Header, parent: Header | null) => Uint8Array): Mutate => (req, reply) => {
  if (reply.op !== 'headers') return reply
  const hs = reply.headers.slice(0, i + 1)
  hs[i] = forge(fieldsOf(hs[i]), i > 0 ? fieldsOf(hs[i - 1]) : null)
  return { op: 'headers', headers: hs }
}

/** A header at `i` whose body lists `manifestBytes`, served with that body and those manifests. */
function forgeBody (i: number, manifestBytes: () => Promise<Uint8Array[]>, bodyOf?: (cids: ReturnType<typeof cborCid>[]) => Uint8Array): Mutate {
  let forged: { header: Uint8Array, body: Uint8Array, manifests: Uint8Array[] } | null = null
  return async (req, reply) => {
    if (reply.op === 'headers') {
      const hs = reply.headers.slice(0, i + 1)
      const manifests = await manifestBytes()
      const body = encodeBody(manifests.map(m => cborCid(m)))
      const header = mineFields({ ...fieldsOf(hs[i]), body: cborCid(body) })
      forged = { header, body: bodyOf?.(manifests.map(m => cborCid(m))) ?? body, manifests }
      hs[i] = header
      return { op: 'headers', headers: hs }
    }
    if (reply.op === 'bodies' && forged != null) {
      const at = req.op === 'bodies' ? req.blocks.findIndex(c => c.equals(cborCid((forged as { header: Uint8Array }).header))) : -1
      if (at >= 0) {
        const blocks = reply.blocks.slice(0, at + 1)
        blocks[at] = { body: forged.body, manifests: forged.manifests }
        return { op: 'bodies', blocks }
      }
    }
    return reply
  }
}

/** `inner`, then every manifest dropped from bodies replies. */
const withoutManifests = (inner: Mutate): Mutate => async (req, reply) => {
  const r = await inner(req, reply)
  if (!(r instanceof Uint8Array) && r.op === 'bodies') return { op: 'bodies', blocks: r.blocks.map(b => b == null ? b : { ...b, manifests: [] }) }
  return r
}

export interface Hostile { mutate: Mutate, offence: 'sync-invalid' | 'sync-bad-reply', rule?: RegExp }

/** One way to lie per entry; `net` is the network the honest replies are on. */
export const hostileReplies = (net: Network): Record<string, Hostile> => ({
  BadProofOfWork: {
    offence: 'sync-invalid',
    rule: /BadProofOfWork/,
    mutate: forgeHeader(3, h => {
      for (let k = 1; ; k++) {
        new DataView(h.nonce.buffer, h.nonce.byteOffset).setUint32(0, k)
        const bytes = encodeHeader(h)
        if (digestValue(sha256(bytes)) > (expandTarget(h.target) as bigint)) return bytes
      }
    })
  },
  WrongNetwork: { offence: 'sync-invalid', rule: /WrongNetwork/, mutate: forgeHeader(2, h => mineFields({ ...h, net: testNetwork(`elsewhere-${net.name}`).id })) },
  BadTarget: { offence: 'sync-invalid', rule: /BadTarget/, mutate: forgeHeader(2, h => mineFields({ ...h, target: 0x2100ffff })) },
  TimeTooOld: { offence: 'sync-invalid', rule: /TimeTooOld/, mutate: forgeHeader(4, (h, p) => mineFields({ ...h, time: (p as Header).time - 5000 })) },
  BadHeight: { offence: 'sync-invalid', rule: /BadHeight/, mutate: forgeHeader(2, h => mineFields({ ...h, height: h.height + 7 })) },
  BadEncoding: { offence: 'sync-invalid', rule: /BadEncoding/, mutate: forgeHeader(1, h => dagCbor.encode({ ...h, extra: 1 })) },
  'headers that do not chain': { offence: 'sync-bad-reply', mutate: forgeHeader(3, (h, p) => mineFields({ ...h, prev: (p as Header).prev })) },
  'a first header on an unknown parent': { offence: 'sync-bad-reply', mutate: forgeHeader(0, h => mineFields({ ...h, prev: cborCid(new Uint8Array([9])) })) },
  'more headers than asked': {
    offence: 'sync-bad-reply',
    mutate: (req, reply) => req.op === 'headers' && reply.op === 'headers' ? encodeMessage({ op: 'headers', headers: [...reply.headers, ...Array.from({ length: req.max }, () => reply.headers[0])] }) : reply
  },
  garbage: { offence: 'sync-bad-reply', mutate: (req, reply) => reply.op === 'headers' ? new Uint8Array([0xff, 0x00, 0x13]) : reply },
  BodyMismatch: { offence: 'sync-invalid', rule: /BodyMismatch/, mutate: forgeBody(2, async () => [], () => encodeBody([cborCid(new Uint8Array([1]))])) },
  BadSignature: {
    offence: 'sync-invalid',
    rule: /BadSignature/,
    mutate: forgeBody(2, async () => { const m = await manifestFor(900); return [dagCbor.encode({ ...m.manifest, name: 'forged' })] })
  },
  // at the first block: a node at genesis asks for its body at once (the header alone outweighs genesis)
  'BodyMismatch at the first block': { offence: 'sync-invalid', rule: /BodyMismatch/, mutate: forgeBody(0, async () => [], () => encodeBody([cborCid(new Uint8Array([2]))])) },
  'BadSignature at the first block': {
    offence: 'sync-invalid',
    rule: /BadSignature/,
    mutate: forgeBody(0, async () => { const m = await manifestFor(902); return [dagCbor.encode({ ...m.manifest, name: 'forged-first' })] })
  },
  // the body names a manifest the reply leaves out
  MissingManifest: { offence: 'sync-invalid', rule: /MissingManifest/, mutate: withoutManifests(forgeBody(2, async () => [(await manifestFor(901)).bytes])) },
  'more work claimed than its headers carry': {
    offence: 'sync-bad-reply',
    mutate: (req, reply) => reply.op === 'status' ? { ...reply, work: (BigInt(reply.work) * 1000n).toString() } : reply
  }
})

/** The header with another nonce, one whose hash misses `net`'s target (BadProofOfWork). */
export function missTarget (header: Uint8Array, net: Network): Uint8Array {
  const h = decodeHeader(header)
  for (let i = 1; i < 100_000; i++) {
    h.nonce = new Uint8Array(8)
    new DataView(h.nonce.buffer).setUint32(4, i)
    const bytes = encodeHeader(h)
    try { checkHeader(bytes, net) } catch (err) { if ((err as { rule?: string }).rule === 'BadProofOfWork') return bytes }
  }
  throw new Error('no nonce missed the target')
}

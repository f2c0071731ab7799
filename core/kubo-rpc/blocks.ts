// Kubo RPC: block/put, block/get, block/stat, dag/export, dag/import.
// Blocks read through the seed's fetch path (a block the repo lacks comes
// from the swarm); every block put is hashed here, and a block of a codec
// that can link must decode (gc walks it later).

import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { carExportStream, carImportFrom } from '../repo/car.ts'
import { linksOf } from '../repo/dag.ts'
import { pinAdd } from '../repo/pin.ts'
import { withContentReader, contentReader } from '../api/handlers.ts'
import { boundaryOf, parseMultipart } from './multipart.ts'
import { RpcParamError, sendBytes, sendJson, sendStream } from './wire.ts'
import { cidArg } from './args.ts'
import { readContext, type Call, type Endpoint, type RpcContext } from './call.ts'
import { errorMessage } from '../util/errors.ts'

/** Kubo refuses blocks over 1 MiB unless allow-big-block: peers cannot exchange them */
const MAX_BLOCK = 1024 * 1024
/** even with allow-big-block, a block is held in memory whole: this much at most */
const MAX_BIG_BLOCK = 16 * 1024 * 1024

/** cid-codec names block/put takes, and their multicodec codes */
const CODECS: Record<string, number> = { raw: 0x55, 'dag-pb': 0x70, 'dag-cbor': 0x71, 'dag-json': 0x0129, json: 0x0200, cbor: 0x51 }

/** Kubo's legacy `format` option: which codec, and CIDv0 for dag-pb */
function codecOf (format: string | undefined, cidCodec: string | undefined): { code: number, v0: boolean } {
  if (format != null && format !== '') {
    if (format === 'v0' || format === 'protobuf' || format === 'dag-pb') return { code: 0x70, v0: true }
    if (format === 'cbor' || format === 'dag-cbor') return { code: 0x71, v0: false }
    if (format === 'raw') return { code: 0x55, v0: false }
    throw new RpcParamError(`unknown format "${format}" (v0, protobuf, dag-pb, cbor, dag-cbor, raw)`)
  }
  const name = cidCodec ?? 'raw'
  if (!Object.hasOwn(CODECS, name)) throw new RpcParamError(`cairn cannot store blocks of codec "${name}" (${Object.keys(CODECS).join(', ')})`)
  return { code: CODECS[name], v0: false }
}

async function readAll (body: AsyncIterable<Uint8Array>, max: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let n = 0
  for await (const c of body) {
    n += c.byteLength
    if (n > max) {
      throw new RpcParamError(max === MAX_BLOCK
        ? 'produced block is over 1MiB: big blocks can\'t be exchanged with other peers. consider using UnixFS for automatic chunking of bigger files, or pass allow-big-block to override'
        : `block is over ${max / 1024 / 1024} MiB, more than cairn takes in one request`)
    }
    chunks.push(Buffer.from(c))
  }
  return Buffer.concat(chunks)
}

export function blockEndpoints (ctx: RpcContext): Record<string, Endpoint> {
  const s = ctx.services
  return {
    async 'block/put' (c: Call) {
      const { code, v0 } = codecOf(c.params.str(['format', 'f']), c.params.str(['cid-codec']))
      const mhtype = c.params.str(['mhtype'], 'sha2-256')
      if (mhtype !== 'sha2-256') throw new RpcParamError(`cairn hashes blocks with sha2-256 only (got mhtype=${mhtype})`)
      const mhlen = c.params.int(['mhlen']) ?? -1
      if (mhlen !== -1 && mhlen !== 32) throw new RpcParamError(`sha2-256 digests are 32 bytes (got mhlen=${mhlen})`)
      const pin = c.params.bool(['pin'], false)
      const max = c.params.bool(['allow-big-block'], false) ? MAX_BIG_BLOCK : MAX_BLOCK
      const boundary = boundaryOf(c.req.headers['content-type'])
      await sendStream(c.res, (async function * () {
        for await (const part of parseMultipart(c.req, boundary)) {
          const bytes = await readAll(part.body, max)
          const digest = Digest.create(sha256.code, createHash('sha256').update(bytes).digest())
          const cid = v0 ? CID.createV0(digest) : CID.createV1(code, digest)
          try {
            linksOf(cid, bytes)
          } catch (err) {
            throw new RpcParamError(`the block does not decode as ${v0 ? 'dag-pb' : Object.keys(CODECS).find(k => CODECS[k] === code) ?? code}: ${errorMessage(err)}`)
          }
          await s.lock.shared(async () => {
            await s.repo.blocks.put(cid, bytes)
            if (pin) await s.repo.pinDurably([cid])
          })
          yield { Key: cid.toString(), Size: bytes.byteLength }
        }
      })())
    },

    async 'block/get' (c: Call) {
      const cid = cidArg(c.params)
      const bytes = await withContentReader(s, readContext(c), cid, async store => await store.getBytes(cid, { signal: c.signal }))
      await sendBytes(c.res, (async function * () { yield bytes })(), { length: bytes.byteLength })
    },

    async 'block/stat' (c: Call) {
      const cid = cidArg(c.params)
      const bytes = await withContentReader(s, readContext(c), cid, async store => await store.getBytes(cid, { signal: c.signal }))
      sendJson(c.res, { Key: cid.toString(), Size: bytes.byteLength })
    },

    async 'dag/export' (c: Call) {
      const cid = cidArg(c.params)
      const r = contentReader(s, readContext(c), cid)
      r.store.prefetch?.(cid)
      let ok = false
      try {
        await sendBytes(c.res, (async function * () {
          yield * carExportStream(r.store, cid, { signal: c.signal })
          ok = true
        })())
      } finally {
        r.done(ok)
      }
    },

    async 'dag/import' (c: Call) {
      const pinRoots = c.params.bool(['pin-roots'], true)
      const stats = c.params.bool(['stats'], false)
      const boundary = boundaryOf(c.req.headers['content-type'])
      await sendStream(c.res, (async function * () {
        const roots = new Map<string, CID>()
        let blocks = 0
        let bytes = 0
        await s.lock.shared(async () => {
          let n = 0
          for await (const part of parseMultipart(c.req, boundary)) {
            n++
            const r = await carImportFrom(s.repo, part.body, part.filename !== '' ? part.filename : `CAR ${n} of the request`, null, { signal: c.signal, pin: false })
            blocks += r.blocks
            bytes += r.blockBytes
            for (const root of r.roots) roots.set(root.toString(), root)
          }
        })
        // as Kubo: the roots are pinned once every CAR is in; a root whose DAG is incomplete is not, and says why
        for (const root of roots.values()) {
          let pinError = ''
          if (pinRoots) {
            try {
              await s.lock.shared(async () => await withContentReader(s, { params: { offline: true }, signal: c.signal, progress: () => {} }, root,
                async store => await pinAdd(s.repo, root, { signal: c.signal, store })))
              if (s.provider != null) void s.provider.provideDag(root).catch(() => {})
            } catch (err) {
              pinError = errorMessage(err)
            }
          }
          yield { Root: { Cid: { '/': root.toString() }, PinErrorMsg: pinError } }
        }
        s.monitor?.log(`imported ${roots.size} root(s) from a CAR (Kubo RPC)`)
        void s.monitor?.refreshContent().catch(() => {})
        if (stats) yield { Stats: { BlockCount: blocks, BlockBytesCount: bytes } }
      })())
    }
  }
}

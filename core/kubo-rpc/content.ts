// Kubo RPC: add, cat, get, ls, refs, through core/unixfs/add.ts, cat.ts, ls.ts and
// the seed's fetch path (content the repo lacks comes from the swarm).

import { createGzip } from 'node:zlib'
import { Readable } from 'node:stream'
import { add, type StreamedEntry } from '../unixfs/add.ts'
import { cat } from '../unixfs/cat.ts'
import { ls, type EntryKind } from '../unixfs/ls.ts'
import { blockKey, linksOf } from '../repo/dag.ts'
import { resolveEntry } from '../unixfs/resolve.ts'
import { contentReader } from '../api/handlers.ts'
import { boundaryOf, parseMultipart, type Part } from './multipart.ts'
import { RpcParamError, sendBytes, sendStream, whileRunning } from './wire.ts'
import { addProfile } from './args.ts'
import { contentPathArg } from './names.ts'
import { tarEntry } from './tar.ts'
import type { CID } from 'multiformats/cid'
import type { ContentPath } from '../unixfs/content-path.ts'
import type { Repo } from '../../storage/repo.ts'
import type { BlockStore } from '../../storage/blocks.ts'
import { readContext, type Call, type Endpoint, type RpcContext } from './call.ts'

/** add's progress lines per file, at most this often (Kubo's are per 256 KiB chunk; this keeps a 512 MiB add's stream short) */
const ADD_PROGRESS_EVERY_MS = 100

/** unixfs_pb Data.DataType values, which Kubo's ls sends as Type */
const UNIXFS_TYPE: Record<EntryKind, number> = { raw: 2, file: 2, directory: 1, symlink: 4, object: 2 }

export function contentEndpoints (ctx: RpcContext): Record<string, Endpoint> {
  const s = ctx.services
  return {
    async add (c: Call) {
      const profile = addProfile(c.params)
      const pin = c.params.bool(['pin'], true)
      const onlyHash = c.params.bool(['only-hash', 'n'], false)
      const wrap = c.params.bool(['wrap-with-directory', 'w'], false)
      const progress = c.params.bool(['progress', 'p'], false)
      const quieter = c.params.bool(['quieter', 'Q'], false)
      const silent = c.params.bool(['silent'], false)
      const boundary = boundaryOf(c.req.headers['content-type'])
      await sendStream(c.res, whileRunning<unknown>(async push => {
        const parts = parseMultipart(c.req, boundary)
        // each part's bytes are counted on the way to the importer: Kubo's per-file progress
        const entries = (async function * (): AsyncGenerator<StreamedEntry> {
          for await (const part of parts) {
            if (part.contentType === 'application/x-directory') {
              yield { path: part.filename }
            } else if (part.contentType === 'application/symlink') {
              const target: Buffer[] = []
              for await (const b of part.body) target.push(Buffer.from(b))
              yield { path: part.filename, link: Buffer.concat(target).toString('utf8') }
            } else {
              yield { path: part.filename, content: progress ? counted(part, push) : part.body }
            }
          }
        })()
        const r = await s.lock.shared(async () => await add(onlyHash ? null : s.repo, { kind: 'entries', entries }, { profile, pin, wrap, store: offThread(s.repo), signal: c.signal }))
        if (!onlyHash) {
          if (s.provider != null) void s.provider.provideDag(r.root).catch(() => {})
          s.monitor?.log(`added ${r.root.toString()} (Kubo RPC)`)
          void s.monitor?.refreshContent().catch(() => {})
        }
        if (silent) return
        for (const e of r.entries) {
          if (quieter && !e.cid.equals(r.root)) continue
          push({ Name: e.path === '' ? e.cid.toString() : e.path, Hash: e.cid.toString(), Size: String(e.size) })
        }
      }))
    },

    async cat (c: Call) {
      const args = c.params.args()
      if (args.length === 0) throw new RpcParamError('argument "ipfs-path" is required')
      const offset = c.params.int(['offset', 'o'])
      const length = c.params.int(['length', 'l'])
      const targets: ContentPath[] = []
      for (const a of args) targets.push(await contentPathArg(s, c, a))
      await sendBytes(c.res, (async function * () {
        for (const target of targets) {
          const r = contentReader(s, readContext(c), target.cid)
          let ok = false
          try {
            yield * cat(r.store, target, { offset: offset != null && offset > 0 ? offset : undefined, length: length != null && length >= 0 ? length : undefined, signal: c.signal })
            ok = true
          } finally {
            r.done(ok)
          }
        }
      })())
    },

    async get (c: Call) {
      const target = await contentPathArg(s, c, c.params.arg('ipfs-path'))
      const compress = c.params.bool(['compress', 'C'], false)
      const archive = c.params.bool(['archive', 'a'], false)
      const level = c.params.int(['compression-level', 'l']) ?? -1
      if (level < -1 || level > 9) throw new RpcParamError('compression level must be between 1 and 9')
      const r = contentReader(s, readContext(c), target.cid)
      let ok = false
      try {
        const entry = await resolveEntry(r.store, target, c.signal)
        if (entry.type === 'directory') r.store.prefetch?.(entry.cid)
        const name = target.segments.at(-1) ?? target.cid.toString()
        // Kubo: a file without archive and with compress is the gzipped file, everything else a tar (gzipped with compress)
        let bytes: AsyncIterable<Uint8Array> = !archive && compress && entry.type !== 'directory'
          ? cat(r.store, target, { signal: c.signal })
          : tarEntry(r.store, entry, name, c.signal)
        if (compress) bytes = Readable.from(bytes).pipe(createGzip(level === -1 ? {} : { level }))
        await sendBytes(c.res, (async function * () {
          yield * bytes
          ok = true
        })())
      } finally {
        r.done(ok)
      }
    },

    async ls (c: Call) {
      const args = c.params.args()
      if (args.length === 0) throw new RpcParamError('argument "ipfs-path" is required')
      const stream = c.params.bool(['stream', 's'], false)
      const withSize = c.params.bool(['size'], true)
      const link = (e: { name: string, cid: CID, type: EntryKind, size: number | null }): Record<string, unknown> =>
        ({ Name: e.name, Hash: e.cid.toString(), Size: withSize && e.size != null && e.type !== 'directory' ? e.size : 0, Type: UNIXFS_TYPE[e.type], Target: '' })
      await sendStream(c.res, (async function * () {
        for (const arg of args) {
          const target = await contentPathArg(s, c, arg)
          const r = contentReader(s, readContext(c), target.cid)
          let ok = false
          try {
            const entry = await resolveEntry(r.store, target, c.signal)
            if (entry.type !== 'directory') {
              yield { Objects: [{ Hash: arg, Links: [] }] }
            } else {
              const links: Array<Record<string, unknown>> = []
              for await (const e of ls(r.store, target, { signal: c.signal })) {
                if (stream) yield { Objects: [{ Hash: arg, Links: [link(e)] }] }
                else links.push(link(e))
              }
              if (!stream) yield { Objects: [{ Hash: arg, Links: links }] }
            }
            ok = true
          } finally {
            r.done(ok)
          }
        }
      })())
    },

    async refs (c: Call) {
      const args = c.params.args()
      if (args.length === 0) throw new RpcParamError('argument "ipfs-path" is required')
      const recursive = c.params.bool(['recursive', 'r'], false)
      const unique = c.params.bool(['unique', 'u'], false)
      const edges = c.params.bool(['edges', 'e'], false)
      const maxDepth = recursive ? (c.params.int(['max-depth']) ?? -1) : 1
      let format = c.params.str(['format'], '<dst>')
      if (edges) {
        if (format !== '<dst>') throw new RpcParamError('using format argument with edges is not allowed')
        format = '<src> -> <dst>'
      }
      if (format.includes('<linkname>')) throw new RpcParamError('cairn does not support <linkname> in the refs format')
      const seen = new Set<string>()
      const ref = (src: CID, dst: CID): unknown => ({ Ref: format.replaceAll('<src>', src.toString()).replaceAll('<dst>', dst.toString()), Err: '' })
      await sendStream(c.res, (async function * () {
        for (const arg of args) {
          const target = await contentPathArg(s, c, arg)
          const r = contentReader(s, readContext(c), target.cid)
          // as Kubo walks: each link written, then descended into, before the next link
          const walk = async function * (cid: CID, depth: number): AsyncGenerator<unknown> {
            c.signal.throwIfAborted()
            for (const link of linksOf(cid, await r.store.getBytes(cid, { signal: c.signal }))) {
              const d = depth + 1
              if (maxDepth !== -1 && d > maxDepth) continue
              if (unique) {
                if (seen.has(blockKey(link))) continue
                seen.add(blockKey(link))
              }
              yield ref(cid, link)
              if (maxDepth === -1 || d < maxDepth) yield * walk(link, d)
            }
          }
          let ok = false
          try {
            const root = target.segments.length === 0 ? target.cid : (await resolveEntry(r.store, target, c.signal)).cid
            if (recursive) r.store.prefetch?.(root)
            yield * walk(root, 0)
            ok = true
          } finally {
            r.done(ok)
          }
        }
      })())
    }
  }
}

/**
 * The repo's blocks, written on the block writer's thread (the importer
 * hashed them: the thread only writes): the request's socket is read while
 * blocks are written, instead of the client waiting on a full socket behind
 * each synchronous write.
 */
function offThread (repo: Repo): Pick<BlockStore, 'put'> {
  return {
    put: async (cid, bytes) => {
      // the importer may still refer to the bytes (a single-leaf file): copied, not moved
      await repo.blocks.putChecked(cid, bytes, false, true)
      return cid
    }
  }
}

/** Passes a part's bytes on, pushing {"Name","Bytes"} (bytes of this file so far) at most every ADD_PROGRESS_EVERY_MS and at its end. */
async function * counted (part: Part, push: (v: unknown) => void): AsyncGenerator<Uint8Array> {
  let bytes = 0
  let last = 0
  for await (const chunk of part.body) {
    bytes += chunk.byteLength
    if (performance.now() - last >= ADD_PROGRESS_EVERY_MS) {
      last = performance.now()
      push({ Name: part.filename, Bytes: bytes })
    }
    yield chunk
  }
  push({ Name: part.filename, Bytes: bytes })
}

// add: files, directories (-r) or stdin into UnixFS blocks, pinned once the
// blocks are durable. Walks the inputs first so a missing or unreadable path
// fails before anything is written, and so progress knows the total.

import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import './unixfs-varint.ts' // before anything encodes UnixFS: sizes of 2-4 GiB
import { importer, type ImportCandidate, type SymlinkCandidate } from 'ipfs-unixfs-importer'
import { importerOptions, type ImportProfile } from './profiles.ts'
import { AbortedError, InputError, UsageError, describeFsError, errorName } from '../util/errors.ts'
import { createHash } from 'node:crypto'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import type { Repo } from '../../storage/repo.ts'
import type { BlockStore } from '../../storage/blocks.ts'

export interface AddOptions {
  recursive?: boolean
  /** wrap everything in one directory (-w) */
  wrap?: boolean
  /** include dotfiles met while walking directories */
  hidden?: boolean
  pin?: boolean
  profile: ImportProfile
  /** where the blocks go (default: the repo's store; ignored without a repo) */
  store?: Pick<BlockStore, 'put'>
  signal?: AbortSignal
  onProgress?: (e: AddProgress) => void
}

export type AddProgress =
  | { type: 'add:start', totalBytes: number, files: number }
  | { type: 'add:bytes', bytes: number, totalBytes: number }

export interface Added {
  cid: CID
  /** path as given (relative names inside directories); '' for the -w wrapper */
  path: string
  size: number
}

export interface AddResult {
  entries: Added[]
  /** the last root: the wrapper with -w, else the last argument's */
  root: CID
  pinned: boolean
}

/** One entry of a streamed tree (the Kubo RPC's multipart parts): a directory, a file, or a symlink. */
export interface StreamedEntry {
  /** relative path, '/'-separated, its first segment a top-level name */
  path: string
  /** a file's bytes; absent for a directory */
  content?: AsyncIterable<Uint8Array>
  /** a symlink's target */
  link?: string
}

/**
 * What `add` was asked to import: paths on disk, one stream (stdin), or a
 * tree streamed entry by entry (each file's content read before the next
 * entry is asked for, as a multipart body arrives).
 */
export type AddInput =
  | { kind: 'paths', paths: string[] }
  | { kind: 'stream', stream: AsyncIterable<Uint8Array>, name?: string }
  | { kind: 'entries', entries: AsyncIterable<StreamedEntry> }

type Planned =
  | { type: 'file', src: string, path: string, size: number }
  | { type: 'dir', path: string }
  | { type: 'symlink', path: string, target: string }

/** Reads where nothing is kept: for --only-hash. */
const DISCARD: Pick<BlockStore, 'put'> = { put: async (cid) => cid }

async function plan (paths: string[], o: AddOptions): Promise<Planned[]> {
  const out: Planned[] = []
  const visit = async (src: string, rel: string, top: boolean): Promise<void> => {
    o.signal?.throwIfAborted()
    let st: fs.Stats
    try {
      st = await fsp.lstat(src)
    } catch (err) {
      throw new InputError(describeFsError(err, src))
    }
    if (st.isSymbolicLink()) {
      out.push({ type: 'symlink', path: rel, target: await fsp.readlink(src) })
    } else if (st.isDirectory()) {
      if (!(o.recursive ?? false)) throw new InputError(`${src} is a directory (use -r to add directories)`)
      let names: string[]
      try {
        names = await fsp.readdir(src)
      } catch (err) {
        throw new InputError(describeFsError(err, src))
      }
      out.push({ type: 'dir', path: rel })
      for (const name of names.sort()) {
        if (name.startsWith('.') && !(o.hidden ?? false)) continue
        await visit(path.join(src, name), `${rel}/${name}`, false)
      }
    } else if (st.isFile()) {
      try {
        await fsp.access(src, fs.constants.R_OK)
      } catch (err) {
        throw new InputError(describeFsError(err, src))
      }
      out.push({ type: 'file', src, path: rel, size: st.size })
    } else {
      throw new InputError(`${src}: not a regular file, directory or symlink`)
    }
    void top
  }
  for (const p of paths) {
    const name = path.basename(path.resolve(p))
    await visit(p, name, true)
  }
  return out
}

/** Turns a Node read stream error into an InputError naming the file. */
async function * readFile (src: string, chunk: number, onBytes: (n: number) => void, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  const stream = fs.createReadStream(src, { highWaterMark: chunk, signal })
  try {
    for await (const buf of stream) {
      // a file stream without an encoding reads Buffers
      if (!(buf instanceof Uint8Array)) throw new TypeError(`${src}: the read stream gave text, not bytes`)
      onBytes(buf.byteLength)
      yield buf
    }
  } catch (err) {
    if (errorName(err) === 'AbortError') throw new AbortedError('add was interrupted')
    throw new InputError(describeFsError(err, src))
  }
}

export async function add (repo: Repo | null, input: AddInput, o: AddOptions): Promise<AddResult> {
  const store = repo == null ? DISCARD : (o.store ?? repo.blocks)
  const pin = repo != null && (o.pin ?? true)
  const readChunk = readSize(o.profile)
  let done = 0
  let total = 0
  const onBytes = (n: number): void => {
    done += n
    o.onProgress?.({ type: 'add:bytes', bytes: done, totalBytes: total })
  }

  let candidates: ImportCandidate[] | AsyncIterable<ImportCandidate>
  let topLevel: Set<string>
  let planned: Planned[] = []
  if (input.kind === 'paths') {
    if (input.paths.length === 0) throw new UsageError('add needs a path, or - for stdin')
    planned = await plan(input.paths, o)
    const names = input.paths.map(p => path.basename(path.resolve(p)))
    if ((o.wrap ?? false) && new Set(names).size !== names.length) {
      throw new InputError(`two inputs share the name "${names.find((n, i) => names.indexOf(n) !== i)}": they cannot sit in one directory`)
    }
    topLevel = new Set(names)
    total = planned.reduce((s, e) => s + (e.type === 'file' ? e.size : 0), 0)
    o.onProgress?.({ type: 'add:start', totalBytes: total, files: planned.filter(e => e.type === 'file').length })
    candidates = planned.map((e): ImportCandidate => {
      switch (e.type) {
        case 'dir': return { path: e.path }
        case 'symlink': return { path: e.path, link: e.target }
      }
      return { path: e.path, content: readFile(e.src, readChunk, onBytes, o.signal) }
    })
  } else if (input.kind === 'entries') {
    o.onProgress?.({ type: 'add:start', totalBytes: 0, files: 0 })
    topLevel = new Set()
    // a streamed file arrives in pieces of any size (64 KiB off a socket): gathered into
    // reads of readChunk bytes, a whole number of chunks, as files on disk are read
    const gathered = async function * (content: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
      let pending = Buffer.allocUnsafe(readChunk)
      let filled = 0
      for await (const buf of content) {
        o.signal?.throwIfAborted()
        total += buf.byteLength
        onBytes(buf.byteLength)
        let at = 0
        while (at < buf.byteLength) {
          // a piece that fills a whole read by itself passes without a copy
          if (filled === 0 && buf.byteLength - at >= readChunk) {
            yield buf.subarray(at, at + readChunk)
            at += readChunk
            continue
          }
          const n = Math.min(readChunk - filled, buf.byteLength - at)
          pending.set(buf.subarray(at, at + n), filled)
          filled += n
          at += n
          if (filled === readChunk) {
            yield pending
            pending = Buffer.allocUnsafe(readChunk)
            filled = 0
          }
        }
      }
      if (filled > 0) yield pending.subarray(0, filled)
    }
    const source = input.entries
    // directories are noted as they pass, for addEmptyDirectories
    candidates = (async function * (): AsyncGenerator<ImportCandidate> {
      for await (const e of source) {
        const p = e.path.split('/').filter(s => s !== '' && s !== '.').join('/')
        if (p.split('/').includes('..')) throw new InputError(`invalid entry path ${JSON.stringify(e.path)}`)
        if (p === '') {
          // a file without a name (stdin, a client's bare bytes): named by its CID, as Kubo does
          if (e.content == null) throw new InputError('a directory entry without a name')
          yield { content: gathered(e.content) }
          continue
        }
        topLevel.add(p.split('/')[0])
        if (e.link != null) {
          planned.push({ type: 'symlink', path: p, target: e.link })
          const symlink: SymlinkCandidate = { path: p, link: e.link }
          yield symlink
        } else if (e.content == null) {
          planned.push({ type: 'dir', path: p })
          yield { path: p }
        } else {
          planned.push({ type: 'file', src: '', path: p, size: 0 })
          yield { path: p, content: gathered(e.content) }
        }
      }
    })()
  } else {
    o.onProgress?.({ type: 'add:start', totalBytes: 0, files: 1 })
    const stream = input.stream
    const counted = async function * (): AsyncGenerator<Uint8Array> {
      for await (const buf of stream) {
        o.signal?.throwIfAborted()
        total += buf.byteLength
        onBytes(buf.byteLength)
        yield buf
      }
    }
    candidates = [{ path: input.name, content: counted() }]
    topLevel = new Set(input.name != null ? [input.name] : [])
  }

  const entries: Added[] = []
  const roots: CID[] = []
  try {
    // a streamed tree is read one entry at a time: the importer must not ask for the next before a file's content is read
    const sequential = input.kind === 'entries' ? { fileImportConcurrency: 1 } : {}
    for await (const entry of importer(candidates, store, { ...importerOptions(o.profile), ...sequential, wrapWithDirectory: o.wrap ?? false })) {
      const p = entry.path ?? entry.cid.toString()
      entries.push({ cid: entry.cid, path: o.wrap === true && p === entry.cid.toString() ? '' : p, size: Number(entry.size) })
      if (topLevel.has(p) || entry.path == null || entry.path === '') roots.push(entry.cid)
    }
  } catch (err) {
    if (o.signal?.aborted === true) throw new AbortedError('add was interrupted; nothing was pinned')
    throw err
  }
  if (input.kind !== 'stream') addEmptyDirectories(entries, planned, o.profile)
  if (entries.length === 0) throw new InputError('nothing to add: the request held no file')
  const root = (o.wrap ?? false) ? entries[entries.length - 1].cid : roots[roots.length - 1] ?? entries[entries.length - 1].cid
  if (pin && repo != null) {
    await repo.pinDurably((o.wrap ?? false) ? [root] : roots)
  }
  return { entries, root, pinned: pin }
}

/**
 * The importer stores an empty directory nested in another but yields no
 * entry for it; Kubo prints one. Its CID is the empty UnixFS directory's,
 * which depends only on the CID version. Listed just before its parent.
 */
function addEmptyDirectories (entries: Added[], planned: Planned[], profile: ImportProfile): void {
  const seen = new Set(entries.map(e => e.path))
  const missing = planned.filter(e => e.type === 'dir' && !seen.has(e.path))
  if (missing.length === 0) return
  const bytes = dagPb.encode({ Data: new UnixFS({ type: 'directory' }).marshal(), Links: [] })
  const digest = Digest.create(sha256.code, createHash('sha256').update(bytes).digest())
  const cid = profile.cidVersion === 0 ? CID.createV0(digest) : CID.createV1(dagPb.code, digest)
  for (const dir of missing) {
    const parent = dir.path.slice(0, dir.path.lastIndexOf('/'))
    const at = entries.findIndex(e => e.path === parent)
    entries.splice(at === -1 ? entries.length : at, 0, { cid, path: dir.path, size: bytes.byteLength })
  }
}

/**
 * Bytes per read: a whole number of fixed-size chunks, so the chunker passes each read on
 * without concatenating (measured: 256 KiB reads into 1 MiB chunks cost a
 * copy of every byte and a third of the import's GC time).
 */
function readSize (profile: ImportProfile): number {
  const size = /^size-(\d+)$/.exec(profile.chunker)
  if (size == null) return 256 * 1024
  const n = Number(size[1])
  // small chunks: a whole number of them per read, still without copying
  return n * Math.max(1, Math.floor(256 * 1024 / n))
}

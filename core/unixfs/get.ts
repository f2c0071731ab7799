// get: a file or directory written atomically. Everything is written under
// a temp name beside the output path, flushed, then renamed into place, so
// the output path holds either nothing or the whole, verified result. A temp
// left by a get killed with SIGKILL is removed by the next get to that path.
// Entries that could write outside the output path are refused.

import fs from 'node:fs/promises'
import path from 'node:path'
import { exporter, type UnixFSEntry } from 'ipfs-unixfs-exporter'
import { syncFileSystem } from '../../storage/fsync.ts'
import { removeStaleTemps, tempNameFor } from '../util/atomic.ts'
import { AbortedError, CairnError, OutputError, UnsafeContentError, describeFsError, errnoCode } from '../util/errors.ts'
import { kindOf } from './ls.ts'
import { READ_AHEAD_BLOCKS, formatContentPath, mapExportError, resolveEntry, type ContentPath } from './resolve.ts'
import type { CID } from 'multiformats/cid'
import { entryBytes } from './file-reader.ts'
import type { BlockReader } from '../../storage/blocks.ts'

export interface GetOptions {
  /** where to write; default: the last path segment, else the CID */
  output?: string
  force?: boolean
  signal?: AbortSignal
  onProgress?: (e: GetProgress) => void
}

export type GetProgress =
  | { type: 'get:start', totalBytes: number | null }
  | { type: 'get:bytes', bytes: number, totalBytes: number | null }

export interface GetResult {
  cid: CID
  output: string
  bytes: number
  files: number
}

/** output writes of one file in flight at once */
const WRITES_IN_FLIGHT = 4

/** Writes all of `chunk` at `position` (a write may take less than it was given). */
async function writeAll (fh: fs.FileHandle, chunk: Uint8Array, position: number): Promise<void> {
  let done = 0
  while (done < chunk.byteLength) {
    const { bytesWritten } = await fh.write(chunk, done, chunk.byteLength - done, position + done)
    if (bytesWritten === 0) throw new OutputError('the output file took no bytes (is its file system full?)')
    done += bytesWritten
  }
}

/** A name a directory entry may have: one plain path component. */
export function checkEntryName (name: string, where: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new UnsafeContentError(`${where} has an entry named ${JSON.stringify(name)}, which could write outside the output path; refusing it`)
  }
}

async function exists (p: string): Promise<boolean> {
  try {
    await fs.lstat(p)
    return true
  } catch {
    return false
  }
}

export async function get (store: BlockReader, p: ContentPath, o: GetOptions = {}): Promise<GetResult> {
  const what = formatContentPath(p)
  const last = p.segments.at(-1)
  const output = path.resolve(o.output ?? last ?? p.cid.toString())
  if (o.output == null && last != null) checkEntryName(last, what)
  if (!(o.force ?? false) && await exists(output)) {
    throw new OutputError(`${output} already exists (use --force to replace it)`)
  }
  const root = await resolveEntry(store, p, o.signal)
  if (root.type === 'object') throw new OutputError(`${what} is a dag-cbor/dag-json object, not a UnixFS file or directory`)
  store.prefetch?.(root.cid)

  const parent = path.dirname(output)
  // what a get killed with SIGKILL left here (its partial output) goes now
  await removeStaleTemps(output)
  const tmp = tempNameFor(output)
  const total = root.type === 'directory' ? null : Number(root.size)
  let bytes = 0
  let files = 0
  /** the output is one file, already flushed to disk */
  let flushed = false
  o.onProgress?.({ type: 'get:start', totalBytes: total })

  const writeEntry = async (e: UnixFSEntry, dest: string, where: string): Promise<void> => {
    o.signal?.throwIfAborted()
    const kind = kindOf(e)
    if (kind === 'directory' && e.type === 'directory') {
      await fs.mkdir(dest)
      for await (const child of e.entries({ signal: o.signal })) {
        checkEntryName(child.name, where)
        const resolved = await exporter(child.cid, store, { signal: o.signal })
        await writeEntry(resolved, path.join(dest, child.name), `${where}/${child.name}`)
      }
    } else if (kind === 'symlink' && e.type === 'file') {
      const target = new TextDecoder().decode(e.unixfs.data ?? new Uint8Array())
      if (target.includes('\0')) throw new UnsafeContentError(`${where} is a symlink whose target contains NUL`)
      await fs.symlink(target, dest)
      files++
    } else if (e.type === 'file' || e.type === 'raw' || e.type === 'identity') {
      // 'wx': create only; an existing name (a symlink included) is an error
      const fh = await fs.open(dest, 'wx', 0o644)
      // a few writes at once, each at its own offset: one at a time, each
      // waited for through the event loop, the output fell behind a fetch
      const writing: Array<Promise<unknown>> = []
      let at = 0
      try {
        for await (const chunk of entryBytes(store, e, { signal: o.signal, readAhead: store.readAhead ?? READ_AHEAD_BLOCKS })) {
          if (writing.length >= WRITES_IN_FLIGHT) await writing.shift()
          const done = writeAll(fh, chunk, at)
          done.catch(() => {}) // awaited in order below
          writing.push(done)
          at += chunk.byteLength
          bytes += chunk.byteLength
          o.onProgress?.({ type: 'get:bytes', bytes, totalBytes: total })
        }
        for (const w of writing.splice(0)) await w
        // a file alone is flushed by itself: a syncfs would also write back
        // the blocks the fetch just stored (twice the bytes; ~0.45 against
        // ~0.2 s for 512 MiB here), which a get need not wait for: they are
        // pinned by nobody, and one lost in a crash fails its hash and is
        // fetched again
        if (dest === tmp) {
          await fh.datasync()
          flushed = true
        }
      } finally {
        await Promise.allSettled(writing)
        await fh.close()
      }
      files++
    } else {
      throw new OutputError(`${where} is a dag-cbor/dag-json object inside a UnixFS tree; cairn cannot write it`)
    }
  }

  try {
    try {
      await writeEntry(root, tmp, what)
    } catch (err) {
      if (o.signal?.aborted === true) {
        throw new AbortedError('get was interrupted: nothing was written at the output path; ' +
          'blocks already fetched are kept, so running the same command again resumes')
      }
      if (err instanceof CairnError) throw err
      const code = errnoCode(err)
      if (code === 'EEXIST') throw new UnsafeContentError(`${what} has two entries with one name; refusing it`)
      if (code != null) throw new OutputError(describeFsError(err, `cannot write ${output}`))
      throw mapExportError(err, what)
    }
    // a tree: every file and directory in it at once. The parent, not tmp
    // itself: tmp may be a symlink, which sync would follow
    if (!flushed) await syncFileSystem(parent)
    await replace(tmp, output, o.force ?? false)
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true })
    throw err
  }
  return { cid: root.cid, output, bytes, files }
}

/** Moves the finished temp tree into place; with force, replaces what is there. */
async function replace (tmp: string, output: string, force: boolean): Promise<void> {
  let st: Awaited<ReturnType<typeof fs.lstat>> | null = null
  try { st = await fs.lstat(output) } catch { st = null }
  if (st != null && !force) throw new OutputError(`${output} already exists (use --force to replace it)`)
  if (st == null || (!st.isDirectory() && !(await fs.lstat(tmp)).isDirectory())) {
    // rename(2) replaces a file or symlink with a file atomically, and never follows it
    await fs.rename(tmp, output)
    return
  }
  // rename(2) cannot put a directory over anything, nor anything over a
  // directory: move the old one aside first
  const old = `${tmp}.old`
  await fs.rename(output, old)
  try {
    await fs.rename(tmp, output)
  } catch (err) {
    await fs.rename(old, output)
    throw err
  }
  await fs.rm(old, { recursive: true, force: true })
}

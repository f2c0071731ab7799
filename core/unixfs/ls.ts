// ls: the entries of a directory (or the one entry of a file).

import { exporter, type UnixFSEntry } from 'ipfs-unixfs-exporter'
import { OutputError } from '../util/errors.ts'
import { formatContentPath, mapExportError, resolveEntry, type ContentPath } from './resolve.ts'
import type { CID } from 'multiformats/cid'
import type { BlockReader } from '../../storage/blocks.ts'

export type EntryKind = 'file' | 'directory' | 'symlink' | 'raw' | 'object'

export interface ListEntry {
  cid: CID
  name: string
  type: EntryKind
  /** bytes for files and symlinks; null for directories */
  size: number | null
}

export function kindOf (e: UnixFSEntry): EntryKind {
  if (e.type === 'directory') return 'directory'
  if (e.type === 'file') return e.unixfs.type === 'symlink' ? 'symlink' : 'file'
  if (e.type === 'object') return 'object'
  return 'raw'
}

function describe (e: UnixFSEntry, name: string): ListEntry {
  const type = kindOf(e)
  return { cid: e.cid, name, type, size: type === 'directory' ? null : Number(e.size) }
}

export async function * ls (store: BlockReader, p: ContentPath, o: { signal?: AbortSignal } = {}): AsyncGenerator<ListEntry> {
  const entry = await resolveEntry(store, p, o.signal)
  const what = formatContentPath(p)
  if (entry.type !== 'directory') {
    if (entry.type === 'object') throw new OutputError(`${what} is a dag-cbor/dag-json object, not a UnixFS directory`)
    yield describe(entry, p.segments.at(-1) ?? entry.cid.toString())
    return
  }
  try {
    for await (const child of entry.entries({ signal: o.signal })) {
      yield describe(await exporter(child.cid, store, { signal: o.signal }), child.name)
    }
  } catch (err) {
    throw mapExportError(err, what)
  }
}

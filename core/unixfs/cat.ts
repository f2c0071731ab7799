// cat: a file's bytes, or a range of them, as they are read and verified.

import { OutputError, UsageError } from '../util/errors.ts'
import { READ_AHEAD_BLOCKS, mapExportError, resolveEntry, formatContentPath, type ContentPath } from './resolve.ts'
import { entryBytes } from './file-reader.ts'
import type { BlockReader } from '../../storage/blocks.ts'

export interface CatOptions {
  offset?: number
  length?: number
  signal?: AbortSignal
}

export async function * cat (store: BlockReader, p: ContentPath, o: CatOptions = {}): AsyncGenerator<Uint8Array> {
  if (o.offset != null && (!Number.isSafeInteger(o.offset) || o.offset < 0)) throw new UsageError(`--offset must be a whole number ≥ 0 (got ${o.offset})`)
  if (o.length != null && (!Number.isSafeInteger(o.length) || o.length < 0)) throw new UsageError(`--length must be a whole number ≥ 0 (got ${o.length})`)
  const entry = await resolveEntry(store, p, o.signal)
  const what = formatContentPath(p)
  if (entry.type === 'directory') throw new OutputError(`${what} is a directory (use cairn ls or cairn get)`)
  if (entry.type === 'object') throw new OutputError(`${what} is a dag-cbor/dag-json object, not a file`)
  if (entry.type === 'file' && entry.unixfs.type === 'symlink') throw new OutputError(`${what} is a symlink, not a file`)
  if (o.length === 0) return
  // a whole file: fetch every missing block ahead of the reader
  if (o.offset == null && o.length == null) store.prefetch?.(entry.cid)
  try {
    yield * entryBytes(store, entry, {
      offset: o.offset != null ? BigInt(o.offset) : undefined,
      length: o.length != null ? BigInt(o.length) : undefined,
      signal: o.signal,
      readAhead: store.readAhead ?? READ_AHEAD_BLOCKS
    })
  } catch (err) {
    throw mapExportError(err, what)
  }
}

// CID[/path] arguments: parsed here so a bad one gets a clear error before
// any block is read, then resolved through the UnixFS exporter.

import { exporter, type UnixFSEntry } from 'ipfs-unixfs-exporter'
import { BlockNotFoundError, CairnError, PathNotFoundError, UnsupportedError, errnoCode, errorMessage, errorName } from '../util/errors.ts'
import { formatContentPath, type ContentPath } from './content-path.ts'
import type { BlockReader } from '../../storage/blocks.ts'

export { parseContentPath, formatContentPath, type ContentPath } from './content-path.ts'

/**
 * Blocks of a file read ahead of the writer. The exporter's default loads a
 * whole layer at once (~all of a 1024-link file: hundreds of MiB); a few
 * blocks keep the disk busy with flat memory.
 */
export const READ_AHEAD_BLOCKS = 8

/** Turns the exporter's errors into ours; passes our own through. */
export function mapExportError (err: unknown, what: string): unknown {
  if (err instanceof CairnError) return err
  const name = errorName(err)
  const code = errnoCode(err)
  if (name === 'AbortError') return err
  if (name === 'NotFoundError' || code === 'ERR_NOT_FOUND') {
    return new PathNotFoundError(`${what}: no such path in the DAG`)
  }
  if (name === 'NoResolverError' || code === 'ERR_NO_RESOLVER') {
    return new UnsupportedError(`${what}: cairn cannot read this kind of block`)
  }
  if (name === 'NoPropError' || code === 'ERR_NO_PROP') {
    return new PathNotFoundError(`${what}: no such path in the DAG`)
  }
  return new CairnError(`${what}: ${errorMessage(err)}`)
}

export async function resolveEntry (store: BlockReader, p: ContentPath, signal?: AbortSignal): Promise<UnixFSEntry> {
  const target = formatContentPath(p)
  try {
    return await exporter(target === p.cid.toString() ? p.cid : `${p.cid.toString()}/${p.segments.join('/')}`, store, { signal })
  } catch (err) {
    if (err instanceof BlockNotFoundError) throw err
    throw mapExportError(err, target)
  }
}

// CAR v1 import and export (@ipld/car). Import checks every block against
// its CID before storing it and pins the roots once the blocks are durable;
// export walks the DAG in link order.

import fs from 'node:fs'
import { CarWriter } from '@ipld/car'
import { asyncIterableReader, createDecoder } from '@ipld/car/decoder'
import { MAX_BLOCK_BYTES, digestMatches } from '../../storage/blocks.ts'
import { walkDag } from './dag.ts'
import { AbortedError, CairnError, CorruptBlockError, DagTooDeepError, InputError, UnsupportedError, describeFsError, errnoCode, errorMessage } from '../util/errors.ts'
import type { CID } from 'multiformats/cid'
import type { BlockReader, Blocks } from '../../storage/blocks.ts'
import type { Repo } from '../../storage/repo.ts'

export class InvalidCarError extends CairnError {}

/** A CAR section longer than any block may be (MAX_BLOCK_BYTES): refused before it is read into memory. */
export class CarBlockTooLargeError extends InvalidCarError {}

type BytesReader = ReturnType<typeof asyncIterableReader>

/**
 * @ipld/car's reader reads a section's length and then that many bytes into
 * one buffer: a CAR saying "the next block is 4 GiB" made it try. This
 * reader refuses any single read over the block limit before it allocates.
 */
function cappedReader (reader: BytesReader, onTooLarge: (length: number) => Error): BytesReader {
  return {
    upTo: async (length) => await reader.upTo(length),
    exactly: async (length, seek) => {
      if (length > MAX_BLOCK_BYTES) throw onTooLarge(length)
      return await reader.exactly(length, seek)
    },
    seek: (length) => { reader.seek(length) },
    get pos () { return reader.pos }
  }
}

export type CarProgress =
  | { type: 'car:start', totalBytes: number | null }
  | { type: 'car:bytes', bytes: number, totalBytes: number | null, blocks: number }

export interface CarExportResult { root: CID, blocks: number, bytes: number }

/**
 * The CAR of the DAG under `root`, as bytes: the walk feeds @ipld/car's
 * writer, which waits for the reader, so memory stays flat.
 */
export async function * carExportStream (blocks: BlockReader, root: CID, o: { signal?: AbortSignal, onProgress?: (e: CarProgress) => void } = {}): AsyncGenerator<Uint8Array> {
  const { writer, out } = CarWriter.create([root])
  let count = 0
  let written = 0
  o.onProgress?.({ type: 'car:start', totalBytes: null })
  const feeding = walkDag(blocks, root, {
    signal: o.signal,
    onBlock: async (cid, bytes) => {
      await writer.put({ cid, bytes })
      count++
      o.onProgress?.({ type: 'car:bytes', bytes: written, totalBytes: null, blocks: count })
    }
  }).finally(async () => { await writer.close() })
  feeding.catch(() => {}) // rethrown below, once the reader has drained
  for await (const chunk of out) {
    written += chunk.byteLength
    yield chunk
  }
  await feeding
}

/** Streams a CAR of the DAG under `root` to `write`, which may apply backpressure. */
export async function carExport (
  blocks: Blocks, root: CID, write: (chunk: Uint8Array) => Promise<void>,
  o: { signal?: AbortSignal, onProgress?: (e: CarProgress) => void } = {}
): Promise<CarExportResult> {
  let blocksSeen = 0
  let bytes = 0
  for await (const chunk of carExportStream(blocks, root, { ...o, onProgress: e => { if (e.type === 'car:bytes') blocksSeen = e.blocks; o.onProgress?.(e) } })) {
    await write(chunk)
    bytes += chunk.byteLength
  }
  return { root, blocks: blocksSeen, bytes }
}

export interface CarImportResult {
  file: string
  roots: CID[]
  blocks: number
  /** bytes of the blocks stored (not of the CAR) */
  blockBytes: number
  /** roots whose DAG is not complete in the repo after the import */
  incomplete: Array<{ root: CID, missing: number }>
}

/** Imports one CAR file: every block verified, then the roots pinned. */
export async function carImport (repo: Repo, file: string, o: { signal?: AbortSignal, onProgress?: (e: CarProgress) => void, pin?: boolean } = {}): Promise<CarImportResult> {
  let total: number | null = null
  try {
    const st = await fs.promises.stat(file)
    if (st.isDirectory()) throw new InputError(`${file} is a directory, not a CAR file`)
    total = st.size
  } catch (err) {
    if (err instanceof CairnError) throw err
    throw new InputError(describeFsError(err, file))
  }
  const stream = fs.createReadStream(file, { highWaterMark: 1024 * 1024, signal: o.signal })
  return await carImportFrom(repo, stream, file, total, o)
}

/** Imports a CAR read from `source` (`file` names it in messages): every block verified, then the roots pinned. */
export async function carImportFrom (
  repo: Repo, source: AsyncIterable<Uint8Array>, file: string, total: number | null,
  o: { signal?: AbortSignal, onProgress?: (e: CarProgress) => void, pin?: boolean } = {}
): Promise<CarImportResult> {
  let read = 0
  let count = 0
  let blockBytes = 0
  const counted = (async function * () {
    for await (const chunk of source) {
      read += chunk.byteLength
      yield chunk
    }
  })()
  o.onProgress?.({ type: 'car:start', totalBytes: total })
  let roots: CID[]
  try {
    const decoder = createDecoder(cappedReader(asyncIterableReader(counted), length =>
      new CarBlockTooLargeError(`${file}: section ${count + 1} holds ${length} bytes, over the ${MAX_BLOCK_BYTES / 1024 / 1024} MiB block limit (bitswap's); nothing from it was pinned`)))
    roots = (await decoder.header()).roots
    for await (const { cid, bytes } of decoder.blocks()) {
      o.signal?.throwIfAborted()
      let ok: boolean
      try {
        ok = digestMatches(cid, bytes)
      } catch (err) {
        if (err instanceof UnsupportedError) throw new InvalidCarError(`${file}: ${err.message}`)
        throw err
      }
      if (!ok) throw new CorruptBlockError(cid.toString(), `block ${count + 1} of ${file}; nothing from it was pinned`)
      await repo.blocks.put(cid, bytes, { signal: o.signal })
      count++
      blockBytes += bytes.byteLength
      o.onProgress?.({ type: 'car:bytes', bytes: read, totalBytes: total, blocks: count })
    }
  } catch (err) {
    if (o.signal?.aborted === true) throw new AbortedError(`car import of ${file} was interrupted; nothing from it was pinned`)
    if (err instanceof CairnError) throw err
    const code = errnoCode(err)
    if (code != null && code !== 'ERR_INVALID_ARG_TYPE') throw new InputError(describeFsError(err, file))
    throw new InvalidCarError(`${file} is not a valid CAR file: ${errorMessage(err)}`)
  }
  const incomplete: CarImportResult['incomplete'] = []
  for (const root of roots) {
    const { missing } = await walkDag(repo.blocks, root, { signal: o.signal, allowMissing: true }).catch((err: unknown) => {
      if (err instanceof DagTooDeepError) throw new DagTooDeepError(`${file}: ${err.message}; nothing from it was pinned`)
      throw err
    })
    if (missing > 0) incomplete.push({ root, missing })
  }
  if (o.pin ?? true) {
    await repo.pinDurably(roots)
  }
  return { file, roots, blocks: count, blockBytes, incomplete }
}

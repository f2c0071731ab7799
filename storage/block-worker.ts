// The block writer's thread (storage/block-writer.ts): hashes a block
// against its CID's digest and, if it matches, writes it to a temp file and
// renames it into place. Its bytes come in transferred and go back the same
// way, so nothing is copied.

import { createHash } from 'node:crypto'
import { parentPort } from 'node:worker_threads'
import { writeBlockFile } from './block-io.ts'
import { errnoCode, errorMessage } from './errors.ts'

export interface WriteJob {
  id: number
  /** 'sha256' or 'sha512' */
  hash: string
  digest: Uint8Array
  bytes: Uint8Array
  file: string
  tmp: string
  /** the sender made the CID from these bytes itself (an import): write without hashing again */
  hashed?: boolean
}

export type WriteResult =
  | { id: number, ok: true, bytes: Uint8Array }
  | { id: number, ok: false, mismatch: true, bytes: Uint8Array }
  | { id: number, ok: false, mismatch: false, error: string, code: string | null, bytes: Uint8Array }

/** shard directories known to exist */
const shards = new Set<string>()

function run (job: WriteJob): WriteResult {
  const { id, bytes } = job
  if (job.hashed !== true) {
    const actual = createHash(job.hash).update(bytes).digest()
    if (Buffer.compare(actual, job.digest) !== 0) return { id, ok: false, mismatch: true, bytes }
  }
  try {
    writeBlockFile(job.file, job.tmp, bytes, shards)
    return { id, ok: true, bytes }
  } catch (err) {
    return { id, ok: false, mismatch: false, error: errorMessage(err), code: errnoCode(err) ?? null, bytes }
  }
}

parentPort?.on('message', (job: WriteJob) => {
  const r = run(job)
  // the job's bytes came moved (or copied) into this thread: an ArrayBuffer, moved back
  const buffer = r.bytes.buffer
  parentPort?.postMessage(r, buffer instanceof ArrayBuffer ? [buffer] : [])
})

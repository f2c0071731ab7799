// The block writer's thread (storage/block-writer.ts): hashes a block
// against its CID's digest and, if it matches, writes it to a temp file and
// renames it into place. Its bytes come in transferred and go back the same
// way, so nothing is copied.

import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { parentPort } from 'node:worker_threads'

export interface WriteJob {
  id: number
  /** 'sha256' or 'sha512' */
  hash: string
  digest: Uint8Array
  bytes: Uint8Array
  file: string
  tmp: string
}

export type WriteResult =
  | { id: number, ok: true, bytes: Uint8Array }
  | { id: number, ok: false, mismatch: true, bytes: Uint8Array }
  | { id: number, ok: false, mismatch: false, error: string, code: string | null, bytes: Uint8Array }

/** shard directories known to exist */
const shards = new Set<string>()

function run (job: WriteJob): WriteResult {
  const { id, bytes } = job
  const actual = createHash(job.hash).update(bytes).digest()
  if (Buffer.compare(actual, job.digest) !== 0) return { id, ok: false, mismatch: true, bytes }
  try {
    const dir = path.dirname(job.file)
    if (!shards.has(dir)) {
      fs.mkdirSync(dir, { recursive: true })
      shards.add(dir)
    }
    fs.writeFileSync(job.tmp, bytes)
    fs.renameSync(job.tmp, job.file)
    return { id, ok: true, bytes }
  } catch (err) {
    try { fs.rmSync(job.tmp, { force: true }) } catch { /* gone already */ }
    return { id, ok: false, mismatch: false, error: (err as Error).message, code: (err as NodeJS.ErrnoException).code ?? null, bytes }
  }
}

parentPort?.on('message', (job: WriteJob) => {
  const r = run(job)
  parentPort?.postMessage(r, [r.bytes.buffer as ArrayBuffer])
})

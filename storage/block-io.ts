// One block on disk, shared by the block store (blocks.ts) and the block
// writer's thread (block-worker.ts): how it is written, and which hash
// function checks it.

import fs from 'node:fs'
import path from 'node:path'
import type { CID } from 'multiformats/cid'
import { UnsupportedError } from './errors.ts'

const HASHES: Record<number, string> = { 0x12: 'sha256', 0x13: 'sha512' }

/** The node:crypto name of the hash function of `cid` (not identity); throws on one cairn cannot verify. */
export function hashName (cid: CID): string {
  const name = HASHES[cid.multihash.code]
  if (name == null) throw new UnsupportedError(`block ${cid.toString()} uses hash function 0x${cid.multihash.code.toString(16)}, which cairn cannot verify`)
  return name
}

/**
 * Writes `bytes` to `tmp` and renames it to `file`, so a reader never sees
 * part of a block; synchronous on purpose (a block is at most 1 MiB and
 * lands in the page cache: docs/bench.md). The shard directory is created
 * once (`shards` remembers those that exist). On failure the temp file is
 * removed and the error thrown.
 */
export function writeBlockFile (file: string, tmp: string, bytes: Uint8Array, shards: Set<string>): void {
  try {
    const dir = path.dirname(file)
    if (!shards.has(dir)) {
      fs.mkdirSync(dir, { recursive: true })
      shards.add(dir)
    }
    fs.writeFileSync(tmp, bytes)
    fs.renameSync(tmp, file)
  } catch (err) {
    try { fs.rmSync(tmp, { force: true }) } catch { /* gone already */ }
    throw err
  }
}

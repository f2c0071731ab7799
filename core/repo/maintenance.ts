// repo stat|gc|verify.

import fs from 'node:fs/promises'
import { digestMatches } from '../../storage/blocks.ts'
import { blockKey, walkDag } from './dag.ts'
import { DagTooDeepError, UnsupportedError, errorMessage } from '../util/errors.ts'
import type { CID } from 'multiformats/cid'
import type { Repo } from '../../storage/repo.ts'

export interface RepoStat {
  path: string
  blocks: number
  /** bytes of block data on disk */
  size: number
  pins: number
}

export async function repoStat (repo: Repo): Promise<RepoStat> {
  let blocks = 0
  let size = 0
  for await (const { file } of repo.blocks.list()) {
    try {
      size += (await fs.stat(file)).size
      blocks++
    } catch { /* removed meanwhile */ }
  }
  let pins = 0
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- only the count matters
  for await (const _ of repo.pins.ls()) pins++
  return { path: repo.root, blocks, size, pins }
}

export interface GcResult {
  removed: number
  freed: number
  kept: number
  /** blocks of pinned DAGs that are missing from the repo */
  missing: number
}

/** Deletes every block that no pinned DAG reaches. Needs the writer lock. */
export async function repoGc (repo: Repo, o: { signal?: AbortSignal, onRemoved?: (cid: CID) => void, alsoKeep?: Iterable<CID> } = {}): Promise<GcResult> {
  const keep = new Set<string>()
  let missing = 0
  // fetches in progress hold temporary pins on their roots
  for (const root of o.alsoKeep ?? []) await walkDag(repo.blocks, root, { signal: o.signal, allowMissing: true }, keep)
  for await (const pin of repo.pins.ls()) {
    // a direct pin keeps its one block
    if (pin.type === 'direct') {
      keep.add(blockKey(pin.cid))
      continue
    }
    // a corrupt block in a pinned DAG throws: its links are unknown, so deleting anything would be a guess
    const stats = await walkDag(repo.blocks, pin.cid, { signal: o.signal, allowMissing: true }, keep).catch((err: unknown) => {
      // its blocks below the limit are unknown: deleting anything would be a guess, as for a corrupt block
      if (err instanceof DagTooDeepError) throw new DagTooDeepError(`gc removed nothing: the pinned ${err.message}; unpin it (cairn pin rm ${pin.cid.toString()}) to collect`)
      throw err
    })
    missing += stats.missing
  }
  const result: GcResult = { removed: 0, freed: 0, kept: 0, missing }
  // with the writer lock held, every temp file is left by a writer that died
  await repo.blocks.removeTempFiles()
  for await (const { cid, file } of repo.blocks.list()) {
    o.signal?.throwIfAborted()
    if (keep.has(blockKey(cid))) {
      result.kept++
      continue
    }
    let size = 0
    try { size = (await fs.stat(file)).size } catch { continue }
    await repo.blocks.delete(cid)
    result.removed++
    result.freed += size
    o.onRemoved?.(cid)
  }
  return result
}

export interface VerifyResult {
  checked: number
  bad: Array<{ cid: CID, file: string, problem: string }>
}

/** Re-hashes every block on disk and names each that does not match its CID. */
export async function repoVerify (repo: Repo, o: { signal?: AbortSignal, onBad?: (cid: CID, file: string, problem: string) => void } = {}): Promise<VerifyResult> {
  const result: VerifyResult = { checked: 0, bad: [] }
  for await (const { cid, file } of repo.blocks.list()) {
    o.signal?.throwIfAborted()
    let problem: string | null = null
    try {
      const bytes = await fs.readFile(file)
      if (!digestMatches(cid, bytes)) problem = 'bytes do not match the CID'
    } catch (err) {
      problem = err instanceof UnsupportedError ? err.message : `cannot read: ${errorMessage(err)}`
    }
    result.checked++
    if (problem != null) {
      result.bad.push({ cid, file, problem })
      o.onBad?.(cid, file, problem)
    }
  }
  return result
}

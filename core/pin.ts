// pin add|rm|ls. Offline, a pin needs the whole DAG in the repo (fetching
// what is missing comes with the network): pinning an incomplete DAG would
// promise content the repo cannot serve.

import { BlockNotFoundError, CairnError } from './errors.ts'
import { walkDag } from './dag.ts'
import type { CID } from 'multiformats/cid'
import type { Pin } from '../storage/pins.ts'
import type { Repo } from '../storage/repo.ts'
import type { BlockReader } from '../storage/blocks.ts'

export class IncompleteDagError extends CairnError {}

/** Pins a DAG; `store` may fetch what the repo lacks (then every block ends up in the repo). */
export async function pinAdd (repo: Repo, cid: CID, o: { signal?: AbortSignal, store?: BlockReader } = {}): Promise<{ blocks: number, bytes: number }> {
  let firstMissing: CID | null = null
  o.store?.prefetch?.(cid)
  const stats = await walkDag(o.store ?? repo.blocks, cid, { signal: o.signal, allowMissing: true, onMissing: c => { firstMissing ??= c } })
  if (stats.missing > 0) {
    throw new IncompleteDagError(`cannot pin ${cid.toString()}: ${stats.missing} block(s) of it are not in the repo (first: ${(firstMissing as CID | null)?.toString()})`)
  }
  await repo.pinDurably([cid])
  return { blocks: stats.blocks, bytes: stats.bytes }
}

export async function pinRm (repo: Repo, cid: CID): Promise<void> {
  if (!(await repo.pins.rm(cid))) throw new BlockNotFoundError(cid.toString(), `${cid.toString()} is not pinned`)
}

export async function * pinLs (repo: Repo): AsyncGenerator<Pin> {
  yield * repo.pins.ls()
}

// pin add|rm|ls. Offline, a pin needs the whole DAG in the repo (fetching
// what is missing comes with the network): pinning an incomplete DAG would
// promise content the repo cannot serve.

import { BlockNotFoundError, CairnError } from '../util/errors.ts'
import { walkDag } from './dag.ts'
import type { CID } from 'multiformats/cid'
import type { Pin, PinType } from '../../storage/pins.ts'
import type { Repo } from '../../storage/repo.ts'
import type { BlockReader } from '../../storage/blocks.ts'

export class IncompleteDagError extends CairnError {}

/** A direct pin asked for what is already pinned recursively (Kubo refuses it too). */
export class AlreadyPinnedError extends CairnError {}

export interface PinAddOptions {
  signal?: AbortSignal
  /** reads through this (it may fetch what the repo lacks: then every block ends up in the repo) */
  store?: BlockReader
  /** 'direct' keeps the root block only (default 'recursive': the whole DAG) */
  type?: PinType
  /** after each block of the DAG is read (the Kubo RPC's progress counts them) */
  onBlock?: (blocks: number) => void
}

/** Pins a DAG, or with type 'direct' one block. */
export async function pinAdd (repo: Repo, cid: CID, o: PinAddOptions = {}): Promise<{ blocks: number, bytes: number }> {
  const store = o.store ?? repo.blocks
  if (o.type === 'direct') {
    if ((await repo.pins.get(cid))?.type === 'recursive') throw new AlreadyPinnedError(`${cid.toString()} is already pinned recursively`)
    const bytes = await store.getBytes(cid, { signal: o.signal })
    o.onBlock?.(1)
    await repo.pinDurably([cid], 'direct')
    return { blocks: 1, bytes: bytes.byteLength }
  }
  const missing: CID[] = []
  o.store?.prefetch?.(cid)
  let blocks = 0
  const stats = await walkDag(store, cid, { signal: o.signal, allowMissing: true, onMissing: c => { if (missing.length === 0) missing.push(c) }, onBlock: () => { o.onBlock?.(++blocks) } })
  if (stats.missing > 0) {
    throw new IncompleteDagError(`cannot pin ${cid.toString()}: ${stats.missing} block(s) of it are not in the repo (first: ${missing[0]?.toString()})`)
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

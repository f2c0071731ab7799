// Networks. A network is its genesis block: the genesis carries the
// consensus parameters, and its CID is the network id every header names.
// Local config picks a network by name; it can never change a network's rules.

import * as dagCbor from '@ipld/dag-cbor'
import { cborCid, isMap, isUint } from './encoding.ts'
import { AnchorError, check } from './rules.ts'
import { expandTarget, type RetargetParams } from './target.ts'
import type { CID } from 'multiformats/cid'
import { errorMessage } from '../util/errors.ts'

export interface ConsensusParams extends RetargetParams {
  /** the target of the blocks after genesis until the first retarget (compact) */
  initialTarget: number
}

/** The genesis block (dag-cbor): not mined, named by every header's `net`. */
export interface Genesis {
  v: 1
  kind: 'cairn-anchor-genesis'
  name: string
  /** Unix ms: the time of height 0 for the time and retarget rules */
  time: number
  params: ConsensusParams
}

export interface Network {
  name: string
  genesis: Genesis
  genesisBytes: Uint8Array
  /** the network id */
  id: CID
  params: ConsensusParams
}

/** 2026-11-01T00:00:00Z, the time of the built-in genesis blocks */
const GENESIS_TIME = Date.UTC(2026, 10, 1)

export function defineNetwork (name: string, params: ConsensusParams, time = GENESIS_TIME): Network {
  const genesis: Genesis = { v: 1, kind: 'cairn-anchor-genesis', name, time, params }
  return fromGenesis(dagCbor.encode(genesis))
}

/** Reads a genesis block (from a file or a proof), checking its parameters make sense. */
export function fromGenesis (bytes: Uint8Array): Network {
  let g: unknown
  try {
    g = dagCbor.decode(bytes)
  } catch (err) {
    throw new AnchorError(`not a genesis block: ${errorMessage(err)}`)
  }
  check(isMap(g) && g.v === 1 && g.kind === 'cairn-anchor-genesis' && typeof g.name === 'string' && isUint(g.time) && isMap(g.params), 'BadEncoding', 'not a cairn genesis block')
  const { interval, window, maxAdjust, initialTarget, easiestTarget } = g.params
  const atLeast = (v: unknown, min: number): v is number => isUint(v) && v >= min
  const initial = typeof initialTarget === 'number' ? expandTarget(initialTarget) : null
  const easiest = typeof easiestTarget === 'number' ? expandTarget(easiestTarget) : null
  check(atLeast(interval, 1) && atLeast(window, 2) && atLeast(maxAdjust, 1) && typeof initialTarget === 'number' && typeof easiestTarget === 'number' &&
    initial != null && easiest != null && initial <= easiest, 'BadEncoding', 'genesis parameters out of range')
  check(Buffer.compare(dagCbor.encode(g), bytes) === 0, 'BadEncoding', 'genesis is not canonical dag-cbor')
  const params: ConsensusParams = { initialTarget, easiestTarget, interval, window, maxAdjust }
  const genesis: Genesis = { v: 1, kind: 'cairn-anchor-genesis', name: g.name, time: g.time, params }
  return { name: g.name, genesis, genesisBytes: bytes, id: cborCid(bytes), params }
}

/**
 * The default network. Its easiest target (≈2^240: 65536 hashes a block on
 * average) lets a fresh node anchor within a fraction of a second on one
 * core; retargets every 10 blocks by at most 4× bring it to one block every
 * ~10 s within a few dozen blocks.
 */
export const LOCAL = defineNetwork('local', { initialTarget: 0x1f00ffff, easiestTarget: 0x1f00ffff, interval: 10_000, window: 10, maxAdjust: 4 })

/** For tests of the whole program: ~256 hashes a block, aiming at one a second. */
export const TEST = defineNetwork('test', { initialTarget: 0x2000ffff, easiestTarget: 0x2000ffff, interval: 1000, window: 10, maxAdjust: 4 })

export const NETWORKS: Record<string, Network> = { local: LOCAL, test: TEST }

export function networkByName (name: string): Network {
  const n = Object.hasOwn(NETWORKS, name) ? NETWORKS[name] : undefined
  if (n == null) throw new AnchorError(`unknown anchor network "${name}" (known: ${Object.keys(NETWORKS).join(', ')})`)
  return n
}

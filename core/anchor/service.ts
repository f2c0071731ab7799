// The anchor chain of one repo: opened from R/chain/<network id>/, fed by
// `add` and `anchor` (signed manifests to the pending pool), read by
// `chain`, `verify` and `proof`. The daemon holds one open for writing; a
// command without a seed opens its own.

import path from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import { ChainFiles } from '../../storage/chain-files.ts'
import { loadOrCreateIdentity } from '../net/identity.ts'
import { AnchorChain } from './chain.ts'
import { signManifest, type EncodedManifest, type ManifestProfile } from './manifest.ts'
import { networkByName, type Network } from './params.ts'
import { AnchorError } from './rules.ts'
import { targetOf } from './target.ts'
import type { ImportProfile } from '../unixfs/profiles.ts'
import type { Repo } from '../../storage/repo.ts'
import type { BlockReader } from '../../storage/blocks.ts'
import { errorMessage } from '../util/errors.ts'

/** where chains live in the repo */
export const CHAIN_DIR = 'chain'
/** blocks listed by `cairn chain` */
const RECENT_BLOCKS = 10

export interface ChainSummary {
  network: string
  id: string
  head: string
  height: number
  /** cumulative work, decimal */
  work: string
  /** compact target of the head, hex */
  target: string
  /** log2 of the hashes a block needs on average at the next block's target */
  difficultyBits: number
  time: number
  pending: number
  orphans: number
  held: number
  /** blocks kept in memory (the window below the head, core/anchor/chain.ts) */
  kept: number
  /** the lowest height a new block may build on: below it the chain is final (0: nothing pruned yet) */
  floor: number
  recent: Array<{ height: number, cid: string, time: number, manifests: number }>
}

export function chainDir (repo: Repo, net: Network): string {
  return path.join(repo.root, CHAIN_DIR, net.id.toString())
}

export async function openRepoChain (repo: Repo, writable: boolean): Promise<AnchorChain> {
  const net = networkByName(repo.config.anchor.network)
  const files = new ChainFiles(chainDir(repo, net), writable)
  await files.open()
  return await AnchorChain.open(net, files, { writable })
}

/** The part of an import profile a manifest records. */
export function manifestProfile (p: ImportProfile): ManifestProfile {
  return { cidVersion: p.cidVersion, rawLeaves: p.rawLeaves, chunker: p.chunker, width: p.width, hamt: p.hamt }
}

/** 'directory' for UnixFS directories (plain or sharded), else 'file'. */
export async function contentType (blocks: BlockReader, root: CID): Promise<{ type: 'file' | 'directory', size: number }> {
  const bytes = await blocks.getBytes(root)
  if (root.code !== dagPb.code) return { type: 'file', size: bytes.byteLength }
  let node: dagPb.PBNode
  let fs: UnixFS | null
  try {
    node = dagPb.decode(bytes)
    fs = node.Data != null ? UnixFS.unmarshal(node.Data) : null
  } catch (err) {
    // seen once, not reproduced: a 2 GiB add failed here with a bare protobuf error
    throw new AnchorError(`cannot describe ${root.toString()} for its manifest (${bytes.byteLength} bytes): ${errorMessage(err)}`)
  }
  const dir = fs != null && (fs.type === 'directory' || fs.type === 'hamt-sharded-directory')
  const size = dir || fs == null ? node.Links.reduce((s, l) => s + (l.Tsize ?? 0), bytes.byteLength) : Number(fs.fileSize())
  return { type: dir ? 'directory' : 'file', size }
}

/**
 * Signs a manifest for `root` with the repo's node key and queues it for
 * anchoring: in the running seed's chain when there is one, else in the repo.
 */
export async function publishManifest (
  repo: Repo, chain: AnchorChain | null, o: { root: CID, name?: string, profile: ImportProfile }
): Promise<{ manifest: EncodedManifest, status: string }> {
  const key = await loadOrCreateIdentity(repo)
  const { type, size } = await contentType(repo.blocks, o.root)
  const manifest = await signManifest(key, { root: o.root, name: o.name, type, size, profile: manifestProfile(o.profile), time: Date.now() })
  if (chain == null) {
    await queueInRepo(repo, manifest)
    return { manifest, status: 'pending' }
  }
  const r = await chain.addPending(manifest.bytes)
  return { manifest, status: r.status }
}

export function summarize (chain: AnchorChain): ChainSummary {
  const head = chain.head
  const recent: ChainSummary['recent'] = []
  for (let h = head.height; h > 0 && recent.length < RECENT_BLOCKS; h--) {
    const b = chain.mainAt(h)
    if (b != null) recent.push({ height: h, cid: b.key, time: b.time, manifests: chain.manifestsOf(b).length })
  }
  const next = chain.template().header.target
  return {
    network: chain.net.name,
    id: chain.net.id.toString(),
    head: head.key,
    height: head.height,
    work: head.work.toString(),
    target: `0x${head.target.toString(16).padStart(8, '0')}`,
    difficultyBits: Math.round(Math.log2(Number(2n ** 256n / (targetOf(next) + 1n))) * 100) / 100,
    time: head.time,
    pending: chain.pending.size,
    orphans: chain.orphanCount,
    held: chain.heldCount,
    kept: chain.keptCount,
    floor: chain.floor,
    recent
  }
}

/** A CID argument for the anchor commands. */
export function parseRoot (text: string): CID {
  try {
    return CID.parse(text)
  } catch {
    throw new AnchorError(`not a CID: ${text}`)
  }
}

/**
 * Queues a signed manifest without a seed: its bytes and a pending marker go
 * to the repo's chain folder (no need to load the chain), and the next
 * `seed --mine` on this repo picks it up.
 */
export async function queueInRepo (repo: Repo, m: EncodedManifest): Promise<void> {
  const files = new ChainFiles(chainDir(repo, networkByName(repo.config.anchor.network)), true)
  await files.open()
  const key = m.cid.toString()
  await files.put(key, m.bytes)
  await files.sync()
  await files.addPending(key)
}

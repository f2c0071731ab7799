// The anchor chain's operations for the control API (and the CLI without a
// seed): anchor, chain, verify, proof; and the manifests `add` publishes.

import path from 'node:path'
import { CID } from 'multiformats/cid'
import { writeFileAtomic } from '../util/atomic.ts'
import { walkDag } from '../repo/dag.ts'
import { AbortedError, CairnError, UsageError } from '../util/errors.ts'
import { exportProof } from '../anchor/proof.ts'
import { AnchorError } from '../anchor/rules.ts'
import { publishManifest, summarize } from '../anchor/service.ts'
import { verifyCid, verifyPath } from '../anchor/verify.ts'
import { PROFILES, type ImportProfile } from '../unixfs/profiles.ts'
import type { AnchorChain, Anchoring } from '../anchor/chain.ts'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { loadOrCreateIdentity } from '../net/identity.ts'
import type { BlockMeta } from '../anchor/validate.ts'
import { parseName } from '../names/record.ts'
import type { MinerStats } from '../anchor/miner.ts'
import type { Repo } from '../../storage/repo.ts'
import type { AddResult } from '../unixfs/add.ts'
import type { CallContext } from './server.ts'
import type { RwLock } from '../repo/rwlock.ts'
import type { BlockReader } from '../../storage/blocks.ts'

export interface AnchorServices {
  repo: Repo
  /** gc takes it exclusively: content checked for a manifest stays while it is signed */
  lock: RwLock
  /** the seed's chain, or one opened from the repo for this command */
  chain: () => Promise<AnchorChain>
  /** true in the seed: manifests go into its chain; else they are queued in the repo */
  online: boolean
  miner?: () => MinerStats | null
  log?: (line: string) => void
  /** reads `root` through the repo, fetching what it lacks unless the call is offline (as cat does) */
  withReader?: <T>(c: CallContext, root: CID, fn: (store: BlockReader) => Promise<T>) => Promise<T>
}

const cidOf = (p: Record<string, unknown>): CID => {
  const v = p.cid
  if (typeof v !== 'string' || v === '') throw new UsageError('missing parameter "cid"')
  try {
    return CID.parse(v)
  } catch {
    throw new UsageError(`not a CID: ${v}`)
  }
}
const absolute = (p: unknown): string => {
  if (typeof p !== 'string' || !path.isAbsolute(p)) throw new UsageError(`the daemon needs absolute paths (got ${String(p)})`)
  return p
}

/** The profile a CID was most likely imported with: the repo's, matched to the CID's version. */
function profileFor (repo: Repo, root: CID): ImportProfile {
  const configured = PROFILES[repo.config.import.profile]
  if (root.version === configured.cidVersion) return configured
  return root.version === 0 ? PROFILES['kubo-v0'] : PROFILES['kubo-v1']
}

/** Signs and queues a manifest for each top-level root `add` produced. */
export async function anchorAdded (
  s: AnchorServices, result: AddResult, profile: ImportProfile
): Promise<Array<{ root: string, manifest: string, status: string, reason?: string }>> {
  // top-level entries: no '/' in their path ('' is the -w wrapper; stdin is named by its CID)
  const tops = result.entries.filter(e => !e.path.includes('/'))
  const chain = s.online ? await s.chain() : null
  const out = []
  for (const e of tops) {
    const name = e.path === '' || e.path === e.cid.toString() ? undefined : e.path
    try {
      const r = await publishManifest(s.repo, chain, { root: e.cid, name, profile })
      out.push({ root: e.cid.toString(), manifest: r.manifest.cid.toString(), status: r.status })
    } catch (err) {
      // the content is added either way: a manifest that cannot be queued
      // (the pending pool full) is a warning, and `cairn anchor` can retry
      if (!(err instanceof CairnError) || err instanceof AbortedError) throw err
      s.log?.(`manifest for ${e.cid.toString()} not queued: ${err.message}`)
      out.push({ root: e.cid.toString(), manifest: '', status: 'not-queued', reason: err.message })
    }
  }
  return out
}

/** The manifests for `root` signed by this repo's key that the chain knows, anchored or pending. */
async function ownAnchorings (s: AnchorServices, root: CID): Promise<Anchoring[]> {
  const chain = await s.chain()
  const own = Buffer.from(publicKeyToProtobuf((await loadOrCreateIdentity(s.repo)).publicKey))
  return chain.anchorings(root).filter(a => own.equals(a.manifest.manifest.publisher))
}

export function anchorHandlers (s: AnchorServices) {
  return {
    async anchor (c: CallContext) {
      const root = cidOf(c.params)
      if (c.params.force !== true) {
        // this key's manifest for the root, anchored or queued already: a second one adds nothing
        const known = await ownAnchorings(s, root)
        const anchored = known.filter(a => a.block != null).sort((a, b) => (a.block?.height ?? 0) - (b.block?.height ?? 0))[0]
        if (anchored?.block != null) return { root: root.toString(), manifest: anchored.manifest.cid.toString(), status: 'already-anchored', height: anchored.block.height }
        const queued = known.find(a => a.pending)
        if (queued != null) return { root: root.toString(), manifest: queued.manifest.cid.toString(), status: 'already-pending' }
      }
      const chain = s.online ? await s.chain() : null
      const r = await s.lock.shared(async () => {
        // only content that is whole in the repo: a manifest promises it
        await walkDag(s.repo.blocks, root, { signal: c.signal })
        return await publishManifest(s.repo, chain, { root, profile: profileFor(s.repo, root) })
      })
      s.log?.(`manifest ${r.manifest.cid.toString()} for ${root.toString()} queued for anchoring`)
      return { root: root.toString(), manifest: r.manifest.cid.toString(), status: r.status }
    },

    async chain () {
      return { ...summarize(await s.chain()), miner: s.miner?.() ?? null }
    },

    async verify (c: CallContext) {
      const chain = await s.chain()
      if (c.params.path != null) return await verifyPath(chain, absolute(c.params.path), PROFILES[s.repo.config.import.profile], c.signal)
      const root = cidOf(c.params)
      // content not in the repo is fetched first, as cat fetches it (--offline: only the repo)
      if (s.withReader == null) return await verifyCid(chain, s.repo.blocks, root, c.signal)
      return await s.withReader(c, root, async store => {
        store.prefetch?.(root)
        return await verifyCid(chain, store, root, c.signal)
      })
    },

    async proof (c: CallContext) {
      const chain = await s.chain()
      const { found, what } = typeof c.params.cid === 'string' && c.params.cid.startsWith('/ipns/')
        ? nameAnchoring(chain, c.params.cid, typeof c.params.seq === 'number' ? c.params.seq : undefined)
        : rootAnchoring(chain, cidOf(c.params))
      const bytes = await exportProof(chain, found.manifest, found.block)
      const info = { cid: what, manifest: found.manifest.cid.toString(), height: found.block.height, head: chain.height, bytes: bytes.byteLength }
      if (c.params.output != null) {
        const dest = absolute(c.params.output)
        await writeFileAtomic(dest, async fh => { await fh.writeFile(bytes) })
        return { ...info, output: dest }
      }
      return { ...info, proof: Buffer.from(bytes).toString('base64') }
    }
  }
}

type Anchored = Anchoring & { block: BlockMeta }
type Found = { found: Anchored, what: string }

/** An anchoring in a main-chain block (not one still pending). */
const isAnchored = (a: Anchoring): a is Anchored => a.block != null

/** The earliest main-chain anchoring of a root's manifests. */
function rootAnchoring (chain: AnchorChain, root: CID): Found {
  const all = chain.anchorings(root)
  const found = all.filter(isAnchored).sort((a, b) => a.block.height - b.block.height)[0]
  if (found == null) {
    throw new AnchorError(all.length > 0
      ? `${root.toString()} is not anchored yet (its manifest is pending; a seed with --mine anchors it)`
      : `no manifest for ${root.toString()} is known to this repo's chain`)
  }
  return { found, what: root.toString() }
}

/** A name's anchored record with sequence `seq`, or its highest anchored one. */
function nameAnchoring (chain: AnchorChain, text: string, seq?: number): Found {
  const name = parseName(text)
  const key = name.peerId.publicKey
  const all = key != null ? chain.nameAnchorings(publicKeyToProtobuf(key)) : []
  const seqOf = (a: Anchoring): number => a.manifest.manifest.type === 'ipns' ? a.manifest.manifest.seq : -1
  const anchored = all.filter(isAnchored).filter(a => seq == null || seqOf(a) === seq).sort((a, b) => seqOf(b) - seqOf(a) || a.block.height - b.block.height)
  const found = anchored[0]
  if (found == null) {
    const which = seq != null ? ` with sequence ${seq}` : ''
    throw new AnchorError(all.length > 0
      ? `no record of ${name.text}${which} is anchored yet (pending ones wait for a seed with --mine)`
      : `no record of ${name.text} is known to this repo's chain`)
  }
  return { found, what: `/ipns/${name.text}` }
}

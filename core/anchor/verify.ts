// `cairn verify CID|PATH`: does the content match the CID, is the manifest's
// signature valid, and where is it anchored — each check reported, and the
// first that fails named.

import fs from 'node:fs/promises'
import path from 'node:path'
import { add } from '../unixfs/add.ts'
import { walkDag } from '../repo/dag.ts'
import { verifyManifest } from './manifest.ts'
import { AnchorRuleError } from './rules.ts'
import { describeAnchoring, type Anchored } from './proof.ts'
import type { AnchorChain, Anchoring } from './chain.ts'
import type { BlockReader } from '../../storage/blocks.ts'
import type { ImportProfile } from '../unixfs/profiles.ts'
import type { CID } from 'multiformats/cid'
import { errorMessage } from '../util/errors.ts'

export interface Check { check: 'content' | 'manifest' | 'signature' | 'anchored', ok: boolean, detail: string }

export interface VerifyReport {
  cid: string
  path: string | null
  ok: boolean
  checks: Check[]
  anchored: Anchored | null
}

/** Checks the manifests known for `root` once its content is established. */
async function checkAnchoring (chain: AnchorChain, root: CID, checks: Check[]): Promise<Anchored | null> {
  const found = chain.anchorings(root)
  if (found.length === 0) {
    checks.push({ check: 'manifest', ok: false, detail: `no manifest for ${root.toString()} is known to this repo's chain (${chain.net.name})` })
    return null
  }
  // the earliest anchoring on the main chain speaks for the content; else a pending one
  const best: Anchoring = found.filter(a => a.block != null).sort((a, b) => (a.block?.height ?? 0) - (b.block?.height ?? 0))[0] ?? found[0]
  const m = best.manifest.manifest
  if (m.type === 'ipns') throw new Error('a name manifest indexed by root') // anchorings() lists file manifests only
  checks.push({ check: 'manifest', ok: true, detail: `manifest ${best.manifest.cid.toString()}${m.name != null ? ` names "${m.name}"` : ''}, ${m.size} bytes` })
  try {
    await verifyManifest(best.manifest.manifest)
  } catch (err) {
    if (!(err instanceof AnchorRuleError)) throw err
    checks.push({ check: 'signature', ok: false, detail: err.message })
    return null
  }
  const a = describeAnchoring(chain.net.name, chain.net.id, best.manifest, best.block ?? chain.head, chain.head)
  checks.push({ check: 'signature', ok: true, detail: `signed by ${a.manifest.publisher}` })
  if (best.block == null) {
    checks.push({ check: 'anchored', ok: false, detail: `not anchored yet: pending (the chain is at height ${chain.height}; a seed with --mine anchors it)` })
    return null
  }
  const at = `at height ${a.block.height} (block ${a.block.cid})`
  checks.push({ check: 'anchored', ok: true, detail: `${at}, ${a.confirmations} confirmation(s), work ${a.work} on top, block time ${new Date(a.block.time).toISOString()}` })
  return a
}

function report (cid: CID, p: string | null, checks: Check[], anchored: Anchored | null): VerifyReport {
  return { cid: cid.toString(), path: p, ok: checks.every(c => c.ok) && anchored != null, checks, anchored }
}

/** Verifies content in the repo by CID. */
export async function verifyCid (chain: AnchorChain, blocks: BlockReader, root: CID, signal?: AbortSignal): Promise<VerifyReport> {
  const checks: Check[] = []
  try {
    const r = await walkDag(blocks, root, { signal })
    checks.push({ check: 'content', ok: true, detail: `${root.toString()}: all ${r.blocks} block(s) present and matching their CIDs` })
  } catch (err) {
    if (signal?.aborted === true) throw err
    checks.push({ check: 'content', ok: false, detail: errorMessage(err) })
    return report(root, null, checks, null)
  }
  return report(root, null, checks, await checkAnchoring(chain, root, checks))
}

/**
 * Verifies a file or directory on disk: its CID is rebuilt (nothing stored)
 * with each import profile a known manifest records, until one names a root
 * the chain knows.
 */
export async function verifyPath (chain: AnchorChain, file: string, fallback: ImportProfile, signal?: AbortSignal): Promise<VerifyReport> {
  const st = await fs.lstat(file).catch(() => null)
  const others = new Map<string, ImportProfile>()
  for (const m of chain.knownManifests()) {
    if (m.manifest.type === 'ipns') continue
    const p: ImportProfile = { name: fallback.name, ...m.manifest.profile }
    others.set(JSON.stringify(p), p)
  }
  others.delete(JSON.stringify(fallback))
  const hashWith = async (profile: ImportProfile): Promise<CID> =>
    (await add(null, { kind: 'paths', paths: [file] }, { profile, recursive: st?.isDirectory() === true, signal })).root
  const anchored = async (root: CID, profile: ImportProfile): Promise<VerifyReport | null> => {
    if (chain.anchorings(root).length === 0) return null
    const detail = `${path.basename(file)} hashes to ${root.toString()} (chunker ${profile.chunker}, CIDv${profile.cidVersion})`
    const checks: Check[] = [{ check: 'content', ok: true, detail }]
    return report(root, file, checks, await checkAnchoring(chain, root, checks))
  }
  // the fallback first: its root is the one reported when no profile gives an anchored one
  const root = await hashWith(fallback)
  const found = await anchored(root, fallback)
  if (found != null) return found
  for (const profile of others.values()) {
    const r = await anchored(await hashWith(profile), profile)
    if (r != null) return r
  }
  return report(root, file, [
    { check: 'content', ok: true, detail: `${path.basename(file)} hashes to ${root.toString()}` },
    { check: 'manifest', ok: false, detail: `no manifest known to this repo's chain (${chain.net.name}) names this content under any recorded profile` }
  ], null)
}

// Arguments as Kubo takes them: CIDs, /ipfs/ paths, Go durations, and the
// import options of `add` turned into a cairn import profile.

import { parseContentPath, type ContentPath } from '../unixfs/content-path.ts'
import { resolveProfile, type ImportProfile } from '../unixfs/profiles.ts'
import { RpcParamError, type Params } from './wire.ts'
import type { CID } from 'multiformats/cid'

/** A CID argument (the first `arg` unless one is given); /ipfs/CID is taken, a path below it is not. */
export function cidArg (p: Params, arg?: string): CID {
  const text = arg ?? p.arg('cid')
  const target = parseContentPath(text)
  if (target.segments.length > 0) throw new RpcParamError(`expected a CID, not a path (got ${text})`)
  return target.cid
}

/** A CID[/path] or /ipfs/CID[/path] argument (names.ts' contentPathArg resolves an /ipns/ one first). */
export function pathArg (text: string): ContentPath {
  if (text.startsWith('/ipns/')) throw new RpcParamError(`expected a CID or /ipfs/ path here, not a name (got ${text})`)
  return parseContentPath(text)
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** A Go duration ("30s", "1m30s", "250ms") in ms; undefined when absent. */
export function parseDuration (text: string | undefined): number | undefined {
  if (text == null || text === '') return undefined
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy
  let ms = 0
  let m: RegExpExecArray | null
  let at = 0
  while ((m = re.exec(text)) != null) {
    ms += Number(m[1]) * UNITS[m[2]]
    at = re.lastIndex
  }
  if (at !== text.length || at === 0) throw new RpcParamError(`invalid duration "${text}" (such as 30s, 1m30s, 250ms)`)
  return ms
}

/**
 * add's options as a profile. Kubo's defaults (CIDv0, 256 KiB chunks,
 * dag-pb leaves: cairn's kubo-v0) apply unless cid-version, raw-leaves or
 * chunker say otherwise; a clients speaking Kubo's RPC expects Kubo's CIDs.
 */
export function addProfile (p: Params): ImportProfile {
  const cidVersion = p.int(['cid-version'])
  const rawLeaves = p.str(['raw-leaves']) != null ? p.bool(['raw-leaves'], false) : undefined
  let chunker = p.str(['chunker', 's'])
  // Kubo's spellings: size-N, rabin (its defaults), rabin-AVG, rabin-MIN-AVG-MAX
  if (chunker === 'default' || chunker === '') chunker = undefined
  if (chunker === 'rabin') chunker = 'rabin-87381-262144-393216'
  const avg = chunker != null ? /^rabin-(\d+)$/.exec(chunker) : null
  if (avg != null) {
    const a = Number(avg[1])
    chunker = `rabin-${Math.floor(a / 3)}-${a}-${a + Math.floor(a / 2)}`
  }
  const hash = p.str(['hash'])
  if (hash != null && hash !== 'sha2-256') throw new RpcParamError(`cairn hashes with sha2-256 only (got hash=${hash})`)
  if (p.bool(['trickle', 't'], false)) throw new RpcParamError('cairn builds balanced DAGs only (trickle is not supported)')
  if (p.bool(['nocopy'], false)) throw new RpcParamError('cairn has no filestore (nocopy is not supported)')
  if (p.bool(['inline'], false)) throw new RpcParamError('cairn does not inline blocks into CIDs (inline is not supported)')
  return resolveProfile({ cidVersion: cidVersion ?? 0, rawLeaves, chunker }, 'kubo-v0')
}

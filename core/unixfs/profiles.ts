// Import profiles: the table in README.md ("Profiles"), and the flags that override it.
// Each profile gives the same CIDs as the tool named beside it.

import { fixedSize, rabin } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { PROFILE_NAMES, type ProfileName } from '../../storage/config.ts'
import { UsageError } from '../util/errors.ts'
import type { ImporterOptions } from 'ipfs-unixfs-importer'

export { PROFILE_NAMES, type ProfileName }

export const KIB = 1024
export const MIB = 1024 * KIB
/** Largest chunk a block may carry: 1 MiB, as in Kubo (bitswap's 2 MiB limit with room for framing). */
export const MAX_CHUNK_SIZE = MIB
/** blocks of one file being hashed and written at once */
const WRITE_CONCURRENCY = 4
/** Kubo's HAMT threshold: a directory node past 256 KiB is sharded. */
const SHARD_THRESHOLD = 256 * KIB

/** What a profile decides, recorded in manifests so a path can be re-hashed. */
export interface ImportProfile {
  name: ProfileName
  cidVersion: 0 | 1
  rawLeaves: boolean
  /** 'size-N' or 'rabin-MIN-AVG-MAX' */
  chunker: string
  /** links per file node */
  width: number
  /** how a directory is judged too big and sharded */
  hamt: 'block-bytes' | 'links-bytes'
}

export const PROFILES: Record<ProfileName, ImportProfile> = {
  // ipfs-car 3, @helia/unixfs 8, Kubo --profile unixfs-v1-2025
  'unixfs-v1-2025': { name: 'unixfs-v1-2025', cidVersion: 1, rawLeaves: true, chunker: `size-${MIB}`, width: 1024, hamt: 'block-bytes' },
  // Kubo `ipfs add` (unixfs-v0-2015)
  'kubo-v0': { name: 'kubo-v0', cidVersion: 0, rawLeaves: false, chunker: `size-${256 * KIB}`, width: 174, hamt: 'links-bytes' },
  // Kubo `ipfs add --cid-version=1`
  'kubo-v1': { name: 'kubo-v1', cidVersion: 1, rawLeaves: true, chunker: `size-${256 * KIB}`, width: 174, hamt: 'links-bytes' }
}

export interface ProfileOverrides {
  profile?: string
  cidVersion?: number
  rawLeaves?: boolean
  chunker?: string
}

/**
 * Resolves --profile, --cid-version, --raw-leaves and --chunker into one
 * profile. As in Kubo, --cid-version picks the matching legacy profile and
 * the explicit flags win over the profile.
 */
export function resolveProfile (o: ProfileOverrides, fallback: ProfileName = 'unixfs-v1-2025'): ImportProfile {
  let name: ProfileName = fallback
  if (o.profile != null) {
    const named = PROFILE_NAMES.find(n => n === o.profile)
    if (named == null) throw new UsageError(`unknown profile "${o.profile}" (choose ${PROFILE_NAMES.join(', ')})`)
    name = named
  }
  let p: ImportProfile = { ...PROFILES[name] }
  if (o.cidVersion != null) {
    if (o.cidVersion !== 0 && o.cidVersion !== 1) throw new UsageError(`--cid-version must be 0 or 1 (got ${o.cidVersion})`)
    if (o.profile == null) p = { ...PROFILES[o.cidVersion === 0 ? 'kubo-v0' : 'kubo-v1'] }
    p.cidVersion = o.cidVersion
    // CIDv0 can only name dag-pb blocks
    if (o.cidVersion === 0 && o.rawLeaves === true) throw new UsageError('--raw-leaves needs CIDv1: CIDv0 can only name dag-pb blocks')
    if (o.cidVersion === 0) p.rawLeaves = false
  }
  if (o.rawLeaves != null) {
    if (o.rawLeaves && p.cidVersion === 0) throw new UsageError('--raw-leaves needs CIDv1: CIDv0 can only name dag-pb blocks')
    p.rawLeaves = o.rawLeaves
  }
  if (o.chunker != null) {
    parseChunker(o.chunker)
    p.chunker = o.chunker
  }
  return p
}

type Chunker = NonNullable<ImporterOptions['chunker']>

/** Parses 'size-N' or 'rabin-MIN-AVG-MAX' (explicit parameters only). */
export function parseChunker (spec: string): Chunker {
  const size = /^size-(\d+)$/.exec(spec)
  if (size != null) {
    const n = Number(size[1])
    if (n < 1 || n > MAX_CHUNK_SIZE) throw new UsageError(`--chunker size-N needs 1 ≤ N ≤ ${MAX_CHUNK_SIZE} (got ${n})`)
    return fixedSize({ chunkSize: n })
  }
  const r = /^rabin-(\d+)-(\d+)-(\d+)$/.exec(spec)
  if (r != null) {
    const [min, avg, max] = [Number(r[1]), Number(r[2]), Number(r[3])]
    if (!(min >= 16 && min <= avg && avg <= max && max <= MAX_CHUNK_SIZE)) {
      throw new UsageError(`--chunker rabin-MIN-AVG-MAX needs 16 ≤ MIN ≤ AVG ≤ MAX ≤ ${MAX_CHUNK_SIZE} (got ${spec})`)
    }
    return rabin({ minChunkSize: min, avgChunkSize: avg, maxChunkSize: max })
  }
  throw new UsageError(`--chunker must be size-N or rabin-MIN-AVG-MAX (got "${spec}")`)
}

/** Importer options that reproduce a profile's CIDs exactly. */
export function importerOptions (p: ImportProfile): ImporterOptions {
  return {
    cidVersion: p.cidVersion,
    rawLeaves: p.rawLeaves,
    // Kubo's legacy dag-pb leaves are UnixFS 'file' nodes
    leafType: 'file',
    reduceSingleLeafToSelf: true,
    chunker: parseChunker(p.chunker),
    layout: balanced({ maxChildrenPerNode: p.width }),
    shardSplitThresholdBytes: SHARD_THRESHOLD,
    shardSplitStrategy: p.hamt,
    shardFanoutBits: 8,
    fieldOrder: 'links-first',
    // blocks hashed and written at once: the disk is kept busy with a few;
    // the importer's default (10, and 50 files) only adds peak memory
    blockWriteConcurrency: WRITE_CONCURRENCY
  }
}

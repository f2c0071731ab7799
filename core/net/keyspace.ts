// Keyspace arithmetic for the sweep provider (sweeper.ts). DHT keys are the
// 256-bit SHA-256 of a CID's multihash (kad-dht's key hashing: wire.ts); a
// region is every key that starts with one prefix of `depth` bits, so the
// regions of one depth cut the keyspace into 2^depth equal slices, in key
// order. A region's depth is chosen so it holds about K peers (the replication
// factor): one closest-peers lookup at the region's middle then finds the
// peers that every key of the region belongs to. Pure functions, no libp2p:
// the property tests drive them directly (test/core/keyspace.test.ts).

/** bytes in a DHT key (SHA-256) */
export const KEY_BYTES = 32
/** deepest region: 2^24 regions would need a network of ~300 million peers */
export const MAX_DEPTH = 24

/** A region: the keys starting with `prefix`, a string of '0' and '1' (the empty string is the whole keyspace). */
export interface Region {
  prefix: string
  /** the region's keys are sorted[start, end) */
  start: number
  end: number
}

/** Bit `i` (0 = the most significant) of a key. */
export function bit (key: Uint8Array, i: number): 0 | 1 {
  return ((key[i >> 3] >> (7 - (i & 7))) & 1) === 1 ? 1 : 0
}

/** The first `depth` bits of a key as '0'/'1' text. */
export function prefixOf (key: Uint8Array, depth: number): string {
  let s = ''
  for (let i = 0; i < depth; i++) s += bit(key, i) === 1 ? '1' : '0'
  return s
}

/** Byte order of two keys: negative, 0 or positive. */
export function compareKeys (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}

/** Whether `key` lies in the region of `prefix`. */
export function inRegion (key: Uint8Array, prefix: string): boolean {
  for (let i = 0; i < prefix.length; i++) if (bit(key, i) !== (prefix[i] === '1' ? 1 : 0)) return false
  return true
}

/**
 * Cuts keys sorted by compareKeys into the regions of one depth that hold
 * at least one key, in key order (regions without keys cost no lookup).
 */
export function groupByRegion (sorted: readonly Uint8Array[], depth: number): Region[] {
  const regions: Region[] = []
  for (let i = 0; i < sorted.length; i++) {
    const p = prefixOf(sorted[i], depth)
    const last = regions[regions.length - 1]
    if (last != null && last.prefix === p) last.end = i + 1
    else regions.push({ prefix: p, start: i, end: i + 1 })
  }
  return regions
}

/** The key in the middle of a region (its prefix, a 1, then zeros): the target of its lookup. */
export function regionTarget (prefix: string): Uint8Array {
  const key = new Uint8Array(KEY_BYTES)
  const bits = prefix + (prefix.length < KEY_BYTES * 8 ? '1' : '')
  for (let i = 0; i < bits.length; i++) if (bits[i] === '1') key[i >> 3] |= 1 << (7 - (i & 7))
  return key
}

/** Where a key or a region starts in the keyspace, as a fraction in [0, 1) (the first 48 bits). */
export function position (keyOrPrefix: Uint8Array | string): number {
  if (typeof keyOrPrefix === 'string') {
    let f = 0
    for (let i = 0; i < Math.min(keyOrPrefix.length, 48); i++) if (keyOrPrefix[i] === '1') f += 2 ** -(i + 1)
    return f
  }
  let f = 0
  for (let i = 0; i < 6; i++) f += keyOrPrefix[i] * 2 ** (-8 * (i + 1))
  return f
}

/** The first key of a region (its prefix, then zeros). */
export function regionStart (prefix: string): Uint8Array {
  const key = new Uint8Array(KEY_BYTES)
  for (let i = 0; i < prefix.length; i++) if (prefix[i] === '1') key[i >> 3] |= 1 << (7 - (i & 7))
  return key
}

/** Index of the first sorted key ≥ `key` (binary search). */
export function lowerBound (sorted: readonly Uint8Array[], key: Uint8Array): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (compareKeys(sorted[mid], key) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** XOR distance of two keys as a fraction of the keyspace, in [0, 1) (its first 48 bits). */
export function distance (a: Uint8Array, b: Uint8Array): number {
  let f = 0
  for (let i = 0; i < 6; i++) f += (a[i] ^ b[i]) * 2 ** (-8 * (i + 1))
  return f
}

/**
 * The network's size estimated from one lookup: the i-th closest of N
 * peers spread evenly over the keyspace lies at distance ≈ i / (N + 1),
 * so N is fitted to the distances of the peers found (least squares through
 * the origin). One peer or none: the count found.
 */
export function estimateNetworkSize (target: Uint8Array, peerKeys: readonly Uint8Array[]): number {
  const d = peerKeys.map(k => distance(target, k)).sort((a, b) => a - b)
  if (d.length < 2) return d.length
  let num = 0
  let den = 0
  for (let i = 0; i < d.length; i++) {
    num += (i + 1) * d[i]
    den += d[i] * d[i]
  }
  if (den === 0) return d.length
  return Math.max(d.length, num / den - 1)
}

/**
 * The depth whose regions hold about `k` of `networkSize` peers: each
 * region's lookup then finds the peers of all its keys. A network of
 * fewer than 2k peers is one region (every lookup finds the same peers).
 */
export function regionDepth (networkSize: number, k: number): number {
  if (!(networkSize >= 2 * k)) return 0
  return Math.min(MAX_DEPTH, Math.floor(Math.log2(networkSize / k)))
}

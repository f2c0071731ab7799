// The model behind the simulation's extrapolation to 10,000 nodes (sim.ts):
// pure functions, unit-tested (sim-model.test.ts).
//
// Sweep lookups per round: the sweeper (core/net/sweeper.ts) cuts the
// keyspace at depth d = regionDepth(N, K) = floor(log2(N / K)) (cairn's own
// keyspace.ts), so into R = 2^d regions, and pays one lookup per region that
// holds at least one of its C CIDs. With keys spread uniformly, the expected
// count of non-empty regions is R·(1 − (1 − 1/R)^C): C for few CIDs, R for
// many; plus one, the round's first lookup, which sizes the network at
// depth 0 and is made again at the depth it finds. The batch provider pays
// C lookups whatever N is.
//
// Hops: fitted, not derived. kad-dht's table is a trie of fixed depth
// (PREFIX_BITS = 6: 64 buckets of K = 20, at most 1,280 peers), so a node of
// a network up to that size knows everyone and finds any key's closest
// peers in its own table: one hop. Past it, each bucket holds K of the
// N/64 peers of its slice, and the lookup must find the slice's closest
// through other nodes' answers; hops are fitted as a line in log2(N) over
// the simulated points past the table's capacity, when they grow; when they
// do not (to 2,000 nodes they did not: the cost past the capacity showed as
// lookups that miss some of the closest peers, not as hops), the model
// says nothing past the capacity rather than extend a flat or falling line.

import { regionDepth } from '../../core/net/keyspace.ts'

/** Least squares line y = a + b·x. */
export function fitLine (xs: readonly number[], ys: readonly number[]): { a: number, b: number } {
  if (xs.length !== ys.length || xs.length === 0) throw new RangeError('fitLine needs as many x as y, at least one')
  const n = xs.length
  const mx = xs.reduce((s, x) => s + x, 0) / n
  const my = ys.reduce((s, y) => s + y, 0) / n
  let sxx = 0
  let sxy = 0
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2
    sxy += (xs[i] - mx) * (ys[i] - my)
  }
  const b = sxx === 0 ? 0 : sxy / sxx
  return { a: my - b * mx, b }
}

/** Regions the sweeper cuts a network of `nodes` into (2^depth). */
export function regionCount (nodes: number, k: number): number {
  return 2 ** regionDepth(nodes, k)
}

/** Expected non-empty regions among R for C uniformly spread CIDs. */
export function nonEmptyRegions (nodes: number, cids: number, k: number): number {
  const r = regionCount(nodes, k)
  if (cids <= 0) return 0
  return r * (1 - (1 - 1 / r) ** cids)
}

/**
 * Expected sweep lookups per round: one per non-empty region, plus the
 * round's first lookup, made before the network's size is known (at depth
 * 0) and made again once it is, when the network needs more than one region.
 */
export function sweepLookups (nodes: number, cids: number, k: number): number {
  if (cids <= 0) return 0
  return nonEmptyRegions(nodes, cids, k) + (regionDepth(nodes, k) > 0 ? 1 : 0)
}

/** Peers a full kad-dht table holds: 2^prefixBits buckets of k. */
export function tableCapacity (prefixBits: number, k: number): number {
  return 2 ** prefixBits * k
}

/**
 * Hops per lookup: 1 while every node can hold every other (N − 1 ≤ the
 * table's capacity), then the fitted line in log2(N), never below 1; NaN
 * past the capacity without a fit that grows (nothing to extrapolate).
 */
export function hopsModel (nodes: number, capacity: number, fit: { a: number, b: number } | null): number {
  if (nodes - 1 <= capacity) return 1
  if (fit == null || !(fit.b > 0)) return NaN
  return Math.max(1, fit.a + fit.b * Math.log2(nodes))
}

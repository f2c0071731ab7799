// Targets: Bitcoin's compact form ("nBits"), work, and the retarget rule, all
// in integer (bigint) arithmetic so every node computes the same numbers.

import { AnchorError } from './rules.ts'

/** 2^256: hashes are 256-bit big-endian integers below it */
export const TWO_256 = 1n << 256n
/** the largest 256-bit value */
export const MAX_256 = TWO_256 - 1n

/**
 * Expands a compact target: the top byte is a length in bytes, the low 23
 * bits a mantissa, value = mantissa × 256^(length−3). As in Bitcoin, bit 23
 * is a sign: negative, zero and overflowing (> 2^256−1) values are invalid
 * here (returns null) instead of being carried as flags.
 */
export function expandTarget (compact: number): bigint | null {
  if (!Number.isInteger(compact) || compact < 0 || compact > 0xffffffff) return null
  const size = compact >>> 24
  const word = compact & 0x007fffff
  if ((compact & 0x00800000) !== 0 && word !== 0) return null // negative
  let value: bigint
  if (size <= 3) value = BigInt(word >>> (8 * (3 - size)))
  else value = BigInt(word) << BigInt(8 * (size - 3))
  if (value === 0n || value > MAX_256) return null
  return value
}

/** The target of a compact form already known valid (a checked header's, a retarget's); throws if it is not. */
export function targetOf (compact: number): bigint {
  const target = expandTarget(compact)
  if (target == null) throw new AnchorError(`not a valid compact target: 0x${compact.toString(16)}`)
  return target
}

/** Compresses a target to its compact form (rounding down, as Bitcoin's GetCompact). */
export function compactTarget (target: bigint): number {
  if (target <= 0n || target > MAX_256) throw new AnchorError(`target out of range: ${target}`)
  let size = Math.ceil(target.toString(16).length / 2)
  let mantissa: number
  if (size <= 3) mantissa = Number(target << BigInt(8 * (3 - size)))
  else mantissa = Number(target >> BigInt(8 * (size - 3)))
  // bit 23 would read as a sign: shift one byte down instead
  if ((mantissa & 0x00800000) !== 0) {
    mantissa >>>= 8
    size++
  }
  return ((size << 24) | mantissa) >>> 0
}

/** Work of one block: the expected number of hashes to meet the target, 2^256 / (target + 1). */
export function workOf (target: bigint): bigint {
  return TWO_256 / (target + 1n)
}

/** A 32-byte digest read as a big-endian integer. */
export function digestValue (digest: Uint8Array): bigint {
  return BigInt('0x' + Buffer.from(digest).toString('hex'))
}

/** The target as 32 big-endian bytes (what the miner compares digests with). */
export function targetBytes (target: bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(target.toString(16).padStart(64, '0'), 'hex'))
}

export interface RetargetParams {
  /** target block interval, ms */
  interval: number
  /** blocks per retarget window */
  window: number
  /** a retarget changes the target by at most this factor either way */
  maxAdjust: number
  /** the easiest target allowed (compact) */
  easiestTarget: number
}

/**
 * The next target from the previous one and the time the window took: its
 * first and last headers are `window` blocks apart in height, so the window
 * holds window−1 intervals. The span is clamped to [expected / maxAdjust,
 * expected × maxAdjust], the new target = old × span / expected (integer
 * division), capped at the easiest target and rounded through compact form.
 */
export function retarget (previous: number, spanMs: number, p: RetargetParams): number {
  const old = expandTarget(previous)
  const easiest = expandTarget(p.easiestTarget)
  if (old == null || easiest == null) throw new AnchorError('retarget of an invalid target')
  const expected = BigInt((p.window - 1) * p.interval)
  const adjust = BigInt(p.maxAdjust)
  let span = BigInt(Math.max(0, Math.trunc(spanMs)))
  if (span < expected / adjust) span = expected / adjust
  if (span > expected * adjust) span = expected * adjust
  let next = old * span / expected
  if (next > easiest) next = easiest
  if (next < 1n) next = 1n
  return compactTarget(next)
}

// RATE values: bytes per second with an optional unit, as the command line
// contract says ("16MiB", "500KiB", "2MB", "1048576"); 0 means no limit.

const UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  K: 1024,
  KB: 1000,
  KIB: 1024,
  M: 1024 ** 2,
  MB: 1000 ** 2,
  MIB: 1024 ** 2,
  G: 1024 ** 3,
  GB: 1000 ** 3,
  GIB: 1024 ** 3
}

/** what a RATE looks like, for error messages */
export const RATE_FORMAT = 'bytes per second with an optional unit, such as 16MiB, 500KiB or 0 (no limit)'

/** Bytes per second, or null when `v` is not a RATE. Accepts numbers too (config files). */
export function parseRate (v: unknown): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : null
  if (typeof v !== 'string') return null
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*?)(?:\/s)?\s*$/i.exec(v)
  if (m == null) return null
  const unit = UNITS[m[2].toUpperCase()]
  if (unit == null) return null
  const n = Math.round(Number(m[1]) * unit)
  return Number.isSafeInteger(n) ? n : null
}

// DURATION values, as Kubo's flags take them (Go's time.ParseDuration):
// "48h", "1h30m", "90s", "500ms"; a plain number is seconds.
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** what a DURATION looks like, for error messages */
export const DURATION_FORMAT = 'a duration such as 48h, 1h30m, 90s or 500ms'

/** Milliseconds, or null when `v` is not a DURATION (or is 0). */
export function parseDuration (v: string): number | null {
  if (/^\d+(\.\d+)?$/.test(v)) {
    const ms = Math.round(Number(v) * 1000)
    return ms > 0 && Number.isSafeInteger(ms) ? ms : null
  }
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(v)) return null
  let ms = 0
  for (const [, n, , unit] of v.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) ms += Number(n) * DURATION_UNITS[unit]
  ms = Math.round(ms)
  return ms > 0 && Number.isSafeInteger(ms) ? ms : null
}

/** what a SIZE looks like, for error messages */
export const SIZE_FORMAT = 'a size in bytes with an optional unit, such as 128KiB or 64MiB'

/** Bytes, or null when `v` is not a SIZE (the RATE syntax without "/s"). */
export function parseSize (v: unknown): number | null {
  if (typeof v === 'string' && /\/s\s*$/i.test(v)) return null
  return parseRate(v)
}

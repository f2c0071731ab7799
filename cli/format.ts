// Formatting for people; bytes, rates and hash rates live in core (the seed's log uses them too).
export { formatBytes, formatHashRate, formatRate, minedLine } from '../core/format.ts'

/** Seconds → '1m05s' / '12s'. */
export function formatDuration (s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--'
  const m = Math.floor(s / 60)
  const r = Math.round(s % 60)
  return m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`
}

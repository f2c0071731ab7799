// Formatting for people; bytes, rates and hash rates live in core (the seed's log uses them too).
export { formatBytes, formatHashRate, formatRate, minedLine } from '../core/util/format.ts'

/** Seconds → '1m05s' / '12s'. */
export function formatDuration (s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--'
  // whole seconds first: 119.6 s is 2m00s, not 1m60s
  const total = Math.round(s)
  const h = Math.floor(total / 3600)
  const m = Math.floor(total / 60) % 60
  const r = total % 60
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`
  return m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`
}

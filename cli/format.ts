/** 1536 → '1.5 KiB'; binary units as Kubo and npm print them. */
export function formatBytes (n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`
}

/** Seconds → '1m05s' / '12s'. */
export function formatDuration (s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--'
  const m = Math.floor(s / 60)
  const r = Math.round(s % 60)
  return m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`
}

// Numbers for people: byte counts, rates and hash rates rounded to a few
// significant digits (a rate of 24.04809619238477 B/s prints as 24 B/s).
// The CLI and the seed's log lines both use these.

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']

/** 1536 → '1.50 KiB', 24.048 → '24 B'; binary units as Kubo and npm print them. */
export function formatBytes (n: number): string {
  if (!Number.isFinite(n)) return '-'
  const sign = n < 0 ? '-' : ''
  let v = Math.abs(n)
  let i = 0
  while (v >= 1024 && i < BYTE_UNITS.length - 1) { v /= 1024; i++ }
  if (i === 0) {
    const whole = Math.round(v)
    // 1023.6 B rounds to 1024: say 1.00 KiB
    return whole < 1024 ? `${sign}${whole} B` : `${sign}1.00 KiB`
  }
  let text = v.toFixed(v < 10 ? 2 : 1)
  // 1023.96 KiB rounds to "1024.0": one unit up
  if (Number(text) >= 1024 && i < BYTE_UNITS.length - 1) { i++; text = (v / 1024).toFixed(2) }
  return `${sign}${text} ${BYTE_UNITS[i]}`
}

/** Bytes per second → '24 B/s', '3.20 MiB/s'. */
export function formatRate (bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`
}

/** Hashes per second → '850 H/s', '12.3 kH/s', '1.25 MH/s'. */
export function formatHashRate (n: number): string {
  if (!Number.isFinite(n) || n < 0) return '-'
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GH/s`
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MH/s`
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kH/s`
  return `${Math.round(n)} H/s`
}

/** '44 block(s) mined, 10 of them stale (not on the main chain)': a miner's count, honest about blocks that lost */
export function minedLine (m: { blocksMined: number, staleBlocks?: number }): string {
  const stale = m.staleBlocks ?? 0
  return `${m.blocksMined} block(s) mined${stale > 0 ? `, ${stale} of them stale (not on the main chain)` : ''}`
}

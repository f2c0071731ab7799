// The soak's plot: RSS, open file descriptors and active handles of each
// seed process over time, three panels of one SVG, drawn here (no plotting
// library). Processes that lived the whole run are drawn in colour, churned
// ones (which come and go) in grey.

export interface Series {
  /** e.g. "seed 3", "seed 5 (2nd run)" */
  name: string
  /** lived from the first sample to the last */
  steady: boolean
  /** [minutes since start, value] */
  rss: Array<[number, number]>
  fds: Array<[number, number]>
  handles: Array<[number, number]>
}

const W = 900
const PANEL_H = 220
const MARGIN = { left: 70, right: 170, top: 30, bottom: 40 }
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#393b79', '#637939']

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function niceMax (v: number): number {
  if (v <= 0) return 1
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

function panel (title: string, unit: string, y0: number, series: Series[], pick: (s: Series) => Array<[number, number]>, minutes: number, marks: number[]): string {
  const plotW = W - MARGIN.left - MARGIN.right
  const plotH = PANEL_H - MARGIN.top - MARGIN.bottom
  const maxV = niceMax(Math.max(1, ...series.flatMap(s => pick(s).map(p => p[1]))))
  const x = (m: number): number => MARGIN.left + (minutes > 0 ? m / minutes : 0) * plotW
  const y = (v: number): number => y0 + MARGIN.top + plotH - (v / maxV) * plotH
  const out: string[] = [`<text x="${MARGIN.left}" y="${y0 + 18}" font-size="14" font-weight="bold">${esc(title)}</text>`]
  for (let i = 0; i <= 4; i++) {
    const v = maxV * i / 4
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`)
    out.push(`<text x="${MARGIN.left - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end">${Number.isInteger(v) ? v : v.toFixed(1)} ${esc(unit)}</text>`)
  }
  const step = minutes <= 5 ? 1 : minutes <= 15 ? 2 : 5
  for (let m = 0; m <= minutes + 1e-9; m += step) {
    out.push(`<text x="${x(m)}" y="${y0 + PANEL_H - MARGIN.bottom + 16}" font-size="11" text-anchor="middle">${m} min</text>`)
  }
  for (const m of marks) out.push(`<line x1="${x(m)}" x2="${x(m)}" y1="${y(maxV)}" y2="${y(0)}" stroke="#999" stroke-dasharray="4 3"/>`)
  let colour = 0
  for (const s of series) {
    const pts = pick(s)
    if (pts.length === 0) continue
    const c = s.steady ? COLOURS[colour++ % COLOURS.length] : '#bbb'
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="${s.steady ? 1.6 : 1}" points="${pts.map(([m, v]) => `${x(m).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`)
    if (s.steady) {
      const [lm, lv] = pts[pts.length - 1]
      out.push(`<text x="${x(lm) + 4}" y="${y(lv) + 4}" font-size="10" fill="${c}">${esc(s.name)}</text>`)
    }
  }
  return out.join('\n')
}

/** The SVG: one panel per measure; `marks` are minutes drawn as dashed lines (the goal's window). */
export function soakSvg (series: Series[], minutes: number, caption: string, marks: number[] = []): string {
  const h = PANEL_H * 3 + 40
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="sans-serif">`,
    `<rect width="${W}" height="${h}" fill="white"/>`,
    panel('Resident memory (RSS) per seed', 'MiB', 0, series, s => s.rss, minutes, marks),
    panel('Open file descriptors per seed', '', PANEL_H, series, s => s.fds, minutes, marks),
    panel('Active handles per seed (process.getActiveResourcesInfo)', '', PANEL_H * 2, series, s => s.handles, minutes, marks),
    `<text x="${MARGIN.left}" y="${h - 12}" font-size="11" fill="#555">${esc(caption)}</text>`,
    '</svg>\n'
  ].join('\n')
}

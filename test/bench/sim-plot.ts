// The simulation's plot (sim.ts): two panels of one SVG, drawn here (no
// plotting library). Left, lookup hops against log2(N); right, lookups per
// sweep round against N on log-log axes, one colour per CID count, the
// sweep's measured points and its model line beside the batch provider's
// one lookup per CID. Simulated points are dots, the model is a line
// (dashed past the simulated range).

export interface Scale {
  (v: number): number
  /** tick values inside the domain */
  ticks: number[]
}

/** A linear map from [d0, d1] to [r0, r1]; ticks at `step`. */
export function linearScale (d0: number, d1: number, r0: number, r1: number, step: number): Scale {
  const f = ((v: number): number => r0 + (d1 === d0 ? 0 : (v - d0) / (d1 - d0)) * (r1 - r0)) as Scale
  f.ticks = []
  for (let t = Math.ceil(d0 / step) * step; t <= d1 + 1e-9; t += step) f.ticks.push(Number(t.toFixed(10)))
  return f
}

/** A base-10 log map from [d0, d1] (both > 0) to [r0, r1]; ticks at 1, 10, 100, … */
export function logScale (d0: number, d1: number, r0: number, r1: number): Scale {
  if (!(d0 > 0 && d1 > 0)) throw new RangeError('a log scale needs a positive domain')
  const l0 = Math.log10(d0)
  const l1 = Math.log10(d1)
  const f = ((v: number): number => r0 + (l1 === l0 ? 0 : (Math.log10(v) - l0) / (l1 - l0)) * (r1 - r0)) as Scale
  f.ticks = []
  for (let e = Math.ceil(l0 - 1e-9); e <= l1 + 1e-9; e++) f.ticks.push(10 ** e)
  return f
}

export interface HopPoint { nodes: number, hops: number, maxHops: number }
export interface LookupPoint { nodes: number, cids: number, lookups: number }
export interface SimPlot {
  hops: HopPoint[]
  /** the model's hops at N (drawn from the smallest N to maxNodes) */
  hopsModel: (nodes: number) => number
  sweep: LookupPoint[]
  sweepModel: (nodes: number, cids: number) => number
  cidCounts: number[]
  /** peers a full table holds: marked on the hop panel */
  capacity: number
  /** the model's reach (10,000) */
  maxNodes: number
  caption: string
}

const W = 1000
const H = 460
const PANEL_W = 430
const M = { left: 60, top: 40, bottom: 60 }
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd']

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const pt = (x: number, y: number): string => `${x.toFixed(1)},${y.toFixed(1)}`
const fmt = (v: number): string => v >= 1000 ? `${v / 1000}k` : String(v)

/** N values from `lo` to `hi`, evenly spaced in log2, for model lines. */
function span (lo: number, hi: number, steps = 60): number[] {
  const out: number[] = []
  for (let i = 0; i <= steps; i++) out.push(Math.round(lo * (hi / lo) ** (i / steps)))
  return out
}

function line (all: number[], x: (n: number) => number, y: (n: number) => number, colour: string, simMax: number): string {
  // the model may say nothing somewhere (NaN): no line there
  const xs = all.filter(n => Number.isFinite(y(n)))
  const inside = xs.filter(n => n <= simMax)
  const beyond = xs.filter(n => n >= simMax)
  const poly = (ns: number[], dash: string): string => ns.length < 2 ? '' : `<polyline fill="none" stroke="${colour}" stroke-width="1.5"${dash} points="${ns.map(n => pt(x(n), y(n))).join(' ')}"/>`
  return poly(inside, '') + poly(beyond, ' stroke-dasharray="5 4"')
}

function hopsPanel (p: SimPlot, x0: number): string {
  const minN = Math.min(...p.hops.map(h => h.nodes))
  const simMax = Math.max(...p.hops.map(h => h.nodes))
  const modelMax = p.hopsModel(p.maxNodes)
  const maxHops = Math.max(4, ...p.hops.map(h => h.maxHops), Number.isFinite(modelMax) ? modelMax : 0)
  const x = linearScale(Math.floor(Math.log2(minN)), Math.ceil(Math.log2(p.maxNodes)), x0 + M.left, x0 + PANEL_W, 1)
  const y = linearScale(0, Math.ceil(maxHops), H - M.bottom, M.top, 1)
  const out = [`<text x="${x0 + M.left}" y="22" font-size="14" font-weight="bold">Lookup hops against log2(N)</text>`]
  for (const t of y.ticks) out.push(`<line x1="${x0 + M.left}" x2="${x0 + PANEL_W}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/><text x="${x0 + M.left - 6}" y="${y(t) + 4}" font-size="11" text-anchor="end">${t}</text>`)
  for (const t of x.ticks) out.push(`<text x="${x(t)}" y="${H - M.bottom + 16}" font-size="11" text-anchor="middle">${t}</text>`)
  out.push(`<text x="${x0 + (M.left + PANEL_W) / 2}" y="${H - M.bottom + 34}" font-size="12" text-anchor="middle">log2(N)  (N = nodes)</text>`)
  out.push(line(span(minN, p.maxNodes), n => x(Math.log2(n)), n => y(p.hopsModel(n)), '#555', simMax))
  const cx = x(Math.log2(p.capacity + 1))
  out.push(`<line x1="${cx}" x2="${cx}" y1="${y(0)}" y2="${M.top}" stroke="#999" stroke-dasharray="4 3"/><text x="${cx + 4}" y="${M.top + 46}" font-size="10" fill="#555">a full table: ${p.capacity} peers</text>`)
  for (const h of p.hops) {
    out.push(`<line x1="${x(Math.log2(h.nodes))}" x2="${x(Math.log2(h.nodes))}" y1="${y(h.hops)}" y2="${y(h.maxHops)}" stroke="${COLOURS[0]}"/>`)
    out.push(`<circle cx="${x(Math.log2(h.nodes))}" cy="${y(h.hops)}" r="4" fill="${COLOURS[0]}"><title>N=${h.nodes}: ${h.hops.toFixed(2)} hops (max ${h.maxHops})</title></circle>`)
  }
  out.push(`<text x="${x0 + M.left + 8}" y="${M.top + 14}" font-size="11" fill="${COLOURS[0]}">● simulated mean (bar: max)</text>`)
  out.push(`<text x="${x0 + M.left + 8}" y="${M.top + 30}" font-size="11" fill="#555">— model (dashed: past the simulation)</text>`)
  return out.join('\n')
}

function sweepPanel (p: SimPlot, x0: number): string {
  const minN = Math.min(...p.sweep.map(s => s.nodes))
  const simMax = Math.max(...p.sweep.map(s => s.nodes))
  const maxC = Math.max(...p.cidCounts)
  const x = logScale(minN, p.maxNodes, x0 + M.left, x0 + PANEL_W)
  const y = logScale(1, maxC * 2, H - M.bottom, M.top)
  const out = [`<text x="${x0 + M.left}" y="22" font-size="14" font-weight="bold">Lookups per announcement round against N</text>`]
  for (const t of y.ticks) out.push(`<line x1="${x0 + M.left}" x2="${x0 + PANEL_W}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/><text x="${x0 + M.left - 6}" y="${y(t) + 4}" font-size="11" text-anchor="end">${fmt(t)}</text>`)
  for (const t of x.ticks) out.push(`<text x="${x(t)}" y="${H - M.bottom + 16}" font-size="11" text-anchor="middle">${fmt(t)}</text>`)
  for (const n of [minN, p.maxNodes]) if (!x.ticks.includes(n)) out.push(`<text x="${x(n)}" y="${H - M.bottom + 16}" font-size="11" text-anchor="middle">${fmt(n)}</text>`)
  out.push(`<text x="${x0 + (M.left + PANEL_W) / 2}" y="${H - M.bottom + 34}" font-size="12" text-anchor="middle">N (nodes, log scale)</text>`)
  p.cidCounts.forEach((c, i) => {
    const colour = COLOURS[i % COLOURS.length]
    out.push(`<line x1="${x(minN)}" x2="${x(p.maxNodes)}" y1="${y(c)}" y2="${y(c)}" stroke="${colour}" stroke-dasharray="2 3"/>`)
    out.push(line(span(minN, p.maxNodes), n => x(n), n => y(Math.max(1, p.sweepModel(n, c))), colour, simMax))
    for (const s of p.sweep.filter(s => s.cids === c)) out.push(`<circle cx="${x(s.nodes)}" cy="${y(Math.max(1, s.lookups))}" r="4" fill="${colour}"><title>N=${s.nodes}, ${s.cids} CIDs: ${s.lookups} lookups</title></circle>`)
    out.push(`<text x="${x0 + PANEL_W + 6}" y="${y(c) + 4}" font-size="11" fill="${colour}">${fmt(c)} CIDs</text>`)
  })
  // bottom right: the sweep's points climb from the bottom left
  out.push(`<text x="${x0 + PANEL_W - 4}" y="${H - M.bottom - 30}" font-size="11" fill="#555" text-anchor="end">● sweep, simulated   — sweep model (dashed: past the simulation)</text>`)
  out.push(`<text x="${x0 + PANEL_W - 4}" y="${H - M.bottom - 14}" font-size="11" fill="#555" text-anchor="end">┄ batch provider: one lookup per CID</text>`)
  return out.join('\n')
}

/** The SVG text. */
export function simSvg (p: SimPlot): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H + 20}" viewBox="0 0 ${W} ${H + 20}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H + 20}" fill="white"/>`,
    hopsPanel(p, 0),
    sweepPanel(p, PANEL_W + 40),
    `<text x="${M.left}" y="${H + 10}" font-size="11" fill="#555">${esc(p.caption)}</text>`,
    '</svg>\n'
  ].join('\n')
}

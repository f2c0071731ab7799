// How many rows each part of the seed dashboard gets, so the frame is never
// taller than the terminal. Ink writes a frame taller than the terminal as
// scrolling output: the top lines (the header) scroll off, and every redraw
// pushes another screenful into the scrollback (1,539 lines in 6 s were
// seen at 80×24). So the frame is cut to fit before Ink sees it: lists
// shrink to what fits, and when even one row per pane does not fit, whole
// rows of panes hide (Tab still reaches them: the focused pane always shows).

import type { Pane } from './Dashboard.tsx'

/** the four bands of the dashboard, top to bottom; each holds one or two panes */
export type Band = 'top' | 'transfers' | 'bottom' | 'log'
export const BANDS: readonly Band[] = ['top', 'transfers', 'bottom', 'log']

export const BAND_OF: Record<Pane, Band> = { peers: 'top', dht: 'top', transfers: 'transfers', content: 'bottom', chain: 'bottom', log: 'log' }

/** a pane's rounded border (top and bottom) and its title */
export const FRAME_ROWS = 3
/** rows every visible band gets before any band gets more (the focused one excepted) */
const SHARE_ROWS = 3
/** which bands hide first when the terminal is too short for all (never the focused one) */
const HIDE_ORDER: readonly Band[] = ['bottom', 'top', 'log', 'transfers']

/**
 * Content rows per band (0: hidden) for `budget` terminal rows below the
 * header: at least one each, then every band up to SHARE_ROWS, then the
 * focused band all it needs, then the others in order. The sum, with FRAME_ROWS per
 * shown band, never exceeds `budget`.
 */
export function bandRows (needs: Record<Band, number>, focus: Band, budget: number): Record<Band, number> {
  const rows: Record<Band, number> = { top: 0, transfers: 0, bottom: 0, log: 0 }
  let shown = [...BANDS]
  const cost = (): number => shown.length * (FRAME_ROWS + 1)
  for (const b of HIDE_ORDER) {
    if (cost() <= budget) break
    if (b !== focus) shown = shown.filter(x => x !== b)
  }
  if (cost() > budget) return rows
  let left = budget - cost()
  for (const b of shown) rows[b] = 1
  const give = (b: Band, upTo: number): void => {
    const n = Math.max(0, Math.min(left, upTo - rows[b]))
    rows[b] += n
    left -= n
  }
  const focused = shown.includes(focus) ? [focus] : []
  for (const b of [...focused, ...shown]) give(b, Math.min(needs[b], SHARE_ROWS))
  for (const b of [...focused, ...shown]) give(b, needs[b])
  return rows
}

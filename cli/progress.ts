// Progress for add, get and car: an Ink bar on stderr when stderr is a
// terminal, JSON lines on stderr with --json, and nothing otherwise.
// Updates are throttled to at most FRAMES_PER_SECOND so drawing never slows
// the transfer.

import { RateMeter } from '../core/util/rate.ts'
import type { Context } from './command.ts'

export { RateMeter }

/** at most this many redraws (or JSON progress lines) a second */
export const FRAMES_PER_SECOND = 10

export interface Progress {
  update: (bytes: number, total: number | null) => void
  /** final frame: ok = finished, else stopped (an error follows on stderr) */
  done: (ok?: boolean) => Promise<void>
}

/** What the bars read of a transfer's progress events (core's AddProgress, GetProgress, CarProgress). */
export interface TransferEvent { type: string, bytes?: number, totalBytes?: number | null }

/**
 * A progress event as a transfer event; null for any other (a fetch's peer
 * events, a future kind). Checked by hand: `get` through a seed loads no valibot.
 */
export function transferEvent (e: unknown): TransferEvent | null {
  if (typeof e !== 'object' || e === null) return null
  const type: unknown = Reflect.get(e, 'type')
  const bytes: unknown = Reflect.get(e, 'bytes')
  const totalBytes: unknown = Reflect.get(e, 'totalBytes')
  if (typeof type !== 'string') return null
  if (bytes !== undefined && typeof bytes !== 'number') return null
  if (totalBytes !== undefined && totalBytes !== null && typeof totalBytes !== 'number') return null
  return { type, ...(bytes !== undefined ? { bytes } : {}), ...(totalBytes !== undefined ? { totalBytes } : {}) }
}

const NONE: Progress = { update: () => {}, done: async () => {} }

/**
 * Runs `fn` with a progress display that is always closed, also when `fn`
 * throws, so the terminal is left clean for the one error line.
 */
export async function withProgress<T> (ctx: Context, label: string, fn: (p: Progress) => Promise<T>): Promise<T> {
  const p = await createProgress(ctx, label)
  let ok = false
  try {
    const result = await fn(p)
    ok = true
    return result
  } finally {
    await p.done(ok)
  }
}

export async function createProgress (ctx: Context, label: string): Promise<Progress> {
  const tty = ctx.stderr.isTTY === true
  if (!ctx.json && !tty) return NONE
  const meter = new RateMeter()
  let bytes = 0
  let total: number | null = null
  let dirty = false
  const started = Date.now()
  meter.add(started, 0)

  if (ctx.json) {
    const line = (done: boolean): void => {
      ctx.stderr.write(JSON.stringify({ progress: label, bytes, total, rate: Math.round(meter.rate()), done }) + '\n')
    }
    const timer = setInterval(() => { if (dirty) { dirty = false; line(false) } }, 1000 / FRAMES_PER_SECOND)
    timer.unref()
    return {
      update: (b, t) => { bytes = b; total = t; meter.add(Date.now(), b); dirty = true },
      done: async (ok = true) => { clearInterval(timer); if (ok) line(true) }
    }
  }

  const [{ render }, { progressBar }] = await Promise.all([import('ink'), import('./ui/ProgressBar.tsx')])
  const element = (done: boolean) => progressBar({
    label,
    bytes,
    total,
    rate: done ? bytes * 1000 / Math.max(1, Date.now() - started) : meter.rate(),
    done
  })
  const ink = render(element(false), { stdout: ctx.stderr, patchConsole: false, exitOnCtrlC: false })
  const timer = setInterval(() => { if (dirty) { dirty = false; ink.rerender(element(false)) } }, 1000 / FRAMES_PER_SECOND)
  timer.unref()
  return {
    update: (b, t) => { bytes = b; total = t; meter.add(Date.now(), b); dirty = true },
    done: async (ok = true) => {
      clearInterval(timer)
      if (ok) ink.rerender(element(true))
      else ink.clear()
      ink.unmount()
      await ink.waitUntilExit()
    }
  }
}

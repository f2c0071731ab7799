// Flags and reporting shared by the commands that may fetch: cat, get, ls, pin add.

import { UsageError } from '../core/util/errors.ts'
import { formatBytes } from './format.ts'
import { escapeTerminal } from '../core/util/escape.ts'
import { listFlag, numberFlag, report, type Context } from './command.ts'
import type { FlagSpecs } from './argv.ts'
import type { InvokeOptions } from './client.ts'

/** What the report reads of a fetch's progress events (core/swarm's fetch:block, fetch:banned…), each field checked: not valibot, which `cat` and `get` through a seed do not load. */
interface FetchEvent { type?: string, peer?: string, bytes?: number, reason?: string, offence?: string }

function fetchEvent (e: unknown): FetchEvent | null {
  if (typeof e !== 'object' || e === null) return null
  const out: FetchEvent = {}
  for (const key of ['type', 'peer', 'reason', 'offence'] as const) {
    const value: unknown = Reflect.get(e, key)
    if (typeof value === 'string') out[key] = value
    else if (value !== undefined) return null
  }
  const bytes: unknown = Reflect.get(e, 'bytes')
  if (typeof bytes === 'number') out.bytes = bytes
  else if (bytes !== undefined) return null
  return out
}

export const FETCH_FLAGS = {
  offline: { type: 'boolean' },
  peer: { type: 'string', isMultiple: true },
  timeout: { type: 'number' },
  bootstrap: { type: 'string', isMultiple: true }
} satisfies FlagSpecs

export const FETCH_HELP = `
Fetching (content not in the repo)
  --offline        never touch the network: fail if a block is missing
  --peer MA        fetch from this peer directly (repeatable)
  --timeout S      give up when no block arrives for S seconds (default 120)
  --bootstrap MA   bootstrap the node started for this command (without a seed)

Blocks come from every provider at once, each checked against its CID and
kept as it arrives: run an interrupted command again and it fetches only
what is still missing.`

export function fetchParams (ctx: Context): { offline: boolean, peers: string[], timeoutMs?: number } {
  const t = numberFlag(ctx, 'timeout')
  if (t != null && !(t > 0)) throw new UsageError('--timeout needs a number of seconds > 0')
  const peers = listFlag(ctx, 'peer')
  if (ctx.flags.offline === true && peers.length > 0) throw new UsageError('--offline and --peer contradict each other')
  return { offline: ctx.flags.offline === true, peers, timeoutMs: t != null ? Math.round(t * 1000) : undefined }
}

export function fetchInvokeOptions (ctx: Context, write = false): InvokeOptions {
  return { write, bootstrap: listFlag(ctx, 'bootstrap') }
}

/** Tallies fetch progress events; says at the end who served how much. */
export class FetchReport {
  private readonly peers = new Map<string, number>()
  private total = 0
  private duplicates = 0
  private duplicateBytes = 0
  private readonly dropped: Array<{ peer: string, reason: string }> = []
  /** peers banned for misbehaving during the fetch, and why */
  private readonly banned = new Map<string, string>()

  /** Feed every progress event here; returns true for fetch events. */
  see (e: unknown): boolean {
    const p = fetchEvent(e)
    if (p == null) return false
    if (p.type === 'fetch:banned' && p.peer != null) {
      this.banned.set(p.peer, p.offence ?? 'misbehaved')
      return true
    }
    if (p.type === 'fetch:duplicate') {
      this.duplicates++
      this.duplicateBytes += p.bytes ?? 0
      return true
    }
    if (p.type === 'fetch:dropped') {
      this.dropped.push({ peer: p.peer ?? '', reason: p.reason ?? '' })
      return true
    }
    if (p.type !== 'fetch:block' || p.peer == null) return p.type === 'fetch:providers'
    this.peers.set(p.peer, (this.peers.get(p.peer) ?? 0) + (p.bytes ?? 0))
    this.total += p.bytes ?? 0
    return true
  }

  print (ctx: Context): void {
    if (this.peers.size === 0 && this.banned.size === 0) return
    const parts = [...this.peers].sort((a, b) => b[1] - a[1]).map(([id, n]) => `${id.slice(-8)} ${Math.round(100 * n / this.total)}%`)
    const extra = [
      this.duplicates > 0 ? `${this.duplicates} duplicate block(s), ${formatBytes(this.duplicateBytes)}` : '',
      this.dropped.length > 0 ? `dropped ${this.dropped.map(d => `${d.peer.slice(-8)} (${escapeTerminal(d.reason)})`).join(', ')}` : '',
      this.banned.size > 0 ? `banned ${[...this.banned].map(([id, why]) => `${id.slice(-8)} (${escapeTerminal(why)})`).join(', ')}` : ''
    ].filter(x => x !== '')
    report(ctx, `fetched ${formatBytes(this.total)} from ${this.peers.size} peer(s): ${parts.join(', ')}${extra.length > 0 ? `; ${extra.join('; ')}` : ''}`, {
      fetched: this.total,
      peers: Object.fromEntries(this.peers),
      duplicates: this.duplicates,
      duplicateBytes: this.duplicateBytes,
      dropped: this.dropped,
      banned: Object.fromEntries(this.banned)
    })
  }
}

// `cairn provide stat` as text: the sweep provider's report
// (core/net/provide-report.ts), one fact a line.

import type { ProvideStat } from '../core/net/provide-report.ts'
import { escapeTerminal } from '../core/util/escape.ts'
import { formatDuration } from './format.ts'

/** Seconds as 22h00m, 5m03s or 12s. */
function span (s: number): string {
  if (s < 3600) return formatDuration(s)
  const h = Math.floor(s / 3600)
  return `${h}h${String(Math.round((s - h * 3600) / 60)).padStart(2, '0')}m`
}

function when (t: number | null, now: number): string {
  if (t == null) return 'never'
  const s = (t - now) / 1000
  return s >= 0 ? `in ${span(s)}` : `${span(-s)} ago`
}

/** The report as lines of text (`now`: for relative times). */
export function formatProvideStat (s: ProvideStat, now = Date.now()): string {
  const failed = Object.entries(s.failures).filter(([, n]) => n > 0)
  const lines = [
    `strategy        ${s.strategy}, rounds every ${span(s.intervalS)}`,
    `CIDs            ${s.cids} under announcement${s.pending > 0 ? `, ${s.pending} fresh waiting` : ''}`,
    `regions         ${s.regions} (prefix depth ${s.depth})`,
    s.round != null
      ? `round           ${Math.round(s.round.progress * 100)}% through the keyspace, ${s.round.lookups} lookup(s) so far${s.round.catchUp ? ' (catch-up: all regions at once)' : ''}`
      : 'round           none under way',
    `last round      ${s.lastRound == null ? 'none yet' : `${s.lastRound.cids} CID(s), ${s.lastRound.regions} region(s), ${s.lastRound.lookups} lookup(s), took ${span(s.lastRound.ms / 1000)}, ended ${when(s.lastRound.endedAt, now)}`}`,
    `last sweep      ${when(s.lastSweepAt, now)}`,
    `next sweep      ${s.nextSweepAt == null ? 'not scheduled' : s.nextSweepAt <= now ? 'now' : when(s.nextSweepAt, now)}`,
    `since start     ${s.lookups} lookup(s), ${s.records} record(s) delivered, ${s.fresh} fresh CID(s) announced, ${span(s.yieldedMs / 1000)} yielded to transfers`,
    `failures        ${failed.length === 0 ? 'none' : failed.map(([reason, n]) => `${n} ${reason}`).join(', ')}`
  ]
  for (const f of s.recentFailures.slice().reverse()) {
    lines.push(`  ${when(f.at, now)}: ${f.reason}, region ${f.region === '' ? '(all)' : f.region}, ${f.cids} CID(s)${f.peer != null ? `, peer ${escapeTerminal(f.peer)}` : ''}: ${escapeTerminal(f.message)}`)
  }
  return lines.join('\n')
}

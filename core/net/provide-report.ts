// What the sweep provider reports (`cairn provide stat`, the dashboard's DHT
// pane, the seed's log): how much it announces, how its rounds go, and every
// failure with its reason. Plain data, kept by sweeper.ts.

import type { FailureReason } from './sweep-wire.ts'

/** failures kept with their details (older ones are only counted) */
export const RECENT_FAILURES = 10

export interface FailureRecord {
  /** ms since the epoch */
  at: number
  reason: FailureReason
  /** the region's prefix ('0'/'1' text; '' is the whole keyspace) */
  region: string
  /** CIDs this failure left unannounced to that peer (or to anyone, for a failed lookup) */
  cids: number
  /** the peer that failed, if it was one peer */
  peer?: string
  message: string
}

export interface ProvideStat {
  strategy: 'all' | 'pinned' | 'roots'
  /** seconds a round is spread over */
  intervalS: number
  /** CIDs under announcement: the round's CIDs */
  cids: number
  /** regions the round's CIDs fall in, and their depth (prefix bits) */
  regions: number
  depth: number
  /** the round under way: when it started, how far through the keyspace (0-1), lookups so far */
  round: { startedAt: number, progress: number, lookups: number, catchUp: boolean } | null
  lastRound: { endedAt: number, ms: number, lookups: number, regions: number, cids: number } | null
  /** when a region was last swept, and when the next is due (ms since the epoch) */
  lastSweepAt: number | null
  nextSweepAt: number | null
  /** freshly added CIDs not yet announced (waiting, or being sent) */
  pending: number
  /** ADD_PROVIDER records delivered since start, and fresh CIDs announced since start */
  records: number
  fresh: number
  /** lookups since start (rounds and fresh content) */
  lookups: number
  /** failures since start, by reason, and the latest ones */
  failures: Record<FailureReason, number>
  recentFailures: FailureRecord[]
  /** time spent waiting for transfers to go quiet, ms since start */
  yieldedMs: number
}

export function emptyStat (strategy: ProvideStat['strategy'], intervalS: number): ProvideStat {
  return {
    strategy,
    intervalS,
    cids: 0,
    regions: 0,
    depth: 0,
    round: null,
    lastRound: null,
    lastSweepAt: null,
    nextSweepAt: null,
    pending: 0,
    records: 0,
    fresh: 0,
    lookups: 0,
    failures: { timeout: 0, 'no-peers': 0, refused: 0, error: 0 },
    recentFailures: [],
    yieldedMs: 0
  }
}

/** Counts a failure and keeps its details among the latest. */
export function recordFailure (s: ProvideStat, f: FailureRecord): void {
  s.failures[f.reason]++
  s.recentFailures.push(f)
  if (s.recentFailures.length > RECENT_FAILURES) s.recentFailures.shift()
}

/** The seed log's line for a round that ended. */
export function provideRoundLine (s: ProvideStat): string {
  const r = s.lastRound
  if (r == null) return 'provide round ended'
  const failed = Object.entries(s.failures).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`)
  return `provide round: ${r.cids} CID(s) in ${r.regions} region(s), ${r.lookups} lookup(s), ${r.ms} ms${failed.length > 0 ? ` (failures since start: ${failed.join(', ')})` : ''}`
}

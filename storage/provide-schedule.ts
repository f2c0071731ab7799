// The sweep provider's schedule, kept in the repo's datastore under
// /provide/schedule so a restarted seed resumes its round where it stopped
// instead of starting over (core/net/sweeper.ts). Plain data: where the
// round is in the keyspace and what the last rounds cost. A missing or
// unreadable record is no schedule (the next start runs a full round).

import { Key } from 'interface-datastore'
import type { FsDatastore } from 'datastore-fs'
import * as v from 'valibot'
import { parseStored } from './stored-json.ts'

export interface ProvideSchedule {
  /** when the current round started, ms since the epoch */
  roundStartedAt: number
  /** the first region prefix ('0'/'1' text) not yet swept in this round; null: the round is done */
  cursor: string | null
  /** a round that sweeps every region at once, not spread over the interval: the first in a repo, or one after a round was missed (records may have expired) */
  catchUp: boolean
  /** region depth last used (what the last lookups said about the network's size) */
  depth: number
  /** when the last region was swept, ms since the epoch, or null */
  lastSweepAt: number | null
  /** the last full round: when it ended, how long it took, its lookups and regions */
  lastRound: { endedAt: number, ms: number, lookups: number, regions: number, cids: number } | null
  /** lookups made so far in the current round */
  lookups: number
  /** when a running seed last saved this (it announces fresh content itself until then): pins made after it were added while it was down */
  seenUntil?: number
}

const KEY = new Key('/provide/schedule')

/**
 * A stored schedule. Where the round is must be right or the record is no
 * schedule; the figures of past rounds (lastSweepAt, lastRound, seenUntil)
 * are only shown, so a missing or damaged one reads as unknown.
 */
const SCHEDULE = v.object({
  roundStartedAt: v.number(),
  cursor: v.nullable(v.pipe(v.string(), v.regex(/^[01]*$/))),
  catchUp: v.boolean(),
  depth: v.pipe(v.number(), v.integer()),
  lastSweepAt: v.fallback(v.nullable(v.number()), null),
  lastRound: v.fallback(v.nullable(v.object({ endedAt: v.number(), ms: v.number(), lookups: v.number(), regions: v.number(), cids: v.number() })), null),
  lookups: v.number(),
  seenUntil: v.fallback(v.optional(v.number()), undefined)
})

export class ProvideScheduleStore {
  constructor (private readonly ds: FsDatastore) {}

  async load (): Promise<ProvideSchedule | null> {
    let bytes: Uint8Array
    try {
      bytes = await this.ds.get(KEY)
    } catch {
      return null
    }
    return parseStored(SCHEDULE, bytes)
  }

  async save (s: ProvideSchedule): Promise<void> {
    await this.ds.put(KEY, new TextEncoder().encode(JSON.stringify(s)))
  }
}

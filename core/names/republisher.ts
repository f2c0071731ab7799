// A seed republishes the names it publishes before their records expire:
// the same value and sequence, signed again with a new expiry, to the DHT
// and the name's pubsub topic. Each name is due halfway through its record's
// lifetime, and at most REPUBLISH_MAX_MS after the last time (Kubo: every 4 h,
// records valid 48 h), so a DHT peer that dropped it gets it back.

import { unmarshalIPNSRecord } from 'ipns'
import { loadKey } from './keys.ts'
import { createRecord, describeRecord, parseName } from './record.ts'
import type { NamePubSub } from './pubsub.ts'
import type { NameService } from './service.ts'
import { errorMessage } from '../util/errors.ts'

/** the longest a published name waits between republishes */
export const REPUBLISH_MAX_MS = 4 * 60 * 60 * 1000
/** the shortest wait between two runs (records of a few seconds' lifetime) */
const REPUBLISH_MIN_MS = 1000

export interface NameStatus {
  name: string
  key: string
  value: string
  seq: number
  expires: number
  /** Unix ms of the next republish */
  nextRepublish: number
}

export class Republisher {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private last = new Map<string, number>()
  private stopped = false
  /** what `stats` and the dashboard show */
  status: NameStatus[] = []

  constructor (
    private readonly names: NameService,
    private readonly pubsub: NamePubSub | null,
    private readonly log: (line: string) => void = () => {}
  ) {}

  start (): void { this.schedule(0) }

  /** A publish happened: its name's clock starts again. */
  published (name: string): void {
    this.last.set(name, Date.now())
    void this.refresh().then(() => { this.schedule(this.nextDue()) }).catch(() => {})
  }

  stop (): void {
    this.stopped = true
    if (this.timer != null) clearTimeout(this.timer)
    this.timer = null
  }

  private schedule (inMs: number): void {
    if (this.stopped) return
    if (this.timer != null) clearTimeout(this.timer)
    this.timer = setTimeout(() => { void this.run() }, Math.max(REPUBLISH_MIN_MS, Math.min(inMs, REPUBLISH_MAX_MS)))
    this.timer.unref()
  }

  private nextDue (): number {
    const now = Date.now()
    return this.status.reduce((m, s) => Math.min(m, s.nextRepublish - now), REPUBLISH_MAX_MS)
  }

  private dueAt (name: string, seen: number, expires: number, lifetimeMs: number): number {
    const last = this.last.get(name) ?? seen
    return Math.min(expires - lifetimeMs / 2, last + REPUBLISH_MAX_MS)
  }

  /** Reads the published names and when each is due. */
  async refresh (): Promise<void> {
    const rows: NameStatus[] = []
    for (const r of await this.names.records.published()) {
      const p = r.publishing
      if (p == null) continue
      const d = describeRecord(unmarshalIPNSRecord(r.record))
      rows.push({ name: r.name, key: p.key, value: d.value, seq: Number(d.seq), expires: d.expires, nextRepublish: this.dueAt(r.name, r.seen, d.expires, p.lifetimeMs) })
    }
    this.status = rows
  }

  private async run (): Promise<void> {
    if (this.running != null) return
    this.running = (async () => {
      await this.refresh()
      const now = Date.now()
      for (const s of this.status) {
        if (this.stopped || s.nextRepublish > now) continue
        try {
          await this.republish(s)
        } catch (err) {
          this.log(`republish of ${s.name} failed: ${errorMessage(err)}`)
        }
      }
      await this.refresh()
    })()
    try {
      await this.running
    } finally {
      this.running = null
      this.schedule(this.nextDue())
    }
  }

  private async republish (s: NameStatus): Promise<void> {
    const stored = await this.names.records.get(s.name)
    const p = stored?.publishing
    if (stored == null || p == null) return
    const key = await loadKey(this.names.repo, p.key)
    const old = unmarshalIPNSRecord(stored.record)
    const bytes = await createRecord(key, old.value, old.sequence, { lifetimeMs: p.lifetimeMs, ttlMs: p.ttlMs })
    await this.names.records.put({ name: s.name, record: bytes, seen: Date.now(), publishing: p })
    this.last.set(s.name, Date.now())
    const name = parseName(s.name)
    const dht = await this.names.putToDht(name, bytes)
    if (this.pubsub != null) await this.pubsub.publish(name, bytes, unmarshalIPNSRecord(bytes))
    this.log(`republished ${s.name} (sequence ${s.seq})${dht.error != null ? `; DHT: ${dht.error}` : ` to ${dht.peers} DHT peer(s)`}`)
  }
}

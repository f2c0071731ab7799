// Manifests waiting to be anchored, in arrival order. Bounded overall and
// per publisher key, so one key cannot fill the pool and crowd others out.

import { publisherId, type EncodedManifest } from './manifest.ts'
import { CairnError } from '../util/errors.ts'

/** manifests held at most (≈ 2 KiB each at most: ≤ 20 MiB) */
export const MAX_PENDING = 10_000
/** manifests of one publisher key held at most */
export const MAX_PENDING_PER_PUBLISHER = 1_000

/** The pool, or this publisher's share of it, is full. */
export class PendingFullError extends CairnError {}

export class PendingPool {
  private readonly entries = new Map<string, EncodedManifest>()
  private readonly perPublisher = new Map<string, number>()

  constructor (readonly max = MAX_PENDING, readonly maxPerPublisher = MAX_PENDING_PER_PUBLISHER) {}

  get size (): number { return this.entries.size }
  has (key: string): boolean { return this.entries.has(key) }
  get (key: string): EncodedManifest | undefined { return this.entries.get(key) }
  keys (): string[] { return [...this.entries.keys()] }
  values (): IterableIterator<EncodedManifest> { return this.entries.values() }

  /** Adds a manifest (already checked); throws PendingFullError past a bound. */
  add (m: EncodedManifest): void {
    const key = m.cid.toString()
    if (this.entries.has(key)) return
    const who = publisherId(m.manifest)
    const n = this.perPublisher.get(who) ?? 0
    if (this.entries.size >= this.max) throw new PendingFullError(`the pending pool is full (${this.max} manifests)`)
    if (n >= this.maxPerPublisher) throw new PendingFullError(`this publisher already has ${this.maxPerPublisher} manifests pending`)
    this.entries.set(key, m)
    this.perPublisher.set(who, n + 1)
  }

  remove (key: string): EncodedManifest | undefined {
    const m = this.entries.get(key)
    if (m == null) return undefined
    this.entries.delete(key)
    const who = publisherId(m.manifest)
    const n = (this.perPublisher.get(who) ?? 1) - 1
    if (n <= 0) this.perPublisher.delete(who)
    else this.perPublisher.set(who, n)
    return m
  }
}

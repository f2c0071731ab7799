// A Map that forgets its oldest entry when one more would pass its bound:
// the memory of what strangers send us (scores, wants, orphan blocks, bad
// CIDs) stays bounded whatever they send.
//
// Eviction is by insertion order, not least-recently-used: a get does not
// make an entry young, so a peer cannot keep its own entry alive by
// provoking lookups, and a hot entry costs no reordering. renew() moves an
// entry to the young end where a caller wants that (a want asked again, a
// block parked again). lru-cache and hashlru evict by use (hashlru only
// approximately, holding up to twice its bound), which these callers do not
// want, hence this one here.

import { flat } from './flat-string.ts'

export class BoundedMap<K, V> extends Map<K, V> {
  constructor (readonly max: number) {
    super()
  }

  /**
   * Sets the value (an existing key keeps its place); past `max`, the
   * oldest entries go. A string key is kept flat (flat-string.ts): these
   * maps hold up to thousands of CIDs' text for hours.
   */
  override set (key: K, value: V): this {
    if (typeof key === 'string') flat(key)
    super.set(key, value)
    while (this.size > this.max) {
      const oldest = this.keys().next()
      if (oldest.done === true) break
      this.delete(oldest.value)
    }
    return this
  }

  /** Sets the value as the youngest entry, the last to be forgotten. */
  renew (key: K, value: V): this {
    this.delete(key)
    return this.set(key, value)
  }

  /**
   * Forgets entries from the oldest on, while `stale` says so of each: a
   * map whose values are times, set in time order (renew), forgets what
   * has expired and holds only what a recent span brought, however large
   * its bound.
   */
  forgetWhile (stale: (value: V) => boolean): void {
    for (const [key, value] of this) {
      if (!stale(value)) return
      this.delete(key)
    }
  }
}

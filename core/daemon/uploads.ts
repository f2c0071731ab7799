// What a seed serves, per peer and per root: which peer is fetching which
// seeded root, how much it got and how fast, for the dashboard's Transfers
// pane and a log line when a peer starts and finishes fetching a root.
//
// A served block names only its own CID, so it is mapped to a root by
//  - an index of the blocks of the seeded roots (block → root), built by
//    walking each root once when it is seeded. Only interior nodes are read
//    (a link whose Tsize is at most LEAF_TSIZE points at a leaf: its CID is
//    indexed from the parent, its bytes never read), and the index holds at
//    most MAX_INDEXED_BLOCKS blocks (~120 bytes each: ~8 MiB, 64 GiB of
//    content in 1 MiB chunks); past that,
//  - the root the same peer was last served a block of: a fetcher asks for
//    a root before anything under it, so an unindexed block is most likely
//    part of what that peer was fetching.
// Both are bounded, and a wrong guess costs only a dashboard row.

import * as dagPb from '@ipld/dag-pb'
import { RateMeter } from '../util/rate.ts'
import { blockKey } from '../repo/dag.ts'
import type { CID } from 'multiformats/cid'
import type { BlockReader } from '../../storage/blocks.ts'

/** blocks the index holds at most (all roots together) */
export const MAX_INDEXED_BLOCKS = 65_536
/** a dag-pb link with at most this Tsize is taken for a leaf and not read (cairn's largest chunk is 1 MiB) */
const LEAF_TSIZE = 1024 * 1024 + 1024
/** a peer that has asked for nothing of a root for this long has finished fetching it */
export const UPLOAD_IDLE_MS = 3000
/** a finished upload stays on the dashboard this long */
const DONE_LINGER_MS = 5000
/** uploads tracked at once; past it the longest idle one is ended early */
const MAX_UPLOADS = 256

export interface UploadRow {
  peer: string
  /** the seeded root, null when the blocks belong to none we know */
  root: string | null
  bytes: number
  blocks: number
  /** bytes per second, recent (0 once done) */
  rate: number
  /** the root's size when known */
  size: number | null
  startedAt: number
  done: boolean
}

interface Upload extends UploadRow { meter: RateMeter, last: number, endedAt: number | null }

export interface UploadTrackerOptions {
  /** a line for the log: a peer started or finished fetching a root */
  log: (line: string) => void
  /** how a root is called in the log: its (escaped) name and CID */
  label: (root: string) => string
}

export class UploadTracker {
  /** block key (multihash) → root CID string */
  private readonly index = new Map<string, string>()
  private readonly indexedRoots = new Set<string>()
  private readonly sizes = new Map<string, number | null>()
  private readonly uploads = new Map<string, Upload>()
  /** peer → the root it was last served a block of */
  private readonly lastRoot = new Map<string, string>()
  private sweeper: NodeJS.Timeout | null = null

  constructor (private readonly o: UploadTrackerOptions) {}

  /** Ends idle uploads every second (with no dashboard drawing, the log still hears of them). */
  start (): void {
    this.sweeper ??= setInterval(() => { this.sweep(Date.now()) }, 1000)
    this.sweeper.unref()
  }

  stop (): void {
    if (this.sweeper != null) clearInterval(this.sweeper)
    this.sweeper = null
  }

  /**
   * The seeded roots changed: index the new ones (a removed root's blocks
   * are dropped with a full rebuild). Calls run one after another; the
   * promise settles when this one's walk is done.
   */
  async setRoots (store: BlockReader, roots: Array<{ cid: CID, size: number | null }>): Promise<void> {
    const run = this.indexing.then(async () => { await this.reindex(store, roots) })
    this.indexing = run.catch(() => {})
    await run
  }

  private indexing: Promise<void> = Promise.resolve()

  private async reindex (store: BlockReader, roots: Array<{ cid: CID, size: number | null }>): Promise<void> {
    const now = new Set(roots.map(r => r.cid.toString()))
    if ([...this.indexedRoots].some(r => !now.has(r))) {
      this.index.clear()
      this.indexedRoots.clear()
    }
    for (const r of roots) {
      const key = r.cid.toString()
      this.sizes.set(key, r.size)
      if (this.indexedRoots.has(key)) continue
      this.indexedRoots.add(key)
      await this.indexRoot(store, r.cid, key)
    }
    for (const k of this.sizes.keys()) if (!now.has(k)) this.sizes.delete(k)
  }

  private async indexRoot (store: BlockReader, root: CID, key: string): Promise<void> {
    const stack: CID[] = [root]
    this.index.set(blockKey(root), key)
    for (let cid = stack.pop(); cid != null && this.index.size < MAX_INDEXED_BLOCKS; cid = stack.pop()) {
      if (cid.code !== dagPb.code) continue
      let links: dagPb.PBLink[]
      try {
        links = dagPb.decode(await store.getBytes(cid)).Links
      } catch { continue } // missing or unreadable: its blocks fall back to the peer's last root
      for (const l of links) {
        if (this.index.size >= MAX_INDEXED_BLOCKS) break
        this.index.set(blockKey(l.Hash), key)
        if ((l.Tsize ?? Infinity) > LEAF_TSIZE) stack.push(l.Hash)
      }
    }
  }

  /** The root a served block belongs to, as far as the index and the peer's history tell. */
  rootOf (peer: string, block: string): string | null {
    return this.index.get(block) ?? this.lastRoot.get(peer) ?? null
  }

  /** A block of `bytes` went to `peer`; `block` is its multihash key (core/repo/dag.ts blockKey). */
  served (peer: string, block: string, bytes: number, now = Date.now()): void {
    const indexed = this.index.get(block)
    if (indexed != null) this.lastRoot.set(peer, indexed)
    const root = indexed ?? this.lastRoot.get(peer) ?? null
    const id = `${peer} ${root ?? ''}`
    let u = this.uploads.get(id)
    if (u != null && u.done) {
      // the same peer back for the same root: a new fetch
      this.uploads.delete(id)
      u = undefined
    }
    if (u == null) {
      if (this.uploads.size >= MAX_UPLOADS) this.endOldest(now)
      u = {
        peer,
        root,
        bytes: 0,
        blocks: 0,
        rate: 0,
        size: root == null ? null : this.sizes.get(root) ?? null,
        startedAt: now,
        done: false,
        meter: new RateMeter(),
        last: now,
        endedAt: null
      }
      this.uploads.set(id, u)
      this.o.log(`peer ${peer} started fetching ${this.what(root)}`)
    }
    u.bytes += bytes
    u.blocks++
    u.last = now
    u.meter.add(now, u.bytes)
  }

  /** The peer disconnected: whatever it was fetching is over. */
  peerLeft (peer: string, now = Date.now()): void {
    this.lastRoot.delete(peer)
    for (const u of this.uploads.values()) if (u.peer === peer && !u.done) this.end(u, now)
  }

  private what (root: string | null): string {
    return root == null ? 'blocks of no seeded root' : this.o.label(root)
  }

  private end (u: Upload, now: number): void {
    u.done = true
    u.endedAt = now
    const secs = Math.max(u.last - u.startedAt, 1) / 1000
    const of = u.size != null ? ` of ${u.size}` : ''
    this.o.log(`peer ${u.peer} finished fetching ${this.what(u.root)}: ${u.bytes}${of} bytes in ${u.blocks} block(s), ${secs.toFixed(1)} s`)
  }

  private endOldest (now: number): void {
    let oldest: [string, Upload] | null = null
    for (const e of this.uploads) if (oldest == null || e[1].last < oldest[1].last) oldest = e
    if (oldest == null) return
    if (!oldest[1].done) this.end(oldest[1], now)
    this.uploads.delete(oldest[0])
  }

  /** Ends uploads idle for UPLOAD_IDLE_MS, forgets those done for DONE_LINGER_MS. */
  sweep (now: number): void {
    for (const [id, u] of this.uploads) {
      if (!u.done && now - u.last > UPLOAD_IDLE_MS) this.end(u, now)
      if (u.endedAt != null && now - u.endedAt > DONE_LINGER_MS) this.uploads.delete(id)
    }
  }

  /** Uploads running and recently finished, the running ones first. */
  rows (now = Date.now()): UploadRow[] {
    this.sweep(now)
    return [...this.uploads.values()]
      .sort((a, b) => Number(a.done) - Number(b.done) || a.startedAt - b.startedAt)
      .map(({ meter, last, endedAt, ...u }) => ({ ...u, rate: u.done ? 0 : meter.rate(now) }))
  }
}

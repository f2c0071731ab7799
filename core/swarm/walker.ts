// What order: the wants of one fetch, and the walk of its DAG ahead of the
// reader. Blocks the repo has are walked at once; blocks it lacks are
// queued in reading order (want-queue.ts) and walked when they arrive.
// A DAG deeper than MAX_DAG_DEPTH links is refused (DagTooDeepError): each
// level costs the walk a position, and no honest UnixFS DAG comes close.

import { LEAF_CODECS, MAX_DAG_DEPTH, blockKey, dagTooDeep, linksOf } from '../repo/dag.ts'
import { WantQueue, childOf, type Position, type Want } from './want-queue.ts'
import type { Blocks } from '../../storage/blocks.ts'
import type { CID } from 'multiformats/cid'

/** links from the root to the deepest block a fetch walks: the repo's walks' limit (core/repo/dag.ts) */
export { MAX_DAG_DEPTH }

export interface StoredWant extends Want {
  stored: boolean
  failed: Error | null
  /** walk its links once it arrives */
  expand: boolean
}

export class DagWalker {
  /** every block this fetch has wanted, by block key */
  readonly wants = new Map<string, StoredWant>()
  readonly queue = new WantQueue<StoredWant>()
  private readonly expanded = new Set<string>()

  /**
   * `pump`: asks for what was queued; `closed`: whether the fetch has
   * ended (the walk stops).
   */
  constructor (private readonly root: CID, private readonly blocks: Blocks, private readonly pump: () => void, private readonly closed: () => boolean) {}

  get (key: string): StoredWant | undefined { return this.wants.get(key) }

  wantOf (cid: CID, path: Position | null): StoredWant {
    const key = blockKey(cid)
    let w = this.wants.get(key)
    if (w == null) {
      w = { cid, key, path, urgent: false, refusedBy: new Set(), inFlight: new Map(), done: false, queued: false, waiters: [], stored: false, failed: null, expand: false }
      this.wants.set(key, w)
    }
    return w
  }

  /** The links of a block that arrived, walked in turn. */
  async arrived (w: StoredWant, bytes: Uint8Array): Promise<void> {
    await this.expand(this.children(w.cid, bytes, w.path).reverse())
  }

  /** The links of the block `cid` at `at`, each with its position; too deep a DAG is refused here. */
  private children (cid: CID, bytes: Uint8Array, at: Position | null): Array<{ cid: CID, path: Position }> {
    const links = linksOf(cid, bytes)
    if (links.length > 0 && (at?.depth ?? 0) >= MAX_DAG_DEPTH) {
      throw dagTooDeep(this.root, cid)
    }
    return links.map((link, i) => ({ cid: link, path: childOf(at, i) }))
  }

  /** Walks the blocks the repo has; queues those it lacks, to be walked when they arrive. */
  async expand (items: Array<{ cid: CID, path: Position | null }>): Promise<void> {
    // the repo is asked about a node's links all at once, not one after another
    const stack = items.map(x => ({ ...x, has: this.has(x.cid) }))
    for (let top = stack.pop(); top != null && !this.closed(); top = stack.pop()) {
      const { cid, path, has } = top
      const key = blockKey(cid)
      if (this.expanded.has(key)) continue
      this.expanded.add(key)
      let bytes: Uint8Array | null = null
      if (await has) {
        if (LEAF_CODECS.has(cid.code)) continue
        try { bytes = await this.blocks.getBytes(cid) } catch { /* corrupt on disk: fetch it again */ }
      }
      if (bytes == null) {
        const w = this.wantOf(cid, path)
        if (w.path == null && path != null) w.path = path
        w.expand = !LEAF_CODECS.has(cid.code)
        if (w.stored && w.expand) {
          bytes = await this.blocks.getBytes(cid)
        } else {
          this.queue.push(w)
          // ask at once: the reader may be waiting for this very block
          if (this.queue.size <= 1 || stack.length === 0) this.pump()
          continue
        }
      }
      const links = this.children(cid, bytes, path)
      for (let i = links.length - 1; i >= 0; i--) stack.push({ ...links[i], has: this.has(links[i].cid) })
    }
    this.pump()
  }

  /** Whether the repo holds a block; one it cannot tell about is fetched again. */
  private async has (cid: CID): Promise<boolean> {
    try { return await this.blocks.has(cid) } catch { return false }
  }
}

// Reading content that may not be in the repo: the repo's blocks, with what
// is missing fetched from the swarm (core/swarm/scheduler.ts) and stored on
// the way. cat, get, ls and pin read through this when the network may be used.

import { BlockNotFoundError, CorruptBlockError } from '../util/errors.ts'
import { NoProvidersError, Swarm, type FetchProgress } from '../swarm/scheduler.ts'
import type { BlockReader, Blocks } from '../../storage/blocks.ts'
import type { CID } from 'multiformats/cid'
import type { CairnNode } from '../net/node.ts'
import type { SeedMonitor } from '../daemon/monitor.ts'

export { Swarm, NoProvidersError, FetchTimeoutError, PeerDialError, DagTooDeepError, type FetchProgress } from '../swarm/scheduler.ts'

/**
 * leaves a reader keeps in flight: the swarm already runs ahead on the
 * network, so the reader needs only enough to hide disk reads; each one is
 * a block held in memory
 */
const READ_AHEAD = 8

export class FetchingStore {
  readonly readAhead = READ_AHEAD

  constructor (private readonly blocks: Blocks, private readonly swarm: () => Promise<Swarm>) {}

  private active: Swarm | null = null
  private readonly prefetches: CID[] = []

  async getBytes (cid: CID, options?: { signal?: AbortSignal }): Promise<Uint8Array> {
    const fresh = this.active?.takeFresh(cid)
    if (fresh != null) return fresh
    // still on its way: wait for it, no need to look on disk
    if (this.active?.fetching(cid) === true) return await this.active.fetch(cid)
    let corrupt: CorruptBlockError | null = null
    try {
      // what the swarm just stored it hashed on arrival: reading it back needs no second hash
      return await this.blocks.getBytes(cid, { ...options, verified: this.active?.stored(cid) === true })
    } catch (err) {
      // a block corrupted on disk counts as missing: fetched again, and the good copy replaces it
      if (err instanceof CorruptBlockError) corrupt = err
      else if (!(err instanceof BlockNotFoundError)) throw err
    }
    try {
      return await (await this.open()).fetch(cid)
    } catch (err) {
      // nobody to fetch a good copy from: the corruption is the news
      if (corrupt != null && err instanceof NoProvidersError) throw corrupt
      throw err
    }
  }

  private async open (): Promise<Swarm> {
    if (this.active == null) {
      const swarm = await this.swarm()
      // the first missing block starts the swarm: it walks ahead of the reader from there
      if (this.active == null) {
        this.active = swarm
        for (const cid of this.prefetches.splice(0)) swarm.prefetch(cid)
      }
    }
    return this.active
  }

  async * get (cid: CID, options?: { signal?: AbortSignal }): AsyncGenerator<Uint8Array> {
    yield await this.getBytes(cid, options)
  }

  async has (cid: CID): Promise<boolean> { return await this.blocks.has(cid) }

  /**
   * The reader will read everything under `cid`: once a block is found
   * missing, everything missing under it is fetched ahead of the reader, from
   * every provider. Content wholly in the repo starts no network at all.
   */
  prefetch (cid: CID): void {
    if (this.active != null) this.active.prefetch(cid)
    else this.prefetches.push(cid)
  }
}

/** What a reader that may fetch needs from its host (the daemon's handlers, the gateway). */
export interface ReaderHost {
  blocks: Blocks
  /** the node to fetch through; started only when a block is missing */
  node: () => Promise<CairnNode>
  /** roots of fetches in progress: gc keeps what they have so far */
  fetching: Set<CID>
  /** runs before the first block is fetched (in process: takes the repo's writer lock) */
  beforeFetch?: () => Promise<void>
  /** the seed's monitor: a fetch shows in its transfers */
  monitor?: SeedMonitor
}

export interface ReaderOptions {
  /** the repo only: nothing is fetched */
  offline?: boolean
  /** --peer addresses to fetch from */
  peers?: string[]
  /** bound on the wait for providers and blocks */
  idleTimeoutMs: number
  signal?: AbortSignal
  onProgress?: (e: FetchProgress) => void
}

/**
 * What cat, get, ls, pin and the gateway read through: the repo, plus the
 * network for what it lacks unless `offline`. The swarm starts only when a
 * block is actually missing; `done` must be called once the reader is
 * finished with it (it closes the swarm and ends the transfer).
 */
export function openReader (h: ReaderHost, root: CID, o: ReaderOptions): { store: BlockReader, done: (ok: boolean) => void } {
  if (o.offline === true) return { store: h.blocks, done: () => {} }
  let fetcher: Promise<Swarm> | null = null
  let transfer: ReturnType<SeedMonitor['startTransfer']> | undefined
  h.fetching.add(root)
  const store = new FetchingStore(h.blocks, async () => {
    fetcher ??= (async () => {
      await h.beforeFetch?.()
      transfer = h.monitor?.startTransfer(root)
      return new Swarm(await h.node(), h.blocks, root, {
        peers: o.peers ?? [],
        idleTimeoutMs: o.idleTimeoutMs,
        signal: o.signal,
        onProgress: e => {
          if (e.type === 'fetch:block') transfer?.block(e.peer, e.bytes)
          o.onProgress?.(e)
        }
      })
    })()
    return await fetcher
  })
  return {
    store,
    done: (ok) => {
      h.fetching.delete(root)
      transfer?.end(ok)
      void fetcher?.then(f => { f.close() }, () => {})
    }
  }
}

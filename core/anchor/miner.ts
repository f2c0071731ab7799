// Mining on one node: worker threads hash templates of the chain's head (with
// the pending manifests, or empty: mining never waits for content), the
// winner's block goes to chain.submit like any other, and every worker drops
// its work within a couple of ms when the head moves (a shared generation
// word, read with Atomics). Hash rate from shared per-worker counters.

import { Worker } from 'node:worker_threads'
import { encodeHeader, nonceOffset } from './encoding.ts'
import { targetOf } from './target.ts'
import type { AnchorChain, SubmitResult } from './chain.ts'
import type { BlockMeta } from './validate.ts'
import type { MineFound, MineJob, MineWorkerData } from './mine-worker.ts'
import { toError } from '../util/errors.ts'
import { BoundedMap } from '../util/bounded-map.ts'

/** a fresh template (time, pending manifests) at least this often */
export const TEMPLATE_REFRESH_MS = 1000
/** new pending manifests wait at most this long to enter the template */
const PENDING_DEBOUNCE_MS = 100
/** hash rate is averaged over this many one-second samples */
const RATE_SAMPLES = 5
/** the most threads a miner will start */
export const MAX_MINER_THREADS = 64
/** blocks of ours remembered to tell stale from main-chain ones (far more than any reorg reaches) */
const MINED_REMEMBERED = 10_000

export interface MinerStats {
  mining: boolean
  threads: number
  /** hashes per second, averaged over the last few seconds */
  hashRate: number
  hashes: number
  blocksMined: number
  /**
   * mined blocks not on the main chain now: another block at their height
   * came first, or a heavier branch replaced them
   */
  staleBlocks: number
  lastBlock: { cid: string, height: number, manifests: number } | null
}

export interface MinerOptions {
  threads: number
  onBlock?: (r: SubmitResult, manifests: number) => void
  onError?: (err: Error) => void
}

export class Miner {
  private readonly control = new Int32Array(new SharedArrayBuffer(4))
  private readonly counts: Int32Array<SharedArrayBuffer>
  private workers: Worker[] = []
  private gen = 0
  private job: { body: Uint8Array, manifests: Uint8Array[] } | null = null
  private refresh: NodeJS.Timeout | null = null
  private sampler: NodeJS.Timeout | null = null
  private debounce: NodeJS.Timeout | null = null
  private readonly samples: number[] = []
  private readonly st: MinerStats
  /** a block of ours is being submitted: templates wait for the head it makes */
  private submitting = false
  /** our blocks (CID → on the main chain), oldest first */
  private readonly mined = new BoundedMap<string, boolean>(MINED_REMEMBERED)
  private readonly onHead = (): void => { this.newJob() }
  /** listened to while the miner exists, mining or not: a reorg can strand our blocks any time */
  private readonly onReorg = (h: { disconnected: BlockMeta[], connected: BlockMeta[] }): void => {
    for (const b of h.disconnected) this.markMain(b.key, false)
    for (const b of h.connected) this.markMain(b.key, true)
  }

  private readonly onPending = (): void => {
    this.debounce ??= setTimeout(() => { this.debounce = null; this.newJob() }, PENDING_DEBOUNCE_MS)
  }

  constructor (private readonly chain: AnchorChain, private readonly o: MinerOptions) {
    if (!(Number.isSafeInteger(o.threads) && o.threads >= 1 && o.threads <= MAX_MINER_THREADS)) throw new RangeError(`miner threads must be 1-${MAX_MINER_THREADS}`)
    this.counts = new Int32Array(new SharedArrayBuffer(4 * o.threads))
    this.st = { mining: false, threads: o.threads, hashRate: 0, hashes: 0, blocksMined: 0, staleBlocks: 0, lastBlock: null }
    chain.on('head', this.onReorg)
  }

  /** A block of ours joined or left the main chain. */
  private markMain (key: string, main: boolean): void {
    const was = this.mined.get(key)
    if (was == null || was === main) return
    this.mined.set(key, main)
    this.st.staleBlocks += main ? -1 : 1
  }

  get stats (): MinerStats { return { ...this.st } }

  /** Every hash tried so far, including those not yet sampled (the bench reads it). */
  hashesSoFar (): number {
    let n = this.st.hashes
    for (let i = 0; i < this.counts.length; i++) n += Atomics.load(this.counts, i)
    return n
  }

  /** Starts the workers; resolves once they are running. */
  async start (): Promise<void> {
    if (this.st.mining) return
    this.st.mining = true
    const url = new URL('./mine-worker.js', import.meta.url)
    this.workers = Array.from({ length: this.o.threads }, (_, index) => {
      const w = new Worker(url, { workerData: { ctl: this.control.buffer, counts: this.counts.buffer, index } satisfies MineWorkerData })
      w.on('message', (m: MineFound) => { void this.found(m) })
      w.on('error', err => { this.o.onError?.(err) })
      return w
    })
    await Promise.all(this.workers.map(async w => await new Promise<void>((resolve, reject) => { w.once('online', resolve); w.once('error', reject) })))
    this.chain.on('head', this.onHead)
    this.chain.on('pending', this.onPending)
    this.refresh = setInterval(() => { this.newJob() }, TEMPLATE_REFRESH_MS)
    this.sampler = setInterval(() => { this.sample() }, 1000)
    this.newJob()
  }

  private sample (): void {
    let n = 0
    for (let i = 0; i < this.counts.length; i++) n += Atomics.exchange(this.counts, i, 0)
    this.st.hashes += n
    this.samples.push(n)
    if (this.samples.length > RATE_SAMPLES) this.samples.shift()
    this.st.hashRate = Math.round(this.samples.reduce((a, b) => a + b, 0) / this.samples.length)
  }

  /** Moves every worker to a fresh template on the current head. */
  private newJob (): void {
    // while our block is submitted, a template would still build on the old
    // head: its block would be a second one at the same height, stale at
    // birth (seen: 'mined block 19' twice, 44 mined at height 34)
    if (!this.st.mining || this.submitting) return
    const gen = ++this.gen
    Atomics.store(this.control, 0, gen)
    const t = this.chain.template()
    const bytes = encodeHeader(t.header)
    const offset = nonceOffset(bytes, t.header)
    const target = targetOf(t.header.target).toString(16)
    this.job = { body: t.body, manifests: t.manifests.map(m => m.bytes) }
    for (const [i, w] of this.workers.entries()) {
      // distinct high nonce bytes per worker and per job: no two tries repeat
      const high = ((gen * this.workers.length + i) >>> 0)
      w.postMessage({ gen, bytes, offset, target, high } satisfies MineJob)
    }
  }

  private async found (m: MineFound): Promise<void> {
    if (m.gen !== this.gen || this.job == null) return // a result for a template already dropped
    const job = this.job
    // stop the other workers at once
    Atomics.store(this.control, 0, ++this.gen)
    this.submitting = true
    try {
      const r = await this.chain.submit(m.header, job.body, job.manifests)
      if (r.status === 'accepted') {
        this.st.blocksMined++
        this.st.lastBlock = { cid: r.cid.toString(), height: r.height, manifests: job.manifests.length }
        this.remember(r.cid.toString(), r.head)
      }
      this.o.onBlock?.(r, job.manifests.length)
    } catch (err) {
      this.o.onError?.(toError(err))
    } finally {
      this.submitting = false
    }
    // the next template builds on whatever the head is now
    this.newJob()
  }

  private remember (key: string, main: boolean): void {
    // the head event (connected) may have marked it already
    if (this.mined.has(key)) return
    this.mined.set(key, main)
    if (!main) this.st.staleBlocks++
  }

  /** Stops every worker and waits for them to exit. */
  async stop (): Promise<void> {
    if (!this.st.mining) return
    this.st.mining = false
    Atomics.store(this.control, 0, ++this.gen)
    this.chain.off('head', this.onHead)
    this.chain.off('pending', this.onPending)
    for (const t of [this.refresh, this.sampler, this.debounce]) if (t != null) clearTimeout(t)
    this.refresh = this.sampler = this.debounce = null
    await Promise.all(this.workers.map(async w => await w.terminate()))
    this.workers = []
    this.st.hashRate = 0
  }
}

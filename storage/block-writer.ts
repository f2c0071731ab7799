// Checks and writes fetched blocks on a thread of its own. A fetch is bound
// by its one JavaScript thread (decrypting, framing, scheduling, writing the
// output); hashing each block and creating its file took a third of that
// thread's time on a 512 MiB get (sha256 and open/write/rename of 512 new
// files), and the machine's other core had room for it (docs/bench.md). The
// block's memory is transferred to the thread and back, not copied, when
// the caller owns it alone.

import { Worker } from 'node:worker_threads'
import type { CID } from 'multiformats/cid'
import { RepoError, describeFsError } from './errors.ts'
import { hashName } from './block-io.ts'
import type { WriteJob, WriteResult } from './block-worker.ts'

export interface Checked {
  /** the bytes hash to the CID (and are now on disk) */
  match: boolean
  /** the block's bytes, back from the thread */
  bytes: Uint8Array
}

interface Pending { resolve: (r: Checked) => void, reject: (e: Error) => void, cid: CID }

export class BlockWriter {
  private worker: Worker | null = null
  private readonly pending = new Map<number, Pending>()
  private next = 0
  private failed: Error | null = null

  constructor (private readonly pathOf: (cid: CID) => string) {}

  /**
   * Hashes `bytes` against `cid` and, if they match, stores them. `owned`:
   * nothing else refers to `bytes` or shares its buffer, so it may move to
   * the thread (it comes back in the result); otherwise it is copied.
   */
  async write (cid: CID, bytes: Uint8Array, owned: boolean, hashed = false): Promise<Checked> {
    const hash = hashName(cid)
    if (this.failed != null) throw this.failed
    const worker = this.start()
    const id = this.next++
    const file = this.pathOf(cid)
    // the digest copied out: a CID decoded from its parent is a view into the parent's whole block, which would be cloned with it
    const job: WriteJob = { id, hash, digest: new Uint8Array(cid.multihash.digest), bytes, file, tmp: `${file}.${process.pid}-w${id}.tmp`, hashed }
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    let transfer: ArrayBuffer | null = owned && whole && bytes.buffer instanceof ArrayBuffer ? bytes.buffer : null
    if (!whole) {
      // postMessage clones a view's whole ArrayBuffer: the last block of a
      // streamed file, a view of 10 bytes into a 256 KiB read, cost 256 KiB.
      // Copied out exactly, the copy is ours to move
      const copy = new Uint8Array(bytes)
      job.bytes = copy
      transfer = copy.buffer
    }
    const result = new Promise<Checked>((resolve, reject) => { this.pending.set(id, { resolve, reject, cid }) })
    worker.postMessage(job, transfer != null ? [transfer] : [])
    this.worker?.ref()
    return await result
  }

  /** Starts the thread now (~50 ms here) rather than on the first block, which would wait for it. */
  warm (): void {
    if (this.failed == null) this.start()
  }

  private start (): Worker {
    if (this.worker != null) return this.worker
    // a small heap: the thread holds nothing but the block it is writing
    const w = new Worker(new URL('./block-worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 } })
    w.unref()
    w.on('message', (r: WriteResult) => {
      const p = this.pending.get(r.id)
      if (p == null) return
      this.pending.delete(r.id)
      if (this.pending.size === 0) w.unref() // an idle writer keeps no process alive
      const bytes = new Uint8Array(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength)
      if (r.ok) p.resolve({ match: true, bytes })
      else if (r.mismatch) p.resolve({ match: false, bytes })
      else p.reject(new RepoError(describeFsError(Object.assign(new Error(r.error), { code: r.code }), `cannot write block ${p.cid.toString()}`)))
    })
    const fail = (err: Error): void => {
      this.failed = new RepoError(`the block writer thread failed: ${err.message}`)
      for (const p of this.pending.values()) p.reject(this.failed)
      this.pending.clear()
      this.worker = null
    }
    w.on('error', fail)
    w.on('exit', code => { if (this.worker === w) fail(new Error(`it exited with code ${code}`)) })
    this.worker = w
    return w
  }

  /** Stops the thread (the repo is closing); blocks it was writing are left to the repo's temp-file sweep. */
  async close (): Promise<void> {
    const w = this.worker
    this.worker = null
    if (w != null) await w.terminate()
  }
}

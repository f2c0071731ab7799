// One mining thread: hashes a header template with nonces from its own range
// until it meets the target or the main thread moves on (a new generation in
// the shared control word: a better head, a fresher template, stop).

import { parentPort, workerData } from 'node:worker_threads'
import { HeaderHasher } from './hasher.ts'

/** tries between looks at the control word and updates of the shared counter: ~1-2 ms of hashing */
export const CHECK_EVERY = 2048

export interface MineJob {
  gen: number
  /** the header with a zero nonce */
  bytes: Uint8Array
  offset: number
  /** the expanded target, hex */
  target: string
  /** the nonce's high 4 bytes: this worker's range */
  high: number
}

export interface MineFound { gen: number, header: Uint8Array }

/** What miner.ts starts each worker with: the shared control word, the shared hash counters, and this worker's counter. */
export interface MineWorkerData { ctl: SharedArrayBuffer, counts: SharedArrayBuffer, index: number }

function workerInput (data: unknown): MineWorkerData {
  if (typeof data === 'object' && data != null && 'ctl' in data && data.ctl instanceof SharedArrayBuffer &&
    'counts' in data && data.counts instanceof SharedArrayBuffer && 'index' in data && typeof data.index === 'number') {
    return { ctl: data.ctl, counts: data.counts, index: data.index }
  }
  throw new Error('mine-worker: started without its shared buffers (it is run by core/anchor/miner.ts)')
}

const { ctl, counts, index } = workerInput(workerData)
const control = new Int32Array(ctl)
const counters = new Int32Array(counts)

function run (job: MineJob): void {
  const hasher = new HeaderHasher(job.bytes, job.offset, BigInt('0x' + job.target))
  hasher.setHigh(job.high)
  // the low 4 bytes count up; 2^32 tries outlast any template (it is refreshed every second)
  for (let base = 0; base < 2 ** 32; base += CHECK_EVERY) {
    if (Atomics.load(control, 0) !== job.gen) return
    for (let low = base; low < base + CHECK_EVERY; low++) {
      if (hasher.tryNonce(low)) {
        Atomics.add(counters, index, low - base + 1)
        parentPort?.postMessage({ gen: job.gen, header: hasher.header() } satisfies MineFound)
        return
      }
    }
    Atomics.add(counters, index, CHECK_EVERY)
  }
}

parentPort?.on('message', (job: MineJob) => { run(job) })

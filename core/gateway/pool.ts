// Block buffers reused within one request, so serving a held file does not
// leave a fresh 1 MiB buffer per block for the garbage collector (at disk
// speed the dead ones piled up to hundreds of MiB before V8 freed them:
// docs/bench.md). Only raw leaves go through it: a dag-pb node's links hold
// CIDs that are views of the block's bytes, so its buffer must never be
// reused. A buffer is free again once the socket has taken the chunk cut
// from it; with none free, a read takes a fresh buffer as before, so the
// pool never makes a reader wait.

import * as raw from 'multiformats/codecs/raw'
import { BlockNotFoundError, CorruptBlockError } from '../util/errors.ts'
import type { BlockReader, Blocks } from '../../storage/blocks.ts'

/** buffers one request keeps: the block the reader hands on, the one it reads ahead, the one the socket is still taking (a fourth, rarely needed, is a fresh buffer) */
export const POOL_BUFFERS = 3
/** each one's size: the default profile's largest leaf */
export const POOL_BUFFER_BYTES = 1024 * 1024

export class BlockPool {
  private readonly free: Uint8Array[] = []
  private readonly busy = new Map<ArrayBufferLike, Uint8Array>()
  private made = 0

  constructor (private readonly blocks: Blocks) {}

  private take (): Uint8Array | null {
    const b = this.free.pop() ?? (this.made < POOL_BUFFERS ? (this.made++, new Uint8Array(POOL_BUFFER_BYTES)) : null)
    if (b != null) this.busy.set(b.buffer, b)
    return b
  }

  private give (b: Uint8Array): void {
    if (this.busy.delete(b.buffer)) this.free.push(b)
  }

  /** The socket has taken `chunk`: the buffer it was cut from may be read into again. */
  written (chunk: Uint8Array): void {
    const b = this.busy.get(chunk.buffer)
    if (b != null) this.give(b)
  }

  /** `store` with raw leaves held in the repo read into the pool's buffers. */
  reader (store: BlockReader): BlockReader {
    const getBytes = async (cid: Parameters<BlockReader['getBytes']>[0], o?: { signal?: AbortSignal }): Promise<Uint8Array> => {
      if (cid.code !== raw.code) return await store.getBytes(cid, o)
      const buf = this.take()
      if (buf == null) return await store.getBytes(cid, o)
      try {
        const bytes = await this.blocks.readInto(cid, buf, o)
        if (bytes.buffer !== buf.buffer) this.give(buf)
        return bytes
      } catch (err) {
        this.give(buf)
        // not held, or bad on disk: the request's own reader fetches it (or says why not)
        if (err instanceof BlockNotFoundError || err instanceof CorruptBlockError) return await store.getBytes(cid, o)
        throw err
      }
    }
    return {
      getBytes,
      get: async function * (cid, o) { yield await getBytes(cid, o) },
      has: async (cid, o) => await store.has(cid, o),
      readAhead: store.readAhead,
      prefetch: store.prefetch?.bind(store)
    }
  }
}

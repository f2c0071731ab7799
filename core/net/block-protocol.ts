// /cairn/blocks/1.0.0: moving blocks between cairn peers. Bitswap stays for
// every IPFS peer; between cairn peers this is used instead because Helia's
// bitswap, asked for many 1 MiB blocks at once by one peer, was seen here to
// drop queued sends ("peer send queue is full") and leave wants unanswered
// until they timed out.
//
// One long-lived stream per peer, pipelined:
//   client → server   varint-length-prefixed CID bytes, one frame per block wanted
//   server → client   one frame per request, in request order:
//                     [0x00][block bytes] | [0x01] (don't have)
// The client bounds how many requests it has outstanding, so the server's
// writes and the client's read buffer stay bounded; the server reads each
// block from disk (verified) only when it is about to send it.

import * as lp from 'it-length-prefixed'
import { CID } from 'multiformats/cid'
import type { BlockReader } from '../../storage/blocks.ts'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

export const BLOCK_PROTOCOL = '/cairn/blocks/1.0.0'
/** a frame: at most a 1 MiB block, its status byte and room to spare */
export const MAX_FRAME = 2 * 1024 * 1024 + 64
/** a request frame is a CID: small */
const MAX_REQUEST = 256
const HAVE = 0
/** it-length-prefixed's errors for a length prefix beyond the limit or unreadable */
const FRAME_ERRORS = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidMessageLengthError'])
const DONT_HAVE = 1

/**
 * an answer the peer has not started reading by then ends the stream: a
 * client that asks and never reads would otherwise hold a block of our
 * memory per stream forever (honest clients read as fast as the link allows)
 */
export const SEND_STALL_TIMEOUT_MS = 30_000

export interface ServeStats { blocks: number, bytes: number }

/** The server side: answers every request on a stream in order. `onViolation` hears of a peer breaking the protocol. */
export async function serveBlocks (stream: Stream, store: BlockReader, stats: ServeStats, onServed?: (peer: string, bytes: number) => void, peer = '', onViolation?: (offence: 'bad-frame' | 'stalled-reader') => void): Promise<void> {
  try {
    for await (const frame of lp.decode(stream, { maxDataLength: MAX_REQUEST })) {
      let reply: Uint8Array
      try {
        const cid = CID.decode(frame.subarray())
        const bytes = await store.has(cid) ? await store.getBytes(cid) : null
        reply = bytes == null ? Uint8Array.of(DONT_HAVE) : Buffer.concat([Uint8Array.of(HAVE), bytes])
        if (bytes != null) {
          stats.blocks++
          stats.bytes += bytes.byteLength
          onServed?.(peer, bytes.byteLength)
        }
      } catch {
        // a bad CID, or a block that fails its hash on disk: never served
        reply = Uint8Array.of(DONT_HAVE)
      }
      if (!stream.send(lp.encode.single(reply))) {
        try {
          await stream.onDrain({ signal: AbortSignal.timeout(SEND_STALL_TIMEOUT_MS) })
        } catch (err) {
          if ((err as Error).name === 'TimeoutError') onViolation?.('stalled-reader')
          throw err
        }
      }
    }
    await stream.close()
  } catch (err) {
    if (FRAME_ERRORS.has((err as Error).name)) onViolation?.('bad-frame')
    stream.abort(err as Error)
  }
}

export class ChannelClosedError extends Error {}

/** The peer broke the protocol (a frame too long to be a block, an answer never asked for): reported to the peer guard. */
export class ProtocolViolationError extends ChannelClosedError {
  constructor (message: string, readonly offence: 'bad-frame' | 'unsolicited-answer') { super(message) }
}

interface Pending { cid: CID, resolve: (b: Uint8Array | null) => void, reject: (e: Error) => void }

/** The client side: one stream to one peer, requests answered in order. */
export class BlockChannel {
  private readonly pending: Pending[] = []
  private closed: Error | null = null

  private constructor (readonly peer: PeerId, private readonly stream: Stream) {
    void this.readLoop()
  }

  static async open (libp2p: Libp2p, peer: PeerId, signal: AbortSignal, window: number): Promise<BlockChannel> {
    const stream = await libp2p.dialProtocol(peer, BLOCK_PROTOCOL, { signal })
    // answers to every outstanding request may sit unread for a moment
    stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, window * MAX_FRAME)
    return new BlockChannel(peer, stream)
  }

  get outstanding (): number { return this.pending.length }
  get isClosed (): boolean { return this.closed != null }

  private async readLoop (): Promise<void> {
    try {
      for await (const frame of lp.decode(this.stream as AsyncIterable<Uint8Array | Uint8ArrayList>, { maxDataLength: MAX_FRAME })) {
        const p = this.pending.shift()
        if (p == null) throw new ProtocolViolationError(`${this.peer.toString()} sent an answer nobody asked for`, 'unsolicited-answer')
        const bytes = frame.subarray()
        if (bytes[0] === HAVE) {
          p.resolve(bytes.subarray(1)) // the caller checks it against the CID
        } else {
          p.resolve(null)
        }
      }
      this.fail(new ChannelClosedError(`${this.peer.toString()} closed the block stream`))
    } catch (err) {
      const e = err as Error
      this.fail(FRAME_ERRORS.has(e.name) ? new ProtocolViolationError(`${this.peer.toString()} sent a bad frame: ${e.message}`, 'bad-frame') : e)
    }
  }

  private fail (err: Error): void {
    this.closed ??= err
    for (const p of this.pending.splice(0)) p.reject(this.closed)
  }

  /** The block, or null when the peer does not have it (or sent wrong bytes). */
  async request (cid: CID): Promise<Uint8Array | null> {
    if (this.closed != null) throw this.closed
    const answer = new Promise<Uint8Array | null>((resolve, reject) => this.pending.push({ cid, resolve, reject }))
    // the channel may fail while we wait to send: that rejection is ours to
    // report below, not an unhandled one that ends the process
    answer.catch(() => {})
    if (!this.stream.send(lp.encode.single(cid.bytes))) await this.stream.onDrain()
    return await answer
  }

  close (err?: Error): void {
    this.fail(err ?? new ChannelClosedError('closed'))
    if (err != null) this.stream.abort(err)
    else void this.stream.close().catch(() => {})
  }
}

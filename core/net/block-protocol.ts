// /cairn/blocks/1.1.0: moving blocks between cairn peers. Bitswap stays for
// every IPFS peer; between cairn peers this is used instead because Helia's
// bitswap, asked for many 1 MiB blocks at once by one peer, was seen here to
// drop queued sends ("peer send queue is full") and leave wants unanswered
// until they timed out, and moved 17-32 MiB/s where this moves >100.
//
// One long-lived stream per peer, pipelined, varint-length-prefixed frames:
//   client → server   [0x00][CID bytes]  want
//                     [0x01][CID bytes]  cancel the oldest queued want of that CID
//   server → client   exactly one frame per want, in want order:
//                     [0x00][block bytes] | [0x01] don't have | [0x02] cancelled
// The client bounds how many wants it has outstanding (its window), so the
// server's queue and the client's read buffer stay bounded; the server reads
// each block from disk (verified) only shortly before sending it (the next
// READ_AHEAD while one is sent), so it holds at most three blocks per
// stream, and every block it holds counts against the node's memory budget
// (block-budget.ts): a read ahead happens only when there is room, the next
// block to send waits for room. A cancel that arrives before the server reached the want saves
// the block being sent twice (endgame).

import * as lp from 'it-length-prefixed'
import { CID } from 'multiformats/cid'
import type { RateLimiter } from '../util/rate.ts'
import { blockKey } from '../repo/dag.ts'
import { streamTo } from './nat.ts'
import { MAX_BLOCK_BYTES, type BlockReader } from '../../storage/blocks.ts'
import type { BlockBudget } from './block-budget.ts'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { isNamedError, toError } from '../util/errors.ts'

export const BLOCK_PROTOCOL = '/cairn/blocks/1.1.0'
/** a frame: at most a 2 MiB block (cairn's largest chunk is 1 MiB), its status byte and room to spare */
export const MAX_FRAME = 2 * 1024 * 1024 + 64
/** a request frame is an op byte and a CID: small */
const MAX_REQUEST = 256
/** wants one peer may have queued on a stream; a client's window is far smaller, so more is abuse */
export const MAX_QUEUED_WANTS = 512

/** it-length-prefixed's errors for a length prefix beyond the limit or unreadable */
const FRAME_ERRORS = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidMessageLengthError'])
/**
 * an answer the peer has not started reading by then ends the stream: a
 * client that asks and never reads would otherwise hold a block of our
 * memory per stream forever (honest clients read as fast as the link allows)
 */
export const SEND_STALL_TIMEOUT_MS = 30_000

const OP_WANT = 0
const OP_CANCEL = 1
const HAVE = 0
const DONT_HAVE = 1
const CANCELLED = 2

export interface ServeStats { blocks: number, bytes: number }

export interface ServeOptions {
  stats: ServeStats
  /** told of each block sent (dashboard and metrics); `block` is its multihash key (core/repo/dag.ts blockKey) */
  onServed?: (peer: string, block: string, bytes: number) => void
  peer?: string
  /** the seed's upload cap, shared by every stream */
  limiter?: RateLimiter
  /** hears of the peer breaking the protocol (reported to the peer guard) */
  onViolation?: (offence: 'bad-frame' | 'stalled-reader') => void
  /** the node's memory budget for blocks in flight, shared with every stream and bitswap */
  budget?: BlockBudget
}

/** The peer broke the protocol: a frame it may not send, or one too long to be a block. */
export class BlockProtocolError extends Error {}

interface Queued {
  key: string
  cid: CID | null
  cancelled: boolean
  /** the block being read from disk ahead of its turn (null: missing or bad) */
  read?: Promise<Uint8Array | null>
  /** bytes of the budget this want holds: the largest block until read, then the block's size */
  reserved: number
}

/**
 * wants whose blocks are read from disk while earlier answers are sent:
 * reading one block only after the last was handed to the stream left the
 * stream idle for each read's trips through the thread pool
 */
const READ_AHEAD = 2

const keyOf = (cidBytes: Uint8Array): string => Buffer.from(cidBytes).toString('base64')

/** The server side: answers every want on a stream, in order. */
export async function serveBlocks (stream: Stream, store: BlockReader, o: ServeOptions): Promise<void> {
  const queue: Queued[] = []
  let wake: (() => void) | null = null
  let ended = false
  let failure: Error | null = null
  const poke = (): void => { const w = wake; wake = null; w?.() }

  const budget = o.budget
  /** a want needs no block read: nothing to reserve */
  const noRead = (q: Queued): boolean => q.cid == null || q.cancelled
  const readAhead = async (q: Queued): Promise<Uint8Array | null> => {
    // missing, or failing its hash on disk: never served
    q.read ??= q.cid == null || q.cancelled // noRead(q), spelt out so q.cid narrows
      ? Promise.resolve(null)
      : store.getBytes(q.cid).catch(() => null).then(bytes => {
        // the block's real size is known now: give back the rest of the reservation
        const keep = Math.min(q.reserved, bytes?.byteLength ?? 0)
        budget?.release(q.reserved - keep)
        q.reserved = keep
        return bytes
      })
    return await q.read
  }
  /** this want's part of the budget back, once its read (if any) has settled */
  const drop = (q: Queued): void => {
    if (budget == null) return
    void (q.read ?? Promise.resolve(null)).finally(() => { budget.release(q.reserved); q.reserved = 0 })
  }
  /** ends a wait for room when the stream fails */
  const gone = new AbortController()

  // read wants (and cancels) as they come, so a cancel can overtake its want
  const reading = (async () => {
    try {
      for await (const frame of lp.decode(stream, { maxDataLength: MAX_REQUEST })) {
        const b = frame.subarray()
        const key = keyOf(b.subarray(1))
        if (b[0] === OP_WANT) {
          if (queue.length >= MAX_QUEUED_WANTS) throw new BlockProtocolError(`more than ${MAX_QUEUED_WANTS} wants queued`)
          let cid: CID | null = null
          try { cid = CID.decode(b.subarray(1)) } catch { /* answered "don't have" */ }
          queue.push({ key, cid, cancelled: false, reserved: 0 })
        } else if (b[0] === OP_CANCEL) {
          const q = queue.find(x => x.key === key && !x.cancelled)
          if (q != null) q.cancelled = true
        } else {
          throw new BlockProtocolError(`unknown frame type ${b[0]}`)
        }
        poke()
      }
    } catch (err) {
      failure = toError(err)
      gone.abort(err)
    } finally {
      ended = true
      poke()
    }
  })()

  let current: Queued | null = null
  try {
    while (true) {
      if (failure != null) throw failure
      const q = queue.shift()
      if (q == null) {
        if (ended) break
        await new Promise<void>(resolve => { wake = resolve })
        continue
      }
      current = q
      // this block waits for room in the budget; the stream holds none then
      // (read-aheads below reserve in queue order, so when this one had no
      // room, none after it has any): no wait while holding, no deadlock
      if (budget != null && q.read == null && !noRead(q)) {
        await budget.acquire(MAX_BLOCK_BYTES, gone.signal)
        q.reserved = MAX_BLOCK_BYTES
      }
      // the next blocks start from disk while this one is sent, room permitting
      for (let i = 0; i < READ_AHEAD && i < queue.length; i++) {
        const next = queue[i]
        if (next.read != null) continue
        if (budget != null && !noRead(next)) {
          if (!budget.tryAcquire(MAX_BLOCK_BYTES)) break
          next.reserved = MAX_BLOCK_BYTES
        }
        void readAhead(next)
      }
      let reply: Uint8Array | Uint8ArrayList
      if (q.cancelled) {
        reply = Uint8Array.of(CANCELLED)
      } else {
        const bytes = await readAhead(q)
        if (bytes == null) {
          reply = Uint8Array.of(DONT_HAVE)
        } else {
          await o.limiter?.take(bytes.byteLength)
          // the status byte and the block as two parts: no copy of the block
          reply = new Uint8ArrayList(Uint8Array.of(HAVE), bytes)
          o.stats.blocks++
          o.stats.bytes += bytes.byteLength
          if (o.onServed != null && q.cid != null) o.onServed(o.peer ?? '', blockKey(q.cid), bytes.byteLength)
        }
      }
      if (!stream.send(lp.encode.single(reply))) {
        try {
          await stream.onDrain({ signal: AbortSignal.timeout(SEND_STALL_TIMEOUT_MS) })
        } catch (err) {
          if (isNamedError(err, 'TimeoutError')) o.onViolation?.('stalled-reader')
          throw err
        }
      }
      // handed to the connection: its memory is the muxer's now
      drop(q)
      current = null
    }
    await reading
    await stream.close()
  } catch (err) {
    const e = toError(err)
    if (e instanceof BlockProtocolError || FRAME_ERRORS.has(e.name)) o.onViolation?.('bad-frame')
    stream.abort(e)
  } finally {
    if (current != null) drop(current)
    for (const q of queue.splice(0)) drop(q)
  }
}

export class ChannelClosedError extends Error {}

/** The serving peer broke the protocol (a frame too long to be a block, an answer never asked for): reported to the peer guard. */
export class ProtocolViolationError extends ChannelClosedError {
  constructor (message: string, readonly offence: 'bad-frame' | 'unsolicited-answer') { super(message) }
}

/**
 * One open block stream per peer, kept between fetches: a daemon's second
 * `cat` from the same provider skips opening a stream (a round trip and a
 * protocol negotiation) before its first want. Closed streams are dropped.
 */
export class ChannelPool {
  private readonly open = new Map<string, Promise<BlockChannel>>()

  constructor (private readonly libp2p: Libp2p) {}

  async get (peer: PeerId, signal: AbortSignal, window: number): Promise<BlockChannel> {
    const key = peer.toString()
    const existing = this.open.get(key)
    if (existing != null) {
      const c = await existing.catch(() => null)
      if (c != null && !c.isClosed) return c
      if (this.open.get(key) === existing) this.open.delete(key)
    }
    const opening = BlockChannel.open(this.libp2p, peer, signal, window)
    this.open.set(key, opening)
    opening.catch(() => { if (this.open.get(key) === opening) this.open.delete(key) })
    return await opening
  }

  /** Closes every stream (the node is stopping). */
  closeAll (): void {
    for (const c of this.open.values()) void c.then(ch => { ch.close() }, () => {})
    this.open.clear()
  }
}

export type Answer =
  | { status: 'have', bytes: Uint8Array }
  | { status: 'dont-have' }
  | { status: 'cancelled' }

interface Pending { key: string, resolve: (a: Answer) => void, reject: (e: Error) => void }

/** The client side: one stream to one peer, wants answered in order. */
export class BlockChannel {
  private readonly pending: Pending[] = []
  private closed: Error | null = null

  private constructor (readonly peer: PeerId, private readonly stream: Stream) {
    void this.readLoop()
  }

  /** `window`: the most wants this channel will ever have outstanding. */
  static async open (libp2p: Libp2p, peer: PeerId, signal: AbortSignal, window: number): Promise<BlockChannel> {
    // on a connection we have, relayed ones too: a peer behind a NAT may be reachable no other way
    const stream = await streamTo(libp2p, peer, BLOCK_PROTOCOL, signal)
    // answers to every outstanding request may sit unread for a moment
    stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, window * MAX_FRAME)
    return new BlockChannel(peer, stream)
  }

  get outstanding (): number { return this.pending.length }
  get isClosed (): boolean { return this.closed != null }

  private async readLoop (): Promise<void> {
    try {
      for await (const frame of lp.decode(this.stream, { maxDataLength: MAX_FRAME })) {
        const p = this.pending.shift()
        if (p == null) throw new ProtocolViolationError(`${this.peer.toString()} sent an answer nobody asked for`, 'unsolicited-answer')
        const type = frame.byteLength > 0 ? frame.get(0) : -1
        // the block alone, so a block spread over several messages is joined into memory of its own
        if (type === HAVE) p.resolve({ status: 'have', bytes: frame.subarray(1) }) // the caller checks it against the CID
        else if (type === DONT_HAVE && frame.byteLength === 1) p.resolve({ status: 'dont-have' })
        else if (type === CANCELLED && frame.byteLength === 1) p.resolve({ status: 'cancelled' })
        else throw new ProtocolViolationError(`${this.peer.toString()} sent a malformed answer (type ${type}, ${frame.byteLength} bytes)`, 'bad-frame')
      }
      this.fail(new ChannelClosedError(`${this.peer.toString()} closed the block stream`))
    } catch (err) {
      const e = toError(err)
      this.fail(FRAME_ERRORS.has(e.name) ? new ProtocolViolationError(`${this.peer.toString()} sent a bad frame: ${e.message}`, 'bad-frame') : e)
    }
  }

  private fail (err: Error): void {
    this.closed ??= err
    for (const p of this.pending.splice(0)) p.reject(this.closed)
  }

  private write (op: number, cid: CID): void | Promise<void> {
    const frame = new Uint8Array(1 + cid.bytes.byteLength)
    frame[0] = op
    frame.set(cid.bytes, 1)
    if (!this.stream.send(lp.encode.single(frame))) return this.stream.onDrain()
  }

  /** Asks for a block; the answer comes in want order. */
  async request (cid: CID): Promise<Answer> {
    if (this.closed != null) throw this.closed
    const answer = new Promise<Answer>((resolve, reject) => this.pending.push({ key: keyOf(cid.bytes), resolve, reject }))
    // the channel may fail while we wait to send: that rejection is ours to
    // report below, not an unhandled one that ends the process
    answer.catch(() => {})
    await this.write(OP_WANT, cid)
    return await answer
  }

  /** Tells the peer a want is no longer needed; it answers "cancelled" if it had not sent the block yet. */
  cancel (cid: CID): void {
    if (this.closed != null) return
    void Promise.resolve(this.write(OP_CANCEL, cid)).catch(() => {})
  }

  close (err?: Error): void {
    this.fail(err ?? new ChannelClosedError('closed'))
    if (err != null) this.stream.abort(err)
    else void this.stream.close().catch(() => {})
  }
}

// Headers-first sync, the client side: ask a peer for its status; if it
// claims more work than our head, fetch the headers we lack in batches from
// our locator, judge every header (its own rules, chaining, the parent's
// rules) before asking for any body, then fetch bodies and manifests by CID
// and submit them to the chain in order. A peer that breaks a rule, sends
// more than asked, or garbage is a SyncViolation: the caller reports it to
// the peer guard and keeps its head (nothing of the bad batch is submitted
// past the first bad block). core/anchor/sync-protocol.ts has the messages.

import * as lp from 'it-length-prefixed'
import { cborCid } from './encoding.ts'
import { AnchorRuleError } from './rules.ts'
import { checkContext, checkHeader, metaOf, type BlockMeta, type CheckedHeader } from './validate.ts'
import {
  decodeReply, encodeMessage, FRAME_ERRORS, MAX_BODIES_PER_REQUEST, MAX_HEADERS_PER_REPLY, MAX_LOCATOR, MAX_REPLY_FRAME,
  MAX_REQUESTS_PER_STREAM, REPLY_TIMEOUT_MS, SyncFrameError, syncProtocol, type SyncOp, type SyncReply, type SyncRequest
} from './sync-protocol.ts'
import { streamTo } from '../net/nat.ts'
import type { AnchorChain } from './chain.ts'
import type { CID } from 'multiformats/cid'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { toError } from '../util/errors.ts'

/** header batches in one sync, at most (2000 each: 20 million blocks) */
export const MAX_SYNC_ROUNDS = 10_000
/**
 * judged headers held while their branch does not outweigh our head yet
 * (~0.5 KiB each with their meta: ≤ 25 MiB); a heavier branch forking
 * further back than this is not taken from this peer
 */
export const MAX_HEADERS_AHEAD = 50_000

/** What a peer did wrong; `offence` goes to the peer guard. */
export class SyncViolation extends Error {
  constructor (message: string, readonly offence: 'sync-invalid' | 'sync-bad-reply') { super(message) }
}

/** The peer went away or stalled: not proof of anything, the sync just ends. */
export class SyncAborted extends Error {}

/** One peer as the sync sees it: a request, its checked reply. */
export interface SyncPeer {
  readonly id: string
  request: <K extends SyncOp>(req: SyncRequest<K>) => Promise<SyncReply<K>>
  close: () => void
}

export interface SyncResult {
  /** not-better: the peer had no more work than us; synced: we took its chain (or caught up to it); held: its next block is from the future */
  status: 'not-better' | 'synced' | 'held'
  /** blocks accepted from the peer */
  blocks: number
  /** header batches fetched */
  rounds: number
}

const invalid = (err: AnchorRuleError, what: string): SyncViolation => new SyncViolation(`${what}: ${err.message}`, 'sync-invalid')

interface Judged { bytes: Uint8Array, c: CheckedHeader, meta: BlockMeta, known: boolean }

/**
 * Judges one headers batch before any body is fetched: each header's own
 * rules and proof of work, that the first one builds on a block we have and
 * each next one on the one before, and the rules that need the parent
 * (height, target, time). Stops before a header from the future (held).
 * `after`: the last header of the batch before, which the first may build on.
 */
export function judgeHeaders (chain: AnchorChain, headers: Uint8Array[], now: number, after: BlockMeta | null = null, locator: CID[] = []): { judged: Judged[], held: boolean } {
  const judged: Judged[] = []
  let parent: BlockMeta | undefined
  for (const bytes of headers) {
    let c: CheckedHeader
    try {
      c = checkHeader(bytes, chain.net)
    } catch (err) {
      if (err instanceof AnchorRuleError) throw invalid(err, `header ${judged.length}`)
      throw err
    }
    if (parent == null) {
      // the last header of the batch before (judged, its body maybe not fetched yet), or a block we have
      parent = after != null && after.cid.equals(c.header.prev) ? after : chain.block(c.header.prev)
      // a block of our locator that we no longer keep: the peer's branch leaves ours below the window
      if (parent == null && locator.some(l => l.equals(c.header.prev))) throw new SyncAborted('the peer\'s branch leaves ours below the last blocks a reorganisation may replace')
      if (parent == null) throw new SyncViolation(`the first header builds on ${c.header.prev.toString()}, which is neither in our locator nor below it`, 'sync-bad-reply')
      // an honest peer on a branch that left ours below the window: we do not reorganise that deep
      if (parent.height < chain.floor) throw new SyncAborted(`the peer's branch leaves ours at height ${parent.height}, below the last blocks a reorganisation may replace`)
    } else if (!c.header.prev.equals(parent.cid)) {
      throw new SyncViolation(`header ${judged.length} does not build on the header before it`, 'sync-bad-reply')
    }
    const have = chain.block(c.cid)
    if (have == null) {
      try {
        if (!checkContext(c.header, parent, chain.net, now).ok) return { judged, held: true }
      } catch (err) {
        if (err instanceof AnchorRuleError) throw invalid(err, `header ${judged.length} (height ${c.header.height})`)
        throw err
      }
    }
    const meta = have ?? metaOf(c, parent)
    judged.push({ bytes, c, meta, known: have != null })
    parent = meta
  }
  return { judged, held: false }
}

/**
 * Fetches and submits the bodies of judged headers we lack, in order. The
 * next request goes out as soon as a reply is in, before that reply's blocks
 * are judged and stored, so the peer reads and sends while we write (one
 * request in flight at a time).
 * Returns blocks accepted and whether one was held.
 */
async function fetchBodies (chain: AnchorChain, peer: SyncPeer, todo: Judged[]): Promise<{ accepted: number, held: boolean }> {
  let accepted = 0
  let at = 0
  const ask = (from: number): { from: number, reply: Promise<SyncReply<'bodies'>> } => {
    const reply = peer.request({ op: 'bodies', blocks: todo.slice(from, from + MAX_BODIES_PER_REQUEST).map(j => j.c.cid) })
    // if we stop before reading it (a bad block), its failure is nobody's to handle
    reply.catch(() => {})
    return { from, reply }
  }
  let inflight = todo.length > 0 ? ask(0) : null
  while (inflight != null) {
    const r = await inflight.reply
    const from = inflight.from
    at = from + r.blocks.length
    inflight = at < todo.length ? ask(at) : null
    const batch = []
    for (let i = 0; i < r.blocks.length; i++) {
      const j = todo[from + i]
      const b = r.blocks[i]
      if (b == null) throw new SyncAborted(`${peer.id} does not have block ${j.c.cid.toString()} it sent the header of`)
      if (!cborCid(b.body).equals(j.c.header.body)) throw new SyncViolation(`block ${j.c.cid.toString()}: BodyMismatch: the body sent is not the header's`, 'sync-invalid')
      batch.push({ header: j.bytes, body: b.body, manifests: b.manifests })
    }
    // in order; the chain stops at the first block it does not take
    const results = await chain.submitBatch(batch)
    for (const [i, s] of results.entries()) {
      const j = todo[from + i]
      if (s.status === 'invalid') throw new SyncViolation(`block ${j.c.cid.toString()} at height ${j.c.header.height}: ${s.rule}: ${s.message}`, 'sync-invalid')
      if (s.status === 'held') return { accepted, held: true }
      if (s.status === 'orphan') throw new SyncAborted(`block ${j.c.cid.toString()} lost its parent while syncing`)
      if (s.status === 'stale') throw new SyncAborted(`block ${j.c.cid.toString()} builds below the window while syncing`)
      if (s.status === 'accepted') accepted++
    }
  }
  return { accepted, held: false }
}

/**
 * Catches our chain up with `peer`'s, if it has more work. Bodies are asked
 * for only once the headers judged so far outweigh our head, so a peer
 * cannot make us store a branch lighter than ours, however long. Throws
 * SyncViolation when the peer lies.
 */
export async function syncFrom (chain: AnchorChain, peer: SyncPeer, o: { now?: () => number, signal?: AbortSignal } = {}): Promise<SyncResult> {
  const now = o.now ?? Date.now
  const status = await peer.request({ op: 'status' })
  const claimed = BigInt(status.work)
  if (claimed <= chain.head.work) return { status: 'not-better', blocks: 0, rounds: 0 }
  let tip: BlockMeta | null = null
  /** judged headers whose bodies we have not asked for yet */
  let ahead: Judged[] = []
  let blocks = 0
  let rounds = 0
  let done = false
  let held = false
  while (!done && rounds < MAX_SYNC_ROUNDS) {
    o.signal?.throwIfAborted()
    // from the last header the peer gave us (on a branch that may not outweigh our head yet), then our own main chain
    const locator = (tip != null ? [tip.cid, ...chain.locator()] : chain.locator()).slice(0, MAX_LOCATOR)
    const r = await peer.request({ op: 'headers', locator, max: MAX_HEADERS_PER_REPLY })
    rounds++
    if (r.headers.length === 0) break
    const j = judgeHeaders(chain, r.headers, now(), ahead.length > 0 ? tip : null, locator)
    const last = j.judged[j.judged.length - 1]
    if (last != null) {
      // an honest peer answers after `tip`; otherwise it reorganised meanwhile (or loops): this sync ends
      if (tip != null && last.meta.height <= tip.height) throw new SyncAborted(`${peer.id} sent a headers batch that makes no progress`)
      if (ahead.length > 0 && j.judged[0].meta.parent !== tip) throw new SyncAborted(`${peer.id} changed branch during the sync`)
      tip = last.meta
    }
    ahead.push(...j.judged.filter(x => !x.known))
    if (ahead.length > MAX_HEADERS_AHEAD) throw new SyncAborted(`${peer.id}'s branch does not outweigh ours within ${MAX_HEADERS_AHEAD} headers`)
    held = j.held
    done = held || r.headers.length < MAX_HEADERS_PER_REPLY
    if (tip != null && tip.work > chain.head.work && ahead.length > 0) {
      const f = await fetchBodies(chain, peer, ahead)
      ahead = []
      blocks += f.accepted
      if (f.held) return { status: 'held', blocks, rounds }
    }
  }
  if (held) return { status: 'held', blocks, rounds }
  // a peer's head only ever gains work: ending below what it claimed is a lie
  const reached = tip ?? chain.head
  if (reached.work < claimed) throw new SyncViolation(`claimed work ${claimed} but its headers reach ${reached.work}`, 'sync-bad-reply')
  return { status: 'synced', blocks, rounds }
}

/** A SyncPeer over libp2p streams: one request at a time, a new stream after MAX_REQUESTS_PER_STREAM. */
export class StreamPeer implements SyncPeer {
  /** the stream requests go out on, and the reply frames read from it */
  private current: { stream: Stream, frames: AsyncIterator<Uint8ArrayList> } | null = null
  private used = 0
  readonly id: string

  constructor (private readonly libp2p: Libp2p, private readonly peer: PeerId, private readonly protocol: string, private readonly signal: AbortSignal) {
    this.id = peer.toString()
  }

  static forChain (libp2p: Libp2p, peer: PeerId, chain: AnchorChain, signal: AbortSignal): StreamPeer {
    return new StreamPeer(libp2p, peer, syncProtocol(chain.net), signal)
  }

  private async open (): Promise<{ stream: Stream, frames: AsyncIterator<Uint8ArrayList> }> {
    this.close()
    const stream = await streamTo(this.libp2p, this.peer, this.protocol, this.signal)
    // one reply at a time, the largest a full frame
    stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, 2 * MAX_REPLY_FRAME)
    this.current = { stream, frames: lp.decode(stream, { maxDataLength: MAX_REPLY_FRAME })[Symbol.asyncIterator]() }
    this.used = 0
    return this.current
  }

  async request<K extends SyncOp> (req: SyncRequest<K>): Promise<SyncReply<K>> {
    const { stream, frames } = this.current != null && this.used < MAX_REQUESTS_PER_STREAM ? this.current : await this.open()
    this.used++
    if (!stream.send(lp.encode.single(encodeMessage(req)))) await stream.onDrain({ signal: AbortSignal.timeout(REPLY_TIMEOUT_MS) })
    let timer: NodeJS.Timeout | null = null
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new SyncAborted(`${this.id} sent no reply within ${REPLY_TIMEOUT_MS} ms`)) }, REPLY_TIMEOUT_MS)
    })
    try {
      const next = await Promise.race([frames.next(), timeout])
      if (next.done === true) throw new SyncAborted(`${this.id} closed the sync stream`)
      return decodeReply(next.value.subarray(), req)
    } catch (err) {
      const e = toError(err)
      this.close(e)
      if (e instanceof SyncFrameError || FRAME_ERRORS.has(e.name)) throw new SyncViolation(`${this.id}: ${e.message}`, 'sync-bad-reply')
      throw err
    } finally {
      if (timer != null) clearTimeout(timer)
    }
  }

  close (err?: Error): void {
    const s = this.current?.stream
    this.current = null
    if (s == null) return
    if (err != null) s.abort(err)
    else void s.close().catch(() => {})
  }
}

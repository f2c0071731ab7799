// What the sweep provider says on the wire, through kad-dht's own pieces:
// its closest-peers lookup (getClosestPeers, FINAL_PEER events), its DHT
// protocol and its ADD_PROVIDER message codec, and its key hashing (SHA-256
// of the multihash). kad-dht's provide() sends one ADD_PROVIDER per stream
// after a lookup per CID; here one stream per peer carries the ADD_PROVIDER
// of every CID of a region (kad-dht's handler reads messages off a stream
// until it ends). The records of a chunk name this node, so they are the
// same for every peer: encoded once per chunk, WRITE_BATCH records to a
// buffer, and the same buffers written to every peer's stream (encoded per
// peer, a 100,000-CID round made 1.9 million messages of throwaway objects
// on the seed). Every failure is classified: timeout, no peers, refused.

import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { byteStream, type ByteStream } from '@libp2p/utils'
import { dhtProtocol, kadMessage, routingTableSize, tableClosest } from './kad-internals.ts'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import { varint } from 'multiformats'
import type { CID } from 'multiformats/cid'
import { errorMessage, toError } from '../util/errors.ts'

export type FailureReason = 'timeout' | 'no-peers' | 'refused' | 'error'

/** why a provide failed, in words a user reads */
export const REASON_TEXT: Record<FailureReason, string> = {
  timeout: 'timed out',
  'no-peers': 'no peers found',
  refused: 'refused by the peer',
  error: 'failed'
}

/** A failure with its reason; `message` says what the underlying error said. */
export class ProvideFailure extends Error {
  override name = 'ProvideFailure'
  constructor (readonly reason: FailureReason, message: string) { super(message) }
}

/** one lookup's time limit */
export const LOOKUP_TIMEOUT_MS = 30_000
/**
 * a send fails when opening the stream, or any WRITE_BATCH of records,
 * takes longer than this: an idle limit, not one on the whole send (kad-dht
 * stores each record and merges our addresses into its peer store before
 * it reads the next, so a slow or busy peer drains a chunk slowly)
 */
export const SEND_IDLE_MS = 30_000
/** a failed send is tried once more on a new stream after this */
const RETRY_AFTER_MS = 1_000
/** records written before a PING (whose answer says they are stored): bounds what one send leaves a peer to store */
const WRITE_BATCH = 256

/** Messages, each after its length as an unsigned varint (what kad-dht's stream reader takes), in one buffer. */
export function lengthPrefixed (messages: readonly Uint8Array[]): Uint8Array {
  let size = 0
  for (const m of messages) size += varint.encodingLength(m.length) + m.length
  const out = new Uint8Array(size)
  let at = 0
  for (const m of messages) {
    varint.encodeTo(m.length, out, at)
    at += varint.encodingLength(m.length)
    out.set(m, at)
    at += m.length
  }
  return out
}

/** the longest answer to a PING we read (kad-dht echoes our few bytes) */
const MAX_ANSWER_BYTES = 64 * 1024

/** Reads one length-prefixed message off a stream and drops it (the answer to a PING). */
async function readMessage (bytes: ByteStream<Stream>, signal: AbortSignal): Promise<void> {
  let length = 0
  for (let shift = 1; ; shift *= 128) {
    const b = (await bytes.read({ bytes: 1, signal })).get(0)
    length += (b & 127) * shift
    if (b < 128) break
    if (shift > 2 ** 21) throw new ProvideFailure('error', 'the peer answered with a malformed length')
  }
  if (length > MAX_ANSWER_BYTES) throw new ProvideFailure('error', `the peer answered a PING with ${length} bytes`)
  if (length > 0) await bytes.read({ bytes: length, signal })
}

/** kad-dht's DHT key of a CID: SHA-256 of its multihash (kad-dht's convertBuffer, synchronously). */
export function dhtKey (cid: CID): Uint8Array {
  return new Uint8Array(createHash('sha256').update(cid.multihash.bytes).digest())
}

/** kad-dht's DHT key of a peer: SHA-256 of its multihash (convertPeerId). */
export function peerKey (peer: PeerId): Uint8Array {
  return new Uint8Array(createHash('sha256').update(peer.toMultihash().bytes).digest())
}

/** What an error means for a provide (errors are told apart by name, as libp2p names them). */
export function classify (err: unknown): FailureReason {
  if (err instanceof ProvideFailure) return err.reason
  const name = err instanceof Error ? err.name : ''
  const code = typeof err === 'object' && err != null && 'code' in err && typeof err.code === 'string' ? err.code : ''
  if (name === 'AbortError' || name === 'TimeoutError' || /timed? ?out/i.test(err instanceof Error ? err.message : '')) return 'timeout'
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE') return 'refused'
  if (/^(DialError|UnsupportedProtocolError|StreamResetError|StreamAbortedError|StreamStateError|ConnectionClosedError|ConnectionClosingError|ConnectionFailedError|MuxerClosedError|TooManyOutboundProtocolStreamsError|TooManyInboundProtocolStreamsError|LimitedConnectionError|UnexpectedPeerError|UnexpectedEOFError|ProtocolError|EncryptionFailedError|InvalidCryptoExchangeError|NotFoundError|NoValidAddressesError)$/.test(name)) return 'refused'
  return 'error'
}

/** the error an idle send ends with (classified as a timeout) */
class TimeoutErrorLike extends Error { override name = 'TimeoutError' }

/** kad-dht's replication factor (its bucket size) */
const REPLICATION = 20

export class SweepWire {
  constructor (private readonly libp2p: Libp2p, private readonly dht: KadDHT) {}

  /** kad-dht's closest peers to a CID's key (one lookup). */
  async lookup (cid: CID, signal?: AbortSignal): Promise<PeerId[]> {
    // kad-dht waits for a first peer before it queries: with nobody
    // connected that wait is the whole time limit, for a known answer
    if (routingTableSize(this.dht) === 0 && this.libp2p.getConnections().length === 0) {
      throw new ProvideFailure('no-peers', 'no peers: connected to nobody and the DHT routing table is empty')
    }
    const peers: PeerId[] = []
    const s = signal == null ? AbortSignal.timeout(LOOKUP_TIMEOUT_MS) : AbortSignal.any([signal, AbortSignal.timeout(LOOKUP_TIMEOUT_MS)])
    let lastError: unknown
    try {
      for await (const ev of this.dht.getClosestPeers(cid.multihash.bytes, { signal: s })) {
        if (ev.name === 'FINAL_PEER') peers.push(ev.peer.id)
        else if (ev.name === 'QUERY_ERROR') lastError = ev.error
      }
    } catch (err) {
      if (peers.length === 0 && tableClosest(this.dht, dhtKey(cid), 1).length === 0) throw new ProvideFailure(classify(err), `lookup failed: ${errorMessage(err)}`)
    }
    // kad-dht's lookup yields only the peers that answered it in time: on a
    // busy host a 20-node swarm's lookup came back with 5. The closest
    // peers of the routing table (alive when they were last seen) fill the
    // set up to K, nearest first
    if (peers.length < REPLICATION) {
      const have = new Set(peers.map(p => p.toString()))
      for (const p of tableClosest(this.dht, dhtKey(cid), REPLICATION)) {
        if (peers.length >= REPLICATION) break
        if (!have.has(p.toString()) && !p.equals(this.libp2p.peerId)) peers.push(p)
      }
    }
    if (peers.length === 0) {
      throw new ProvideFailure('no-peers', `the lookup found no peers${lastError != null ? ` (last error: ${errorMessage(lastError)})` : ''}`)
    }
    return peers
  }

  /** open streams to peers, kept across a region's chunks (a new stream waits for a busy peer's negotiation) */
  private readonly sessions = new Map<string, { stream: Stream, bytes: ByteStream<Stream> }>()
  /** a chunk's records, encoded once for all its peers (the sweeper hands each peer the same chunk array) */
  private readonly encoded = new WeakMap<readonly CID[], Promise<Uint8Array[]>>()

  /** The ADD_PROVIDER records of `cids`, length-prefixed, WRITE_BATCH to a buffer and a PING after each: what every peer's stream is sent. */
  async records (cids: readonly CID[]): Promise<Uint8Array[]> {
    let out = this.encoded.get(cids)
    if (out == null) {
      out = this.encode(cids)
      this.encoded.set(cids, out)
      // a failed encoding is not kept: the retry encodes again
      out.catch(() => { this.encoded.delete(cids) })
    }
    return await out
  }

  private async encode (cids: readonly CID[]): Promise<Uint8Array[]> {
    const message = await kadMessage()
    const addrs = this.libp2p.getMultiaddrs().map(a => a.bytes)
    if (addrs.length === 0) throw new ProvideFailure('error', 'this node has no address to announce')
    const self = this.libp2p.peerId.toMultihash().bytes
    const ping = message.encode({ type: message.ping, key: new Uint8Array(0), closer: [], providers: [] })
    const out: Uint8Array[] = []
    for (let i = 0; i < cids.length; i += WRITE_BATCH) {
      out.push(lengthPrefixed([...cids.slice(i, i + WRITE_BATCH).map(cid => message.encode({
        type: message.addProvider,
        key: cid.multihash.bytes,
        closer: [],
        providers: [{ id: self, multiaddrs: addrs }]
      })), ping]))
    }
    return out
  }

  /**
   * Sends one peer the ADD_PROVIDER records of `cids`, pointing at this
   * node's addresses, on the peer's open stream (or a new one; a reused
   * stream that fails is replaced once). Throws a ProvideFailure.
   */
  async send (peer: PeerId, cids: readonly CID[], signal?: AbortSignal): Promise<void> {
    try {
      await this.write(peer, cids, signal)
    } catch (err) {
      // once more on a new stream, a moment later: kad-dht drops a stream
      // idle for 10 s (announcing yielded to a transfer), and a peer busy
      // storing records may let a negotiation or a read time out
      if (signal?.aborted === true) throw err
      await sleep(RETRY_AFTER_MS, undefined, { signal }).catch(() => {})
      await this.write(peer, cids, signal)
    }
  }

  /** Closes the stream kept open to a peer (the region is done). */
  release (peer: PeerId): void {
    const s = this.sessions.get(peer.toString())
    this.sessions.delete(peer.toString())
    s?.stream.close().catch(err => { s.stream.abort(toError(err)) })
  }

  private async write (peer: PeerId, cids: readonly CID[], signal?: AbortSignal): Promise<void> {
    const batches = await this.records(cids)
    const idle = new AbortController()
    const stall = (): void => { idle.abort(new TimeoutErrorLike(`no progress for ${SEND_IDLE_MS / 1000} s`)) }
    let timer = setTimeout(stall, SEND_IDLE_MS)
    const progress = (): void => { clearTimeout(timer); timer = setTimeout(stall, SEND_IDLE_MS) }
    const s = signal == null ? idle.signal : AbortSignal.any([signal, idle.signal])
    const key = peer.toString()
    let session = this.sessions.get(key)
    try {
      if (session == null) {
        const stream = await this.libp2p.dialProtocol(peer, dhtProtocol(this.dht), { signal: s })
        session = { stream, bytes: byteStream(stream) }
        this.sessions.set(key, session)
        progress()
      }
      // each batch ends with a PING, and its answer is awaited: the peer
      // handles a stream's messages in order, so the answer means every
      // record before it is stored. Without it a write returned once the
      // bytes were in the peer's stream buffer (yamux grants window as data
      // arrives, not as it is read): a peer slower to store than we were to
      // send kept up to 4 MiB of records (~38,000) to store after the round
      // had "ended", and aborted the stream past that. One batch goes
      // ahead of the answers, so the peer always has the next to store;
      // progress is an answer, at most WRITE_BATCH records apart
      let unanswered = 0
      for (const batch of batches) {
        await session.bytes.write(batch, { signal: s })
        progress()
        if (++unanswered > 1) {
          await readMessage(session.bytes, s)
          unanswered--
          progress()
        }
      }
      for (; unanswered > 0; unanswered--) {
        await readMessage(session.bytes, s)
        progress()
      }
    } catch (err) {
      this.sessions.delete(key)
      session?.stream.abort(toError(err))
      const cause: unknown = idle.signal.aborted ? idle.signal.reason : err
      throw new ProvideFailure(classify(cause), `${key}: ${cause instanceof Error ? cause.name : 'Error'}: ${errorMessage(cause)}`)
    } finally {
      clearTimeout(timer)
    }
  }
}

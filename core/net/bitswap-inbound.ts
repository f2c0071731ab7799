// A bound on what one peer's bitswap messages make this node hold before
// they are whole (issue 22).
//
// @helia/bitswap reads each inbound stream into a queue of its own (an
// unbounded pushable) and a length-prefixed decoder that keeps every byte of
// a message until the message is whole (up to 4 MiB). A peer may hold 32
// such streams (maxInboundStreams), each part-way through a 4 MiB message
// sent slowly: 128 MiB a peer (computed), past the block budget, and none
// of it a want the guard has seen yet (it counts whole messages).
//
// This sits in front of bitswap's stream handler and follows the same
// length prefixes: the bytes of a peer's messages not yet whole, across all
// its bitswap streams, are counted against that peer. Over the bound, the
// stream that brought them stops being read (pause: the muxer stops
// granting the sender window, so the bytes wait on its side) until the
// peer's other messages complete or their streams end. An honest peer sends
// one message at a time (@helia/bitswap's ledger: one send job per peer),
// never more than one whole message (4 MiB) in flight, under the bound.

import type { Connection, PeerId, Stream, StreamHandler } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

type MessageData = Uint8Array | Uint8ArrayList

/** bytes of one peer's bitswap messages not yet whole, at most: two of bitswap's largest (4 MiB) */
export const MAX_INBOUND_BYTES_PER_PEER = 8 * 1024 * 1024

interface PeerInbound {
  /** bytes of this peer's messages received, not yet whole */
  pending: number
  /** streams paused for this peer */
  paused: Set<Stream>
  streams: number
}

export class BitswapInbound {
  private readonly peers = new Map<string, PeerInbound>()
  /** streams paused for a peer over the bound (metrics, tests) */
  pauses = 0
  /** the most any peer held at once (tests) */
  peak = 0

  constructor (readonly limit: number = MAX_INBOUND_BYTES_PER_PEER) {}

  /** Bytes of `peer`'s messages received and not yet whole. */
  held (peer: PeerId | string): number { return this.peers.get(peer.toString())?.pending ?? 0 }

  /** `handler` (bitswap's), with every stream it gets counted against its peer. */
  wrap (handler: StreamHandler): StreamHandler {
    return (stream: Stream, connection: Connection) => {
      this.track(stream, connection.remotePeer.toString())
      return handler(stream, connection)
    }
  }

  private track (stream: Stream, key: string): void {
    let peer = this.peers.get(key)
    if (peer == null) {
      peer = { pending: 0, paused: new Set(), streams: 0 }
      this.peers.set(key, peer)
    }
    const p = peer
    p.streams++
    /** bytes of this stream's current message (its prefix too), received so far */
    let inMessage = 0
    /** bytes still to come of the current message; -1 while its length prefix is read */
    let left = -1
    let length = 0
    let shift = 0
    const complete = (): void => {
      p.pending -= inMessage
      inMessage = 0
      left = -1
      length = 0
      shift = 0
    }
    const onMessage = (evt: { data: MessageData }): void => {
      const data = evt.data
      const n = data.byteLength
      inMessage += n
      p.pending += n
      let i = 0
      let completed = false
      while (i < n) {
        if (left < 0) {
          // a varint, as it-length-prefixed writes it (anything malformed is bitswap's to refuse)
          const b = data instanceof Uint8Array ? data[i] : data.get(i)
          i++
          length += (b & 0x7f) * 2 ** shift
          shift += 7
          if (b < 0x80 || shift > 49) left = length
        } else {
          const take = Math.min(left, n - i)
          i += take
          left -= take
        }
        if (left === 0) {
          // bytes of this event after the message belong to the next one
          const rest = n - i
          inMessage -= rest
          p.pending -= rest
          complete()
          inMessage = rest
          p.pending += rest
          completed = true
        }
      }
      if (p.pending > this.peak) this.peak = p.pending
      if (completed) this.resume(p)
      if (p.pending > this.limit && stream.readStatus === 'readable') {
        stream.pause()
        p.paused.add(stream)
        this.pauses++
      }
    }
    // listened to in the same turn as bitswap's own listener, just before it:
    // a stream with a listener delivers at once and buffers nothing, so one
    // added sooner (bitswap awaits first) would take bytes bitswap never saw
    const add = stream.addEventListener.bind(stream) as (type: string, fn: unknown, opts?: unknown) => void
    let listening = false
    stream.addEventListener = ((type: string, fn: unknown, opts?: unknown) => {
      if (type === 'message' && !listening) {
        listening = true
        add('message', onMessage)
      }
      add(type, fn, opts)
    }) as Stream['addEventListener']
    stream.addEventListener('close', () => {
      p.pending -= inMessage
      inMessage = 0
      p.paused.delete(stream)
      if (--p.streams === 0) this.peers.delete(key)
      else this.resume(p)
    })
  }

  /** Reads the peer's paused streams again, once it is back under the bound. */
  private resume (p: PeerInbound): void {
    if (p.pending > this.limit) return
    for (const s of p.paused) {
      p.paused.delete(s)
      if (s.readStatus === 'paused') s.resume()
    }
  }
}

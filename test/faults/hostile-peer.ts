// A hostile peer for the fault tests, in a process of its own: a plain
// libp2p node (TCP, Noise, Yamux, identify) on 127.0.0.1 that speaks
// /cairn/blocks and /ipfs/bitswap/1.2.0 badly on purpose.
//
// argv[2] is a JSON object saying how it answers when dialled:
//   blocks:  'wrong'     every request: [HAVE][random bytes]
//            'truncated' every request: [HAVE][the real block, cut in half] (needs repo)
//            'oversized' a length prefix of 64 MiB, then junk
//            'silent'    reads requests, never answers (slow loris)
//            'trickle'   answers one byte every TRICKLE_MS (slow loris)
//            'unasked'   an answer as soon as the stream opens, before any request
//   bitswap: 'wrong'     every want answered with WRONG_COPIES blocks of random bytes under the wanted CID's prefix
//            'push'      PUSH_BLOCKS random blocks sent to every peer that connects, unasked
//   repo:    a cairn repo whose blocks/ it reads real blocks from
// Lines on stdin are attacks on a peer, one JSON answer line each:
//   {"flood": MA}      bitswap wantlists of FLOOD_WANTS random CIDs, until cut off
//   {"loris": MA}      opens /cairn/blocks streams and sends one byte of a length prefix on each
//   {"bitswapLoris": MA} the same with BITSWAP_LORIS_STREAMS bitswap streams
//   {"stall": MA, "repo": DIR} asks for every block in DIR/blocks on one /cairn/blocks stream and never
//                      reads the answers; answers how long the peer kept that stream open
//   {"badFrame": MA}   a /cairn/blocks request frame far longer than any CID
//   {"dial": MA}       just connects (does the peer let us in?)
//   {"want": MA, "cids": [...]}  an honest bitswap want; answers which CIDs arrived with bytes that match
//                      and which arrived with bytes that do not
// It prints {"listening": "<multiaddr>/p2p/<id>"} first, and {"error": …} for a failed command.

import { createHash, randomBytes } from 'node:crypto'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'
import { multiaddr } from '@multiformats/multiaddr'
import * as lp from 'it-length-prefixed'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { Blocks } from '../../storage/blocks.ts'
import { ROOT } from '../helpers.ts'
import type { Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { bareNode } from '../integration/bare-node.ts'

// /cairn/blocks/1.1.0 frames: [0x00][CID] want, [0x01][CID] cancel; answers [0x00][block] | [0x01] | [0x02]
const BLOCK_PROTOCOL = '/cairn/blocks/1.1.0'
const want = (cid: CID): Uint8Array => Buffer.concat([Uint8Array.of(0), cid.bytes])
const BITSWAP = '/ipfs/bitswap/1.2.0'
/** wrong blocks sent for each want: enough to pass the guard's threshold within a few wants */
const WRONG_COPIES = 4
const PUSH_BLOCKS = 64
const FLOOD_WANTS = 2000
/** 40,000 wants: well past the guard's 8192 in 10 s; more only measures how much a slow seed buffers (see docs/faults.md) */
const FLOOD_MESSAGES = 20
const TRICKLE_MS = 500
const LORIS_STREAMS = 8
const BITSWAP_LORIS_STREAMS = 48
/** how long the `stall` command waits for the peer to end its stream, at most */
const STALL_WAIT_MS = 90_000
/** how long the `want` command waits for blocks */
const WANT_WAIT_MS = 4000

interface Config { blocks?: string, bitswap?: string, repo?: string }
const config = JSON.parse(process.argv[2] ?? '{}') as Config
const store = config.repo != null ? new Blocks(path.join(config.repo, 'blocks')) : null

// @helia/bitswap does not export its protobuf codec; load it by path
const pb = await import(pathToFileURL(path.join(ROOT, 'node_modules', '@helia', 'bitswap', 'dist', 'src', 'pb', 'message.js')).href) as {
  BitswapMessage: { encode: (m: unknown) => Uint8Array, decode: (b: Uint8Array) => { wantlist?: { entries: Array<{ cid: Uint8Array, cancel?: boolean }> }, blocks: Array<{ prefix: Uint8Array, data: Uint8Array }> } }
}

const say = (o: unknown): void => { process.stdout.write(JSON.stringify(o) + '\n') }
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

function varint (n: number): Uint8Array {
  const out: number[] = []
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128) }
  out.push(n)
  return Uint8Array.from(out)
}
const prefixOf = (cid: CID): Uint8Array => Buffer.concat([varint(cid.version), varint(cid.code), varint(cid.multihash.code), varint(cid.multihash.digest.byteLength)])

const node = await bareNode()

async function send (stream: Stream, bytes: Uint8Array | Uint8ArrayList): Promise<void> {
  if (!stream.send(bytes)) await stream.onDrain()
}

async function answerBlocks (stream: Stream): Promise<void> {
  const mode = config.blocks
  if (mode === 'unasked') await send(stream, lp.encode.single(Buffer.concat([Uint8Array.of(0), randomBytes(1024)])))
  for await (const frame of lp.decode(stream, { maxDataLength: 1024 })) {
    const b = frame.subarray()
    if (b[0] !== 0) continue // a cancel: the liar does not care
    const cid = CID.decode(b.subarray(1))
    if (mode === 'silent') continue
    if (mode === 'wrong') {
      await send(stream, lp.encode.single(Buffer.concat([Uint8Array.of(0), randomBytes(64 * 1024)])))
    } else if (mode === 'truncated') {
      const real = store != null ? await store.getBytes(cid).catch(() => randomBytes(1024)) : randomBytes(1024)
      await send(stream, lp.encode.single(Buffer.concat([Uint8Array.of(0), real.subarray(0, Math.floor(real.byteLength / 2))])))
    } else if (mode === 'oversized') {
      await send(stream, Buffer.concat([varint(64 * 1024 * 1024), randomBytes(64 * 1024)]))
    } else if (mode === 'trickle') {
      const frameBytes = lp.encode.single(Buffer.concat([Uint8Array.of(0), randomBytes(4096)])).subarray()
      for (const b of frameBytes) {
        if (stream.status !== 'open') return
        await send(stream, Uint8Array.of(b))
        await sleep(TRICKLE_MS)
      }
    }
  }
}

async function sendBitswap (peer: Parameters<typeof node.dialProtocol>[0], blocks: Array<{ prefix: Uint8Array, data: Uint8Array }>): Promise<void> {
  const stream = await node.dialProtocol(peer, BITSWAP)
  await send(stream, lp.encode.single(pb.BitswapMessage.encode({ blocks, blockPresences: [], pendingBytes: 0 })))
  await stream.close().catch(() => {})
}

if (config.blocks != null) {
  await node.handle(BLOCK_PROTOCOL, (stream) => {
    answerBlocks(stream).catch(() => { stream.abort(new Error('hostile peer done')) })
  }, { maxInboundStreams: 64 })
}

/** bytes of every bitswap block received (the `want` command looks here) */
const received: Uint8Array[] = []

await node.handle(BITSWAP, (stream, connection) => {
  void (async () => {
    for await (const frame of lp.decode(stream, { maxDataLength: 4 * 1024 * 1024 })) {
      const msg = pb.BitswapMessage.decode(frame.subarray())
      for (const b of msg.blocks) received.push(b.data)
      if (config.bitswap !== 'wrong') continue
      const blocks = []
      for (const e of msg.wantlist?.entries ?? []) {
        if (e.cancel === true) continue
        const cid = CID.decode(e.cid)
        for (let i = 0; i < WRONG_COPIES; i++) blocks.push({ prefix: prefixOf(cid), data: randomBytes(16 * 1024) })
      }
      if (blocks.length > 0) await sendBitswap(connection.remotePeer, blocks)
    }
  })().catch(() => {})
})

if (config.bitswap === 'push') {
  node.addEventListener('peer:identify', (evt) => {
    const peer = evt.detail.peerId
    const blocks = Array.from({ length: PUSH_BLOCKS }, () => ({ prefix: prefixOf(CID.createV1(0x55, sha256.digest(new Uint8Array(0)) as never)), data: randomBytes(16 * 1024) }))
    void sendBitswap(peer, blocks).catch(() => {})
  })
}

say({ listening: `${node.getMultiaddrs()[0].toString()}` })

/** Waits until no connection to `peer` is left, at most `ms`; true if cut off. */
async function cutOff (peerId: string, ms: number): Promise<boolean> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (!node.getConnections().some(c => c.remotePeer.toString() === peerId)) return true
    await sleep(100)
  }
  return false
}

/** Can we connect again? 'refused' when the peer now turns us away. */
async function redial (ma: string): Promise<string> {
  try {
    const conn = await node.dial(multiaddr(ma), { signal: AbortSignal.timeout(10_000) })
    // a gater that refuses after the handshake closes the connection at once
    await sleep(500)
    return conn.status === 'open' ? 'accepted' : 'refused'
  } catch (err) {
    return `refused: ${(err as Error).message}`
  }
}

/**
 * Opens `n` streams of `protocol` and sends one byte of a length prefix that
 * never ends on each; after a moment, how many the peer still holds open
 * (protocol negotiation may be lazy: a stream refused is reset a little later).
 */
async function holdStreams (peer: Parameters<typeof node.dialProtocol>[0], protocol: string, n: number): Promise<{ opened: number, refused: number }> {
  const streams: Stream[] = []
  for (let i = 0; i < n; i++) {
    try {
      const s = await node.dialProtocol(peer, protocol, { signal: AbortSignal.timeout(5000) })
      s.send(Uint8Array.of(0x80))
      streams.push(s)
    } catch {
      // refused: counted below as not open
    }
  }
  await sleep(1500)
  const opened = streams.filter(s => s.status === 'open' && s.readStatus !== 'closed').length
  return { opened, refused: n - opened }
}

for await (const line of createInterface({ input: process.stdin })) {
  try {
    const cmd = JSON.parse(line) as Record<string, string>
    if (cmd.dial != null) {
      say({ dial: await redial(cmd.dial) })
    } else if (cmd.want != null) {
      const conn = await node.dial(multiaddr(cmd.want))
      const cids = (cmd.cids as unknown as string[]).map(c => CID.parse(c))
      const stream = await node.dialProtocol(conn.remotePeer, BITSWAP)
      const entries = cids.map(c => ({ cid: c.bytes, priority: 1, sendDontHave: true }))
      await send(stream, lp.encode.single(pb.BitswapMessage.encode({ wantlist: { entries, full: false }, blocks: [], blockPresences: [], pendingBytes: 0 })))
      await sleep(WANT_WAIT_MS)
      const digests = received.map(d => createHash('sha256').update(d).digest('hex'))
      const wanted = cids.map(c => Buffer.from(c.multihash.digest).toString('hex'))
      const good = cids.filter((_c, i) => digests.includes(wanted[i])).map(c => c.toString())
      say({ want: { good, blocks: received.length, wrong: digests.filter(d => !wanted.includes(d)).length } })
    } else if (cmd.stall != null) {
      const conn = await node.dial(multiaddr(cmd.stall))
      const s = await node.dialProtocol(conn.remotePeer, BLOCK_PROTOCOL)
      // stop reading: yamux stops granting window, so the peer's sends back up
      s.pause()
      const store = new Blocks(path.join(cmd.repo, 'blocks'))
      let asked = 0
      for await (const { cid } of store.list()) {
        s.send(lp.encode.single(want(cid)))
        asked++
      }
      const t0 = Date.now()
      // never read: wait until the peer gives up on us
      while (s.status === 'open' && s.writeStatus !== 'closed' && Date.now() - t0 < STALL_WAIT_MS) await sleep(250)
      say({ stall: { asked, open: s.status === 'open', heldMs: Date.now() - t0 } })
    } else if (cmd.flood != null) {
      const conn = await node.dial(multiaddr(cmd.flood))
      const peerId = conn.remotePeer.toString()
      let sent = 0
      try {
        const stream = await node.dialProtocol(conn.remotePeer, BITSWAP)
        for (let m = 0; m < FLOOD_MESSAGES && conn.status === 'open'; m++) {
          const entries = Array.from({ length: FLOOD_WANTS }, () => ({ cid: CID.createV1(0x55, sha256.digest(randomBytes(32)) as never).bytes, priority: 1, sendDontHave: true }))
          await send(stream, lp.encode.single(pb.BitswapMessage.encode({ wantlist: { entries, full: false }, blocks: [], blockPresences: [], pendingBytes: 0 })))
          sent += FLOOD_WANTS
          await sleep(50)
        }
      } catch {}
      say({ flood: { sent, cutOff: await cutOff(peerId, 30_000), redial: await redial(cmd.flood) } })
    } else if (cmd.loris != null) {
      const conn = await node.dial(multiaddr(cmd.loris))
      say({ loris: await holdStreams(conn.remotePeer, BLOCK_PROTOCOL, LORIS_STREAMS) })
    } else if (cmd.bitswapLoris != null) {
      const conn = await node.dial(multiaddr(cmd.bitswapLoris))
      say({ bitswapLoris: await holdStreams(conn.remotePeer, BITSWAP, BITSWAP_LORIS_STREAMS) })
    } else if (cmd.badFrame != null) {
      const conn = await node.dial(multiaddr(cmd.badFrame))
      const s = await node.dialProtocol(conn.remotePeer, BLOCK_PROTOCOL)
      s.send(Buffer.concat([varint(1024 * 1024), randomBytes(4096)]))
      say({ badFrame: { cutOff: await cutOff(conn.remotePeer.toString(), 30_000), redial: await redial(cmd.badFrame) } })
    }
  } catch (err) {
    say({ error: (err as Error).message })
  }
}
await node.stop()

// The inbound bound in front of bitswap's stream handler
// (core/net/bitswap-inbound.ts): a peer flooding want messages it never
// finishes, on many streams at once, cannot make the handler hold more than
// the bound; an honest peer's messages pass whole and in order. A unit
// test: real libp2p stream pairs (@libp2p/utils), and a handler that reads
// as @helia/bitswap's does (a listener added after an await, a
// length-prefixed decoder holding each message until it is whole).

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { streamPair } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { BitswapInbound } from '../../../core/net/bitswap-inbound.ts'
import type { Connection, Stream, StreamHandler } from '@libp2p/interface'

const MIB = 1024 * 1024
/** bitswap's largest message */
const MAX_MESSAGE = 4 * MIB

/** The varint length prefix of a message of `n` bytes, as it-length-prefixed writes it. */
function prefix (n: number): Uint8Array {
  const out: number[] = []
  do {
    out.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0))
    n = Math.floor(n / 128)
  } while (n > 0)
  return Uint8Array.from(out)
}

/** The first whole message in `buf` and the bytes it takes with its prefix, or null. */
function firstMessage (buf: Uint8ArrayList): { message: Uint8Array, size: number } | null {
  let n = 0
  let shift = 0
  for (let i = 0; i < buf.byteLength; i++) {
    const b = buf.get(i)
    n += (b & 0x7f) * 2 ** shift
    shift += 7
    if (b < 0x80) return buf.byteLength - i - 1 >= n ? { message: buf.subarray(i + 1, i + 1 + n), size: i + 1 + n } : null
  }
  return null
}

/** A handler reading as @helia/bitswap's network does; `held()` is what it holds of messages not yet whole. */
function bitswapLike (): { handler: StreamHandler, held: () => number, messages: Uint8Array[] } {
  const buffers = new Set<Uint8ArrayList>()
  const messages: Uint8Array[] = []
  const handler: StreamHandler = (stream: Stream) => {
    void (async () => {
      await new Promise(resolve => setTimeout(resolve, 1)) // bitswap awaits stream.close() first
      const buf = new Uint8ArrayList()
      buffers.add(buf)
      stream.addEventListener('message', (evt) => {
        buf.append(evt.data)
        for (let m = firstMessage(buf); m != null; m = firstMessage(buf)) {
          messages.push(m.message)
          buf.consume(m.size)
        }
      })
      stream.addEventListener('close', () => { buffers.delete(buf) })
    })()
  }
  return { handler, held: () => [...buffers].reduce((n, b) => n + b.byteLength, 0), messages }
}

const connection = { remotePeer: { toString: () => 'flooder' } } as unknown as Connection

/** Opens `streams` streams to `handler` and sends on each the start of a MAX_MESSAGE message it never finishes. */
async function flood (handler: StreamHandler, streams: number): Promise<Stream[]> {
  const senders: Stream[] = []
  const chunk = new Uint8Array(64 * 1024).fill(7)
  for (let s = 0; s < streams; s++) {
    const [out, inbound] = await streamPair()
    handler(inbound, connection)
    senders.push(out)
  }
  await Promise.all(senders.map(async out => {
    out.send(prefix(MAX_MESSAGE))
    for (let sent = 0; sent + chunk.byteLength < MAX_MESSAGE; sent += chunk.byteLength) {
      if (!out.send(chunk)) await Promise.race([new Promise(resolve => out.addEventListener('drain', resolve, { once: true })), new Promise(resolve => setTimeout(resolve, 200))])
    }
  }))
  await new Promise(resolve => setTimeout(resolve, 200))
  return senders
}

test('a peer flooding unfinished want messages on 8 streams holds no more than the bound in the handler', async (t) => {
  // the same flood, bitswap's handler as registered before (nothing in front): it holds all of it
  const bare = bitswapLike()
  const bareSenders = await flood(bare.handler, 8)
  assert.ok(bare.held() > 3 * 8 * MIB, `unbounded: ${(bare.held() / MIB).toFixed(1)} MiB held`)
  t.diagnostic(`without the bound: ${(bare.held() / MIB).toFixed(1)} MiB held`)
  for (const s of bareSenders) s.abort(new Error('done'))

  const inbound = new BitswapInbound()
  const model = bitswapLike()
  const senders = await flood(inbound.wrap(model.handler), 8)
  assert.ok(inbound.pauses > 0, 'streams over the bound were paused')
  // the bound, and at most one chunk per stream past it (a chunk is seen whole before the pause)
  assert.ok(model.held() <= inbound.limit + 8 * 64 * 1024, `held ${(model.held() / MIB).toFixed(1)} MiB, bound ${inbound.limit / MIB} MiB`)
  assert.ok(inbound.held('flooder') <= inbound.limit + 8 * 64 * 1024)
  t.diagnostic(`with the bound: ${(model.held() / MIB).toFixed(1)} MiB held, ${inbound.pauses} pauses`)
  for (const s of senders) s.abort(new Error('done'))
  await new Promise(resolve => setTimeout(resolve, 50))
  assert.equal(inbound.held('flooder'), 0, 'nothing counted once its streams end')
})

test('an honest peer\'s messages, small and of the largest size, pass whole and in order, never paused', async () => {
  const inbound = new BitswapInbound()
  const model = bitswapLike()
  const [out, stream] = await streamPair()
  inbound.wrap(model.handler)(stream, connection)
  const sizes = [10, 0, 300, MAX_MESSAGE, 5, 200_000, MAX_MESSAGE, 1]
  for (const [i, n] of sizes.entries()) {
    const bytes = new Uint8Array(n).fill(i)
    out.send(prefix(n))
    if (!out.send(bytes)) await new Promise(resolve => out.addEventListener('drain', resolve, { once: true }))
  }
  for (let i = 0; i < 300 && model.messages.length < sizes.length; i++) await new Promise(resolve => setTimeout(resolve, 10))
  assert.deepEqual(model.messages.map(m => m.byteLength), sizes)
  assert.ok(model.messages.every((m, i) => m.every(b => b === i)), 'each message\'s own bytes')
  assert.equal(inbound.pauses, 0)
  assert.equal(inbound.held('flooder'), 0)
  out.abort(new Error('done'))
})

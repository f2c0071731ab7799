import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as lp from 'it-length-prefixed'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { AnchorChain } from '../../../core/anchor/chain.ts'
import { MemoryChainStore } from '../../../core/anchor/store.ts'
import { ChainSync, MAX_CONCURRENT_SYNCS, type SyncOffence } from '../../../core/anchor/sync-service.ts'
import { decodeReply, encodeMessage, MAX_REQUEST_FRAME, MAX_REQUESTS_PER_STREAM, serveSync, syncProtocol } from '../../../core/anchor/sync-protocol.ts'
import { mineBlock, testNetwork } from '../../../core/anchor/test-miner.ts'
import { loopPeer } from './forge.ts'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'

const NET = testNetwork('sync-service')
const NOW = (): number => NET.genesis.time + 1_000_000_000

async function chainOf (blocks: number): Promise<AnchorChain> {
  const c = await AnchorChain.open(NET, new MemoryChainStore(), { now: NOW })
  for (let i = 0; i < blocks; i++) {
    const b = mineBlock(NET, c.head)
    await c.submit(b.header, b.body)
  }
  return c
}

const peers = async (n: number): Promise<PeerId[]> => await Promise.all(Array.from({ length: n }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))))

/** The parts of libp2p ChainSync uses: handlers, events, connected peers and their protocols. */
function fakeLibp2p (connected: PeerId[], protocols: string[]): Libp2p & { handled: Map<string, unknown>, emit: (type: string, detail: unknown) => void } {
  const listeners = new Map<string, Set<(e: { detail: unknown }) => void>>()
  const handled = new Map<string, unknown>()
  return {
    handled,
    async handle (proto: string, fn: unknown) { handled.set(proto, fn) },
    async unhandle (proto: string) { handled.delete(proto) },
    addEventListener (type: string, fn: (e: { detail: unknown }) => void) { listeners.set(type, (listeners.get(type) ?? new Set()).add(fn)) },
    removeEventListener (type: string, fn: (e: { detail: unknown }) => void) { listeners.get(type)?.delete(fn) },
    getPeers: () => connected,
    peerStore: { get: async () => ({ protocols }) },
    emit (type: string, detail: unknown) { for (const fn of listeners.get(type) ?? []) fn({ detail }) }
  } as never
}

test('ChainSync: one sync per peer, at most MAX_CONCURRENT_SYNCS at once, the rest in turn; identify starts one; liars reported; banned peers skipped', async () => {
  const server = await chainOf(30)
  const client = await chainOf(0)
  const ps = await peers(MAX_CONCURRENT_SYNCS + 3)
  const libp2p = fakeLibp2p([], [])
  let gate!: () => void
  const open = new Promise<void>(resolve => { gate = resolve })
  let running = 0
  let most = 0
  const reached: string[] = []
  const reports: Array<[string, SyncOffence]> = []
  const banned = new Set<string>()
  const sync = new ChainSync(libp2p, client, {
    report: (p, o) => { reports.push([p.toString(), o]) },
    isBanned: p => banned.has(p.toString()),
    recheckMs: 0,
    peerFor: p => {
      reached.push(p.toString())
      const inner = loopPeer(server)
      return {
        id: p.toString(),
        request: async req => {
          running++
          most = Math.max(most, running)
          try {
            await open
            return await inner.request(req)
          } finally { running-- }
        },
        close: () => {}
      }
    }
  })
  await sync.start()
  assert.ok(libp2p.handled.has(syncProtocol(NET)))
  const first = sync.syncWith(ps[0])
  const again = sync.syncWith(ps[0])
  const others = ps.slice(1, MAX_CONCURRENT_SYNCS).map(async p => await sync.syncWith(p))
  // every slot busy: these wait
  assert.equal(await sync.syncWith(ps[MAX_CONCURRENT_SYNCS]), null)
  assert.equal(reached.length, MAX_CONCURRENT_SYNCS)
  assert.equal(sync.stats.syncing, MAX_CONCURRENT_SYNCS)
  gate()
  const [a, b] = await Promise.all([first, again])
  assert.equal(a, b)
  assert.equal(a?.status, 'synced')
  await Promise.all(others)
  assert.ok(client.head.cid.equals(server.head.cid))
  assert.ok(most <= MAX_CONCURRENT_SYNCS)
  // the waiting peer ran once a slot was free
  await waitUntil(() => reached.includes(ps[MAX_CONCURRENT_SYNCS].toString()) && sync.stats.syncing === 0)
  assert.equal(reached.filter(r => r === ps[0].toString()).length, 1)

  // identify of a peer that speaks the protocol starts a sync; one that does not, nothing
  const before = reached.length
  libp2p.emit('peer:identify', { peerId: ps[MAX_CONCURRENT_SYNCS + 1], protocols: ['/other/1.0.0'] })
  libp2p.emit('peer:identify', { peerId: ps[MAX_CONCURRENT_SYNCS + 1], protocols: [sync.protocol] })
  await waitUntil(() => reached.length === before + 1 && sync.stats.syncing === 0)

  // a liar (garbage headers, after claiming more work) is reported, our head stays
  const liarServer = await chainOf(40)
  const liar = ps[ps.length - 1]
  const head = client.head
  const lying = new ChainSync(libp2p, client, {
    report: (p, o) => { reports.push([p.toString(), o]) },
    recheckMs: 0,
    peerFor: () => loopPeer(liarServer, (req, reply) => reply.op === 'headers' ? new Uint8Array([0xff]) : reply)
  })
  await lying.start()
  assert.equal(await lying.syncWith(liar), null)
  assert.deepEqual(reports, [[liar.toString(), 'sync-bad-reply']])
  assert.equal(lying.stats.violations, 1)
  assert.equal(client.head, head)

  banned.add(ps[1].toString())
  const n = reached.length
  assert.equal(await sync.syncWith(ps[1]), null)
  assert.equal(reached.length, n)
  await sync.stop()
  await lying.stop()
  assert.ok(!libp2p.handled.has(syncProtocol(NET)))
  assert.equal(await sync.syncWith(ps[2]), null)
})

async function waitUntil (ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

/** A stream that delivers `input` and records what the server sends, and how it ended. */
function fakeStream (input: Uint8Array[]): Stream & { sent: Uint8Array[], ended: () => 'closed' | 'aborted' | null } {
  const sent: Uint8Array[] = []
  let ended: 'closed' | 'aborted' | null = null
  return {
    sent,
    ended: () => ended,
    async * [Symbol.asyncIterator] () { for (const b of input) yield b },
    send (b: { subarray: () => Uint8Array }) { sent.push(b.subarray()); return true },
    async onDrain () {},
    async close () { ended ??= 'closed' },
    abort () { ended ??= 'aborted' }
  } as never
}

const frames = (sent: Uint8Array[]): Uint8Array[] => {
  const all = Buffer.concat(sent)
  const out: Uint8Array[] = []
  let at = 0
  while (at < all.length) {
    let len = 0
    let shift = 0
    let byte
    do { byte = all[at++]; len |= (byte & 0x7f) << shift; shift += 7 } while ((byte & 0x80) !== 0)
    out.push(all.subarray(at, at + len))
    at += len
  }
  return out
}

test('serveSync: answers requests in order; a bad or oversized request, or too many on one stream, ends the stream and is reported', async () => {
  const chain = await chainOf(12)
  const frame = (m: Parameters<typeof encodeMessage>[0]): Uint8Array => lp.encode.single(encodeMessage(m)).subarray()

  const good = fakeStream([frame({ op: 'status' }), frame({ op: 'headers', locator: [chain.genesis.cid], max: 5 })])
  const violations: string[] = []
  await serveSync(good, chain, { onViolation: m => violations.push(m) })
  assert.equal(good.ended(), 'closed')
  const [status, headers] = frames(good.sent)
  const s = decodeReply(status, { op: 'status' })
  assert.ok(s.op === 'status' && s.height === 12 && s.head.equals(chain.head.cid))
  const h = decodeReply(headers, { op: 'headers', locator: [], max: 5 })
  assert.ok(h.op === 'headers' && h.headers.length === 5)
  assert.deepEqual(violations, [])

  const cases: Array<[string, Uint8Array[]]> = [
    ['garbage', [lp.encode.single(new Uint8Array([0xff, 1])).subarray()]],
    ['oversized', [lp.encode.single(new Uint8Array(MAX_REQUEST_FRAME + 1)).subarray()]],
    ['too many', Array.from({ length: MAX_REQUESTS_PER_STREAM + 1 }, () => frame({ op: 'status' }))]
  ]
  for (const [name, input] of cases) {
    const st = fakeStream(input)
    const seen: string[] = []
    await serveSync(st, chain, { onViolation: m => seen.push(m) })
    assert.equal(st.ended(), 'aborted', name)
    assert.equal(seen.length, 1, name)
    if (name === 'too many') assert.equal(frames(st.sent).length, MAX_REQUESTS_PER_STREAM)
  }
})

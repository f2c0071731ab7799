// The per-peer bitswap lane against a scripted engine (a unit test: the
// engine is a fake; the real one is exercised by test/integration/any-peer
// and fetch tests with a stock Helia node): what goes on the wire to which
// peer, and what each answer becomes.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { BitswapWire, bitswapAsker } from '../../../core/swarm/bitswap-lane.ts'
import type { BitswapEngine, BitswapPresence } from '../../../core/net/bitswap-host.ts'
import type { PeerId } from '@libp2p/interface'

interface Sent { peer: string, cid: string, wantType: string, cancel: boolean, sendDontHave: boolean }

/** A fake engine: records what is sent; `reply` answers each want as a peer would. */
function engine (reply: (s: Sent, emit: (p: BitswapPresence) => void) => void): { engine: BitswapEngine, sent: Sent[] } {
  const events = new EventTarget()
  const sent: Sent[] = []
  const e = {
    wantList: {
      addEventListener: (type: string, fn: (evt: CustomEvent<BitswapPresence>) => void) => { events.addEventListener(type, fn as (e: Event) => void) },
      removeEventListener: (type: string, fn: (evt: CustomEvent<BitswapPresence>) => void) => { events.removeEventListener(type, fn as (e: Event) => void) }
    },
    network: {
      sendMessage: async (peer: PeerId, message: unknown) => {
        const m = message as { wantlist: Map<string, { cid: Uint8Array, wantType: string, cancel: boolean, sendDontHave: boolean }> }
        for (const entry of m.wantlist.values()) {
          const s = { peer: peer.toString(), cid: CID.decode(entry.cid).toString(), wantType: entry.wantType, cancel: entry.cancel, sendDontHave: entry.sendDontHave }
          sent.push(s)
          setImmediate(() => { reply(s, p => events.dispatchEvent(new CustomEvent('presence', { detail: p }))) })
        }
      }
    }
  }
  return { engine: e as unknown as BitswapEngine, sent }
}

const peer = async (): Promise<PeerId> => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
const block = async (text: string): Promise<{ cid: CID, bytes: Uint8Array }> => {
  const bytes = new TextEncoder().encode(text)
  return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes }
}

test('a peer that has served nothing yet is asked want-have first, then want-block after its HAVE; both ask for DONT_HAVE', async () => {
  const p = await peer()
  const b = await block('a block')
  const wanted: string[] = []
  const { engine: e, sent } = engine((s, emit) => {
    if (s.cancel) return
    emit(s.wantType === 'WantHave' ? { sender: p, cid: b.cid, has: true } : { sender: p, cid: b.cid, has: true, block: b.bytes })
  })
  const wire = new BitswapWire(e, new AbortController().signal, cid => wanted.push(cid.toString()))
  const answer = await bitswapAsker(wire, p, () => false).ask(b.cid)
  assert.equal(answer.status, 'have')
  assert.deepEqual(answer.status === 'have' ? [...answer.bytes] : [], [...b.bytes])
  assert.deepEqual(sent.map(s => [s.peer, s.wantType, s.sendDontHave]), [[p.toString(), 'WantHave', true], [p.toString(), 'WantBlock', true]])
  // the peer guard hears of the block before either want goes out
  assert.deepEqual(wanted, [b.cid.toString(), b.cid.toString()])
  wire.close()
})

test('DONT_HAVE is a refusal: no want-block follows it', async () => {
  const p = await peer()
  const b = await block('missing')
  const { engine: e, sent } = engine((s, emit) => { if (!s.cancel) emit({ sender: p, cid: b.cid, has: false }) })
  const wire = new BitswapWire(e, new AbortController().signal, () => {})
  assert.deepEqual(await bitswapAsker(wire, p, () => false).ask(b.cid), { status: 'dont-have' })
  assert.deepEqual(sent.map(s => s.wantType), ['WantHave'])
  // a peer that has served before is asked want-block at once; its DONT_HAVE is a refusal too
  assert.deepEqual(await bitswapAsker(wire, p, () => true).ask(b.cid), { status: 'dont-have' })
  assert.deepEqual(sent.map(s => s.wantType), ['WantHave', 'WantBlock'])
  wire.close()
})

test('answers are matched by sender: another peer\'s block or DONT_HAVE does not answer this peer\'s want', async () => {
  const [p, other] = [await peer(), await peer()]
  const b = await block('two peers')
  const { engine: e } = engine((s, emit) => {
    if (s.cancel) return
    emit({ sender: other, cid: b.cid, has: false })
    emit({ sender: other, cid: b.cid, has: true, block: b.bytes })
    setTimeout(() => { emit({ sender: p, cid: b.cid, has: true, block: b.bytes }) }, 20)
  })
  const wire = new BitswapWire(e, new AbortController().signal, () => {})
  const answer = await bitswapAsker(wire, p, () => true).ask(b.cid)
  assert.equal(answer.status, 'have')
  wire.close()
})

test('a cancelled want answers "cancelled" and sends the peer a cancel', async () => {
  const p = await peer()
  const b = await block('cancel me')
  const { engine: e, sent } = engine(() => {}) // the peer never answers
  const wire = new BitswapWire(e, new AbortController().signal, () => {})
  const asker = bitswapAsker(wire, p, () => true)
  const pending = asker.ask(b.cid)
  await new Promise(resolve => setTimeout(resolve, 10))
  asker.cancel(b.cid)
  assert.deepEqual(await pending, { status: 'cancelled' })
  await new Promise(resolve => setTimeout(resolve, 10))
  assert.deepEqual(sent.map(s => [s.wantType, s.cancel]), [['WantBlock', false], ['WantBlock', true]])
  wire.close()
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as dagCbor from '@ipld/dag-cbor'
import { peerIdFromString } from '@libp2p/peer-id'
import { createPeerScoreParams, createPeerScoreThresholds, validatePeerScoreParams, validatePeerScoreThresholds } from '@libp2p/gossipsub/score'
import { AnchorChain } from '../../../core/anchor/chain.ts'
import { cborCid, MAX_BODY_MANIFESTS, MAX_HEADER_BYTES } from '../../../core/anchor/encoding.ts'
import { AnchorGossip, blockVerdict, decodeBlockMessage, encodeBlockMessage, GossipDecodeError, gossipTopics, manifestVerdict, MAX_BLOCK_MESSAGE_BYTES, messageId, RECEIVED_REMEMBERED_MS, type PubSub, type SubscriptionChange, type Verdict } from '../../../core/anchor/gossip.ts'
import { GRAYLIST_THRESHOLD, gossipOptions, TOPIC_SCORE } from '../../../core/anchor/gossip-params.ts'
import { MAX_MANIFEST_BYTES } from '../../../core/anchor/manifest.ts'
import { MemoryChainStore } from '../../../core/anchor/store.ts'
import { metaAfter, mineBlock, testNetwork } from '../../../core/anchor/test-miner.ts'
import { MAX_FUTURE_MS } from '../../../core/anchor/validate.ts'
import { manifestFor } from './helpers.ts'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { missTarget } from './forge.ts'

const NET = testNetwork()
const T0 = NET.genesis.time
const NOW = T0 + 10_000_000
const PEER = peerIdFromString('12D3KooWKZWhoUCZBJNBeB8SDzQksFAtMAaTSGKveiandbBBVVLY')

type SubscriptionListener = (evt: CustomEvent<SubscriptionChange>) => void

class FakePubSub implements PubSub {
  subscribers: PeerId[] = [PEER]
  private readonly listeners = new Set<SubscriptionListener>()
  addEventListener (_type: 'subscription-change', fn: SubscriptionListener): void { this.listeners.add(fn) }
  removeEventListener (_type: 'subscription-change', fn: SubscriptionListener): void { this.listeners.delete(fn) }
  readonly topicValidators = new Map<string, (peer: PeerId, msg: { topic: string, data: Uint8Array }) => Promise<Verdict> | Verdict>()
  readonly subscribed = new Set<string>()
  readonly sent: Array<{ topic: string, data: Uint8Array }> = []
  subscribe (t: string): void { this.subscribed.add(t) }
  unsubscribe (t: string): void { this.subscribed.delete(t) }
  async publish (topic: string, data: Uint8Array): Promise<{ recipients: unknown[] }> { this.sent.push({ topic, data }); return { recipients: [PEER] } }
  getSubscribers (): PeerId[] { return this.subscribers }
  /** a peer subscribes to a topic */
  join (topic: string): void {
    this.subscribers = [PEER]
    for (const fn of this.listeners) fn(new CustomEvent('subscription-change', { detail: { peerId: PEER, subscriptions: [{ topic, subscribe: true }] } }))
  }

  async deliver (topic: string, data: Uint8Array): Promise<Verdict> {
    const v = this.topicValidators.get(topic)
    assert.ok(v != null, `no validator on ${topic}`)
    return await v(PEER, { topic, data })
  }
}

async function setup (now = NOW): Promise<{ chain: AnchorChain, ps: FakePubSub, gossip: AnchorGossip, orphans: CID[], invalid: string[] }> {
  const chain = await AnchorChain.open(NET, new MemoryChainStore(), { now: () => now })
  const ps = new FakePubSub()
  const orphans: CID[] = []
  const invalid: string[] = []
  const gossip = new AnchorGossip(ps, chain, { onOrphan: (_p, parent) => orphans.push(parent), onInvalid: (_p, rule) => invalid.push(rule) })
  gossip.start()
  return { chain, ps, gossip, orphans, invalid }
}

const envelope = (b: { header: Uint8Array, body: Uint8Array, manifests: Uint8Array[] }): Uint8Array => encodeBlockMessage(b)

test('a block envelope round-trips and its message id is the block CID', async () => {
  const m = await manifestFor(1)
  const b = mineBlock(NET, (await setup()).chain.head, [m])
  const bytes = envelope(b)
  const back = decodeBlockMessage(bytes)
  assert.deepEqual(back, { header: b.header, body: b.body, manifests: [m.bytes] })
  const topics = gossipTopics(NET.id)
  assert.equal(topics.blocks, `cairn/${NET.id.toString()}/blocks`)
  assert.deepEqual(messageId(topics, topics.blocks, bytes), b.cid.bytes)
  assert.deepEqual(messageId(topics, topics.manifests, m.bytes), m.cid.bytes)
  // undecodable: named by its hash, with a prefix no CID starts with
  const junk = messageId(topics, topics.blocks, new Uint8Array([1, 2, 3]))
  assert.equal(junk[0], 0)
  assert.equal(junk.length, 33)
})

test('malformed envelopes are refused before the chain sees them', () => {
  const h = new Uint8Array(10)
  const bad: Array<[string, Uint8Array]> = [
    ['not cbor', new Uint8Array([0xff, 0x00])],
    ['a list', dagCbor.encode([h, h])],
    ['wrong version', dagCbor.encode({ v: 2, header: h, body: h, manifests: [] })],
    ['extra key', dagCbor.encode({ v: 1, header: h, body: h, manifests: [], x: 1 })],
    ['header not bytes', dagCbor.encode({ v: 1, header: 'h', body: h, manifests: [] })],
    ['header over the limit', dagCbor.encode({ v: 1, header: new Uint8Array(MAX_HEADER_BYTES + 1), body: h, manifests: [] })],
    ['too many manifests', dagCbor.encode({ v: 1, header: h, body: h, manifests: Array.from({ length: MAX_BODY_MANIFESTS + 1 }, () => h) })],
    ['manifest over the limit', dagCbor.encode({ v: 1, header: h, body: h, manifests: [new Uint8Array(MAX_MANIFEST_BYTES + 1)] })],
    ['message over the limit', new Uint8Array(MAX_BLOCK_MESSAGE_BYTES + 1)]
  ]
  for (const [what, bytes] of bad) assert.throws(() => decodeBlockMessage(bytes), GossipDecodeError, what)
  // the largest legal block fits the limit
  const full = { header: new Uint8Array(MAX_HEADER_BYTES), body: new Uint8Array(16 * 1024), manifests: Array.from({ length: MAX_BODY_MANIFESTS }, () => new Uint8Array(MAX_MANIFEST_BYTES)) }
  assert.ok(decodeBlockMessage(encodeBlockMessage(full)).manifests.length === MAX_BODY_MANIFESTS)
})

test('chain results map to gossipsub verdicts', () => {
  const cid = NET.id
  assert.equal(blockVerdict({ status: 'accepted', cid, height: 1, head: true }), 'accept')
  assert.equal(blockVerdict({ status: 'accepted', cid, height: 1, head: false }), 'accept')
  assert.equal(blockVerdict({ status: 'known', cid }), 'ignore')
  assert.equal(blockVerdict({ status: 'held', cid, until: 1 }), 'ignore')
  assert.equal(blockVerdict({ status: 'orphan', cid, parent: cid }), 'ignore')
  assert.equal(blockVerdict({ status: 'invalid', cid, rule: 'BadProofOfWork', message: '' }), 'reject')
  assert.equal(manifestVerdict('pending'), 'accept')
  assert.equal(manifestVerdict('known'), 'ignore')
  assert.equal(manifestVerdict('anchored'), 'ignore')
})

test('the validator: accepted, known, orphan (hook called), held (not held against the sender), invalid (rejected, reported)', async () => {
  const { chain, ps, gossip, orphans, invalid } = await setup()
  const topic = gossip.topics.blocks
  assert.ok(ps.subscribed.has(topic) && ps.subscribed.has(gossip.topics.manifests))
  const b1 = mineBlock(NET, chain.head, [await manifestFor(2)])
  const m1 = metaAfter(b1, chain.head)
  const b2 = mineBlock(NET, m1)
  // the child first: an orphan, ignored, and the hook names the missing parent
  assert.equal(await ps.deliver(topic, envelope(b2)), 'ignore')
  assert.equal(orphans.length, 1)
  assert.ok(orphans[0].equals(b1.cid))
  assert.equal(await ps.deliver(topic, envelope(b1)), 'accept')
  assert.equal(chain.height, 2, 'the orphan joined once its parent came')
  assert.equal(await ps.deliver(topic, envelope(b1)), 'ignore', 'known')
  // too far in the future: ignored, no offence
  const future = mineBlock(NET, chain.head, [], { time: NOW + MAX_FUTURE_MS + 60_000 })
  assert.equal(await ps.deliver(topic, envelope(future)), 'ignore')
  assert.equal(invalid.length, 0)
  // bad proof of work: rejected, reported
  const forged = mineBlock(NET, chain.head, [], { salt: 7 })
  assert.equal(await ps.deliver(topic, envelope({ header: missTarget(forged.header, NET), body: forged.body, manifests: [] })), 'reject')
  assert.ok(invalid.includes('BadProofOfWork'), invalid.join())
  assert.equal(await ps.deliver(topic, new Uint8Array([1, 2, 3])), 'reject')
  assert.ok(invalid.includes('Decode'))
  const s = gossip.stats
  assert.equal(s.accepted, 1)
  assert.ok(s.rejected >= 2 && s.rejectedBy.Decode === 1 && s.offenders === 1)
  assert.equal(s.ignored, 3)
  assert.equal(chain.height, 2)
  // nothing received by gossip was published again
  assert.equal(ps.sent.length, 0)
  gossip.stop()
  assert.equal(ps.topicValidators.size, 0)
})

test('manifests: a new one is accepted, a known one ignored, a bad signature rejected; local ones are published, gossiped ones not', async () => {
  const { chain, ps, gossip, invalid } = await setup()
  const topic = gossip.topics.manifests
  const theirs = await manifestFor(3)
  assert.equal(await ps.deliver(topic, theirs.bytes), 'accept')
  assert.equal(chain.pending.size, 1)
  assert.equal(await ps.deliver(topic, theirs.bytes), 'ignore')
  const forged = dagCbor.decode<Record<string, unknown>>((await manifestFor(4)).bytes)
  ;(forged.sig as Uint8Array)[0] ^= 1
  assert.equal(await ps.deliver(topic, dagCbor.encode(forged)), 'reject')
  assert.deepEqual(invalid, ['BadSignature'])
  assert.equal(await ps.deliver(topic, new Uint8Array(MAX_MANIFEST_BYTES + 1)), 'reject')
  assert.equal(ps.sent.length, 0)
  const ours = await manifestFor(5)
  await chain.addPending(ours.bytes)
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(ps.sent.length, 1)
  assert.equal(ps.sent[0].topic, topic)
  assert.deepEqual(ps.sent[0].data, ours.bytes)
  assert.equal(gossip.stats.published, 1)
})

test('the CIDs that arrived by gossip are remembered for two minutes, not until 4,096 have come', async () => {
  let now = NOW
  const chain = await AnchorChain.open(NET, new MemoryChainStore(), { now: () => NOW })
  const ps = new FakePubSub()
  const gossip = new AnchorGossip(ps, chain, { now: () => now })
  gossip.start()
  const topic = gossip.topics.manifests
  for (let i = 0; i < 30; i++) {
    assert.equal(await ps.deliver(topic, (await manifestFor(100 + i)).bytes), 'accept')
    now += 1000
  }
  assert.equal(gossip.remembered, 30)
  now += RECEIVED_REMEMBERED_MS - 20_000
  assert.equal(await ps.deliver(topic, (await manifestFor(200)).bytes), 'accept')
  // the first 10 arrived more than two minutes ago
  assert.equal(gossip.remembered, 21)
  now += RECEIVED_REMEMBERED_MS + 1
  await ps.deliver(topic, (await manifestFor(201)).bytes)
  assert.equal(gossip.remembered, 1)
  // what arrived now is still not sent back out
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(ps.sent.length, 0)
})

test('publishBlock sends an accepted block with its manifests, once decoded the same block', async () => {
  const { chain, ps, gossip } = await setup()
  const m = await manifestFor(6)
  const b = mineBlock(NET, chain.head, [m])
  assert.equal((await chain.submit(b.header, b.body, b.manifests)).status, 'accepted')
  await gossip.publishBlock(b.cid)
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(ps.sent.length, 1)
  const back = decodeBlockMessage(ps.sent[0].data)
  assert.deepEqual(back.header, b.header)
  assert.deepEqual(back.manifests, [m.bytes])
  assert.ok(cborCid(back.header).equals(b.cid))
  // an unknown block is not published
  await gossip.publishBlock(NET.id)
  assert.equal(ps.sent.length, 1)
})

test('gossipsub options: valid score parameters; one invalid message puts a peer below the graylist', () => {
  const topics = gossipTopics(NET.id)
  const o = gossipOptions(topics, p => p === 'banned')
  const params = createPeerScoreParams(o.scoreParams)
  validatePeerScoreParams(params)
  validatePeerScoreThresholds(createPeerScoreThresholds(o.scoreThresholds))
  assert.deepEqual(Object.keys(params.topics).sort(), [topics.blocks, topics.manifests].sort())
  // P4 is weight × count²
  assert.ok(TOPIC_SCORE.topicWeight * TOPIC_SCORE.invalidMessageDeliveriesWeight * 1 < GRAYLIST_THRESHOLD)
  // the best a peer can earn does not outweigh one invalid message
  assert.ok((params.topicScoreCap) + TOPIC_SCORE.invalidMessageDeliveriesWeight < GRAYLIST_THRESHOLD)
  assert.ok(params.appSpecificScore('banned') * params.appSpecificWeight < GRAYLIST_THRESHOLD)
  assert.equal(params.appSpecificScore('other'), 0)
  assert.equal(o.allowPublishToZeroTopicPeers, true)
  assert.equal(o.emitSelf, false)
  assert.equal(o.globalSignaturePolicy, 'StrictNoSign')
})

test('manifests published while no peer listens, and those queued before the start, go to the first peer that subscribes', async () => {
  const chain = await AnchorChain.open(NET, new MemoryChainStore(), { now: () => NOW })
  const queued = await manifestFor(7)
  await chain.addPending(queued.bytes)
  const ps = new FakePubSub()
  ps.subscribers = []
  const gossip = new AnchorGossip(ps, chain)
  gossip.start()
  const ours = await manifestFor(8)
  await chain.addPending(ours.bytes)
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(ps.sent.length, 0, 'nothing published to nobody')
  ps.join(gossip.topics.blocks)
  assert.equal(ps.sent.length, 0, 'a block-topic subscriber does not take manifests')
  ps.join(gossip.topics.manifests)
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(ps.sent.length, 0, 'not at once: our own stream to the new subscriber may not be open yet')
  await new Promise(resolve => setTimeout(resolve, 1100))
  assert.deepEqual(ps.sent.map(x => cborCid(x.data).toString()).sort(), [queued.cid.toString(), ours.cid.toString()].sort())
  assert.equal(gossip.stats.published, 2)
  // once sent, not again
  ps.join(gossip.topics.manifests)
  await new Promise(resolve => setTimeout(resolve, 1100))
  assert.equal(ps.sent.length, 2)
  gossip.stop()
})

// A hostile anchor peer: a process holding several libp2p nodes (one
// identity per forgery, since the first invalid message gets a sender
// banned) that dial one honest seed, join its block topic on the `test`
// network and publish what the test asks for on stdin, one JSON line each:
//   {"send": KIND, "node": I}   → {"sent": KIND, "node": I, "cid": ..., "recipients": N, "connected": bool}
// (connected: on the seed's topic, re-dialled if need be)
// KINDs: valid (height 1 on genesis), valid-child (height 2 on that one),
// and one forgery per broken rule (anchor-forgeries.ts). It prints
// {"ready": [peer IDs]} once every node sees the seed on the topic, and
// runs until stdin closes or it is killed. Usage: hostile-miner.js SEED_ADDR N

import { createInterface } from 'node:readline'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { cborCid, encodeBody, MAX_BODY_MANIFESTS } from '../../core/anchor/encoding.ts'
import { encodeBlockMessage, gossipTopics, MAX_BLOCK_MESSAGE_BYTES } from '../../core/anchor/gossip.ts'
import { gossipOptions } from '../../core/anchor/gossip-params.ts'
import { signManifest } from '../../core/anchor/manifest.ts'
import { LOCAL, TEST } from '../../core/anchor/params.ts'
import { metaAfter, mineBlock, type MinedBlock } from '../../core/anchor/test-miner.ts'
import { genesisMeta } from '../../core/anchor/validate.ts'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { missTarget } from '../core/anchor/forge.ts'

/** every wait here is bounded */
const WAIT_MS = 30_000
/** a banned node trying to come back: the seed refuses it at once, or lets it in within this */
const REJOIN_MS = 3000

const [seedAddr, countArg] = process.argv.slice(2)
const count = Number(countArg)
const topics = gossipTopics(TEST.id)
const genesis = genesisMeta(TEST)
const now = Date.now()
// the control block, and one to build on it once its senders are banned
const valid = mineBlock(TEST, genesis, [], { time: now, salt: 1 })
const validMeta = metaAfter(valid, genesis)

const root = async (n: number): Promise<CID> => CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(`hostile ${n}`)))

async function forge (kind: string, node: number): Promise<{ data: Uint8Array, cid: string }> {
  const block = (b: MinedBlock, body = b.body, manifests = b.manifests, header = b.header): { data: Uint8Array, cid: string } =>
    ({ data: encodeBlockMessage({ header, body, manifests }), cid: cborCid(header).toString() })
  const salt = 100 + node
  switch (kind) {
    case 'valid': return block(valid)
    case 'valid-child': return block(mineBlock(TEST, validMeta, [], { time: now + 1000, salt }))
    case 'bad-pow': {
      const b = mineBlock(TEST, genesis, [], { time: now, salt })
      return block(b, b.body, [], missTarget(b.header, TEST))
    }
    // harder than the rule's: valid work, wrong number
    case 'wrong-target': return block(mineBlock(TEST, genesis, [], { time: now, salt, tweak: h => { h.target = 0x1f7fffff } }))
    case 'bad-height': return block(mineBlock(TEST, genesis, [], { time: now, salt, tweak: h => { h.height = 7 } }))
    case 'time-too-old': return block(mineBlock(TEST, genesis, [], { time: genesis.time, salt }))
    case 'wrong-network': return block(mineBlock(TEST, genesis, [], { time: now, salt, tweak: h => { h.net = LOCAL.id } }))
    case 'bad-signature': {
      const m = await signManifest(await generateKeyPair('Ed25519'), { root: await root(node), name: 'forged.txt', type: 'file', size: 1, profile: { cidVersion: 1, rawLeaves: true, chunker: 'size-1048576', width: 1024, hamt: 'block-bytes' }, time: now })
      const { decode, encode } = await import('@ipld/dag-cbor')
      const fields = decode<Record<string, unknown>>(m.bytes)
      ;(fields.sig as Uint8Array)[0] ^= 1
      const bad = encode(fields)
      const body = encodeBody([cborCid(bad)])
      return block(mineBlock(TEST, genesis, [], { time: now, salt, tweak: h => { h.body = cborCid(body) } }), body, [bad])
    }
    case 'oversize-body': {
      const body = encodeBody(await Promise.all(Array.from({ length: MAX_BODY_MANIFESTS + 1 }, async (_, i) => await root(1000 + i))))
      return block(mineBlock(TEST, genesis, [], { time: now, salt, tweak: h => { h.body = cborCid(body) } }), body, [])
    }
    case 'body-mismatch': {
      const b = mineBlock(TEST, genesis, [], { time: now, salt })
      return block(b, encodeBody([await root(node)]), [])
    }
    case 'garbage': return { data: new TextEncoder().encode(`not a block ${node}`), cid: '' }
    // a valid block padded past the message limit (within one RPC frame)
    case 'oversize-message': {
      const b = mineBlock(TEST, genesis, [], { time: now, salt })
      const { encode } = await import('@ipld/dag-cbor')
      return { data: encode({ v: 1, header: b.header, body: b.body, manifests: [new Uint8Array(MAX_BLOCK_MESSAGE_BYTES)] }), cid: b.cid.toString() }
    }
    default: throw new Error(`unknown kind ${kind}`)
  }
}

const nodes: Array<Libp2p<{ pubsub: GossipSub }>> = []
for (let i = 0; i < count; i++) {
  nodes.push(await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), pubsub: gossipsub(gossipOptions(topics)) }
  }))
}
const seed = multiaddr(seedAddr)
const seedId = seedAddr.split('/p2p/').pop() as string
/** why a node could not join, for the error line */
const why = new Map<string, string>()

async function joined (n: Libp2p<{ pubsub: GossipSub }>, waitMs = WAIT_MS): Promise<boolean> {
  const until = Date.now() + waitMs
  try {
    await n.dial(seed, { signal: AbortSignal.timeout(waitMs) })
  } catch (err) {
    why.set(n.peerId.toString(), `dial: ${(err as Error).message}`)
    return false
  }
  while (Date.now() < until) {
    if (n.services.pubsub.getSubscribers(topics.blocks).some(p => p.toString() === seedId)) return true
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  why.set(n.peerId.toString(), `the seed did not join the topic within ${waitMs} ms (connections: ${n.getConnections().length})`)
  return false
}

for (const n of nodes) n.services.pubsub.subscribe(topics.blocks)
const ok = await Promise.all(nodes.map(async n => await joined(n)))
if (!ok.every(Boolean)) {
  process.stdout.write(JSON.stringify({ error: `not every node joined the seed on the block topic: ${JSON.stringify([...why])}` }) + '\n')
  process.exit(1)
}
process.stdout.write(JSON.stringify({ ready: nodes.map(n => n.peerId.toString()) }) + '\n')

const lines = createInterface({ input: process.stdin })
for await (const line of lines) {
  const o = JSON.parse(line) as { send: string, node: number }
  const n = nodes[o.node]
  // a banned node tries to come back: the seed's gate refuses it
  const connected = n.getConnections().some(c => c.remotePeer.toString() === seedId) || await joined(n, REJOIN_MS)
  const { data, cid } = await forge(o.send, o.node)
  const r = await n.services.pubsub.publish(topics.blocks, data)
  process.stdout.write(JSON.stringify({ sent: o.send, node: o.node, cid, recipients: r.recipients.length, connected }) + '\n')
}
await Promise.all(nodes.map(async n => { await n.stop() }))
process.exit(0)

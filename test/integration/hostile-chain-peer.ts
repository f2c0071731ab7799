// A peer that lies on the anchor sync protocol: a libp2p node (TCP, Noise,
// Yamux, identify) in a process of its own, with an honest 12-block chain on
// the `test` network whose replies it alters one way (MODE, a name from
// test/core/anchor/forge.ts), and a status claiming far more work than it
// has, so every node that meets it wants its chain. It dials TARGET, prints
// {"listening": ...}, {"request": op} per request, {"disconnected": true}
// when the target hangs up, then {"redial": "ok" | "refused"} for one more
// try, and runs until killed.
//
//   node hostile-chain-peer.js MODE TARGET_MULTIADDR

import { multiaddr } from '@multiformats/multiaddr'
import * as lp from 'it-length-prefixed'
import { AnchorChain } from '../../core/anchor/chain.ts'
import { TEST } from '../../core/anchor/params.ts'
import { MemoryChainStore } from '../../core/anchor/store.ts'
import { answer, decodeRequest, encodeMessage, syncProtocol, type SyncReply } from '../../core/anchor/sync-protocol.ts'
import { mineBlock } from '../../core/anchor/test-miner.ts'
import { hostileReplies } from '../core/anchor/forge.ts'
import type { Uint8ArrayList } from 'uint8arraylist'
import { bareNode } from './bare-node.ts'

const [mode, target] = process.argv.slice(2)
const hostile = hostileReplies(TEST)[mode]
if (hostile == null || target == null) throw new Error(`usage: hostile-chain-peer MODE TARGET (modes: ${Object.keys(hostileReplies(TEST)).join(', ')})`)

const print = (o: unknown): void => { process.stdout.write(JSON.stringify(o) + '\n') }

// honest blocks in the past (one interval apart from genesis): valid wherever they are judged
const chain = await AnchorChain.open(TEST, new MemoryChainStore())
for (let i = 0; i < 12; i++) {
  const b = mineBlock(TEST, chain.head, [], { salt: 7 })
  await chain.submit(b.header, b.body, b.manifests)
}

const node = await bareNode()
await node.handle(syncProtocol(TEST), async stream => {
  try {
    for await (const frame of lp.decode(stream as AsyncIterable<Uint8Array | Uint8ArrayList>)) {
      const req = decodeRequest(frame.subarray())
      print({ request: req.op })
      let reply: SyncReply | Uint8Array = await answer(chain, req)
      // every node that meets us must want our chain
      if (reply.op === 'status') reply = { ...reply, work: (10n ** 30n).toString() }
      reply = await hostile.mutate(req, reply)
      stream.send(lp.encode.single(reply instanceof Uint8Array ? reply : encodeMessage(reply)))
    }
  } catch {
    stream.abort(new Error('closed'))
  }
}, { maxInboundStreams: 8 })
print({ listening: node.getMultiaddrs()[0].toString() })

const ma = multiaddr(target)
let redialed = false
node.addEventListener('peer:disconnect', () => {
  if (redialed) return
  redialed = true
  print({ disconnected: true })
  setTimeout(() => {
    node.dial(ma, { signal: AbortSignal.timeout(10_000) }).then(
      async conn => {
        // a gater may refuse only after the handshake: the connection then dies at once
        await new Promise(resolve => setTimeout(resolve, 1000))
        print({ redial: conn.status === 'open' && node.getConnections().length > 0 ? 'ok' : 'refused' })
      },
      () => { print({ redial: 'refused' }) })
  }, 500)
})
await node.dial(ma, { signal: AbortSignal.timeout(30_000) })
process.on('SIGTERM', () => { void Promise.resolve(node.stop()).then(() => process.exit(0)) })

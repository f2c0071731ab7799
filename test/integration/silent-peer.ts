// A provider that never answers: a libp2p node (TCP, Noise, Yamux,
// identify) in a process of its own that accepts /cairn/blocks streams,
// reads every want and sends nothing back. The swarm must route around it.
// It prints {"listening": "<multiaddr>/p2p/<id>"} and {"wants": N} each time
// it reads one, and runs until killed.

import { BLOCK_PROTOCOL } from '../../core/net/block-protocol.ts'
import { bareNode } from './bare-node.ts'

const node = await bareNode()
let wants = 0
await node.handle(BLOCK_PROTOCOL, async stream => {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- each message is a want; only their number is reported
  for await (const _ of stream) {
    wants++
    process.stdout.write(JSON.stringify({ wants }) + '\n')
  }
}, { maxInboundStreams: 8 })
process.stdout.write(JSON.stringify({ listening: node.getMultiaddrs()[0].toString() }) + '\n')
process.on('SIGTERM', () => { void Promise.resolve(node.stop()).then(() => process.exit(0)) })

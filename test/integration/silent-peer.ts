// A provider that never answers: a libp2p node (TCP, Noise, Yamux,
// identify) in a process of its own that accepts /cairn/blocks streams,
// reads every want and sends nothing back. The swarm must route around it.
// It prints {"listening": "<multiaddr>/p2p/<id>"} and {"wants": N} each time
// it reads one, and runs until killed.

import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { BLOCK_PROTOCOL } from '../../core/net/block-protocol.ts'

const node = await createLibp2p({
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: { identify: identify() }
})
let wants = 0
await node.handle(BLOCK_PROTOCOL, async stream => {
  for await (const _ of stream) {
    wants++
    process.stdout.write(JSON.stringify({ wants }) + '\n')
  }
}, { maxInboundStreams: 8 })
process.stdout.write(JSON.stringify({ listening: node.getMultiaddrs()[0].toString() }) + '\n')
process.on('SIGTERM', () => { void Promise.resolve(node.stop()).then(() => process.exit(0)) })

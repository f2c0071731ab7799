// A stock Helia 7 node in a process of its own, for the interop tests:
// libp2p (TCP, Noise, Yamux, identify) with bitswap, configured explicitly for
// loopback — a stock createHelia() would dial public bootstrap peers and
// delegated routers. Lines on stdin are commands, one JSON answer per line:
//   {"add": "<base64 bytes>"}          → {"cid": "..."}
//   {"cat": "<cid>", "peer": "<ma>"}   → {"bytes": "<base64>"} (dials the peer first)
//   {"agent": "<ma>"}                  → {"agent", "protocols"} (dials the peer, waits for identify)
// It prints {"listening": "<multiaddr>/p2p/<id>"} first.

import { createInterface } from 'node:readline'
import { withBitswap } from '@helia/bitswap'
import { withLibp2pLight } from '@helia/libp2p'
import { unixfs } from '@helia/unixfs'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryBlockstore } from 'blockstore-core'
import { MemoryDatastore } from 'datastore-core'
import { createHeliaLight } from 'helia'
import { CID } from 'multiformats/cid'

/** identify's answer is looked for this many times, 100 ms apart */
const IDENTIFY_POLLS = 50

const helia = withBitswap(withLibp2pLight(createHeliaLight({ blockstore: new MemoryBlockstore(), datastore: new MemoryDatastore() }), {
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: { identify: identify() }
}))
await helia.start()
const fs = unixfs(helia)
const say = (o: unknown): void => { process.stdout.write(JSON.stringify(o) + '\n') }
say({ listening: helia.libp2p.getMultiaddrs()[0].toString() })

for await (const line of createInterface({ input: process.stdin })) {
  try {
    const cmd = JSON.parse(line) as { add?: string, cat?: string, peer?: string, agent?: string }
    if (cmd.add != null) {
      say({ cid: (await fs.addBytes(Buffer.from(cmd.add, 'base64'))).toString() })
    } else if (cmd.agent != null) {
      const ma = multiaddr(cmd.agent)
      const conn = await helia.libp2p.dial(ma)
      // identify runs just after the connection opens: wait (bounded) for its answer
      let agent: Uint8Array | undefined
      let protocols: string[] = []
      for (let i = 0; i < IDENTIFY_POLLS && agent == null; i++) {
        const peer = await helia.libp2p.peerStore.get(conn.remotePeer)
        agent = peer.metadata.get('AgentVersion')
        protocols = peer.protocols
        if (agent == null) await new Promise(resolve => setTimeout(resolve, 100))
      }
      say({ agent: agent == null ? null : new TextDecoder().decode(agent), protocols })
    } else if (cmd.cat != null) {
      if (cmd.peer != null) await helia.libp2p.dial(multiaddr(cmd.peer))
      const chunks: Uint8Array[] = []
      for await (const c of fs.cat(CID.parse(cmd.cat), { signal: AbortSignal.timeout(30_000) })) chunks.push(c)
      say({ bytes: Buffer.concat(chunks).toString('base64') })
    }
  } catch (err) {
    say({ error: (err as Error).message })
  }
}
await helia.stop()

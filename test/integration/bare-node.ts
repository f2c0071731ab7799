// A bare libp2p node on 127.0.0.1 (TCP, Noise, Yamux, identify) for the
// misbehaving peers the tests start in processes of their own: nothing of
// cairn's, so they can do what an honest node never would.

import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { Identify } from '@libp2p/identify'

export async function bareNode (): Promise<Libp2p<{ identify: Identify }>> {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
}

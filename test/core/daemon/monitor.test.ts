// The seed's monitor keeps meters for connected peers only (core/daemon/monitor.ts):
// a seed meets a new identity with every fetcher, and the meters of every
// peer ever seen grew without end. A unit test: the node is a stand-in with
// libp2p's events and nothing else.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { SeedMonitor } from '../../../core/daemon/monitor.ts'
import type { CairnNode } from '../../../core/net/node.ts'

type Served = (peer: string, block: CID, bytes: number) => void

function standIn (): { node: CairnNode, served: () => Served, disconnect: (peer: string) => void } {
  const events = new EventTarget()
  const node = {
    onServed: undefined as Served | undefined,
    libp2p: { addEventListener: events.addEventListener.bind(events) }
  }
  return {
    node: node as unknown as CairnNode,
    served: () => node.onServed as Served,
    disconnect: peer => { events.dispatchEvent(new CustomEvent('peer:disconnect', { detail: { toString: () => peer } })) }
  }
}

test('a peer\'s meters go when it disconnects; the totals keep its bytes', async () => {
  const { node, served, disconnect } = standIn()
  const monitor = new SeedMonitor(node, null)
  try {
    const block = CID.create(1, raw.code, await sha256.digest(Uint8Array.of(1)))
    const fetch = monitor.startTransfer(block)
    const peers = Array.from({ length: 500 }, (_, i) => `peer-${i}`)
    for (const p of peers) {
      served()(p, block, 1000)
      fetch.block(p, 10)
    }
    fetch.end(true)
    assert.equal(monitor.meteredPeers, 500)
    for (const p of peers) disconnect(p)
    assert.equal(monitor.meteredPeers, 0)
    const bw = monitor.bandwidth()
    assert.equal(bw.totalOut, 500_000)
    assert.equal(bw.totalIn, 5000)
    assert.ok(bw.rateOut > 0, 'the bytes of the last 2 s still count in the rate')
  } finally {
    monitor.stop()
  }
})

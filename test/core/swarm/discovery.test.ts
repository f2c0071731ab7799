// Discovery (core/swarm/discovery.ts) with a DHT that names a provider of
// the root holding part of the DAG, and another provider only for the block
// the first lacks (issue 22's soak: "none of the providers of ROOT has block
// LEAF"). A unit test: the node is a stand-in with a content router.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CID } from 'multiformats/cid'
import { identity } from 'multiformats/hashes/identity'
import * as raw from 'multiformats/codecs/raw'
import { Discovery, type DiscoveryHost } from '../../../core/swarm/discovery.ts'
import type { CairnNode } from '../../../core/net/node.ts'
import type { PeerId } from '@libp2p/interface'

const cidOf = (tag: string): CID => CID.createV1(raw.code, identity.digest(new TextEncoder().encode(tag)))
const peer = (name: string): PeerId => ({ toString: () => name }) as unknown as PeerId

test('when every provider of the root refuses a block, the providers of that block are looked up and asked', async () => {
  const root = cidOf('root')
  const leaf = cidOf('leaf')
  const lookedUp: string[] = []
  const providers = new Map([[root.toString(), [peer('partial-holder')]], [leaf.toString(), [peer('leaf-holder')]]])
  const node = {
    settings: { bootstrap: ['/ip4/127.0.0.1/tcp/4001'] },
    libp2p: {
      getConnections: () => [],
      addEventListener: () => {},
      removeEventListener: () => {},
      contentRouting: {
        async * findProviders (cid: CID) {
          lookedUp.push(cid.toString())
          for (const id of providers.get(cid.toString()) ?? []) yield { id, multiaddrs: [] }
        }
      }
    }
  } as unknown as CairnNode
  const added: Array<{ id: string, named: boolean }> = []
  let served = false
  let stuck = false
  const host: DiscoveryHost = {
    add: (id, named) => { added.push({ id: id.toString(), named }) },
    count: () => added.length,
    served: () => served,
    stuck: () => stuck,
    refusedByAll: () => stuck,
    closed: () => false,
    done: () => {},
    looked: () => {}
  }
  const ac = new AbortController()
  const d = new Discovery(node, root, [], ac.signal, host)
  try {
    await d.start()
    assert.deepEqual(added, [{ id: 'partial-holder', named: true }], 'the root\'s provider is asked')
    // it serves the root, then says it has no leaf
    served = true
    d.served()
    assert.equal(d.finished, true)
    stuck = true
    d.stuck(leaf)
    for (let i = 0; i < 200 && !added.some(a => a.id === 'leaf-holder'); i++) await new Promise(resolve => setTimeout(resolve, 10))
    assert.ok(lookedUp.includes(leaf.toString()), `the leaf was looked up (lookups: ${lookedUp.join(', ')})`)
    assert.ok(added.some(a => a.id === 'leaf-holder' && a.named), `the leaf's provider is asked (added: ${JSON.stringify(added)})`)
    // once the leaf has arrived, only the root is looked up again (the next round, within the backoff's first second)
    stuck = false
    lookedUp.length = 0
    d.stuck()
    for (let i = 0; i < 300 && lookedUp.length === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
    assert.deepEqual(lookedUp, [root.toString()])
  } finally {
    d.stop()
    ac.abort()
  }
})

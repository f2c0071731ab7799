// One node of the gossip bench's swarm (gossip.ts), in a process of its
// own: a real repo, CairnNode.start on 127.0.0.1 (gossipsub configured as
// the seed's), the repo's anchor chain on disk and AnchorGossip, as in a
// seed. Requests over the IPC channel:
//
//   start   {dir, network, bootstrap} → {peerId, addrs}
//   peers   {}                        → gossip peers on the block topic
//   submits {}                        → ms each chain.submit took here (validation and storage)
//   publish {header, body}            → {t}: submitted to our chain, then published (t = before submit)
//   stop    {}                        → null, then the process exits
//
// and, unasked, {accepted: CID, t} each time a block becomes our head.
// Times are performance.timeOrigin + performance.now(): one clock for
// every process on the machine.

import fs from 'node:fs/promises'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { AnchorGossip, type PubSub } from '../../core/anchor/gossip.ts'
import { openRepoChain } from '../../core/anchor/service.ts'
import { CairnNode } from '../../core/net/node.ts'
import { Repo } from '../../storage/repo.ts'
import type { AnchorChain } from '../../core/anchor/chain.ts'

interface Request { id: number, op: string, [k: string]: unknown }

const now = (): number => performance.timeOrigin + performance.now()
let node: CairnNode | null = null
let chain: AnchorChain | null = null
let gossip: AnchorGossip | null = null
let repo: Repo | null = null
/** how long each chain.submit took: what a hop costs before gossipsub may forward */
const submitMs: number[] = []

async function start (dir: string, network: string, bootstrap: string[]): Promise<{ peerId: string, addrs: string[] }> {
  await Repo.init(dir)
  // a network name of this run's own keeps other cairn nodes on this machine out of the DHT
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({
    network: { name: network, kind: 'local', mdns: false },
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    anchor: { network: 'test' }
  }))
  repo = await Repo.open(dir, { write: true })
  chain = await openRepoChain(repo, true)
  chain.on('head', h => { process.send?.({ accepted: h.head.key, t: now() }) })
  const submit = chain.submit.bind(chain)
  chain.submit = async (...args) => {
    const t0 = performance.now()
    try { return await submit(...args) } finally { submitMs.push(performance.now() - t0) }
  }
  node = await CairnNode.start(repo, { listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap, mdns: false, gossip: true })
  gossip = new AnchorGossip(node.libp2p.services.pubsub as unknown as PubSub, chain)
  gossip.start()
  return { peerId: node.libp2p.peerId.toString(), addrs: node.addresses() }
}

async function publish (header: Uint8Array, body: Uint8Array): Promise<{ t: number }> {
  if (chain == null || gossip == null) throw new Error('not started')
  const t = now()
  const r = await chain.submit(header, body, [])
  if (r.status !== 'accepted') throw new Error(`the bench block was not accepted: ${JSON.stringify(r)}`)
  await gossip.publishBlock(r.cid)
  return { t }
}

async function stop (): Promise<void> {
  gossip?.stop()
  chain?.close()
  await node?.stop()
  await repo?.close()
}

process.on('message', (m: Request) => {
  void (async () => {
    try {
      let result: unknown = null
      if (m.op === 'start') result = await start(m.dir as string, m.network as string, m.bootstrap as string[])
      else if (m.op === 'peers') result = gossip?.stats.peers ?? 0
      else if (m.op === 'submits') result = submitMs
      else if (m.op === 'publish') result = await publish(Uint8Array.from(m.header as Uint8Array), Uint8Array.from(m.body as Uint8Array))
      else if (m.op === 'stop') await stop()
      else throw new Error(`unknown op ${m.op}`)
      process.send?.({ id: m.id, result })
      if (m.op === 'stop') process.exit(0)
    } catch (err) {
      process.send?.({ id: m.id, error: (err as Error).message })
    }
  })()
})

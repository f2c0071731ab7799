// One process of the DHT bench's swarm: hosts one or more cairn nodes (real
// repos, CairnNode.start, listening on 127.0.0.1 port 0) and runs what the
// controller (dht.ts) asks over the IPC channel:
//
//   start   {dirs, network, bootstrap, existing?} → [{peerId, addrs}]
//   tables  {}                          → [{routingTable, peers}]
//   cpu     {}                          → ms of CPU this process has used
//   usage   {}                          → {cpuMs, heapMiB, heapTotalMiB, externalMiB, rssMiB, connections, opened, openedInbound, closed, closedDuplicate, closedYoung}:
//                                          CPU, memory, connections (and those opened and closed) so far
//   profile {ms, file}                  → null, after a CPU profile of the next ms written to file (.cpuprofile)
//   provide {node, cid}                 → {ms, records}
//   find    {node, cid, provider, timeoutMs} → {found, ms, queried, depth, local}
//   sweep   {node}                      → one full sweep round of the node's repo (sweep-ops.ts)
//   batch   {node, count}               → the old batch provider over count of its CIDs
//   stop    {}                          → null, then the process exits
//
// Timings are taken here, around the libp2p calls, so IPC costs nothing.

import fs from 'node:fs/promises'
import path from 'node:path'
import { Session } from 'node:inspector/promises'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { peerIdFromString } from '@libp2p/peer-id'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { CairnNode } from '../../core/net/node.ts'
import { nodeStats } from '../../core/net/info.ts'
import { PROVIDE_TIMEOUT_MS } from '../../core/net/provider.ts'
import { batchProvide, sweepRound } from './sweep-ops.ts'
import { Repo } from '../../storage/repo.ts'
import type { PeerId } from '@libp2p/interface'

interface Request { id: number, op: string, [k: string]: unknown }

/** BENCH_DHT_DEBUG=2: every query event of the timed calls on stderr */
const DEBUG = process.env.BENCH_DHT_DEBUG === '2'

/** the nodes, in the order `start` was given their dirs: the controller addresses them by index */
const nodes: CairnNode[] = []
/** everything opened, for stop (also what a failed start left behind) */
const opened: CairnNode[] = []
const repos: Repo[] = []

/** The events kad-dht reports through onProgress (query/events.js). */
interface QueryEventDetail {
  name: string
  messageName?: string
  to?: PeerId
  from?: PeerId
  closer?: Array<{ id: PeerId }>
  providers?: Array<{ id: PeerId }>
}
type ProgressEvent = CustomEvent<QueryEventDetail>

/**
 * connections opened and closed by this process's nodes so far: churn costs
 * handshakes. Of those closed: while another to the same peer stayed open
 * (a duplicate), and within 10 s of opening
 */
const churn = { opened: 0, openedInbound: 0, closed: 0, closedDuplicate: 0, closedYoung: 0 }
/** a connection closed this soon after it opened counts as young */
const YOUNG_MS = 10_000

function usage (): { cpuMs: number, heapMiB: number, heapTotalMiB: number, externalMiB: number, rssMiB: number, connections: number } & typeof churn {
  const u = process.cpuUsage()
  const m = process.memoryUsage()
  const connections = nodes.reduce((a, n) => a + n.libp2p.getConnections().length, 0)
  return { cpuMs: (u.user + u.system) / 1000, heapMiB: m.heapUsed / 2 ** 20, heapTotalMiB: m.heapTotal / 2 ** 20, externalMiB: m.external / 2 ** 20, rssMiB: m.rss / 2 ** 20, connections, ...churn }
}

/** A CPU profile of this process over the next `ms`, written to `file` (open it in Chrome's DevTools, or summarise it). */
async function profile (ms: number, file: string): Promise<null> {
  const session = new Session()
  session.connect()
  try {
    await session.post('Profiler.enable')
    await session.post('Profiler.start')
    await sleep(ms)
    const { profile } = await session.post('Profiler.stop')
    await fs.writeFile(file, JSON.stringify(profile))
  } finally {
    session.disconnect()
  }
  return null
}

async function start (dirs: string[], network: string, bootstrap: string[], existing = false): Promise<Array<{ peerId: string, addrs: string[] }>> {
  const started = await Promise.all(dirs.map(async dir => {
    // an existing repo: the sweep bench's seed, filled by `cairn car import` beforehand
    if (!existing) await Repo.init(dir)
    // a network name of this run's own: its DHT protocol is /cairn/<name>/kad/1.0.0,
    // so no other cairn node on this machine can join the swarm
    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({
      network: { name: network, kind: 'local', mdns: false },
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }
    }))
    const repo = await Repo.open(dir, { write: true })
    repos.push(repo)
    const node = await CairnNode.start(repo, { listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap, mdns: false })
    opened.push(node)
    node.libp2p.addEventListener('connection:open', e => {
      churn.opened++
      if (e.detail.direction === 'inbound') churn.openedInbound++
    })
    node.libp2p.addEventListener('connection:close', e => {
      churn.closed++
      if (node.libp2p.getConnections(e.detail.remotePeer).some(c => c.id !== e.detail.id && c.status === 'open')) churn.closedDuplicate++
      if (Date.now() - e.detail.timeline.open < YOUNG_MS) churn.closedYoung++
    })
    return node
  }))
  nodes.push(...started)
  return started.map(node => ({ peerId: node.libp2p.peerId.toString(), addrs: node.addresses() }))
}

function tables (): Array<{ routingTable: number, peers: number }> {
  return nodes.map(n => { const s = nodeStats(n); return { routingTable: s.routingTable, peers: s.peers } })
}

async function provide (i: number, cidText: string): Promise<{ ms: number, records: number }> {
  const cid = CID.parse(cidText)
  let records = 0
  const onProgress = (e: ProgressEvent): void => {
    // sendMessage reports a PEER_RESPONSE once the ADD_PROVIDER message is written
    if (e.detail?.name === 'PEER_RESPONSE' && e.detail.messageName === 'ADD_PROVIDER') records++
    if (DEBUG && e.detail?.name != null) process.stderr.write(`provide +${(performance.now() - t0).toFixed(1)} ${e.detail?.name} ${e.detail?.messageName ?? ''} ${(e.detail?.to ?? e.detail?.from)?.toString().slice(-6) ?? ''}\n`)
  }
  const t0 = performance.now()
  await nodes[i].libp2p.contentRouting.provide(cid, { signal: AbortSignal.timeout(PROVIDE_TIMEOUT_MS), onProgress: onProgress as never })
  return { ms: performance.now() - t0, records }
}

/**
 * Times the first provider yielded by libp2p.contentRouting.findProviders and,
 * from the DHT's query events of the same call, counts
 *   queried: SEND_QUERY events (GET_PROVIDERS requests sent) before the
 *            first PROVIDER event that names the provider
 *   depth:   the lookup depth of the peer that answered with the record: 1 for
 *            a peer the query started from (the finder's own routing table),
 *            d+1 for a peer first named as `closer` by a depth-d peer; 0 when
 *            the finder's own provider store answered
 */
async function find (i: number, cidText: string, providerText: string, timeoutMs: number): Promise<{ found: boolean, ms: number | null, queried: number, depth: number | null, local: boolean }> {
  const node = nodes[i]
  const cid = CID.parse(cidText)
  const provider = peerIdFromString(providerText)
  const self = node.libp2p.peerId
  const dht = node.libp2p.services.dht as unknown as { routingTable: { kBucketSize: number, closestPeers: (kadId: Uint8Array, o: { count: number }) => PeerId[] } }
  // the peers the query will start from: the K closest in our routing table (query/manager.js)
  const kadId = (await sha256.digest(cid.multihash.bytes)).digest
  const depth = new Map<string, number>()
  for (const p of dht.routingTable.closestPeers(kadId, { count: dht.routingTable.kBucketSize })) depth.set(p.toString(), 1)

  let queried = 0
  let answered: { depth: number | null, local: boolean } | null = null
  const onProgress = (e: ProgressEvent): void => {
    const d = e.detail
    if (DEBUG && d?.name != null) process.stderr.write(`find +${(performance.now() - t0).toFixed(1)} ${d.name} ${d.messageName ?? ''} ${(d.to ?? d.from)?.toString().slice(-6) ?? ''}\n`)
    if (d == null || answered != null) return
    if (d.name === 'SEND_QUERY') {
      queried++
    } else if (d.name === 'PEER_RESPONSE' && d.from != null && !d.from.equals(self)) {
      const next = (depth.get(d.from.toString()) ?? NaN) + 1
      for (const c of d.closer ?? []) if (!depth.has(c.id.toString())) depth.set(c.id.toString(), next)
    } else if (d.name === 'PROVIDER' && (d.providers ?? []).some(p => p.id.equals(provider))) {
      const local = d.from?.equals(self) === true
      const dp = local ? 0 : depth.get(d.from?.toString() ?? '')
      answered = { local, depth: dp == null || Number.isNaN(dp) ? null : dp }
    }
  }
  const ac = new AbortController()
  const timer = setTimeout(() => ac.abort(), timeoutMs)
  const t0 = performance.now()
  let ms: number | null = null
  try {
    for await (const p of node.libp2p.contentRouting.findProviders(cid, { signal: ac.signal, onProgress: onProgress as never })) {
      if (p.id.equals(provider)) {
        ms = performance.now() - t0
        break
      }
    }
  } catch (err) {
    if (!ac.signal.aborted) throw err
  } finally {
    clearTimeout(timer)
    ac.abort() // ends the rest of the lookup
  }
  const a = answered as { depth: number | null, local: boolean } | null
  return { found: ms != null, ms, queried, depth: a?.depth ?? null, local: a?.local ?? false }
}

async function stop (): Promise<void> {
  await Promise.allSettled(opened.map(async n => { await n.stop() }))
  await Promise.allSettled(repos.map(async r => { await r.close() }))
}

async function handle (m: Request): Promise<unknown> {
  switch (m.op) {
    case 'start': return await start(m.dirs as string[], m.network as string, m.bootstrap as string[], m.existing === true)
    case 'sweep': return await sweepRound(nodes[m.node as number])
    case 'batch': return await batchProvide(nodes[m.node as number], m.count as number)
    case 'tables': return tables()
    case 'cpu': { const u = process.cpuUsage(); return (u.user + u.system) / 1000 }
    case 'usage': return usage()
    case 'profile': return await profile(Number(m.ms), String(m.file))
    case 'provide': return await provide(m.node as number, m.cid as string)
    case 'find': return await find(m.node as number, m.cid as string, m.provider as string, m.timeoutMs as number)
    case 'stop': await stop(); return null
    default: throw new Error(`unknown op ${m.op}`)
  }
}

process.on('message', (m: Request) => {
  void handle(m).then(
    result => { process.send?.({ id: m.id, ok: true, result }, () => { if (m.op === 'stop') process.exit(0) }) },
    (err: Error) => { process.send?.({ id: m.id, ok: false, error: err.stack ?? err.message }) }
  )
})
// the controller went away: do not linger
process.on('disconnect', () => { void stop().finally(() => process.exit(0)) })
// listening now: the controller sends nothing before this
process.send?.({ ready: true })

// Delegated routing over HTTP (specs.ipfs.tech/routing/http-routing-v1):
// who provides a CID, where a peer is. Answered by the seed itself (it is a
// provider of what it holds, over libp2p and over this gateway), its
// connected peers' records, and the DHT, within a time limit. JSON, or
// NDJSON when the client asks for it; CORS open, as the spec wants for
// browsers.

import { peerIdFromString, peerIdFromCID } from '@libp2p/peer-id'
import { findProviders } from '../net/info.ts'
import { GatewayError, parseAccept, parseCid } from './request.ts'
import type { Exchange } from './exchange.ts'
import type { CairnNode } from '../net/node.ts'
import type { PeerId } from '@libp2p/interface'

/** providers returned, at most (the spec's suggested default) */
const MAX_PROVIDERS = 100
/** a DHT lookup for a routing answer stops after this */
export const ROUTING_TIMEOUT_MS = 5_000
/** ... or after this when the seed already named itself (a JSON client waits for the whole answer) */
const ROUTING_WITH_SELF_MS = 1_000

export interface PeerRecord { Schema: 'peer', ID: string, Addrs: string[], Protocols: string[] }

export interface RoutingHost {
  node: () => Promise<CairnNode>
  /** the gateway's own base address (/ip4/…/tcp/…/http), to name itself as an HTTP provider */
  httpAddress: () => string | null
  holds: (cid: import('multiformats/cid').CID) => Promise<boolean>
}

function wantsNdjson (accept: string | undefined): boolean {
  if (accept == null) return false
  const first = parseAccept(accept).find(a => a.type === 'application/x-ndjson' || a.type === 'application/json' || a.type === '*/*')
  return first?.type === 'application/x-ndjson'
}

async function answer (x: Exchange, key: 'Providers' | 'Peers', records: AsyncIterable<PeerRecord>): Promise<void> {
  const headers = { 'cache-control': 'public, max-age=15', vary: 'Accept' }
  if (wantsNdjson(x.header('accept'))) {
    const lines = (async function * () {
      for await (const r of records) yield Buffer.from(JSON.stringify(r) + '\n')
    })()
    await x.stream(200, { ...headers, 'content-type': 'application/x-ndjson' }, lines)
    return
  }
  const all: PeerRecord[] = []
  for await (const r of records) all.push(r)
  x.respond(200, { ...headers, 'content-type': 'application/json' }, JSON.stringify({ [key]: all }) + '\n')
}

export async function serveProviders (x: Exchange, host: RoutingHost, key: string): Promise<void> {
  const cid = parseCid(key)
  const node = await host.node()
  const self = node.libp2p.peerId.toString()
  const signal = AbortSignal.any([x.signal, AbortSignal.timeout(ROUTING_TIMEOUT_MS)])
  async function * records (): AsyncGenerator<PeerRecord> {
    let count = 0
    const holds = await host.holds(cid)
    if (holds) {
      const http = host.httpAddress()
      if (http != null) { yield { Schema: 'peer', ID: self, Addrs: [http], Protocols: ['transport-ipfs-gateway-http'] }; count++ }
      yield { Schema: 'peer', ID: self, Addrs: node.addresses().map(a => a.replace(/\/p2p\/[^/]+$/, '')), Protocols: ['transport-bitswap'] }
      count++
    }
    // nobody to ask: no lookup
    if (node.libp2p.getConnections().length === 0) return
    try {
      for await (const p of findProviders(node, cid, { timeoutMs: holds ? ROUTING_WITH_SELF_MS : ROUTING_TIMEOUT_MS, max: MAX_PROVIDERS, signal })) {
        if (p.id === self) continue
        yield { Schema: 'peer', ID: p.id, Addrs: p.addresses, Protocols: ['transport-bitswap'] }
        if (++count >= MAX_PROVIDERS) return
      }
    } catch (err) {
      // nobody found in time is an empty answer, not an error (IPIP-0513)
      if (x.signal.aborted) throw err
    }
  }
  await answer(x, 'Providers', records())
}

function parsePeerId (key: string): PeerId {
  try {
    return key.startsWith('1') || key.startsWith('Q') ? peerIdFromString(key) : peerIdFromCID(parseCid(key))
  } catch {
    throw new GatewayError(400, `invalid peer ID "${key.slice(0, 100)}"`)
  }
}

export async function servePeers (x: Exchange, host: RoutingHost, key: string): Promise<void> {
  const id = parsePeerId(key)
  const node = await host.node()
  const signal = AbortSignal.any([x.signal, AbortSignal.timeout(ROUTING_TIMEOUT_MS)])
  async function * records (): AsyncGenerator<PeerRecord> {
    if (id.equals(node.libp2p.peerId)) {
      const http = host.httpAddress()
      yield { Schema: 'peer', ID: id.toString(), Addrs: [...node.addresses().map(a => a.replace(/\/p2p\/[^/]+$/, '')), ...(http != null ? [http] : [])], Protocols: ['transport-bitswap', ...(http != null ? ['transport-ipfs-gateway-http'] : [])] }
      return
    }
    // a connected peer or one in the peer store answers at once; else the DHT
    let addrs: string[] = []
    let protocols: string[] = []
    try {
      const p = await node.libp2p.peerStore.get(id)
      addrs = p.addresses.map(a => a.multiaddr.toString())
      if (p.protocols.some(x => x.startsWith('/ipfs/bitswap/'))) protocols = ['transport-bitswap']
    } catch {}
    if (addrs.length === 0) {
      try {
        const info = await node.libp2p.peerRouting.findPeer(id, { signal })
        addrs = info.multiaddrs.map(a => a.toString())
      } catch (err) {
        if (x.signal.aborted) throw err
      }
    }
    if (addrs.length > 0) yield { Schema: 'peer', ID: id.toString(), Addrs: addrs, Protocols: protocols }
  }
  await answer(x, 'Peers', records())
}

// What a running node says about itself and its peers, as plain data: the
// CLI, the daemon API and the dashboard all read these.

import { setTimeout as sleep } from 'node:timers/promises'
import { backoffDelays } from './backoff-timer.ts'
import { describeDialFailure, parseUserMultiaddr } from './dial-error.ts'
import { CairnError, toError, UsageError } from '../util/errors.ts'
import { routingTableSize } from './kad-internals.ts'
import { isDirect, type AddressRow, type Reachability } from './nat.ts'
import type { CairnNode } from './node.ts'
import { AGENT_VERSION } from '../util/version.ts'
import type { CID } from 'multiformats/cid'

export class NotFoundInNetworkError extends CairnError {}
export class DialError extends CairnError {}

export interface IdInfo {
  id: string
  publicKey: string
  addresses: string[]
  network: string
  dhtProtocol: string
  agent: string
  /** public, private (nobody outside can dial us) or unknown */
  reachability: Reachability
  /** relay peer IDs we hold a reservation on */
  relays: string[]
  /** every address with its state (verified, transport/observed/ip-mapping, relayed) */
  addressStates: AddressRow[]
  /** NAT features on: relay-service, auto-relay, autonat, upnp, dcutr */
  nat: string[]
  /** the protocols this node answers (identify's list), sorted */
  protocols: string[]
  /** the DHT's mode now: a server answers queries and holds records, a client only asks */
  dhtMode: 'client' | 'server'
}

/** The NAT features switched on, as words for `cairn id` and the dashboard. */
export function natFeatures (node: CairnNode): string[] {
  const n = node.nat
  return [n.relayService && 'relay-service', n.autoRelay && 'auto-relay', n.autonat && 'autonat', n.upnp && 'upnp', n.dcutr && 'dcutr'].filter(f => f !== false)
}

export function idInfo (node: CairnNode): IdInfo {
  return {
    id: node.libp2p.peerId.toString(),
    publicKey: Buffer.from(node.libp2p.peerId.publicKey?.raw ?? new Uint8Array()).toString('base64'),
    addresses: node.addresses(),
    network: `${node.settings.kind}:${node.repo.config.network.name}`,
    dhtProtocol: node.settings.dhtProtocol,
    agent: AGENT_VERSION,
    reachability: node.libp2p.services.nat.reachability(),
    relays: node.libp2p.services.nat.relays(),
    addressStates: node.libp2p.services.nat.addresses(),
    nat: natFeatures(node),
    protocols: [...node.libp2p.getProtocols()].sort(),
    dhtMode: node.libp2p.services.dht.getMode()
  }
}

export interface PeerInfoRow {
  id: string
  address: string
  direction: 'inbound' | 'outbound'
  /** ms, from the last ping; null if not measured */
  latency: number | null
  streams: number
  /** through a relay (a circuit address) rather than straight to the peer */
  relayed: boolean
}

export function peers (node: CairnNode): PeerInfoRow[] {
  return node.libp2p.getConnections().map(c => ({
    id: c.remotePeer.toString(),
    address: c.remoteAddr.toString(),
    direction: c.direction,
    latency: c.rtt ?? null,
    streams: c.streams.length,
    relayed: !isDirect(c)
  }))
}

export async function connect (node: CairnNode, addr: string, signal?: AbortSignal): Promise<{ id: string, address: string }> {
  const ma = parseUserMultiaddr(addr, 'connect')
  if (!ma.getComponents().some(c => c.name === 'p2p')) throw new UsageError(`${addr} has no /p2p/<peer id> part`)
  try {
    const conn = await node.libp2p.dial(ma, { signal: signal ?? AbortSignal.timeout(10_000) })
    return { id: conn.remotePeer.toString(), address: conn.remoteAddr.toString() }
  } catch (err) {
    throw new DialError(describeDialFailure(addr, err))
  }
}

export interface ProviderRow { id: string, addresses: string[], ms: number }

/** a lookup that ended with no provider is run again after this, doubling up to RELOOKUP_MAX_MS */
const RELOOKUP_FIRST_MS = 500
const RELOOKUP_MAX_MS = 8_000

/**
 * Providers of `cid` as they are found; throws NotFoundInNetworkError if none
 * within the time limit. A lookup that ends empty is run again until then: a
 * fresh node's first one may run before its bootstrap peer is in its routing
 * table (it then ends at once), and a record may land moments later.
 */
export async function * findProviders (node: CairnNode, cid: CID, o: { timeoutMs: number, max?: number, signal?: AbortSignal }): AsyncGenerator<ProviderRow> {
  const t0 = performance.now()
  const signal = o.signal != null ? AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)]) : AbortSignal.timeout(o.timeoutMs)
  const seen = new Set<string>()
  let failure: Error | undefined
  const pauses = backoffDelays(RELOOKUP_FIRST_MS, RELOOKUP_MAX_MS)
  while (seen.size === 0 && !signal.aborted) {
    try {
      for await (const p of node.libp2p.contentRouting.findProviders(cid, { signal })) {
        const id = p.id.toString()
        if (seen.has(id)) continue
        seen.add(id)
        yield { id, addresses: p.multiaddrs.map(a => a.toString()), ms: Math.round(performance.now() - t0) }
        if (o.max != null && seen.size >= o.max) return
      }
    } catch (err) {
      if (o.signal?.aborted === true) throw err
      if (signal.aborted) break
      failure = toError(err)
      // nobody to ask, and nobody who could connect: waiting cannot help
      if (node.libp2p.getConnections().length === 0 && node.settings.bootstrap.length === 0) break
    }
    // the time limit ends the wait too, and the loop with it
    if (seen.size === 0) await sleep(pauses.next().value, undefined, { signal }).catch(() => {})
  }
  if (o.signal?.aborted === true) throw o.signal.reason
  if (seen.size === 0 && failure != null && !signal.aborted) throw new NotFoundInNetworkError(`finding providers of ${cid.toString()} failed: ${failure.message}`)
  if (seen.size === 0) {
    const last = failure != null ? ` (the last lookup failed: ${failure.message})` : ''
    throw new NotFoundInNetworkError(`no provider of ${cid.toString()} found within ${o.timeoutMs / 1000} s${last}`)
  }
}

export interface NodeStats {
  peers: number
  /** peers in the DHT routing table */
  routingTable: number
  /** connections straight to the peer / through a relay */
  direct: number
  relayed: number
  reachability: Reachability
  relays: string[]
}

export function nodeStats (node: CairnNode): NodeStats {
  const conns = node.libp2p.getConnections()
  return {
    peers: conns.length,
    routingTable: routingTableSize(node.libp2p.services.dht),
    direct: conns.filter(isDirect).length,
    relayed: conns.filter(c => !isDirect(c)).length,
    reachability: node.libp2p.services.nat.reachability(),
    relays: node.libp2p.services.nat.relays()
  }
}

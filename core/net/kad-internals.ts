// The parts of kad-dht cairn uses that its types do not declare: the routing
// table (an undeclared field), the DHT protocol name, and the protobuf
// Message codec (a module the package does not export). Each is read
// through a runtime check, so a kad-dht that moved them fails here, by name,
// instead of being trusted by a type assertion.

import type { PeerId } from '@libp2p/interface'
import { isPeerId } from '@libp2p/interface'
import { UpstreamPatchError } from '../util/errors.ts'
import { undeclared } from './undeclared.ts'

/** Peers in kad-dht's routing table; 0 when it has none (yet). */
export function routingTableSize (dht: unknown): number {
  const size = undeclared(undeclared(dht, 'routingTable'), 'size')
  return typeof size === 'number' ? size : 0
}

/** The routing table's `count` closest peers to a DHT key, nearest first; none when there is no table. */
export function tableClosest (dht: unknown, key: Uint8Array, count: number): PeerId[] {
  const table = undeclared(dht, 'routingTable')
  const closestPeers = undeclared(table, 'closestPeers')
  if (typeof closestPeers !== 'function') return []
  const peers: unknown = closestPeers.call(table, key, { count })
  return Array.isArray(peers) ? peers.filter(isPeerId) : []
}

/** kad-dht's DHT protocol name ('/ipfs/kad/1.0.0' or a configured one). */
export function dhtProtocol (dht: unknown): string {
  const protocol = undeclared(dht, 'protocol')
  if (typeof protocol !== 'string') throw new UpstreamPatchError('kad-dht has no protocol field: core/net/kad-internals.ts was written for @libp2p/kad-dht 16')
  return protocol
}

/** A provider as kad-dht's Message carries it: its peer id's multihash and its addresses. */
export interface PeerRecord { id: Uint8Array, multiaddrs: Uint8Array[] }

/** The fields of kad-dht's protobuf Message that an ADD_PROVIDER uses. */
export interface ProviderMessage {
  type: string
  key: Uint8Array
  closer: PeerRecord[]
  providers: PeerRecord[]
}

export interface KadMessage {
  /** kad-dht's MessageType.ADD_PROVIDER */
  addProvider: string
  /** kad-dht's MessageType.PING: answered by the peer with the same message */
  ping: string
  encode: (m: ProviderMessage) => Uint8Array
}

let messageModule: Promise<KadMessage> | undefined

/**
 * kad-dht's protobuf Message, which the package does not export: loaded
 * from the installed package beside its index (not bundled), and checked.
 */
export async function kadMessage (): Promise<KadMessage> {
  messageModule ??= loadMessage()
  return await messageModule
}

async function loadMessage (): Promise<KadMessage> {
  const mod: unknown = await import(new URL('./message/dht.js', import.meta.resolve('@libp2p/kad-dht')).href)
  const Message = undeclared(mod, 'Message')
  const encode = undeclared(Message, 'encode')
  const types = undeclared(mod, 'MessageType')
  const addProvider = undeclared(types, 'ADD_PROVIDER')
  const ping = undeclared(types, 'PING')
  if (typeof encode !== 'function' || typeof addProvider !== 'string' || typeof ping !== 'string') {
    throw new UpstreamPatchError('kad-dht\'s message/dht.js has no Message.encode, MessageType.ADD_PROVIDER or MessageType.PING: core/net/kad-internals.ts was written for @libp2p/kad-dht 16')
  }
  return {
    addProvider,
    ping,
    encode: m => {
      const bytes: unknown = encode.call(Message, m)
      if (!(bytes instanceof Uint8Array)) throw new UpstreamPatchError('kad-dht\'s Message.encode did not return bytes')
      return bytes
    }
  }
}

// Network kinds: one code path, two configurations.
//
//   local  own DHT protocol derived from the network name; loopback and
//          private addresses kept
//   ipfs   the public Amino DHT and its bootstrap list (unless
//          network.publicBootstrap is false); private addresses dropped
//
// Either way, libp2p's connection limits (connections.max, the cap on
// connections still opening, the per-IP inbound rate) spare only this
// machine (loopback and its own interface addresses: many peers share one
// IP there, every peer on loopback is 127.0.0.1) and the ranges listed in
// connections.exempt. The LAN is not spared by default: any host on it could
// otherwise open connections without limit.
//
// docs/network.md explains every setting.

import { isIP } from 'node:net'
import os from 'node:os'
import { passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht'
import type { Config } from '../../storage/config.ts'

/** The public IPFS bootstrap peers (Kubo's list), used by the `ipfs` kind only, and only with network.publicBootstrap. */
export const AMINO_BOOTSTRAP = [
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmQCU2EcMqAqQPR2i9bChDtGNJchTbq5TbXJJ16u19uLTa',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmcZf59bWwK5XFi76CZX8cbJ4BhTzzA3gU1ZjYZcYW3dwt',
  '/ip4/104.131.131.82/tcp/4001/p2p/QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ'
]

/** Loopback: always exempt from libp2p's connection limits. */
export const LOOPBACK_ALLOW = ['/ip4/127.0.0.0/ipcidr/8', '/ip6/::1/ipcidr/128']

/** This machine's own interface addresses, as single-address ranges (a peer on this host dialling our LAN address). */
export function ownAddresses (): string[] {
  const out: string[] = []
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal) continue
      // a link-local IPv6 address carries its zone (%eth0), which a multiaddr cannot
      if (a.family === 'IPv6' && a.address.includes('%')) continue
      out.push(a.family === 'IPv4' ? `/ip4/${a.address}/ipcidr/32` : `/ip6/${a.address}/ipcidr/128`)
    }
  }
  return out
}

/** "192.0.2.0/24" (config) → "/ip4/192.0.2.0/ipcidr/24" (libp2p's allow list) */
export function cidrToMultiaddr (cidr: string): string {
  const [addr, bits] = cidr.split('/')
  return `/${isIP(addr) === 6 ? 'ip6' : 'ip4'}/${addr}/ipcidr/${bits}`
}

/** What libp2p's connection limits spare: this machine and connections.exempt. */
export function exemptRanges (config: Config): string[] {
  return [...new Set([...LOOPBACK_ALLOW, ...ownAddresses(), ...config.connections.exempt.map(cidrToMultiaddr)])]
}

export interface NetworkSettings {
  kind: 'local' | 'ipfs'
  dhtProtocol: string
  /** configured and --bootstrap peers, plus the public list in `ipfs` mode unless network.publicBootstrap is false */
  bootstrap: string[]
  peerInfoMapper: typeof passthroughMapper
  /**
   * the DHT mode at start. false (`local`): always a server (no AutoNAT on
   * loopback to promote it). true (`ipfs`): a client, made a server while the
   * reachability is public (node.ts)
   */
  clientMode: boolean
  /** exempt from libp2p's connection limits (multiaddr ranges) */
  allow: string[]
  /** first self-query after start, then the interval: fills routing tables */
  initialQuerySelfInterval: number | undefined
  querySelfInterval: number | undefined
}

export function dhtProtocolFor (name: string): string {
  return `/cairn/${name}/kad/1.0.0`
}

export function networkSettings (config: Config, extraBootstrap: string[] = []): NetworkSettings {
  const bootstrap = [...new Set([...config.bootstrap, ...extraBootstrap])]
  if (config.network.kind === 'ipfs') {
    return {
      kind: 'ipfs',
      dhtProtocol: '/ipfs/kad/1.0.0',
      bootstrap: config.network.publicBootstrap ? [...new Set([...bootstrap, ...AMINO_BOOTSTRAP])] : bootstrap,
      peerInfoMapper: removePrivateAddressesMapper,
      // a client until a dial-back shows we are reachable, then a server
      // (node.ts follows the reachability), as Kubo's "auto" mode does
      clientMode: true,
      allow: exemptRanges(config),
      initialQuerySelfInterval: undefined,
      querySelfInterval: undefined
    }
  }
  return {
    kind: 'local',
    dhtProtocol: dhtProtocolFor(config.network.name),
    bootstrap,
    peerInfoMapper: passthroughMapper,
    clientMode: false,
    allow: exemptRanges(config),
    // measured: the default (first self-query ~1 s, then every 5 min) left
    // late joiners out of tables for minutes; 200 ms then 60 s fills them in 2-4 s
    initialQuerySelfInterval: 200,
    querySelfInterval: 60_000
  }
}

// Network kinds: one code path, two configurations.
//
//   local  own DHT protocol derived from the network name; loopback and
//          private addresses kept; this machine's and the LAN's ranges exempt
//          from libp2p's per-IP inbound rate limit (many peers share one IP
//          there: every peer on loopback is 127.0.0.1)
//   ipfs   the public Amino DHT and its bootstrap list (unless
//          network.publicBootstrap is false); private addresses dropped;
//          only loopback exempt
//
// docs/network.md explains every setting.

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

/** Ranges exempt from the per-IP inbound limit on a `local` network. */
export const LOCAL_ALLOW = [
  '/ip4/127.0.0.0/ipcidr/8', '/ip6/::1/ipcidr/128', // this machine
  '/ip4/10.0.0.0/ipcidr/8', '/ip4/172.16.0.0/ipcidr/12', '/ip4/192.168.0.0/ipcidr/16', // RFC 1918 LANs
  '/ip6/fc00::/ipcidr/7', '/ip6/fe80::/ipcidr/10', // IPv6 ULA and link-local
  '/ip4/192.0.2.0/ipcidr/24', '/ip4/198.51.100.0/ipcidr/24', '/ip4/203.0.113.0/ipcidr/24' // documentation ranges (test namespaces)
]

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
      allow: ['/ip4/127.0.0.0/ipcidr/8', '/ip6/::1/ipcidr/128'],
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
    allow: LOCAL_ALLOW,
    // measured: the default (first self-query ~1 s, then every 5 min) left
    // late joiners out of tables for minutes; 200 ms then 60 s fills them in 2-4 s
    initialQuerySelfInterval: 200,
    querySelfInterval: 60_000
  }
}

// The cairn node: libp2p (TCP, Noise, Yamux, identify, ping, kad-dht,
// bootstrap, optional mDNS and private swarm key, and the NAT parts of
// core/net/nat.ts: circuit relay, a dial-back reachability check, UPnP,
// DCUtR) under a light Helia with
// bitswap over the repo's block store. Composed explicitly: a stock
// createHelia() would dial public bootstrap peers and delegated routers.

import { withBitswap } from '@helia/bitswap'
import { withLibp2pLight } from '@helia/libp2p'
import { bootstrap } from '@libp2p/bootstrap'
import { identify } from '@libp2p/identify'
import { kadDHT, type KadDHT } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createHeliaLight } from 'helia'
import { CairnError } from '../errors.ts'
import { BootstrapKeeper } from './bootstrap-keeper.ts'
import { TableFiller } from './table-filler.ts'
import { MemoryDatastore } from 'datastore-core'
import { BLOCK_PROTOCOL, serveBlocks, type ServeStats } from './block-protocol.ts'
import { loadOrCreateIdentity } from './identity.ts'
import { networkSettings, type NetworkSettings } from './network.ts'
import { applyPublicRanges, natServices, natSettings, relayTransport, type NatOptions, type NatSettings, type NatWatcher } from './nat.ts'
import type { Repo } from '../../storage/repo.ts'
import type { Identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'
import type { Helia } from 'helia'

/** a private swarm: peers without the same key cannot connect at all */
export const SWARM_KEY_FILE = 'swarm.key'

export interface NodeOptions extends NatOptions {
  /** overrides config addresses.listen */
  listen?: string[]
  /** added to config bootstrap */
  bootstrap?: string[]
  mdns?: boolean
}

/** block streams one peer may hold open to us at once */
const MAX_BLOCK_STREAMS_PER_PEER = 4

export type Services = { dht: KadDHT, identify: Identify, ping: Ping, nat: NatWatcher }

export class NodeStartError extends CairnError {}

export class CairnNode {
  private constructor (
    readonly repo: Repo,
    readonly helia: Helia & { libp2p: Libp2p<Services> },
    readonly settings: NetworkSettings,
    readonly nat: NatSettings,
    readonly keeper: BootstrapKeeper,
    readonly filler: TableFiller
  ) {}

  /** blocks served over /cairn/blocks since start */
  readonly served: ServeStats = { blocks: 0, bytes: 0 }
  /** told of every block served (the dashboard's per-peer rates) */
  onServed: ((peer: string, bytes: number) => void) | undefined

  get libp2p (): Libp2p<Services> { return this.helia.libp2p }

  static async start (repo: Repo, o: NodeOptions = {}): Promise<CairnNode> {
    const settings = networkSettings(repo.config, o.bootstrap)
    const nat = natSettings(repo.config, o)
    applyPublicRanges(nat)
    const privateKey = await loadOrCreateIdentity(repo)
    const swarmKey = await repo.readSecret(SWARM_KEY_FILE)
    const listen = o.listen ?? repo.config.addresses.listen
    const discovery = []
    if (settings.bootstrap.length > 0) discovery.push(bootstrap({ list: settings.bootstrap, timeout: 0 }))
    if (o.mdns ?? repo.config.network.mdns) discovery.push(mdns())

    // bitswap answers over relayed (limited) connections too: a peer behind a
    // NAT may be reachable no other way
    const helia = withBitswap(withLibp2pLight(createHeliaLight({
      blockstore: repo.blocks as never,
      datastore: repo.datastore,
      // our blocks verify themselves on read; Helia need not keep its own GC lock
      holdGcLock: false
    }), {
      privateKey,
      // peer records and other nodes' provider records in memory, as Kubo's
      // peer store: in the repo's datastore-fs every DHT message cost file
      // reads and writes (measured: provide 2.6 s → 0.55 s, first provider
      // 364 → 23 ms on a 20-node loopback swarm)
      datastore: new MemoryDatastore(),
      addresses: { listen },
      transports: [tcp(), relayTransport()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionProtector: swarmKey != null ? preSharedKey({ psk: swarmKey }) : undefined,
      peerDiscovery: discovery,
      connectionManager: {
        maxConnections: repo.config.connections.max,
        allow: settings.allow
      },
      services: {
        identify: identify(),
        // kad-dht pings new contacts through this service; with the default
        // one outbound stream, the connection monitor's own ping found it
        // taken and dropped the connection ~10 s after it opened
        ping: ping({ maxOutboundStreams: 4 }),
        dht: kadDHT({
          protocol: settings.dhtProtocol,
          clientMode: settings.clientMode,
          peerInfoMapper: settings.peerInfoMapper,
          initialQuerySelfInterval: settings.initialQuerySelfInterval,
          querySelfInterval: settings.querySelfInterval
        }),
        ...(await natServices(nat))
      }
    }), { runOnLimitedConnections: true })
    try {
      await helia.start()
    } catch (err) {
      throw new NodeStartError(`cannot start the node: ${(err as Error).message}`)
    }
    const node = new CairnNode(repo, helia as never, settings, nat, new BootstrapKeeper(helia.libp2p as Libp2p, settings.bootstrap), new TableFiller(helia.libp2p as Libp2p, helia.libp2p.services.dht))
    await helia.libp2p.handle(BLOCK_PROTOCOL, (stream, connection) => {
      void serveBlocks(stream, repo.blocks, node.served, node.onServed, connection.remotePeer.toString())
    }, { maxInboundStreams: MAX_BLOCK_STREAMS_PER_PEER, runOnLimitedConnection: true })
    node.keeper.start()
    node.filler.start()
    return node
  }

  /**
   * Addresses with our peer ID, as others dial them: those we listen on
   * (a public one before AutoNAT has confirmed it too: libp2p announces
   * only confirmed ones), then relayed and other confirmed ones.
   */
  addresses (): string[] {
    const id = this.libp2p.peerId.toString()
    const rows = this.libp2p.services.nat.addresses().filter(a => a.type === 'transport' || a.verified)
    rows.sort((a, b) => Number(a.relayed) - Number(b.relayed))
    return [...new Set(rows.map(a => a.address.endsWith(`/p2p/${id}`) ? a.address : `${a.address}/p2p/${id}`))]
  }

  async stop (): Promise<void> {
    this.keeper.stop()
    this.filler.stop()
    await this.helia.stop()
  }
}

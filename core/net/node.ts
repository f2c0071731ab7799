// The cairn node: libp2p (TCP, Noise, Yamux, identify, ping, kad-dht,
// bootstrap, optional mDNS and private swarm key) under a light Helia with
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
import { BlockNotFoundError, CairnError, ConfigError, CorruptBlockError } from '../errors.ts'
import { BootstrapKeeper } from './bootstrap-keeper.ts'
import { TableFiller } from './table-filler.ts'
import { MemoryDatastore } from 'datastore-core'
import { BLOCK_PROTOCOL, serveBlocks, type ServeStats } from './block-protocol.ts'
import { loadOrCreateIdentity } from './identity.ts'
import { PeerGuard, type BitswapEngine } from './peer-guard.ts'
import { networkSettings, type NetworkSettings } from './network.ts'
import type { Repo } from '../../storage/repo.ts'
import type { Blocks } from '../../storage/blocks.ts'
import type { Identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'
import type { Helia } from 'helia'
import type { CID } from 'multiformats/cid'

/** a private swarm: peers without the same key cannot connect at all */
export const SWARM_KEY_FILE = 'swarm.key'

export interface NodeOptions {
  /** overrides config addresses.listen */
  listen?: string[]
  /** added to config bootstrap */
  bootstrap?: string[]
  mdns?: boolean
  /** added to config security.allow / security.deny (seed --allow / --deny) */
  allow?: string[]
  deny?: string[]
  /** overrides config security.trustedOnly */
  trustedOnly?: boolean
}

/** block streams one peer may hold open to us at once */
const MAX_BLOCK_STREAMS_PER_PEER = 4
/**
 * bitswap streams one connection may hold open to us: @helia/bitswap's code
 * allows 1024 (its docs say 32); an honest peer uses one or two at a time
 */
const MAX_BITSWAP_STREAMS_PER_PEER = 32

export type Services = { dht: KadDHT, identify: Identify, ping: Ping }

export class NodeStartError extends CairnError {}

/** the error name Helia's bitswap treats as "don't have" */
class NotFoundError extends Error { override name = 'NotFoundError' }

/**
 * The repo's blocks as Helia sees them: a block that fails its hash on disk
 * (or vanished since `has`) is "not found". Bitswap answers that with
 * don't-have; any other error made it drop every want in the batch, so one
 * bad block stopped a peer's whole download from this seed.
 */
function missingWhenBad (blocks: Blocks): Blocks {
  return new Proxy(blocks, {
    get (target, prop) {
      if (prop === 'get') {
        return async function * (cid: CID, options?: { signal?: AbortSignal }): AsyncGenerator<Uint8Array> {
          try {
            yield await target.getBytes(cid, options)
          } catch (err) {
            if (err instanceof CorruptBlockError || err instanceof BlockNotFoundError) throw new NotFoundError(err.message)
            throw err
          }
        }
      }
      const v = Reflect.get(target, prop, target) as unknown
      return typeof v === 'function' ? v.bind(target) : v
    }
  })
}

export class CairnNode {
  private constructor (
    readonly repo: Repo,
    readonly helia: Helia & { libp2p: Libp2p<Services> },
    readonly settings: NetworkSettings,
    readonly keeper: BootstrapKeeper,
    readonly filler: TableFiller,
    /** admission (allow/deny, per-IP limit) and misbehaviour bans */
    readonly guard: PeerGuard
  ) {}

  /** blocks served over /cairn/blocks since start */
  readonly served: ServeStats = { blocks: 0, bytes: 0 }
  /** told of every block served (the dashboard's per-peer rates) */
  onServed: ((peer: string, bytes: number) => void) | undefined

  get libp2p (): Libp2p<Services> { return this.helia.libp2p }

  /** Helia's bitswap engine (Helia keeps its block brokers private) */
  get bitswap (): BitswapEngine & { want: (cid: CID, o: { signal: AbortSignal, maxProviders: number, onProgress?: (e: { type: string, detail: unknown }) => void }) => Promise<Uint8Array> } {
    const brokers = (this.helia as unknown as { blockBrokers: Array<{ name: string, bitswap?: unknown }> }).blockBrokers
    const b = brokers.find(x => x.name === 'bitswap')?.bitswap
    if (b == null) throw new CairnError('the node has no bitswap')
    return b as never
  }

  static async start (repo: Repo, o: NodeOptions = {}): Promise<CairnNode> {
    const settings = networkSettings(repo.config, o.bootstrap)
    const privateKey = await loadOrCreateIdentity(repo)
    const swarmKey = await repo.readSecret(SWARM_KEY_FILE)
    const listen = o.listen ?? repo.config.addresses.listen
    const discovery = []
    if (settings.bootstrap.length > 0) discovery.push(bootstrap({ list: settings.bootstrap, timeout: 0 }))
    if (o.mdns ?? repo.config.network.mdns) discovery.push(mdns())
    const security = repo.config.security
    const guard = new PeerGuard({
      allow: [...security.allow, ...(o.allow ?? [])],
      deny: [...security.deny, ...(o.deny ?? [])],
      trustedOnly: o.trustedOnly ?? security.trustedOnly,
      maxConnectionsPerIP: repo.config.connections.maxPerIP
    })
    if ((o.trustedOnly ?? security.trustedOnly) && security.allow.length + (o.allow ?? []).length === 0) {
      throw new ConfigError('trusted-peers-only mode needs at least one allowed peer ID or address range (security.allow or --allow)')
    }

    const helia = withBitswap(withLibp2pLight(createHeliaLight({
      blockstore: missingWhenBad(repo.blocks) as never,
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
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionProtector: swarmKey != null ? preSharedKey({ psk: swarmKey }) : undefined,
      peerDiscovery: discovery,
      connectionGater: guard.gater(),
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
        })
      }
    }), { maxInboundStreams: MAX_BITSWAP_STREAMS_PER_PEER })
    try {
      await helia.start()
    } catch (err) {
      throw new NodeStartError(`cannot start the node: ${(err as Error).message}`)
    }
    guard.attach(helia.libp2p as Libp2p)
    const node = new CairnNode(repo, helia as never, settings, new BootstrapKeeper(helia.libp2p as Libp2p, settings.bootstrap), new TableFiller(helia.libp2p as Libp2p, helia.libp2p.services.dht), guard)
    guard.watchBitswap(node.bitswap)
    await helia.libp2p.handle(BLOCK_PROTOCOL, (stream, connection) => {
      void serveBlocks(stream, repo.blocks, node.served, node.onServed, connection.remotePeer.toString(), offence => guard.report(connection.remotePeer, offence))
    }, { maxInboundStreams: MAX_BLOCK_STREAMS_PER_PEER })
    node.keeper.start()
    node.filler.start()
    return node
  }

  /** Listen addresses with our peer ID, as others dial them. */
  addresses (): string[] {
    return this.libp2p.getMultiaddrs().map(a => a.toString())
  }

  async stop (): Promise<void> {
    this.keeper.stop()
    this.filler.stop()
    await this.helia.stop()
  }
}

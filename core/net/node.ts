// The cairn node: libp2p (TCP, Noise, Yamux, identify, ping, kad-dht,
// bootstrap, optional mDNS and private swarm key, the NAT parts of
// core/net/nat.ts: circuit relay, a dial-back reachability check, UPnP,
// DCUtR, and gossipsub for the anchor chain: core/anchor/gossip-params.ts)
// with bitswap and /cairn/blocks over the repo's block store. Composed explicitly: a stock
// createHelia() would dial public bootstrap peers and delegated routers
// (and Helia itself is not needed: bitswap-host.ts).

import { bootstrap } from '@libp2p/bootstrap'
import { identify } from '@libp2p/identify'
import { kadDHT, type KadDHT } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { ipnsSelector } from 'ipns/selector'
import { ipnsValidator } from 'ipns/validator'
import { observeSentBlocks, startBitswap, type BitswapService } from './bitswap-host.ts'
import { CairnError, ConfigError, errorMessage, isNamedError } from '../util/errors.ts'
import { parseUserMultiaddr } from './dial-error.ts'
import { PeerGuard } from './peer-guard.ts'
import { BootstrapKeeper } from './bootstrap-keeper.ts'
import { TableFiller } from './table-filler.ts'
import { PeerDatastore, PeerSweeper } from './peer-datastore.ts'
import { RateLimiter } from '../util/rate.ts'
import { noiseCrypto } from './noise-crypto.ts'
import { ownRemotePeers } from './own-peer-ids.ts'
import { parseRate, parseSize } from '../../storage/units.ts'
import { BlockBudget, DEFAULT_BLOCK_MEMORY } from './block-budget.ts'
import { BitswapServe } from './bitswap-serve.ts'
import { BLOCK_PROTOCOL, ChannelPool, serveBlocks, type ServeStats } from './block-protocol.ts'
import { loadOrCreateIdentity } from './identity.ts'
import { explainListenFailure } from './listen-check.ts'
import { networkSettings, type NetworkSettings } from './network.ts'
import { applyPublicRanges, natServices, natSettings, relayTransport, type NatOptions, type NatSettings, type NatWatcher } from './nat.ts'
import type { Repo } from '../../storage/repo.ts'
import type { Identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'
import type { GossipSub } from '@libp2p/gossipsub'
import { anchorGossipsub } from '../anchor/gossip-params.ts'
import { gossipTopics } from '../anchor/gossip.ts'
import { networkByName } from '../anchor/params.ts'
import { AGENT_VERSION, CAIRN_VERSION } from '../util/version.ts'
import type { RelayMeter } from './relay-meter.ts'

/** a private swarm: peers without the same key cannot connect at all */
export const SWARM_KEY_FILE = 'swarm.key'

export interface NodeOptions extends NatOptions {
  /** overrides config addresses.listen */
  listen?: string[]
  /** added to config bootstrap */
  bootstrap?: string[]
  mdns?: boolean
  /** bytes per second; overrides config transfer.maxUpload (0 = no cap) */
  maxUpload?: number
  /** bytes per second; overrides config transfer.maxDownload (0 = no cap) */
  maxDownload?: number
  /** added to config security.allow / security.deny (seed --allow / --deny) */
  allow?: string[]
  deny?: string[]
  /** overrides config security.trustedOnly */
  trustedOnly?: boolean
  /** run gossipsub for the anchor chain (seeds); a command's own node has no use for it */
  gossip?: boolean
  /** bytes; overrides config transfer.blockMemory */
  blockMemory?: number
}

/** block streams one peer may hold open to us at once */
const MAX_BLOCK_STREAMS_PER_PEER = 4
/**
 * bitswap streams one connection may hold open to us: @helia/bitswap's code
 * allows 1024 (its docs say 32); an honest peer uses one or two at a time
 */
const MAX_BITSWAP_STREAMS_PER_PEER = 32
/** wants one peer may have queued with our bitswap: Helia's default; older ones are dropped past it */
const MAX_BITSWAP_WANTS_PER_PEER = 1024
/** bitswap send jobs queued per peer behind the running one (Helia's default); more messages are dropped, their wants kept */
const MAX_BITSWAP_SEND_JOBS_PER_PEER = 10

export type Services = { dht: KadDHT, identify: Identify, ping: Ping, nat: NatWatcher, pubsub?: GossipSub, relayMeter?: RelayMeter }

export class NodeStartError extends CairnError {}

export class CairnNode {
  private constructor (
    readonly repo: Repo,
    /** every block this node sends, over /cairn/blocks or bitswap */
    readonly upload: RateLimiter,
    /** every block this node's fetches receive */
    readonly download: RateLimiter,
    readonly libp2p: Libp2p<Services>,
    /** bitswap for every IPFS peer, serving the repo and fetching from non-cairn peers */
    readonly bitswap: BitswapService,
    readonly settings: NetworkSettings,
    readonly nat: NatSettings,
    readonly keeper: BootstrapKeeper,
    readonly filler: TableFiller,
    /** admission (allow/deny, per-IP limit) and misbehaviour bans */
    readonly guard: PeerGuard,
    /** memory for blocks in flight to other peers, both protocols */
    readonly budget: BlockBudget
  ) {
    this.channels = new ChannelPool(libp2p)
  }

  /** block streams to other peers, kept between fetches */
  readonly channels: ChannelPool

  /** drops expired peer records and forgets peers gone a while (peer-datastore.ts) */
  private sweeper: PeerSweeper | null = null

  /** blocks served over /cairn/blocks since start */
  readonly served: ServeStats = { blocks: 0, bytes: 0 }
  /** told of every block served over either protocol (the dashboard's per-peer rates and uploads); `block` is its blockKey */
  onServed: ((peer: string, block: string, bytes: number) => void) | undefined

  static async start (repo: Repo, o: NodeOptions = {}): Promise<CairnNode> {
    // addresses from the command line: a malformed one is a usage error, named
    for (const a of o.listen ?? []) parseUserMultiaddr(a, '--listen')
    for (const a of o.bootstrap ?? []) parseUserMultiaddr(a, '--bootstrap')
    for (const a of o.relays ?? []) parseUserMultiaddr(a, '--relay')
    const settings = networkSettings(repo.config, o.bootstrap)
    const nat = natSettings(repo.config, o)
    applyPublicRanges(nat)
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

    const upload = new RateLimiter(o.maxUpload ?? parseRate(repo.config.transfer.maxUpload) ?? 0)
    const download = new RateLimiter(o.maxDownload ?? parseRate(repo.config.transfer.maxDownload) ?? 0)
    // every block in flight to other peers, over either protocol, in one budget (block-budget.ts)
    const budget = new BlockBudget(o.blockMemory ?? parseSize(repo.config.transfer.blockMemory) ?? DEFAULT_BLOCK_MEMORY)
    const serve = new BitswapServe(repo.blocks, upload, budget)
    const options = {
      privateKey,
      nodeInfo: { name: 'cairn', version: CAIRN_VERSION, userAgent: AGENT_VERSION },
      // peer records and other nodes' provider records in memory, as Kubo's
      // peer store: in the repo's datastore-fs every DHT message cost file
      // reads and writes (measured: provide 2.6 s → 0.55 s, first provider
      // 364 → 23 ms on a 20-node loopback swarm), each value in a buffer of
      // its own size (peer-datastore.ts)
      datastore: new PeerDatastore(),
      addresses: { listen },
      transports: [tcp(), relayTransport()],
      // each connection's remote peer ID on a buffer of its own (own-peer-ids.ts)
      connectionEncrypters: [ownRemotePeers(noise({ crypto: noiseCrypto }))],
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
          querySelfInterval: settings.querySelfInterval,
          // IPNS records (core/names/): checked as every IPNS node checks them
          // before they are stored or returned, the highest sequence wins
          validators: { ipns: ipnsValidator },
          selectors: { ipns: ipnsSelector }
        }),
        // anchor chain gossip (core/anchor/gossip.ts): topics of the configured network only; banned peers score at the bottom
        ...(o.gossip === true ? { pubsub: anchorGossipsub(gossipTopics(networkByName(repo.config.anchor.network).id), peer => guard.isBanned(peer)) } : {}),
        ...(await natServices(nat, upload))
      }
    }
    let libp2p: Libp2p<Services>
    let bitswap: BitswapService
    try {
      libp2p = await createLibp2p(options)
    } catch (err) {
      // a busy port is the common case (a second repo's seed on the default port): one line that says so
      if (isNamedError(err, 'UnsupportedListenAddressesError')) {
        throw (await explainListenFailure(listen)) ?? new NodeStartError(`cannot listen on ${listen.join(', ')} (cairn seed --listen, or config addresses.listen)`)
      }
      throw new NodeStartError(`cannot start the node: ${errorMessage(err).split('\n')[0]}`)
    }
    try {
      // bitswap answers over relayed (limited) connections too: a peer behind a
      // NAT may be reachable no other way
      bitswap = await startBitswap(libp2p, serve.reader(), {
        runOnLimitedConnections: true,
        maxInboundStreams: MAX_BITSWAP_STREAMS_PER_PEER,
        // the inbound queue: wants kept per peer (Helia's own default, said
        // here so it stays), and send jobs queued per peer beyond the one
        // running; what those wants cost in block memory is the budget's
        maxWantListSize: MAX_BITSWAP_WANTS_PER_PEER,
        sendBlocksMaxQueueLength: MAX_BITSWAP_SEND_JOBS_PER_PEER
      })
      serve.attach(bitswap.bitswap)
    } catch (err) {
      await libp2p.stop()
      throw new NodeStartError(`cannot start bitswap: ${errorMessage(err)}`)
    }
    guard.attach(libp2p)
    if (settings.kind === 'ipfs') {
      // Kubo's "auto" DHT mode: a server only while a peer has dialled us back
      // (reachability public); unknown or private, a client. A server nobody
      // can dial would sit in other peers' routing tables and fail their queries.
      libp2p.services.nat.onReachability = r => { void libp2p.services.dht.setMode(r === 'public' ? 'server' : 'client').catch(() => {}) }
    }
    const node = new CairnNode(repo, upload, download, libp2p, bitswap, settings, nat, new BootstrapKeeper(libp2p, settings.bootstrap), new TableFiller(libp2p, libp2p.services.dht), guard, budget)
    guard.watchBitswap(bitswap.bitswap)
    observeSentBlocks(bitswap.bitswap, (peer, block, bytes) => node.onServed?.(peer, block, bytes))
    await libp2p.handle(BLOCK_PROTOCOL, (stream, connection) => {
      void serveBlocks(stream, repo.blocks, { stats: node.served, onServed: (peer, block, bytes) => node.onServed?.(peer, block, bytes), peer: connection.remotePeer.toString(), limiter: upload, budget, onViolation: offence => { guard.report(connection.remotePeer, offence) } })
    }, { maxInboundStreams: MAX_BLOCK_STREAMS_PER_PEER, runOnLimitedConnection: true })
    node.keeper.start()
    node.filler.start()
    node.sweeper = new PeerSweeper(libp2p)
    node.sweeper.start()
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
    this.sweeper?.stop()
    this.keeper.stop()
    this.filler.stop()
    this.channels.closeAll()
    await this.bitswap.stop()
    await this.libp2p.stop()
  }
}

// The seed: a long-running node that serves blocks, keeps its content
// announced, and answers the local control API so other cairn commands run
// through it instead of opening the repo a second time.

import { ApiServer } from '../api/server.ts'
import { makeHandlers } from '../api/handlers.ts'
import { CairnNode, type NodeOptions } from '../net/node.ts'
import { Provider } from '../net/provider.ts'
import { provideRoundLine } from '../net/provide-report.ts'
import { RwLock } from '../repo/rwlock.ts'
import { SeedMonitor } from './monitor.ts'
import { Collector } from './collector.ts'
import { MetricsServer } from './metrics.ts'
import { CairnError, UsageError, errorMessage } from '../util/errors.ts'
import { formatHashRate, minedLine } from '../util/format.ts'
import { Gateway, parseGatewayAddress } from '../gateway/server.ts'
import type { CID } from 'multiformats/cid'
import type { Services } from '../api/handlers.ts'
import path from 'node:path'
import { KuboRpcServer } from '../kubo-rpc/server.ts'
import { RPC_SOCKET, isLoopbackHost, parseRpcAddress, parseRpcAuth, type RpcAddress, type RpcAuth } from '../kubo-rpc/listen.ts'
import { loadOrCreateToken } from '../kubo-rpc/auth.ts'
import type { ApiEndpoint } from '../api/protocol.ts'
import { Miner } from '../anchor/miner.ts'
import { openRepoChain } from '../anchor/service.ts'
import { ChainSync } from '../anchor/sync-service.ts'
import type { AnchorChain } from '../anchor/chain.ts'
import { AnchorGossip, type PubSub } from '../anchor/gossip.ts'
import type { Repo } from '../../storage/repo.ts'
import { NamePubSub } from '../names/pubsub.ts'
import { parseName } from '../names/record.ts'
import { Republisher } from '../names/republisher.ts'
import { NameService } from '../names/service.ts'

/** while mining, the hash rate goes to the log this often */
const HASH_RATE_LOG_MS = 30_000

export interface SeedOptions extends NodeOptions {
  /** overrides config provide.interval (seconds) */
  reprovideInterval?: number
  /** serve Prometheus metrics here */
  metrics?: { host: string, port: number }
  /** mine anchor blocks from the start */
  mine?: boolean
  /** hashing threads (default: config anchor.minerThreads) */
  minerThreads?: number
  /** Ctrl-C while starting: waits end early (the caller then stops the seed) */
  signal?: AbortSignal
  /** serve the HTTP gateway here (default: config gateway.listen, '' = none) */
  gateway?: { host: string, port: number }
  /** serve the Kubo RPC here (default: config rpc.listen when set) */
  rpc?: RpcAddress
  /** the RPC's credentials (default: config rpc.auth) */
  rpcAuth?: RpcAuth
}

/** `token` null: none is asked for (a Unix socket, or rpc.auth none on loopback) */
export interface KuboRpc { server: KuboRpcServer, address: string, token: string | null }

/** at start, how long a seed waits for its configured relays before it prints its addresses */
const RELAY_WAIT_MS = 15_000

export class Seed {
  private stopping: Promise<void> | null = null
  private rateLog: NodeJS.Timeout | null = null
  private collector: Collector | null = null
  private readonly stopped: Promise<void>
  private resolveStopped!: () => void

  private constructor (
    readonly repo: Repo,
    readonly node: CairnNode,
    readonly provider: Provider,
    readonly api: ApiServer,
    readonly endpoint: ApiEndpoint,
    readonly monitor: SeedMonitor,
    readonly metrics: MetricsServer | null,
    /** where the metrics server listens, HOST:PORT */
    readonly metricsAddress: string | null,
    readonly chain: AnchorChain,
    readonly miner: Miner,
    /** headers-first sync of the chain with peers (syncWith: for gossip's orphans) */
    readonly sync: ChainSync,
    /** blocks and manifests to and from peers; set gossip.onOrphan to hear of blocks whose parent we lack */
    readonly gossip: AnchorGossip,
    /** name topics (IPNS over pubsub) */
    readonly namePubSub: NamePubSub,
    readonly republisher: Republisher,
    readonly gateway: Gateway | null,
    /** where the gateway listens, HOST:PORT */
    readonly gatewayAddress: string | null,
    /** the Kubo RPC, when served: its HOST:PORT and token */
    readonly rpc: KuboRpc | null
  ) {
    this.stopped = new Promise(resolve => { this.resolveStopped = resolve })
  }

  /** Starts node, provider and API on a repo opened for writing (the seed holds its lock). */
  static async start (repo: Repo, o: SeedOptions = {}): Promise<Seed> {
    // the RPC's address and credentials are checked before anything starts
    const rpcAt = o.rpc ?? (repo.config.rpc.listen !== '' ? parseRpcAddress(String(repo.config.rpc.listen)) : null)
    const rpcAuth = o.rpcAuth ?? parseRpcAuth(String(repo.config.rpc.auth))
    if (rpcAt?.socket === '') rpcAt.socket = path.join(repo.root, RPC_SOCKET)
    // without a token, only this machine may reach it: Kubo's API without API.Authorizations is loopback-only by default too
    if (rpcAt != null && rpcAuth === 'none' && rpcAt.socket == null && !isLoopbackHost(rpcAt.host)) {
      throw new UsageError(`the Kubo RPC without a token (rpc.auth none) is served on loopback (127.0.0.1, ::1) or a Unix socket only, not on ${rpcAt.host}`)
    }
    const chain = await openRepoChain(repo, true)
    // the thread that writes fetched blocks: ready before the first `cat` needs it
    repo.blocks.warmWriter()
    const node = await CairnNode.start(repo, { ...o, gossip: true })
    const provider = new Provider(node, repo.config.provide.strategy, (o.reprovideInterval ?? repo.config.provide.interval) * 1000)
    const monitor = new SeedMonitor(node, provider)
    node.libp2p.services.nat.onLog = line => { monitor.log(line) }
    // so the addresses printed at start include the relayed ones
    if (node.nat.relays.length > 0 && !(await node.libp2p.services.nat.waitForRelays(RELAY_WAIT_MS, o.signal)) && o.signal?.aborted !== true) {
      monitor.log(`no reservation on every configured relay within ${RELAY_WAIT_MS / 1000} s; still trying`)
    }
    await monitor.refreshContent()
    const gossip = new AnchorGossip(node.libp2p.services.pubsub as unknown as PubSub, chain, {
      // an invalid block or manifest is proof the sender does not validate (or lies): the guard bans it
      onInvalid: peer => { node.guard.report(peer, 'invalid-anchor') },
      log: line => { monitor.log(line) }
    })
    gossip.start()
    const miner = new Miner(chain, {
      threads: o.minerThreads ?? repo.config.anchor.minerThreads,
      onBlock: (r, n) => {
        if (r.status === 'accepted') {
          monitor.log(r.head
            ? `mined block ${r.height} ${r.cid.toString()}${n > 0 ? ` anchoring ${n} manifest(s)` : ''}`
            : `mined block ${r.height} ${r.cid.toString()}, stale: another block at height ${r.height} came first, so it is not on the main chain`)
          void gossip.publishBlock(r.cid).catch(err => { monitor.log(`gossip: cannot publish block ${r.cid.toString()}: ${errorMessage(err)}`) })
        } else monitor.log(`mined block not accepted: ${r.status}${r.status === 'invalid' ? ` ${r.message}` : ''}`)
      },
      onError: err => { monitor.log(`miner: ${err.message}`) }
    })
    const sync = new ChainSync(node.libp2p, chain, {
      report: (peer, offence) => { node.guard.report(peer, offence) },
      isBanned: peer => node.guard.isBanned(peer),
      log: line => { monitor.log(line) }
    })
    // a gossiped block whose parent we lack: the sender has the branch, sync it from there
    gossip.onOrphan = peer => { void sync.syncWith(peer).catch(() => {}) }
    monitor.anchor = { chain, miner: () => miner.stats, sync: () => sync.stats, gossip: () => gossip.stats }
    chain.on('head', h => { if (h.disconnected.length > 0) monitor.log(`reorg: ${h.disconnected.length} block(s) left the main chain; head ${h.head.height}`) })
    // names: each update heard on a name's topic is kept as that name's newest record
    const namePubSub = new NamePubSub(node.libp2p.services.pubsub as unknown as PubSub, (name, bytes, record) => {
      void names.records.get(name.text).then(async stored => {
        await names.records.put({ name: name.text, record: bytes, seen: Date.now(), ...(stored?.publishing != null ? { publishing: stored.publishing } : {}) })
      }).catch(() => {})
      monitor.log(`name ${name.text} now points at ${record.value} (sequence ${record.sequence}, by pubsub)`)
    }, line => { monitor.log(line) })
    const names = new NameService({ repo, node: async () => node, chain: async () => chain, online: true, pubsub: namePubSub })
    for (const n of await names.records.names()) {
      try { namePubSub.watch(parseName(n)) } catch {}
    }
    const republisher = new Republisher(names, namePubSub, line => { monitor.log(line) })
    monitor.publishedNames = () => republisher.status
    provider.onRound = r => { monitor.log(provideRoundLine(r)) }
    let seed: Seed | null = null
    /** roots of fetches in progress (API calls, gateway and RPC requests): gc keeps what they have so far */
    const fetching = new Set<CID>()
    const services: Services = {
      repo,
      lock: new RwLock(),
      node: async () => node,
      online: true,
      provider,
      shutdown: () => { void seed?.stop() },
      startedAt: Date.now(),
      fetching,
      monitor,
      chain: async () => chain,
      miner: () => miner.stats,
      setMining: async on => { await seed?.setMining(on) },
      names,
      republisher,
      liveHeap: () => seed?.liveHeap ?? null
    }
    const api = new ApiServer(repo.root, makeHandlers(services))
    let endpoint: ApiEndpoint
    try {
      endpoint = await api.start(repo.config.api.listen)
    } catch (err) {
      gossip.stop()
      chain.close()
      await node.stop()
      throw err
    }
    /** what a failed listener after the API undoes, in reverse */
    const undo = async (): Promise<void> => {
      await rpc?.server.stop()
      await gateway?.stop()
      await metrics?.stop()
      await api.stop()
      gossip.stop()
      chain.close()
      await node.stop()
    }
    let metrics: MetricsServer | null = null
    let metricsAddress: string | null = null
    let gateway: Gateway | null = null
    let gatewayAddress: string | null = null
    let rpc: KuboRpc | null = null
    if (o.metrics != null) {
      metrics = new MetricsServer(monitor)
      try {
        metricsAddress = await metrics.start(o.metrics.host, o.metrics.port)
      } catch (err) {
        metrics = null
        await undo()
        throw new UsageError(`cannot serve metrics on ${o.metrics.host}:${o.metrics.port}: ${errorMessage(err)}`)
      }
    }
    const gw = o.gateway ?? (repo.config.gateway.listen !== '' ? parseGatewayAddress(String(repo.config.gateway.listen)) : null)
    if (gw != null) {
      const c = repo.config.gateway
      gateway = new Gateway({ blocks: repo.blocks, node: async () => node, fetching, monitor, names }, { offline: c.offline, timeoutMs: c.timeout * 1000, maxRequests: c.maxRequests })
      try {
        gatewayAddress = await gateway.start(gw.host, gw.port)
      } catch (err) {
        gateway = null
        await undo()
        throw new UsageError(`cannot serve the gateway on ${gw.host}:${gw.port}: ${errorMessage(err)}`)
      }
    }
    if (rpcAt != null) {
      const where = rpcAt.socket != null ? `unix:${rpcAt.socket}` : `${rpcAt.host}:${rpcAt.port}`
      try {
        // a Unix socket (mode 0600) is its own credential
        const token = rpcAuth === 'none' || rpcAt.socket != null ? null : await loadOrCreateToken(repo)
        const server = new KuboRpcServer(services, token)
        rpc = { server, address: await server.start(rpcAt), token }
      } catch (err) {
        await undo()
        if (err instanceof CairnError) throw err
        throw new UsageError(`cannot serve the Kubo RPC on ${where}: ${errorMessage(err)}`)
      }
    }
    seed = new Seed(repo, node, provider, api, endpoint, monitor, metrics, metricsAddress, chain, miner, sync, gossip, namePubSub, republisher, gateway, gatewayAddress, rpc)
    provider.start()
    republisher.start()
    await sync.start()
    if (o.mine === true) await seed.setMining(true)
    seed.collectGarbage()
    return seed
  }

  /** Full collections as core/daemon/collector.ts says, when Node exposes `gc` (the launcher's --expose-gc). */
  private collectGarbage (): void {
    const gc = globalThis.gc
    if (typeof gc !== 'function') return
    this.collector = new Collector(gc)
    this.collector.start()
  }

  /** Its heap right after its last collection (null before one, or without `gc`). */
  get liveHeap (): number | null { return this.collector?.liveHeap ?? null }

  /** Resolves once the seed has stopped (signal, `cairn shutdown`, or stop()). */
  async whenStopped (): Promise<void> { await this.stopped }

  /** Starts or stops the miner (seed --mine, the dashboard's m key). */
  async setMining (on: boolean): Promise<void> {
    if (on) {
      await this.miner.start()
      this.monitor.log(`mining on anchor network ${this.chain.net.name} with ${this.miner.stats.threads} thread(s), head at height ${this.chain.height}`)
      this.rateLog ??= setInterval(() => {
        const m = this.miner.stats
        this.monitor.log(`mining at ${formatHashRate(m.hashRate)}, height ${this.chain.height}, ${this.chain.pending.size} pending, ${minedLine(m)}`)
      }, HASH_RATE_LOG_MS)
      this.rateLog.unref()
    } else {
      await this.miner.stop()
      if (this.rateLog != null) clearInterval(this.rateLog)
      this.rateLog = null
      this.monitor.log('mining stopped')
    }
  }

  async stop (): Promise<void> {
    this.stopping ??= (async () => {
      if (this.rateLog != null) clearInterval(this.rateLog)
      this.collector?.stop()
      await this.miner.stop()
      await this.sync.stop()
      this.chain.close()
      await this.provider.stop()
      this.republisher.stop()
      this.namePubSub.stop()
      await this.gateway?.stop()
      await this.metrics?.stop()
      await this.rpc?.server.stop()
      await this.api.stop()
      this.gossip.stop()
      this.monitor.stop()
      await this.node.stop()
      this.resolveStopped()
    })()
    await this.stopping
  }
}

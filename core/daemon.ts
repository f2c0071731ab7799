// The seed: a long-running node that serves blocks, keeps its content
// announced, and answers the local control API so other cairn commands run
// through it instead of opening the repo a second time.

import { ApiServer } from './api/server.ts'
import { makeHandlers } from './api/handlers.ts'
import { CairnNode, type NodeOptions } from './net/node.ts'
import { Provider } from './net/provider.ts'
import { provideRoundLine } from './net/provide-report.ts'
import { RwLock } from './rwlock.ts'
import { SeedMonitor } from './monitor.ts'
import { MetricsServer } from './metrics.ts'
import { UsageError } from './errors.ts'
import type { ApiEndpoint } from './api/protocol.ts'
import { Miner } from './anchor/miner.ts'
import { openRepoChain } from './anchor/service.ts'
import { ChainSync } from './anchor/sync-service.ts'
import type { AnchorChain } from './anchor/chain.ts'
import { AnchorGossip, type PubSub } from './anchor/gossip.ts'
import type { Repo } from '../storage/repo.ts'

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
}

/** at start, how long a seed waits for its configured relays before it prints its addresses */
const RELAY_WAIT_MS = 15_000

export class Seed {
  private stopping: Promise<void> | null = null
  private rateLog: NodeJS.Timeout | null = null
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
    readonly gossip: AnchorGossip
  ) {
    this.stopped = new Promise(resolve => { this.resolveStopped = resolve })
  }

  /** Starts node, provider and API on a repo opened for writing (the seed holds its lock). */
  static async start (repo: Repo, o: SeedOptions = {}): Promise<Seed> {
    const chain = await openRepoChain(repo, true)
    // the thread that writes fetched blocks: ready before the first `cat` needs it
    repo.blocks.warmWriter()
    const node = await CairnNode.start(repo, { ...o, gossip: true })
    const provider = new Provider(node, repo.config.provide.strategy, (o.reprovideInterval ?? repo.config.provide.interval) * 1000)
    const monitor = new SeedMonitor(node, provider)
    node.libp2p.services.nat.onLog = line => { monitor.log(line) }
    // so the addresses printed at start include the relayed ones
    if (node.nat.relays.length > 0 && !(await node.libp2p.services.nat.waitForRelays(RELAY_WAIT_MS))) {
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
          monitor.log(`mined block ${r.height} ${r.cid.toString()}${n > 0 ? ` anchoring ${n} manifest(s)` : ''}`)
          void gossip.publishBlock(r.cid).catch(err => { monitor.log(`gossip: cannot publish block ${r.cid.toString()}: ${(err as Error).message}`) })
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
    provider.onRound = r => { monitor.log(provideRoundLine(r)) }
    let seed: Seed | null = null
    const api = new ApiServer(repo.root, makeHandlers({
      repo,
      lock: new RwLock(),
      node: async () => node,
      online: true,
      provider,
      shutdown: () => { void seed?.stop() },
      startedAt: Date.now(),
      fetching: new Set(),
      monitor,
      chain: async () => chain,
      miner: () => miner.stats,
      setMining: async on => { await seed?.setMining(on) }
    }))
    let endpoint: ApiEndpoint
    try {
      endpoint = await api.start(repo.config.api.listen)
    } catch (err) {
      gossip.stop()
      chain.close()
      await node.stop()
      throw err
    }
    let metrics: MetricsServer | null = null
    let metricsAddress: string | null = null
    if (o.metrics != null) {
      metrics = new MetricsServer(monitor)
      try {
        metricsAddress = await metrics.start(o.metrics.host, o.metrics.port)
      } catch (err) {
        await api.stop()
        gossip.stop()
        chain.close()
        await node.stop()
        throw new UsageError(`cannot serve metrics on ${o.metrics.host}:${o.metrics.port}: ${(err as Error).message}`)
      }
    }
    seed = new Seed(repo, node, provider, api, endpoint, monitor, metrics, metricsAddress, chain, miner, sync, gossip)
    provider.start()
    await sync.start()
    if (o.mine === true) await seed.setMining(true)
    return seed
  }

  /** Resolves once the seed has stopped (signal, `cairn shutdown`, or stop()). */
  async whenStopped (): Promise<void> { await this.stopped }

  /** Starts or stops the miner (seed --mine, the dashboard's m key). */
  async setMining (on: boolean): Promise<void> {
    if (on) {
      await this.miner.start()
      this.monitor.log(`mining on anchor network ${this.chain.net.name} with ${this.miner.stats.threads} thread(s), head at height ${this.chain.height}`)
      this.rateLog ??= setInterval(() => {
        const m = this.miner.stats
        this.monitor.log(`mining at ${(m.hashRate / 1e6).toFixed(2)} MH/s, height ${this.chain.height}, ${this.chain.pending.size} pending, ${m.blocksMined} block(s) mined`)
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
      await this.miner.stop()
      await this.sync.stop()
      this.chain.close()
      await this.provider.stop()
      await this.metrics?.stop()
      await this.api.stop()
      this.gossip.stop()
      await this.node.stop()
      this.resolveStopped()
    })()
    await this.stopping
  }
}

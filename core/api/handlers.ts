// Every operation the CLI can ask of a repo or a node, as a handler that
// takes JSON params and returns JSON data. The daemon serves these over its
// API; without a daemon the CLI calls the very same handlers in process, so
// both paths behave alike and print alike.

import path from 'node:path'
import { CID } from 'multiformats/cid'
import { add, type AddInput } from '../unixfs/add.ts'
import { carExport, carExportStream, carImport, carImportFrom, type CarProgress } from '../repo/car.ts'
import { cat } from '../unixfs/cat.ts'
import { BlockNotFoundError, CairnError, UsageError } from '../util/errors.ts'
import { get } from '../unixfs/get.ts'
import { ls } from '../unixfs/ls.ts'
import { repoGc, repoStat, repoVerify } from '../repo/maintenance.ts'
import { connect, findProviders, idInfo, nodeStats, peers, type IdInfo } from '../net/info.ts'
import { pinAdd, pinLs, pinRm } from '../repo/pin.ts'
import { PROFILES, type ImportProfile } from '../unixfs/profiles.ts'
import { parseContentPath, type ContentPath } from '../unixfs/resolve.ts'
import { splitIpnsPath } from '../unixfs/content-path.ts'
import { NameService } from '../names/service.ts'
import type { Republisher } from '../names/republisher.ts'
import { nameHandlers } from './name-handlers.ts'
import { writeFileAtomic } from '../util/atomic.ts'
import { openReader } from '../unixfs/fetch.ts'
import { parseUserMultiaddr } from '../net/dial-error.ts'
import type { BlockReader } from '../../storage/blocks.ts'
import type { SeedMonitor } from '../daemon/monitor.ts'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loadOrCreateIdentity } from '../net/identity.ts'
import type { CairnNode } from '../net/node.ts'
import type { Provider } from '../net/provider.ts'
import type { RwLock } from '../repo/rwlock.ts'
import type { Repo } from '../../storage/repo.ts'
import type { CallContext, Handler } from './server.ts'
import * as v from 'valibot'
import { IMPORT_PROFILE, type Method } from './contract.ts'
import { anchorAdded, anchorHandlers } from './anchor-handlers.ts'
import type { AnchorChain } from '../anchor/chain.ts'
import type { MinerStats } from '../anchor/miner.ts'

export interface Services {
  repo: Repo
  lock: RwLock
  /** the daemon's node, or one started for this command (findprovs) */
  node: () => Promise<CairnNode>
  /** true in the daemon: its node keeps running after the call */
  online: boolean
  provider: Provider | null
  /** set in the daemon: stops it */
  shutdown: (() => void) | null
  startedAt: number
  /** roots of fetches in progress: gc keeps what they have so far */
  fetching: Set<CID>
  /** runs before the first block is fetched (in process: takes the repo's writer lock) */
  beforeFetch?: () => Promise<void>
  /** the seed's monitor: transfers, content and log for the dashboard */
  monitor?: SeedMonitor
  /** the anchor chain: the seed's, or opened from the repo when a command needs it */
  chain: () => Promise<AnchorChain>
  /** the seed's miner, when it mines */
  miner?: () => MinerStats | null
  /** set in the daemon: starts or stops its miner (as seed --mine and the dashboard's m key) */
  setMining?: (on: boolean) => Promise<void>
  /** the seed's names (with pubsub); made here for a command without a seed */
  names?: NameService
  /** the seed's republisher: told of each publish */
  republisher?: Republisher
  /** set in the daemon: its heap right after its last collection, null before one (core/daemon/collector.ts) */
  liveHeap?: () => number | null
}

/** default bound on a fetch's wait for providers and blocks */
export const FETCH_TIMEOUT_MS = 120_000

export class NeedsDaemonError extends CairnError {}

const str = (p: Record<string, unknown>, key: string): string => {
  const v = p[key]
  if (typeof v !== 'string' || v === '') throw new UsageError(`missing parameter "${key}"`)
  return v
}
/** A list-of-strings param (the contract checked its type); [] when absent. */
const strings = (p: Record<string, unknown>, key: string): string[] => {
  const list = p[key]
  return Array.isArray(list) ? list.filter(x => typeof x === 'string') : []
}
const optNum = (p: Record<string, unknown>, key: string): number | undefined => typeof p[key] === 'number' ? p[key] : undefined
const cidParam = (p: Record<string, unknown>, key = 'cid'): CID => {
  const target = parseContentPath(str(p, key))
  if (target.segments.length > 0) throw new UsageError(`expected a CID, not a path (got ${str(p, key)})`)
  return target.cid
}
const absolute = (p: string): string => {
  if (!path.isAbsolute(p)) throw new UsageError(`the daemon needs absolute paths (got ${p})`)
  return p
}

/** What a read through the network needs of a call: its params (offline, peers, timeoutMs), signal and progress. */
export type ReadContext = Pick<CallContext, 'params' | 'signal' | 'progress'>

/**
 * What cat, get, ls and pin read through: the repo, plus the network for
 * what it lacks unless `offline` is set. The fetch starts a node (without a
 * seed) only when a block is actually missing. The Kubo RPC reads through it too.
 */
export function contentReader (s: Services, c: ReadContext, root: CID): { store: BlockReader, done: (ok: boolean) => void } {
  // a malformed --peer is a usage error now, not a failed dial once a block is missing
  if (c.params.offline !== true && Array.isArray(c.params.peers)) for (const p of c.params.peers) parseUserMultiaddr(String(p), '--peer')
  return openReader({ blocks: s.repo.blocks, node: s.node, fetching: s.fetching, beforeFetch: s.beforeFetch, monitor: s.monitor }, root, {
    offline: c.params.offline === true,
    peers: strings(c.params, 'peers'),
    idleTimeoutMs: optNum(c.params, 'timeoutMs') ?? FETCH_TIMEOUT_MS,
    signal: c.signal,
    onProgress: e => c.progress(e)
  })
}

/** Runs `fn` on a contentReader, closing its fetch afterwards. */
export async function withContentReader<T> (s: Services, c: ReadContext, root: CID, fn: (store: BlockReader) => Promise<T>): Promise<T> {
  const r = contentReader(s, c, root)
  let ok = false
  try {
    const result = await fn(r.store)
    ok = true
    return result
  } finally {
    r.done(ok)
  }
}

export function makeHandlers (s: Services) {
  const { repo, lock } = s
  const reader = (c: CallContext, root: CID): ReturnType<typeof contentReader> => contentReader(s, c, root)
  const withReader = async <T>(c: CallContext, root: CID, fn: (store: BlockReader) => Promise<T>): Promise<T> => await withContentReader(s, c, root, fn)
  /** content changed: the dashboard's list of seeded roots follows */
  const changed = (line: string): void => {
    s.monitor?.log(line)
    void s.monitor?.refreshContent().catch(() => {})
  }

  /** the daemon's node; calls that make no sense on a node that stops with the command need one */
  const online = async (what: string): Promise<CairnNode> => {
    if (!s.online) throw new NeedsDaemonError(`${what} needs a running seed on this repo (start one with cairn seed)`)
    return await s.node()
  }
  const anchorServices = { repo, lock, chain: s.chain, online: s.online, miner: s.miner, log: (line: string) => s.monitor?.log(line), withReader }
  let names = s.names
  const nameService = (): NameService => {
    names ??= new NameService({ repo, node: s.node, chain: s.chain, online: s.online, pubsub: null })
    return names
  }
  /** CID[/path], or /ipns/NAME[/path] resolved to the CID the name points at */
  const contentPath = async (c: CallContext): Promise<ContentPath> => {
    const text = str(c.params, 'path')
    const ipns = splitIpnsPath(text)
    if (ipns == null) return parseContentPath(text)
    const r = await nameService().resolve(ipns.name, { timeoutMs: optNum(c.params, 'timeoutMs'), signal: c.signal })
    const target = parseContentPath(r.value)
    return { cid: target.cid, segments: [...target.segments, ...ipns.segments] }
  }
  return {
    ...anchorHandlers(anchorServices),
    ...nameHandlers(repo, nameService, s.republisher ?? null),

    async add (c: CallContext) {
      const p = c.params
      // the contract checked it: parsed again for its type
      const profile: ImportProfile = p.profile == null ? PROFILES['unixfs-v1-2025'] : v.parse(IMPORT_PROFILE, p.profile)
      const input: AddInput = Array.isArray(p.paths)
        ? { kind: 'paths', paths: strings(p, 'paths').map(absolute) }
        : { kind: 'stream', stream: c.body ?? (async function * () {})() }
      const onlyHash = p.onlyHash === true
      const result = await lock.shared(async () => await add(onlyHash ? null : repo, input, {
        recursive: p.recursive === true,
        wrap: p.wrap === true,
        hidden: p.hidden === true,
        pin: p.pin !== false,
        profile,
        signal: c.signal,
        onProgress: e => c.progress(e)
      }))
      // a running seed announces new content at once, without holding up add
      if (!onlyHash && s.provider != null) void s.provider.provideDag(result.root).catch(() => {})
      if (!onlyHash) changed(`added ${result.root.toString()}`)
      // a signed manifest per top-level root, queued for anchoring (README: this publishes name and size)
      const anchored = !onlyHash && p.anchor !== false ? await lock.shared(async () => await anchorAdded(anchorServices, result, profile)) : []
      return {
        root: result.root.toString(),
        pinned: result.pinned,
        anchor: anchored,
        entries: result.entries.map(e => ({ cid: e.cid.toString(), path: e.path, size: e.size }))
      }
    },

    cat (c: CallContext) {
      return (async function * () {
        const target = await contentPath(c)
        const r = reader(c, target.cid)
        let ok = false
        try {
          yield * cat(r.store, target, { offset: optNum(c.params, 'offset'), length: optNum(c.params, 'length'), signal: c.signal })
          ok = true
        } finally {
          r.done(ok)
        }
      })()
    },

    async get (c: CallContext) {
      const target = await contentPath(c)
      const r = await withReader(c, target.cid, async store => await get(store, target, {
        output: typeof c.params.output === 'string' ? absolute(c.params.output) : undefined,
        force: c.params.force === true,
        signal: c.signal,
        onProgress: e => c.progress(e)
      }))
      return { cid: r.cid.toString(), output: r.output, bytes: r.bytes, files: r.files }
    },

    async ls (c: CallContext) {
      const target = await contentPath(c)
      await withReader(c, target.cid, async store => {
        for await (const e of ls(store, target, { signal: c.signal })) {
          c.item({ cid: e.cid.toString(), size: e.size, name: e.name, type: e.type })
        }
      })
      return null
    },

    async 'pin.add' (c: CallContext) {
      const cid = cidParam(c.params)
      // pin add fetches the whole DAG first when the repo lacks some of it
      const r = await lock.shared(async () => await withReader(c, cid, async store => await pinAdd(repo, cid, { signal: c.signal, store })))
      if (s.provider != null) void s.provider.provideDag(cid).catch(() => {})
      changed(`pinned ${cid.toString()}`)
      return { cid: cid.toString(), ...r }
    },

    async 'pin.rm' (c: CallContext) {
      const cid = cidParam(c.params)
      await lock.shared(async () => { await pinRm(repo, cid) })
      changed(`unpinned ${cid.toString()}`)
      return { cid: cid.toString() }
    },

    async 'pin.ls' (c: CallContext) {
      for await (const p of pinLs(repo)) c.item({ cid: p.cid.toString(), type: p.type, time: p.time })
      return null
    },

    async 'repo.stat' () { return await repoStat(repo) },

    async 'repo.gc' (c: CallContext) {
      return await lock.exclusive(async () => await repoGc(repo, { signal: c.signal, alsoKeep: s.fetching, onRemoved: cid => c.item({ removed: cid.toString() }) }))
    },

    async 'repo.verify' (c: CallContext) {
      const r = await repoVerify(repo, { signal: c.signal, onBad: (cid, file, problem) => c.item({ bad: cid.toString(), file, problem }) })
      return { checked: r.checked, bad: r.bad.length }
    },

    async 'car.import' (c: CallContext) {
      // stdin: the CAR is the request body (car import -)
      const stdin = c.params.stdin === true
      const body = stdin ? c.body : null
      if (stdin && body == null) throw new UsageError('car import from stdin needs a request body')
      const file = stdin ? 'stdin' : absolute(str(c.params, 'file'))
      const o = { signal: c.signal, onProgress: (e: CarProgress) => c.progress(e) }
      const r = await lock.shared(async () => body != null
        ? await carImportFrom(repo, body, file, null, o)
        : await carImport(repo, file, o))
      for (const root of r.roots) if (s.provider != null) void s.provider.provideDag(root).catch(() => {})
      changed(`imported ${r.roots.map(x => x.toString()).join(', ')} from ${path.basename(file)}`)
      return {
        file: r.file,
        blocks: r.blocks,
        roots: r.roots.map(root => {
          const inc = r.incomplete.find(i => i.root.equals(root))
          return { cid: root.toString(), complete: inc == null, missing: inc?.missing ?? 0 }
        })
      }
    },

    /** the CAR bytes (a byte method); car.exportFile writes a file instead */
    'car.export' (c: CallContext) {
      return carExportStream(repo.blocks, cidParam(c.params), { signal: c.signal })
    },

    async 'car.exportFile' (c: CallContext) {
      const cid = cidParam(c.params)
      const dest = absolute(str(c.params, 'output'))
      let r = { blocks: 0, bytes: 0 }
      await writeFileAtomic(dest, async fh => {
        r = await carExport(repo.blocks, cid, async chunk => { await fh.write(chunk) }, { signal: c.signal, onProgress: e => c.progress(e) })
      }, { replace: c.params.force === true })
      return { cid: cid.toString(), output: dest, blocks: r.blocks, bytes: r.bytes }
    },

    // the network

    async id (): Promise<(IdInfo & { online: true }) | { id: string, publicKey: string, addresses: string[], network: string, online: false }> {
      if (s.online) return { ...idInfo(await s.node()), online: true }
      // no seed: who this repo is, without starting a node
      const key = await loadOrCreateIdentity(repo)
      const id = peerIdFromPrivateKey(key)
      const network = `${repo.config.network.kind}:${repo.config.network.name}`
      return { id: id.toString(), publicKey: Buffer.from(key.publicKey.raw).toString('base64'), addresses: [], network, online: false }
    },

    async peers () { return peers(await online('peers')) },

    async connect (c: CallContext) { return await connect(await online('connect'), str(c.params, 'address'), c.signal) },

    async provide (c: CallContext) {
      const cid = cidParam(c.params)
      // a record pointing at a node that stops with the command would mislead
      await online('provide')
      if (s.provider == null) throw new NeedsDaemonError('provide needs a running seed on this repo (start one with cairn seed)')
      // a record for a block we cannot serve sends every peer that finds it on a wasted dial (Kubo refuses too)
      if (!await repo.blocks.has(cid)) throw new BlockNotFoundError(cid.toString(), `not providing ${cid.toString()}: this node does not hold that block (add or fetch it first)`)
      const t0 = performance.now()
      const r = await s.provider.provideOne(cid, optNum(c.params, 'timeoutMs'), c.signal)
      return { cid: cid.toString(), ms: Math.round(performance.now() - t0), peers: r.peers, failures: r.failures }
    },

    async provideStat () {
      await online('provide stat')
      if (s.provider == null) throw new NeedsDaemonError('provide stat needs a running seed on this repo (start one with cairn seed)')
      return s.provider.stats
    },

    async findprovs (c: CallContext) {
      const cid = cidParam(c.params)
      const node = await s.node()
      for await (const p of findProviders(node, cid, { timeoutMs: optNum(c.params, 'timeoutMs') ?? 30_000, max: optNum(c.params, 'max'), signal: c.signal })) c.item(p)
      return null
    },

    async stats () {
      const node = await online('stats')
      const snap = s.monitor?.snapshot()
      const bw = s.monitor?.bandwidth()
      return {
        chain: snap?.chain ?? null,
        names: snap?.names ?? [],
        ...nodeStats(node),
        provide: s.provider?.stats ?? null,
        uptimeMs: Date.now() - s.startedAt,
        served: snap?.served ?? null,
        guard: snap?.guard ?? null,
        limits: { upload: node.upload.limit, download: node.download.limit },
        // our relay service: bytes it forwarded (charged to the upload cap) and relayed connections it carried
        relayService: node.libp2p.services.relayMeter?.stats ?? null,
        // blocks in flight to other peers, both protocols: the node's budget (transfer.blockMemory)
        blockMemory: node.budget.stats,
        // the process: what the soak (npm run soak) watches for leaks
        process: { rss: process.memoryUsage.rss(), handles: process.getActiveResourcesInfo().length, liveHeap: s.liveHeap?.() ?? null },
        bytesIn: bw?.totalIn ?? null,
        bytesOut: bw?.totalOut ?? null,
        rateIn: bw?.rateIn ?? null,
        rateOut: bw?.rateOut ?? null
      }
    },

    async status () {
      const node = await online('status')
      return {
        running: true,
        pid: process.pid,
        repo: repo.root,
        ...idInfo(node),
        ...nodeStats(node),
        provide: s.provider?.stats ?? null,
        uptimeMs: Date.now() - s.startedAt,
        chain: s.monitor?.snapshot().chain ?? null
      }
    },

    async mine (c: CallContext) {
      await online('mine')
      if (typeof c.params.on !== 'boolean') throw new UsageError('missing parameter "on" (true or false)')
      if (s.setMining == null) throw new NeedsDaemonError('mine needs a running seed on this repo')
      await s.setMining(c.params.on)
      return { mining: s.miner?.()?.mining ?? c.params.on }
    },

    async shutdown () {
      await online('shutdown')
      if (s.shutdown != null) setImmediate(s.shutdown)
      return { stopping: true }
    }
  } satisfies Record<Method, Handler>
}

/** Every method's handler, as made above: the CLI types its results from these. */
export type Handlers = ReturnType<typeof makeHandlers>
/** what `method` answers (a byte method: its chunks) */
export type Result<M extends Method> = Awaited<ReturnType<Handlers[M]>>

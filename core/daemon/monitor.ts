// What a running seed is doing, as plain data: peers and their rates,
// transfers in flight, seeded content, the DHT, and a log. The dashboard,
// the plain log lines of `seed --no-tui`, and `cairn status` all read it.

import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { RateMeter } from '../util/rate.ts'
import { UploadTracker, type UploadRow } from './uploads.ts'
import { escapeTerminal } from '../util/escape.ts'
import { publisherId, type FileManifest } from '../anchor/manifest.ts'
import { routingTableSize } from '../net/table-filler.ts'
import { isDirect, type Reachability } from '../net/nat.ts'
import type { CairnNode } from '../net/node.ts'
import type { Provider, ProvideStat } from '../net/provider.ts'
import type { NameStatus } from '../names/republisher.ts'
import type { AnchorChain } from '../anchor/chain.ts'
import type { MinerStats } from '../anchor/miner.ts'
import type { SyncStats } from '../anchor/sync-service.ts'
import type { GossipStats } from '../anchor/gossip.ts'

/** log lines kept */
const LOG_LINES = 200
/** transfer rows kept (finished ones linger a few seconds for the dashboard) */
const MAX_TRANSFER_ROWS = 200

export interface PeerRow {
  id: string
  address: string
  direction: string
  latencyMs: number | null
  bytesIn: number
  bytesOut: number
  rateIn: number
  rateOut: number
  /** through a relay rather than straight to the peer */
  relayed?: boolean
}

export interface TransferRow {
  id: number
  /** a fetch from the swarm, or an HTTP request to the gateway */
  kind: 'fetch' | 'http'
  /** the CID fetched; for 'http', the method and path (escaped) */
  cid: string
  bytes: number
  total: number | null
  rate: number
  /** peer → bytes it served for this transfer */
  peers: Record<string, number>
  done: boolean
}

/** A transfer while the monitor keeps it: its rate meter, and when it ended (rows go 5 s later). */
type LiveTransfer = TransferRow & { meter: RateMeter, ended: number | null }

export interface ContentRow {
  cid: string
  size: number | null
  /** the name in its manifest (ours first), escaped for a terminal; absent when no manifest names it */
  name?: string
}

/** What the seed serves: per peer and root (name escaped for a terminal). */
export interface UploadSnapshotRow extends UploadRow { name?: string }

export interface SeedSnapshot {
  id: string
  addresses: string[]
  network: string
  uptimeMs: number
  peers: PeerRow[]
  transfers: TransferRow[]
  /** what peers are fetching from us, per peer and root */
  uploads: UploadSnapshotRow[]
  content: ContentRow[]
  dht: { routingTable: number, cids: number, regions: number, lookups: number | null, failed: number, lastRound: number | null, nextSweep: number | null, running: boolean }
  served: { blocks: number, bytes: number }
  /** bytes per second; 0 = no cap */
  limits: { upload: number, download: number }
  /** the peer guard: offences reported, peers banned, connections refused */
  guard: { offences: number, bans: number, refused: number }
  /** the anchor chain's head and the miner, when the seed has them */
  chain?: ChainRow | null
  log: Array<{ time: number, line: string }>
  /** NAT state: reachability and the relays we hold a slot on */
  nat?: { reachability: Reachability, relays: string[] }
  /** names this seed publishes, and when each is republished */
  names?: NameStatus[]
  /** the HTTP gateway, when the seed runs one */
  http?: HttpStats | null
}

export interface HttpStats {
  /** requests answered (or cut off), by status code; 499 = the client left first */
  requests: Record<string, number>
  inFlight: number
  /** body bytes sent */
  bytes: number
}

export interface ChainRow {
  network: string,
  height: number,
  head: string,
  pending: number,
  mining: boolean,
  threads: number,
  hashRate: number,
  blocksMined: number,
  staleBlocks?: number
  /** headers-first sync with peers: syncs running, blocks taken, the last one */
  sync?: SyncStats
  /** gossip of blocks and manifests: messages by result, peers */
  gossip?: GossipStats | null
}

interface PeerMeters { in: RateMeter, out: RateMeter }

export class SeedMonitor {
  /** connected peers' meters; a peer's go when it disconnects, its bytes stay in `all` */
  private readonly meters = new Map<string, PeerMeters>()
  /** every peer's bytes together, ever: the totals and rates of `bandwidth` */
  private readonly all: PeerMeters = { in: new RateMeter(), out: new RateMeter() }
  private readonly transfers = new Map<number, LiveTransfer>()
  private nextTransfer = 1
  private http: HttpStats | null = null
  private readonly lines: Array<{ time: number, line: string }> = []
  private content: ContentRow[] = []
  private readonly started = Date.now()
  private readonly uploads: UploadTracker
  /** root → its manifest's name, escaped (names once known do not change) */
  private readonly names = new Map<string, string>()
  /** this node's public key as manifests carry it (base64) */
  private ownKey: string | undefined
  /** told of every new log line (plain output without the dashboard) */
  onLog: ((line: string) => void) | undefined
  /** set by the seed: its anchor chain and miner */
  /** the republisher's view of the IPNS names this seed publishes */
  publishedNames: (() => NameStatus[]) | null = null
  anchor: { chain: AnchorChain, miner: () => MinerStats | null, sync?: () => SyncStats, gossip?: () => GossipStats } | null = null

  constructor (private readonly node: CairnNode, private readonly provider: Provider | null) {
    this.uploads = new UploadTracker({
      log: line => { this.log(line) },
      label: root => { const name = this.nameOf(root); return name == null ? root : `${name} (${root})` }
    })
    this.uploads.start()
    node.onServed = (peer, block, bytes) => {
      const now = Date.now()
      this.metersOf(peer).out.count(now, bytes)
      this.all.out.count(now, bytes)
      this.uploads.served(peer, block, bytes, now)
    }
    node.libp2p.addEventListener('peer:connect', evt => { this.log(`peer connected ${evt.detail.toString()}`) })
    node.libp2p.addEventListener('peer:disconnect', evt => {
      // a seed meets a new peer with every fetcher's fresh identity: kept,
      // the meters of every peer ever seen grew without end (with the
      // samples of each one's last 2 s, up to thousands at full speed)
      this.meters.delete(evt.detail.toString())
      this.uploads.peerLeft(evt.detail.toString())
      this.log(`peer left ${evt.detail.toString()}`)
    })
  }

  /** Stops the timer that ends idle uploads. */
  stop (): void { this.uploads.stop() }

  /** The name a manifest gives `root` (this node's own manifest first), as signed: a stranger's string, escape it to show it; undefined when none does. */
  nameOf (root: string): string | undefined {
    const known = this.names.get(root)
    if (known != null || this.anchor == null) return known
    let cid: CID
    try { cid = CID.parse(root) } catch { return undefined }
    // a node's peer ID is an Ed25519 key's, which carries the key (an RSA one might not: then no manifest is ours)
    const key = this.node.libp2p.peerId.publicKey
    this.ownKey ??= key != null ? Buffer.from(publicKeyToProtobuf(key)).toString('base64') : ''
    const own = this.ownKey
    const named = this.anchor.chain.anchorings(cid).map(a => a.manifest.manifest).filter((m): m is FileManifest => m.type !== 'ipns' && m.name != null)
    const m = named.find(m => publisherId(m) === own) ?? named[0]
    if (m?.name == null) return undefined
    this.names.set(root, m.name)
    return m.name
  }

  private shownName (root: string | null): string | undefined {
    const name = root == null ? undefined : this.nameOf(root)
    return name == null ? undefined : escapeTerminal(name)
  }

  /** Block bytes in and out since start, with every peer ever seen (not only those connected now), and current rates. */
  bandwidth (now = Date.now()): { totalIn: number, totalOut: number, rateIn: number, rateOut: number } {
    return { totalIn: this.all.in.bytes, totalOut: this.all.out.bytes, rateIn: this.all.in.rate(now), rateOut: this.all.out.rate(now) }
  }

  /** Peers with meters of their own: those connected, and those that sent or took blocks since they last disconnected. */
  get meteredPeers (): number { return this.meters.size }

  private metersOf (peer: string): PeerMeters {
    let m = this.meters.get(peer)
    if (m == null) {
      m = { in: new RateMeter(), out: new RateMeter() }
      this.meters.set(peer, m)
    }
    return m
  }

  log (text: string): void {
    // lines quote peers' errors, file and manifest names: escaped once here for
    // the dashboard, seed --no-tui and status alike
    const line = escapeTerminal(text)
    this.lines.push({ time: Date.now(), line })
    if (this.lines.length > LOG_LINES) this.lines.shift()
    this.onLog?.(line)
  }

  /** A fetch begins; returns a handle to report its progress. */
  startTransfer (cid: CID): { block: (peer: string, bytes: number) => void, end: (ok: boolean) => void } {
    const id = this.nextTransfer++
    const row: LiveTransfer = {
      id,
      kind: 'fetch',
      cid: cid.toString(),
      bytes: 0,
      total: null,
      rate: 0,
      peers: {},
      done: false,
      meter: new RateMeter(),
      ended: null
    }
    this.transfers.set(id, row)
    return {
      block: (peer, bytes) => {
        const now = Date.now()
        row.bytes += bytes
        row.meter.add(now, row.bytes)
        row.peers[peer] = (row.peers[peer] ?? 0) + bytes
        this.metersOf(peer).in.count(now, bytes)
        this.all.in.count(now, bytes)
      },
      end: (ok) => {
        row.done = true
        row.ended = Date.now()
        if (row.bytes > 0 || !ok) this.log(`${ok ? 'fetched' : 'fetch stopped:'} ${row.cid} (${row.bytes} bytes from ${Object.keys(row.peers).length} peer(s))`)
      }
    }
  }

  /**
   * An HTTP request to the gateway begins: it shows among the transfers
   * (bytes sent so far) and counts in the gateway's metrics. `what` must be
   * escaped already (it comes from a stranger).
   */
  startRequest (method: string, what: string): { sent: (bytes: number) => void, end: (status: number) => void } {
    this.http ??= { requests: {}, inFlight: 0, bytes: 0 }
    const http = this.http
    http.inFlight++
    // a busy gateway must not grow the list: finished rows go first, oldest first
    for (const [k, t] of this.transfers) {
      if (this.transfers.size < MAX_TRANSFER_ROWS) break
      if (t.done) this.transfers.delete(k)
    }
    const id = this.nextTransfer++
    const row: LiveTransfer = { id, kind: 'http', cid: `${method} ${what}`, bytes: 0, total: null, rate: 0, peers: {}, done: false, meter: new RateMeter(), ended: null }
    this.transfers.set(id, row)
    let ended = false
    return {
      sent: (bytes) => {
        row.bytes += bytes
        http.bytes += bytes
        row.meter.add(Date.now(), row.bytes)
      },
      end: (status) => {
        if (ended) return
        ended = true
        http.inFlight--
        const key = String(status === 0 ? 499 : status)
        http.requests[key] = (http.requests[key] ?? 0) + 1
        row.done = true
        row.ended = Date.now()
      }
    }
  }

  /** Re-reads the pinned roots and their sizes (on start and after each change). */
  async refreshContent (): Promise<void> {
    const rows: ContentRow[] = []
    const roots: Array<{ cid: CID, size: number | null }> = []
    for await (const pin of this.node.repo.pins.ls()) {
      let size: number | null = null
      try {
        const bytes = await this.node.repo.blocks.getBytes(pin.cid)
        // the root's links carry the size of everything below them
        size = pin.cid.code === dagPb.code ? dagPb.decode(bytes).Links.reduce((s, l) => s + (l.Tsize ?? 0), bytes.byteLength) : bytes.byteLength
      } catch { /* a root not (yet) in the repo */ }
      rows.push({ cid: pin.cid.toString(), size })
      roots.push({ cid: pin.cid, size })
    }
    this.content = rows
    // in the background: a seed with much content starts without waiting for the walk
    void this.uploads.setRoots(this.node.repo.blocks, roots).catch(() => {})
  }

  private chainRow (): ChainRow | null {
    if (this.anchor == null) return null
    const { chain } = this.anchor
    const m = this.anchor.miner()
    return {
      network: chain.net.name,
      height: chain.height,
      head: chain.head.key,
      pending: chain.pending.size,
      mining: m?.mining ?? false,
      threads: m?.threads ?? 0,
      hashRate: m?.hashRate ?? 0,
      blocksMined: m?.blocksMined ?? 0,
      staleBlocks: m?.staleBlocks ?? 0,
      sync: this.anchor.sync?.(),
      gossip: this.anchor.gossip?.() ?? null
    }
  }

  snapshot (): SeedSnapshot {
    const now = Date.now()
    const conns = this.node.libp2p.getConnections()
    const peers: PeerRow[] = conns.map(c => {
      const id = c.remotePeer.toString()
      const m = this.meters.get(id)
      return {
        id,
        address: c.remoteAddr.toString(),
        direction: c.direction,
        latencyMs: c.rtt ?? null,
        bytesIn: m?.in.bytes ?? 0,
        bytesOut: m?.out.bytes ?? 0,
        rateIn: m?.in.rate(now) ?? 0,
        rateOut: m?.out.rate(now) ?? 0,
        relayed: !isDirect(c)
      }
    })
    // finished transfers stay on screen for a few seconds
    for (const [id, t] of this.transfers) if (t.ended != null && now - t.ended > 5000) this.transfers.delete(id)
    const ps = this.provider?.stats
    return {
      id: this.node.libp2p.peerId.toString(),
      addresses: this.node.addresses(),
      network: `${this.node.settings.kind}:${this.node.repo.config.network.name}`,
      uptimeMs: now - this.started,
      peers,
      transfers: [...this.transfers.values()].map(({ meter, ended, ...t }) => ({ ...t, rate: t.done ? 0 : meter.rate(now) })),
      // names shown as they are drawn: escaped (log lines are escaped in log())
      uploads: this.uploads.rows(now).map(u => ({ ...u, name: this.shownName(u.root) })),
      content: this.content.map(c => ({ ...c, name: this.shownName(c.cid) })),
      dht: dhtRow(routingTableSize(this.node.libp2p.services.dht), ps),
      served: { ...this.node.served },
      limits: { upload: this.node.upload.limit, download: this.node.download.limit },
      guard: { ...this.node.guard.stats },
      chain: this.chainRow(),
      log: this.lines.slice(-50),
      nat: { reachability: this.node.libp2p.services.nat.reachability(), relays: this.node.libp2p.services.nat.relays() },
      names: this.publishedNames?.() ?? [],
      http: this.http == null ? null : { ...this.http, requests: { ...this.http.requests } }
    }
  }
}

/** The dashboard's DHT row from the provider's report (null: no provider). */
function dhtRow (routingTable: number, ps: ProvideStat | undefined): SeedSnapshot['dht'] {
  const failed = ps == null ? 0 : Object.values(ps.failures).reduce((a, b) => a + b, 0)
  return {
    routingTable,
    cids: ps?.cids ?? 0,
    regions: ps?.regions ?? 0,
    lookups: ps?.lastRound?.lookups ?? null,
    failed,
    lastRound: ps?.lastRound?.endedAt ?? null,
    nextSweep: ps?.nextSweepAt ?? null,
    running: ps?.round != null
  }
}

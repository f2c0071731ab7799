// Fills the DHT routing table quickly after start. kad-dht learns peers
// mostly from its self-query, which runs once shortly after start and then
// on a long interval: nodes that start together (a seed restart, a test
// swarm, a LAN coming up) kept 1-5 peers for a minute (measured by the DHT
// bench). While the table holds fewer than TARGET peers and the node has
// connections, this runs a self-query of its own with backoff: 1 s, 2 s,
// 4 s … 30 s, and fast again while queries still find new peers.
//
// It runs its own query, awaited, rather than kad-dht's refreshRoutingTable():
// that one starts a refresh of every bucket and returns at once, and each
// call starts one more perpetual refresh chain. Called on every new
// connection of a 20-seed swarm (whose tables can never reach 20), it kept
// every seed busy answering queries: 10% of a core each, idle, the two
// cores full (measured with the DHT test's 20 seeds).

import { BackoffTimer } from './backoff-timer.ts'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Libp2p } from '@libp2p/interface'

/** kad-dht's bucket size: a table this full needs no help */
const TARGET = 20
const FIRST_MS = 1_000
const MAX_MS = 30_000
/** one query's time limit */
const QUERY_TIMEOUT_MS = 10_000

/** Peers in kad-dht's routing table (kad-dht keeps the table on an undeclared field). */
export function routingTableSize (dht: unknown): number {
  return (dht as { routingTable?: { size?: number } }).routingTable?.size ?? 0
}

export class TableFiller {
  private readonly timer = new BackoffTimer(async () => { await this.tick() }, FIRST_MS, MAX_MS)
  private running = false
  /** whether the last query found new peers (or none ran yet): then a new connection is worth a query soon */
  private growing = true

  constructor (private readonly libp2p: Libp2p, private readonly dht: KadDHT) {}

  start (): void {
    this.libp2p.addEventListener('peer:connect', this.onConnect)
    this.timer.schedule()
  }

  stop (): void {
    this.timer.stop()
    this.libp2p.removeEventListener('peer:connect', this.onConnect)
  }

  private readonly onConnect = (): void => {
    if (this.growing && routingTableSize(this.dht) < TARGET) this.timer.reset()
  }

  /** One round: a self-query while the table is short of TARGET and someone is connected. */
  async tick (): Promise<void> {
    if (this.running) return
    const before = routingTableSize(this.dht)
    if (before >= TARGET || this.libp2p.getConnections().length === 0) return
    this.running = true
    try {
      const signal = AbortSignal.timeout(QUERY_TIMEOUT_MS)
      for await (const _ of this.dht.getClosestPeers(this.libp2p.peerId.toMultihash().bytes, { signal })) { /* the table fills as the query runs */ }
    } catch {
      // a query that finds nobody new is retried after the next wait
    } finally {
      this.running = false
    }
    this.growing = routingTableSize(this.dht) > before
    if (this.growing) this.timer.reset()
  }
}

// Fills the DHT routing table quickly after start. kad-dht learns peers
// mostly from its self-query, which runs once shortly after start and then
// on a long interval: nodes that start together (a seed restart, a test
// swarm, a LAN coming up) kept 1-5 peers for a minute (measured by the DHT
// bench). While the table holds fewer than TARGET peers and the node has
// connections, this refreshes it with backoff: 1 s, 2 s, 4 s … 30 s, and
// starts over when a new peer connects.

import { BackoffTimer } from './backoff-timer.ts'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Libp2p } from '@libp2p/interface'

/** kad-dht's bucket size: a table this full needs no help */
const TARGET = 20
const FIRST_MS = 1_000
const MAX_MS = 30_000
/** one refresh's time limit */
const REFRESH_TIMEOUT_MS = 10_000

/** Peers in kad-dht's routing table (kad-dht keeps the table on an undeclared field). */
export function routingTableSize (dht: unknown): number {
  return (dht as { routingTable?: { size?: number } }).routingTable?.size ?? 0
}

export class TableFiller {
  private readonly timer = new BackoffTimer(async () => { await this.tick() }, FIRST_MS, MAX_MS)
  private running = false

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
    if (routingTableSize(this.dht) < TARGET) this.timer.reset()
  }

  private async tick (): Promise<void> {
    if (this.running) return
    if (routingTableSize(this.dht) >= TARGET || this.libp2p.getConnections().length === 0) return
    this.running = true
    try {
      await this.dht.refreshRoutingTable({ signal: AbortSignal.timeout(REFRESH_TIMEOUT_MS) })
    } catch {
      // a refresh that finds nobody new is retried after the next wait
    } finally {
      this.running = false
    }
  }
}

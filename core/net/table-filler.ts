// Fills the DHT routing table quickly after start. kad-dht learns peers
// mostly from its self-query, which runs once shortly after start and then
// on a long interval: nodes that start together (a seed restart, a test
// swarm, a LAN coming up) kept 1-5 peers for a minute (measured by the DHT
// bench). While the table holds fewer than TARGET peers and the node has
// connections, this refreshes it with backoff: 1 s, 2 s, 4 s … 30 s, and
// starts over when a new peer connects.

import type { KadDHT } from '@libp2p/kad-dht'
import type { Libp2p } from '@libp2p/interface'

/** kad-dht's bucket size: a table this full needs no help */
const TARGET = 20
const FIRST_MS = 1_000
const MAX_MS = 30_000
/** one refresh's time limit */
const REFRESH_TIMEOUT_MS = 10_000

export class TableFiller {
  private timer: NodeJS.Timeout | null = null
  private delay = FIRST_MS
  private running = false
  private stopped = false

  constructor (private readonly libp2p: Libp2p, private readonly dht: KadDHT) {}

  private size (): number {
    return (this.dht as unknown as { routingTable?: { size?: number } }).routingTable?.size ?? 0
  }

  start (): void {
    this.libp2p.addEventListener('peer:connect', this.onConnect)
    this.schedule()
  }

  stop (): void {
    this.stopped = true
    if (this.timer != null) clearTimeout(this.timer)
    this.libp2p.removeEventListener('peer:connect', this.onConnect)
  }

  private readonly onConnect = (): void => {
    if (this.size() >= TARGET) return
    this.delay = FIRST_MS
    this.schedule()
  }

  private schedule (): void {
    if (this.stopped) return
    if (this.timer != null) clearTimeout(this.timer)
    this.timer = setTimeout(() => { void this.tick() }, this.delay)
    this.timer.unref()
  }

  private async tick (): Promise<void> {
    if (this.stopped || this.running) return
    if (this.size() >= TARGET || this.libp2p.getConnections().length === 0) return
    this.running = true
    try {
      await this.dht.refreshRoutingTable({ signal: AbortSignal.timeout(REFRESH_TIMEOUT_MS) })
    } catch {
      // a refresh that finds nobody new is retried after the next wait
    } finally {
      this.running = false
    }
    this.delay = Math.min(this.delay * 2, MAX_MS)
    this.schedule()
  }
}

// Fills the DHT routing table quickly after start. kad-dht learns peers
// mostly from its self-query, which runs once shortly after start and then
// on a long interval: nodes that start together (a seed restart, a test
// swarm, a LAN coming up) kept 1-5 peers for a minute (measured by the DHT
// bench). While the table holds fewer than TARGET peers and the node has
// connections, this runs a self-query of its own with backoff: 1 s, 2 s,
// 4 s … 30 s, and fast again while queries still find new peers. Once
// QUIET_ROUNDS queries in a row find nobody new it rests, until the table
// shrinks below what it held then: kad-dht's own self-query (every 60 s on
// a local network) keeps a settled table fresh, and in a swarm too small to
// fill 20 places a query every 30 s from every node only kept the swarm
// answering each other.
//
// It runs its own query, awaited, rather than kad-dht's refreshRoutingTable():
// that one starts a refresh of every bucket and returns at once, and each
// call starts one more perpetual refresh chain. Called on every new
// connection of a 20-seed swarm (whose tables can never reach 20), it kept
// every seed busy answering queries: 10% of a core each, idle, the two
// cores full (measured with the DHT test's 20 seeds).

import { BackoffTimer } from './backoff-timer.ts'
import { routingTableSize } from './kad-internals.ts'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Libp2p } from '@libp2p/interface'

/** kad-dht's bucket size: a table this full needs no help */
const TARGET = 20
const FIRST_MS = 1_000
const MAX_MS = 30_000
/** queries in a row that find nobody new before the filler rests (a new peer may take a round or two to be known) */
const QUIET_ROUNDS = 3
/** one query's time limit */
const QUERY_TIMEOUT_MS = 10_000

/** Peers in kad-dht's routing table (core/daemon/monitor.ts imports it from here) */
export { routingTableSize }

export class TableFiller {
  private readonly timer = new BackoffTimer(async () => { await this.tick() }, FIRST_MS, MAX_MS)
  private running = false
  /** queries in a row that found nobody new */
  private quiet = 0
  /**
   * the table's size when the filler came to rest (QUIET_ROUNDS quiet
   * queries), else 0: a table at least this full needs no query
   */
  private settled = 0

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
    // a new peer is worth a query soon only while queries still find peers
    if (this.quiet === 0 && this.wanted(routingTableSize(this.dht))) this.timer.reset()
  }

  /** Whether a table of `size` peers is worth a query. */
  private wanted (size: number): boolean {
    return size < TARGET && (this.settled === 0 || size < this.settled)
  }

  /** One round: a self-query while the table is short, growing or shrunk, and someone is connected. */
  async tick (): Promise<void> {
    if (this.running) return
    const before = routingTableSize(this.dht)
    if (!this.wanted(before) || this.libp2p.getConnections().length === 0) return
    this.settled = 0 // short of the settled size (or never settled): query until it settles again
    this.running = true
    try {
      const signal = AbortSignal.timeout(QUERY_TIMEOUT_MS)
      // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the query's events are not needed, only its side effect
      for await (const _ of this.dht.getClosestPeers(this.libp2p.peerId.toMultihash().bytes, { signal })) { /* the table fills as the query runs */ }
    } catch {
      // a query that finds nobody new is retried after the next wait
    } finally {
      this.running = false
    }
    const after = routingTableSize(this.dht)
    if (after > before) {
      this.quiet = 0
      this.timer.reset()
    } else if (++this.quiet >= QUIET_ROUNDS) {
      // at least 1: an empty table (connected to no DHT peer yet) keeps asking
      this.settled = Math.max(after, 1)
      this.quiet = 0
    }
  }
}

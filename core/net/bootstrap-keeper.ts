// Re-dials bootstrap peers while the node is under-connected.
// @libp2p/bootstrap dials each bootstrap peer once, at start, and never again:
// a node whose one dial was refused (a rate limit, the bootstrap
// peer restarting) stayed alone for good. This keeper checks on a timer with
// backoff and dials every bootstrap peer it is not connected to while it has
// fewer than `minConnections`.

import { multiaddr } from '@multiformats/multiaddr'
import { BackoffTimer } from './backoff-timer.ts'
import type { Libp2p } from '@libp2p/interface'

/** below this many connections the node counts as under-connected */
export const MIN_CONNECTIONS = 4
/** first check after start; doubles while nothing changes, up to MAX_INTERVAL_MS */
const FIRST_INTERVAL_MS = 1_000
const MAX_INTERVAL_MS = 30_000
/** one dial's time limit */
const DIAL_TIMEOUT_MS = 5_000

export class BootstrapKeeper {
  private readonly timer = new BackoffTimer(async () => { await this.check() }, FIRST_INTERVAL_MS, MAX_INTERVAL_MS)
  private readonly addrs

  constructor (private readonly libp2p: Libp2p, bootstrap: string[], private readonly minConnections = MIN_CONNECTIONS) {
    this.addrs = bootstrap.map(a => multiaddr(a)).filter(a => a.getComponents().some(c => c.name === 'p2p'))
  }

  start (): void {
    if (this.addrs.length === 0) return
    // losing a connection restarts the fast checks
    this.libp2p.addEventListener('peer:disconnect', this.onDisconnect)
    this.timer.schedule()
  }

  stop (): void {
    this.timer.stop()
    this.libp2p.removeEventListener('peer:disconnect', this.onDisconnect)
  }

  private readonly onDisconnect = (): void => { this.timer.reset() }

  /** One round: dial the bootstrap peers we lack if under-connected. */
  async check (): Promise<number> {
    let dialled = 0
    if (this.libp2p.getConnections().length < this.minConnections) {
      const connected = new Set(this.libp2p.getConnections().map(c => c.remotePeer.toString()))
      const self = this.libp2p.peerId.toString()
      const todo = this.addrs.filter(a => {
        const id = a.getComponents().find(c => c.name === 'p2p')?.value
        return id != null && id !== self && !connected.has(id)
      })
      await Promise.allSettled(todo.map(async a => {
        await this.libp2p.dial(a, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
        dialled++
      }))
    }
    return dialled
  }
}

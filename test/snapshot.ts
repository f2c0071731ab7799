// A seed snapshot (core/daemon/monitor.ts) with nothing in it, for the tests
// of what reads one: the dashboard, the Prometheus text.

import type { SeedSnapshot } from '../core/daemon/monitor.ts'

/** An idle seed's snapshot, with `over` laid on top. */
export function seedSnapshot (over: Partial<SeedSnapshot> = {}): SeedSnapshot {
  return {
    id: 'me',
    addresses: [],
    network: 'local:cairn',
    uptimeMs: 1,
    peers: [],
    transfers: [],
    uploads: [],
    content: [],
    dht: { routingTable: 0, cids: 0, regions: 0, lookups: null, failed: 0, lastRound: null, nextSweep: null, running: false },
    served: { blocks: 0, bytes: 0 },
    limits: { upload: 0, download: 0 },
    guard: { offences: 0, bans: 0, refused: 0 },
    log: [],
    ...over
  }
}

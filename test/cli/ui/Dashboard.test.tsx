import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Box } from 'ink'
import { render } from 'ink-testing-library'
import { Dashboard } from '../../../cli/ui/Dashboard.tsx'
import type { SeedSnapshot } from '../../../core/monitor.ts'

const MIB = 1024 * 1024
const PEER_A = '12D3KooWPLh6cnApNemzAN7YFicTcHo9GjrMjiv6umCxwX5s5DuR'
const PEER_B = '12D3KooWR3Vq5hHjy8Wa5A3JgmUVatqNM5BdmnsJs7aVUsGZNcoE'

function snap (over: Partial<SeedSnapshot> = {}): SeedSnapshot {
  return {
    id: '12D3KooWMDjBaVijWjMGzgJ91YKDhsdSvHHqzsL3LtRLxF2qcQVH',
    addresses: ['/ip4/127.0.0.1/tcp/4737/p2p/12D3KooWMDjBaVijWjMGzgJ91YKDhsdSvHHqzsL3LtRLxF2qcQVH'],
    network: 'local:cairn',
    uptimeMs: 65_000,
    peers: [],
    transfers: [],
    content: [],
    dht: { routingTable: 0, cids: 0, regions: 0, lookups: null, failed: 0, lastRound: null, nextSweep: null, running: false },
    served: { blocks: 0, bytes: 0 },
    limits: { upload: 0, download: 0 },
    guard: { offences: 0, bans: 0, refused: 0 },
    log: [],
    ...over
  }
}

test('header: peer ID, network, uptime, served bytes and the keys', () => {
  const { lastFrame, unmount } = render(<Dashboard snap={snap({ served: { blocks: 3, bytes: 3 * MIB } })} focus='peers' help={false} />)
  const f = lastFrame() ?? ''
  assert.match(f, /cairn seed …RLxF2qcQVH {2}local:cairn {2}up 1m05s {2}served 3\.00 MiB/)
  assert.match(f, /\? help {2}q quit/)
  assert.match(f, /\/ip4\/127\.0\.0\.1\/tcp\/4737\/p2p\//)
  unmount()
})

test('transfers panel: upload and download caps when set, nothing when not', () => {
  const capped = render(<Dashboard snap={snap({ limits: { upload: 16 * MIB, download: 2 * MIB } })} focus='peers' help={false} />)
  assert.match(capped.lastFrame() ?? '', /Transfers \(0\) {2}caps ↑ ≤ 16\.0 MiB\/s {2}↓ ≤ 2\.00 MiB\/s/)
  capped.unmount()
  const free = render(<Dashboard snap={snap()} focus='peers' help={false} />)
  assert.doesNotMatch(free.lastFrame() ?? '', /caps/)
  free.unmount()
})

test('peers panel: count, direction, latency and rates', () => {
  const s = snap({
    peers: [
      { id: PEER_A, address: '/ip4/127.0.0.1/tcp/1', direction: 'inbound', latencyMs: 3.2, bytesIn: 0, bytesOut: 5 * MIB, rateIn: 0, rateOut: 2 * MIB },
      { id: PEER_B, address: '/ip4/127.0.0.1/tcp/2', direction: 'outbound', latencyMs: null, bytesIn: MIB, bytesOut: 0, rateIn: 512 * 1024, rateOut: 0 }
    ]
  })
  const { lastFrame, unmount } = render(<Dashboard snap={s} focus='peers' help={false} />)
  const f = lastFrame() ?? ''
  assert.match(f, /Peers \(2\)/)
  assert.match(f, /…CxwX5s5DuR in {4}3ms ↓0 B\/s ↑2\.00 MiB\/s/)
  assert.match(f, /…aVUsGZNcoE out {3}- ↓512\.0 KiB\/s ↑0 B\/s/)
  unmount()
})

test('NAT: reachability, the relay in use, and relayed peers marked', () => {
  const s = snap({
    nat: { reachability: 'private', relays: [PEER_B] },
    peers: [
      { id: PEER_A, address: `/ip4/198.51.100.2/tcp/4737/p2p/${PEER_B}/p2p-circuit`, direction: 'inbound', latencyMs: 9, bytesIn: 0, bytesOut: 0, rateIn: 0, rateOut: MIB, relayed: true },
      { id: PEER_B, address: '/ip4/198.51.100.2/tcp/4737', direction: 'outbound', latencyMs: 1, bytesIn: 0, bytesOut: 0, rateIn: 0, rateOut: 0, relayed: false }
    ]
  })
  const { lastFrame, unmount } = render(<Dashboard snap={s} focus='peers' help={false} />)
  const f = lastFrame() ?? ''
  assert.match(f, /reachable private {2}relay …aVUsGZNcoE/)
  assert.match(f, /Peers \(2, 1 relayed\)/)
  assert.match(f, /…CxwX5s5DuR in {4}9ms ↓0 B\/s ↑1\.00 MiB\/s via relay/)
  assert.doesNotMatch(f, /…aVUsGZNcoE out .* via relay/)
  unmount()
})

test('transfers panel: a progress bar per fetch and who serves it', () => {
  const s = snap({ transfers: [{ id: 1, kind: 'fetch', cid: 'bafybeia6de72amk4mmbgztfivouknolzmzmxtymfcez7tlejdjcrtv7vqu', bytes: 8 * MIB, total: 16 * MIB, rate: 4 * MIB, peers: { [PEER_A]: 6 * MIB, [PEER_B]: 2 * MIB }, done: false }] })
  const { lastFrame, unmount } = render(<Dashboard snap={s} focus='transfers' help={false} />)
  const f = lastFrame() ?? ''
  assert.match(f, /Transfers \(1\)/)
  assert.match(f, /get …\w+ .* 50% 8\.00 MiB \/ 16\.0 MiB {2}4\.00 MiB\/s {2}ETA 2s/)
  assert.match(f, /from …\w+ 6\.00 MiB, …\w+ 2\.00 MiB/)
  unmount()
})

test('seeded content, DHT and anchor chain panels', () => {
  const s = snap({
    content: [{ cid: 'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4', size: 12 }],
    dht: { routingTable: 19, cids: 42, regions: 3, lookups: 3, failed: 1, lastRound: Date.now() - 3000, nextSweep: Date.now() + 61_000, running: false }
  })
  const { lastFrame, unmount } = render(<Dashboard snap={s} focus='content' help={false} />)
  const f = lastFrame() ?? ''
  assert.match(f, /Seeded \(1\)/)
  assert.match(f, /…2km2devei4 12 B/)
  assert.match(f, /routing table 19/)
  assert.match(f, /42 CIDs, 3 regions/)
  assert.match(f, /3 lookups\/round/)
  assert.match(f, /1 failed: provide stat/)
  assert.match(f, /next sweep 1m0[01]s/)
  assert.match(f, /Anchor chain/)
  unmount()
})

test('log panel shows the latest lines; the focused pane shows more rows', () => {
  const log = Array.from({ length: 12 }, (_, i) => ({ time: Date.UTC(2026, 10, 22, 1, 2, i), line: `event ${i}` }))
  const small = render(<Dashboard snap={snap({ log })} focus='peers' help={false} rows={3} />)
  const a = small.lastFrame() ?? ''
  assert.match(a, /01:02:11 event 11/)
  assert.doesNotMatch(a, /event 8\b/)
  small.unmount()
  const big = render(<Dashboard snap={snap({ log })} focus='log' help={false} rows={3} />)
  const b = big.lastFrame() ?? ''
  assert.match(b, /event 6\b/)
  big.unmount()
})

test('help replaces the panes', () => {
  const { lastFrame, unmount } = render(<Dashboard snap={snap()} focus='peers' help />)
  const f = lastFrame() ?? ''
  assert.match(f, /q, Ctrl-C +stop the seed and quit/)
  assert.doesNotMatch(f, /Peers \(/)
  unmount()
})

test('fits 80 columns', () => {
  const s = snap({ peers: [{ id: PEER_A, address: '/ip4/127.0.0.1/tcp/1', direction: 'inbound', latencyMs: 1, bytesIn: 0, bytesOut: 0, rateIn: 0, rateOut: 0 }] })
  // ink-testing-library draws 100 columns: give the dashboard the 80 a small terminal has
  const { lastFrame, unmount } = render(<Box width={80}><Dashboard snap={s} focus='peers' help={false} /></Box>)
  assert.match(lastFrame() ?? '', /Peers \(1\)/)
  for (const line of (lastFrame() ?? '').split('\n')) assert.ok(line.length <= 80, `line longer than 80 columns: ${line}`)
  unmount()
})

test('anchor chain panel: height, pending and the hash rate while mining', () => {
  const chain = { network: 'local', height: 42, head: 'bafyreihead', pending: 3, mining: true, threads: 2, hashRate: 1_234_000, blocksMined: 40 }
  const { lastFrame, unmount } = render(<Dashboard snap={snap({ chain })} focus='chain' help={false} />)
  const f = lastFrame() ?? ''
  assert.match(f, /height 42 local/)
  assert.match(f, /pending 3/)
  assert.match(f, /mining 1\.23 MH\/s/)
  unmount()
  const idle = render(<Dashboard snap={snap({ chain: { ...chain, mining: false, hashRate: 0 } })} focus='chain' help={false} />)
  assert.match(idle.lastFrame() ?? '', /not mining \(m\)/)
  assert.doesNotMatch(idle.lastFrame() ?? '', /gossip/)
  idle.unmount()
  const gossip = { received: 12, accepted: 9, rejected: 2, ignored: 1, published: 5, rejectedBy: { BadProofOfWork: 2 }, offenders: 1, peers: 4 }
  const withGossip = render(<Dashboard snap={snap({ chain: { ...chain, gossip } })} focus='chain' help={false} />)
  assert.match(withGossip.lastFrame() ?? '', /gossip 4 peers 2 bad/)
  withGossip.unmount()
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Box } from 'ink'
import { render } from 'ink-testing-library'
import { Dashboard, PANES } from '../../../cli/ui/Dashboard.tsx'
import type { SeedSnapshot } from '../../../core/daemon/monitor.ts'
import { seedSnapshot } from '../../snapshot.ts'

const MIB = 1024 * 1024
const PEER_A = '12D3KooWPLh6cnApNemzAN7YFicTcHo9GjrMjiv6umCxwX5s5DuR'
const PEER_B = '12D3KooWR3Vq5hHjy8Wa5A3JgmUVatqNM5BdmnsJs7aVUsGZNcoE'

function snap (over: Partial<SeedSnapshot> = {}): SeedSnapshot {
  return seedSnapshot({
    id: '12D3KooWMDjBaVijWjMGzgJ91YKDhsdSvHHqzsL3LtRLxF2qcQVH',
    addresses: ['/ip4/127.0.0.1/tcp/4737/p2p/12D3KooWMDjBaVijWjMGzgJ91YKDhsdSvHHqzsL3LtRLxF2qcQVH'],
    uptimeMs: 65_000,
    ...over
  })
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
  assert.match(capped.lastFrame() ?? '', /Transfers ↓0 ↑0 {2}caps ↑ ≤ 16\.0 MiB\/s {2}↓ ≤ 2\.00 MiB\/s/)
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
  assert.match(f, /Transfers ↓1 ↑0/)
  assert.match(f, /↓ get …\w+ .* 50% 8\.00 MiB \/ 16\.0 MiB {2}4\.00 MiB\/s {2}ETA 2s/)
  assert.match(f, /from …\w+ 6\.00 MiB, …\w+ 2\.00 MiB/)
  unmount()
})

test('transfers panel: a gateway request shows its method and path, with no peers line', () => {
  const s = snap({ transfers: [{ id: 3, kind: 'http', cid: 'GET /ipfs/bafybeia6de72amk4mmbgztfivouknolz/a.txt', bytes: 2 * MIB, total: null, rate: MIB, peers: {}, done: false }] })
  const { lastFrame, unmount } = render(<Dashboard snap={s} focus='transfers' help={false} />)
  const f = lastFrame() ?? ''
  assert.match(f, /http GET \/ipfs\/bafybeia6de72amk4mmbgztfivouk… 2\.00 MiB/)
  assert.doesNotMatch(f, /from …/)
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
  const peers = Array.from({ length: 8 }, (_, i) => ({ id: `${PEER_A.slice(0, -2)}${String(i).padStart(2, '0')}`, address: '/ip4/127.0.0.1/tcp/1', direction: 'inbound', latencyMs: 1, bytesIn: 0, bytesOut: 0, rateIn: 0, rateOut: 0 }))
  const events = (f: string): number => f.split('\n').filter(l => /event \d+/.test(l)).length
  const small = render(<Dashboard snap={snap({ log, peers })} focus='peers' help={false} height={24} />)
  const a = small.lastFrame() ?? ''
  assert.match(a, /01:02:11 event 11/)
  assert.doesNotMatch(a, /event 8\b/)
  small.unmount()
  const big = render(<Dashboard snap={snap({ log, peers })} focus='log' help={false} height={24} />)
  const b = big.lastFrame() ?? ''
  assert.match(b, /event 7\b/)
  assert.ok(events(b) > events(a), `the focused log shows more lines:\n${b}`)
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

/** a busy seed: more of everything than any terminal holds */
export function busy (): SeedSnapshot {
  const peers = Array.from({ length: 30 }, (_, i) => ({ id: `${PEER_A.slice(0, -2)}${String(i).padStart(2, '0')}`, address: '/ip4/127.0.0.1/tcp/1', direction: i % 2 === 0 ? 'inbound' : 'outbound', latencyMs: i, bytesIn: 0, bytesOut: 0, rateIn: 123_456_789, rateOut: 987_654_321, relayed: i % 5 === 0 }))
  return snap({
    served: { blocks: 1e6, bytes: 1234 * 1024 * MIB },
    uptimeMs: 99 * 3600_000,
    nat: { reachability: 'private', relays: [PEER_B, PEER_A] },
    peers,
    transfers: Array.from({ length: 6 }, (_, i) => ({ id: i, kind: 'fetch' as const, cid: `bafybeia6de72amk4mmbgztfivouknolzmzmxtymfcez7tlejdjcrtv7v${i}`, bytes: 8 * MIB, total: 16 * MIB, rate: 4 * MIB, peers: Object.fromEntries(peers.slice(0, 12).map(p => [p.id, MIB])), done: false })),
    uploads: peers.slice(0, 20).map((p, i) => ({ peer: p.id, root: `bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei${i}`, name: `a rather long file name number ${i} that goes on and on.tar.gz`, bytes: i * MIB, blocks: i, rate: 39 * MIB, size: 100 * MIB, startedAt: 0, done: i % 3 === 0 })),
    content: Array.from({ length: 40 }, (_, i) => ({ cid: `bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei${i}`, size: i * MIB, name: `file-${i}.bin` })),
    chain: { network: 'local', height: 42, head: 'bafyreihead', pending: 3, mining: true, threads: 2, hashRate: 1_234_000, blocksMined: 40, gossip: { received: 12, accepted: 9, rejected: 2, ignored: 1, published: 5, rejectedBy: {}, offenders: 1, peers: 4 } },
    log: Array.from({ length: 50 }, (_, i) => ({ time: Date.UTC(2026, 10, 22, 1, 2, i), line: `peer ${PEER_A} started fetching something with a long name (bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei${i})` }))
  })
}

for (const [cols, rows] of [[80, 24], [100, 30], [160, 48]]) {
  test(`a busy seed on ${cols}×${rows}: every focus gives a frame that fits, the header on its first line`, () => {
    for (const focus of PANES) {
      for (const s of [busy(), snap()]) {
        const { lastFrame, unmount } = render(<Box width={cols}><Dashboard snap={s} focus={focus} help={false} height={rows} /></Box>)
        const lines = (lastFrame() ?? '').split('\n')
        assert.ok(lines.length <= rows, `focus ${focus}: ${lines.length} lines for ${rows} rows:\n${lastFrame() ?? ''}`)
        for (const line of lines) assert.ok(line.length <= cols, `focus ${focus}: a line wider than ${cols}: ${line}`)
        assert.match(lines[0], /^cairn seed .* \? help {2}q quit/)
        // the focused pane always shows
        const title = { peers: /Peers \(/, dht: /DHT/, transfers: /Transfers ↓/, content: /Seeded \(/, chain: /Anchor chain/, log: /Log/ }[focus]
        assert.match(lastFrame() ?? '', title, `focus ${focus} shows its pane`)
        unmount()
      }
    }
  })
}

test('a short terminal hides whole panes, never the focused one, and says how many rows did not fit', () => {
  const { lastFrame, unmount } = render(<Box width={80}><Dashboard snap={busy()} focus='peers' help={false} height={24} /></Box>)
  const f = lastFrame() ?? ''
  assert.match(f, /Peers \(30, 6 relayed\)/)
  assert.match(f, /\+\d+ more/)
  unmount()
})

test('transfers panel: uploads per peer and root, with the name, beside downloads', () => {
  const s = snap({
    transfers: [{ id: 1, kind: 'fetch', cid: 'bafybeia6de72amk4mmbgztfivouknolzmzmxtymfcez7tlejdjcrtv7vqu', bytes: 8 * MIB, total: 16 * MIB, rate: 4 * MIB, peers: { [PEER_A]: 8 * MIB }, done: false }],
    uploads: [
      { peer: PEER_B, root: 'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4', name: 'movie.mkv', bytes: 30 * MIB, blocks: 30, rate: 39 * MIB, size: 60 * MIB, startedAt: 0, done: false },
      { peer: PEER_A, root: null, bytes: 1024, blocks: 1, rate: 0, size: null, startedAt: 0, done: true }
    ]
  })
  const { lastFrame, unmount } = render(<Dashboard snap={s} focus='transfers' help={false} height={30} />)
  const f = lastFrame() ?? ''
  assert.match(f, /Transfers ↓1 ↑2/)
  assert.match(f, /↓ get …\w+ /)
  assert.match(f, /↑ movie\.mkv → …aVUsGZNcoE \S+ 30\.0 MiB \/ 60\.0 MiB {2}39\.0 MiB\/s/)
  assert.match(f, /↑ other blocks → …CxwX5s5DuR 1\.00 KiB {2}0 B\/s {2}done/)
  unmount()
})

test('seeded content shows the name from its manifest beside the CID', () => {
  const s = snap({ content: [{ cid: 'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4', size: 12, name: 'hello.txt' }] })
  const { lastFrame, unmount } = render(<Dashboard snap={s} focus='content' help={false} />)
  assert.match(lastFrame() ?? '', /hello\.txt …2km2devei4 12 B/)
  unmount()
})

test('seeded pane lists the names this seed publishes, with their value, sequence and next republish', () => {
  const name = 'k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8'
  const s = snap({
    content: [{ cid: 'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4', size: 12 }],
    names: [{ name, key: 'blog', value: '/ipfs/bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4', seq: 4, expires: Date.now() + 48 * 3600_000, nextRepublish: Date.now() + 2 * 3600_000 }]
  })
  const { lastFrame, unmount } = render(<Dashboard snap={s} focus='content' help={false} />)
  const frame = lastFrame() ?? ''
  assert.match(frame, /Seeded \(1, 1 name\)/)
  assert.match(frame, /\/ipns\/…onzllnv0v8 → …2km2devei4 #4 republish in (1h59m|2h00m)/)
  unmount()
})

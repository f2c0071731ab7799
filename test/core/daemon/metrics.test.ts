import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseMetricsAddress, prometheusText } from '../../../core/daemon/metrics.ts'
import { seedSnapshot } from '../../snapshot.ts'

test('metrics address: a bare port is loopback; HOST:PORT as given; nonsense refused', () => {
  assert.deepEqual(parseMetricsAddress('9464'), { host: '127.0.0.1', port: 9464 })
  assert.deepEqual(parseMetricsAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 })
  assert.deepEqual(parseMetricsAddress('[::1]:9464'), { host: '::1', port: 9464 })
  assert.throws(() => parseMetricsAddress('localhost'), /--metrics needs PORT or HOST:PORT/)
  assert.throws(() => parseMetricsAddress('1:99999'), /--metrics/)
})

test('the snapshot in the Prometheus text format', () => {
  const snap = seedSnapshot({
    uptimeMs: 1500,
    peers: [{ id: 'peer"A', address: '/ip4/127.0.0.1/tcp/1', direction: 'inbound', latencyMs: 1, bytesIn: 10, bytesOut: 2048, rateIn: 0.4, rateOut: 99.6 }],
    transfers: [{ id: 1, kind: 'fetch', cid: 'bafy', bytes: 5, total: null, rate: 1000, peers: {}, done: false }],
    content: [{ cid: 'bafy', size: 12 }],
    dht: { routingTable: 7, cids: 3, regions: 1, lookups: 1, failed: 1, lastRound: null, nextSweep: null, running: false },
    served: { blocks: 4, bytes: 4096 },
    limits: { upload: 16 * 1024 * 1024, download: 0 },
    guard: { offences: 3, bans: 1, refused: 2 }
  })
  const text = prometheusText(snap)
  assert.match(text, /^# HELP cairn_uptime_seconds .+\n# TYPE cairn_uptime_seconds gauge\ncairn_uptime_seconds 1\.5$/m)
  assert.match(text, /^cairn_peers 1$/m)
  assert.match(text, /^cairn_peers_banned_total 1$/m)
  assert.match(text, /^cairn_peer_offences_total 3$/m)
  assert.match(text, /^cairn_connections_refused_total 2$/m)
  assert.match(text, /^cairn_dht_routing_table_peers 7$/m)
  assert.match(text, /^cairn_served_bytes_total 4096$/m)
  assert.match(text, /^cairn_rate_limit_bytes_per_second\{direction="up"\} 16777216$/m)
  assert.match(text, /^cairn_rate_limit_bytes_per_second\{direction="down"\} 0$/m)
  assert.match(text, /^# TYPE cairn_served_blocks_total counter$/m)
  assert.match(text, /^cairn_peer_bytes_total\{peer="peer\\"A",direction="out"\} 2048$/m)
  assert.match(text, /^cairn_peer_rate_bytes_per_second\{peer="peer\\"A",direction="out"\} 100$/m)
  assert.match(text, /^cairn_fetches_in_flight 1$/m)
  assert.match(text, /^cairn_seeded_roots 1$/m)
  // every sample line is NAME{labels} VALUE with a number
  for (const line of text.trim().split('\n').filter(l => !l.startsWith('#'))) assert.match(line, /^[a-z_]+(\{.*\})? -?\d+(\.\d+)?$/)
})

test('the anchor chain and the miner, when the seed has them', () => {
  const base = seedSnapshot()
  assert.doesNotMatch(prometheusText(base), /cairn_anchor/)
  const text = prometheusText({ ...base, chain: { network: 'local', height: 12, head: 'bafy', pending: 2, mining: true, threads: 1, hashRate: 654321, blocksMined: 11 } })
  assert.match(text, /^cairn_anchor_height\{network="local"\} 12$/m)
  assert.match(text, /^cairn_anchor_pending_manifests\{network="local"\} 2$/m)
  assert.match(text, /^cairn_miner_hashes_per_second 654321$/m)
  assert.match(text, /^cairn_miner_blocks_total 11$/m)
  assert.doesNotMatch(text, /gossip/)
  const gossip = { received: 10, accepted: 7, rejected: 2, ignored: 1, published: 4, rejectedBy: { BadTarget: 2 }, offenders: 1, peers: 3 }
  const withGossip = prometheusText({ ...base, chain: { network: 'local', height: 12, head: 'bafy', pending: 2, mining: true, threads: 1, hashRate: 654321, blocksMined: 11, gossip } })
  assert.match(withGossip, /^cairn_anchor_gossip_messages_total\{result="accepted"\} 7$/m)
  assert.match(withGossip, /^cairn_anchor_gossip_messages_total\{result="rejected"\} 2$/m)
  assert.match(withGossip, /^cairn_anchor_gossip_messages_total\{result="ignored"\} 1$/m)
  assert.match(withGossip, /^cairn_anchor_gossip_published_total 4$/m)
  assert.match(withGossip, /^cairn_anchor_gossip_peers 3$/m)
})

test('gateway requests: counted by status, in flight and bytes sent; not counted as fetches', () => {
  const snap = seedSnapshot({
    uptimeMs: 1000,
    transfers: [{ id: 2, kind: 'http', cid: 'GET /ipfs/bafy', bytes: 5, total: null, rate: 1000, peers: {}, done: false }],
    http: { requests: { 200: 7, 429: 1, 499: 2 }, inFlight: 1, bytes: 12345 }
  })
  const text = prometheusText(snap)
  assert.match(text, /^cairn_gateway_requests_total\{code="200"\} 7$/m)
  assert.match(text, /^cairn_gateway_requests_total\{code="429"\} 1$/m)
  assert.match(text, /^cairn_gateway_requests_total\{code="499"\} 2$/m)
  assert.match(text, /^cairn_gateway_requests_in_flight 1$/m)
  assert.match(text, /^cairn_gateway_sent_bytes_total 12345$/m)
  assert.match(text, /^cairn_fetches_in_flight 0$/m, 'an HTTP request is not a fetch')
})

// `seed --metrics HOST:PORT`: the monitor's counters in the Prometheus text
// format (GET /metrics). Loopback unless the user names another host.

import http from 'node:http'
import { UsageError } from '../util/errors.ts'
import { tcpAddress } from '../util/address.ts'
import type { SeedMonitor, SeedSnapshot } from './monitor.ts'

/** Parses 'PORT' or 'HOST:PORT'; a bare port listens on 127.0.0.1. */
export function parseMetricsAddress (text: string): { host: string, port: number } {
  const m = /^(?:(.+):)?(\d{1,5})$/.exec(text)
  const port = Number(m?.[2])
  if (m == null || port > 65535) throw new UsageError(`--metrics needs PORT or HOST:PORT (got "${text}")`)
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1'), port }
}

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')

/** The snapshot as Prometheus text exposition format 0.0.4. */
/** One sample of a metric: its labels and its value. */
type Sample = [labels: Record<string, string>, value: number]

export function prometheusText (s: SeedSnapshot): string {
  const out: string[] = []
  const metric = (name: string, type: 'gauge' | 'counter', help: string, samples: Sample[]): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    for (const [labels, value] of samples) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${esc(v)}"`).join(',')
      out.push(`${name}${l === '' ? '' : `{${l}}`} ${Number.isFinite(value) ? value : 0}`)
    }
  }
  metric('cairn_uptime_seconds', 'gauge', 'Seconds since the seed started.', [[{}, s.uptimeMs / 1000]])
  metric('cairn_peers', 'gauge', 'Connected peers.', [[{}, s.peers.length]])
  metric('cairn_dht_routing_table_peers', 'gauge', 'Peers in the DHT routing table.', [[{}, s.dht.routingTable]])
  metric('cairn_provided_cids', 'gauge', 'CIDs under announcement (the provide round\'s CIDs).', [[{}, s.dht.cids]])
  metric('cairn_provide_failures', 'gauge', 'Announcement failures since the seed started (cairn provide stat gives their reasons).', [[{}, s.dht.failed]])
  metric('cairn_served_blocks_total', 'counter', 'Blocks served to peers over /cairn/blocks.', [[{}, s.served.blocks]])
  metric('cairn_served_bytes_total', 'counter', 'Bytes served to peers over /cairn/blocks.', [[{}, s.served.bytes]])
  metric('cairn_rate_limit_bytes_per_second', 'gauge', 'Upload and download caps (0 = none).', [[{ direction: 'up' }, s.limits.upload], [{ direction: 'down' }, s.limits.download]])
  metric('cairn_peer_offences_total', 'counter', 'Misbehaviour reported against peers (wrong blocks, floods, bad frames).', [[{}, s.guard.offences]])
  metric('cairn_peers_banned_total', 'counter', 'Peers disconnected and banned for misbehaving.', [[{}, s.guard.bans]])
  metric('cairn_connections_refused_total', 'counter', 'Connections and dials refused by the allow/deny lists, bans or the per-IP limit.', [[{}, s.guard.refused]])
  metric('cairn_peer_bytes_total', 'counter', 'Block bytes exchanged with each connected peer.', s.peers.flatMap((p): Sample[] => [
    [{ peer: p.id, direction: 'in' }, p.bytesIn],
    [{ peer: p.id, direction: 'out' }, p.bytesOut]
  ]))
  metric('cairn_peer_rate_bytes_per_second', 'gauge', 'Recent block rate with each connected peer.', s.peers.flatMap((p): Sample[] => [
    [{ peer: p.id, direction: 'in' }, Math.round(p.rateIn)],
    [{ peer: p.id, direction: 'out' }, Math.round(p.rateOut)]
  ]))
  const fetches = s.transfers.filter(t => t.kind === 'fetch')
  metric('cairn_fetches_in_flight', 'gauge', 'Fetches running in the seed.', [[{}, fetches.filter(t => !t.done).length]])
  metric('cairn_fetch_rate_bytes_per_second', 'gauge', 'Recent rate of all running fetches.', [[{}, Math.round(fetches.reduce((a, t) => a + t.rate, 0))]])
  if (s.http != null) {
    metric('cairn_gateway_requests_total', 'counter', 'HTTP gateway requests answered, by status (499: the client left first).', Object.entries(s.http.requests).map(([code, n]) => [{ code }, n]))
    metric('cairn_gateway_requests_in_flight', 'gauge', 'HTTP gateway requests being answered.', [[{}, s.http.inFlight]])
    metric('cairn_gateway_sent_bytes_total', 'counter', 'Body bytes the HTTP gateway sent.', [[{}, s.http.bytes]])
  }
  metric('cairn_seeded_roots', 'gauge', 'Pinned roots the seed serves.', [[{}, s.content.length]])
  if (s.chain != null) {
    metric('cairn_anchor_height', 'gauge', 'Height of the anchor chain head.', [[{ network: s.chain.network }, s.chain.height]])
    metric('cairn_anchor_pending_manifests', 'gauge', 'Manifests waiting to be anchored.', [[{ network: s.chain.network }, s.chain.pending]])
    metric('cairn_miner_hashes_per_second', 'gauge', 'Recent hash rate of the miner (0 when not mining).', [[{}, s.chain.hashRate]])
    metric('cairn_miner_blocks_total', 'counter', 'Blocks this seed mined and accepted.', [[{}, s.chain.blocksMined]])
    const g = s.chain.gossip
    if (g != null) {
      metric('cairn_anchor_gossip_messages_total', 'counter',
        'Anchor gossip messages judged, by result (rejected: invalid, the sender banned; ignored: known, future, orphan, pool full).', [
          [{ result: 'accepted' }, g.accepted], [{ result: 'rejected' }, g.rejected], [{ result: 'ignored' }, g.ignored]
        ])
      metric('cairn_anchor_gossip_published_total', 'counter', 'Blocks and manifests this seed published by gossip.', [[{}, g.published]])
      metric('cairn_anchor_gossip_peers', 'gauge', 'Peers subscribed to the anchor block topic.', [[{}, g.peers]])
    }
  }
  return out.join('\n') + '\n'
}

export class MetricsServer {
  private server: http.Server | null = null

  constructor (private readonly monitor: SeedMonitor) {}

  /** Listens; returns the address it got (port 0 picks one). */
  async start (host: string, port: number): Promise<string> {
    const server = http.createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('see /metrics\n')
        return
      }
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
      res.end(prometheusText(this.monitor.snapshot()))
    })
    this.server = server
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, resolve) })
    const a = tcpAddress(server)
    return `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`
  }

  async stop (): Promise<void> {
    const server = this.server
    if (server == null) return
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }
}

// The small network commands: id, peers, connect, provide, findprovs, stats,
// status, shutdown. Each is one call through the seed (or in process).

import type { ChainRow } from '../../core/monitor.ts'
import type { GossipStats } from '../../core/anchor/gossip.ts'
import { UsageError } from '../../core/errors.ts'
import { parseContentPath } from '../../core/resolve.ts'
import { emit, report, type Command, type Context } from '../command.ts'
import { withInvoker } from '../client.ts'
import { formatBytes } from '../format.ts'
import { formatProvideStat } from '../provide-stat.ts'
import type { ProvideStat } from '../../core/net/provide-report.ts'

function cidArg (ctx: Context, name: string): string {
  if (ctx.input.length !== 1) throw new UsageError(`${name} needs exactly one CID (see cairn ${name} --help)`)
  const { segments } = parseContentPath(ctx.input[0])
  if (segments.length > 0) throw new UsageError(`${name} takes a CID, not a path`)
  return ctx.input[0]
}

function noArgs (ctx: Context, name: string): void {
  if (ctx.input.length > 0) throw new UsageError(`${name} takes no arguments (see cairn ${name} --help)`)
}

export const id: Command = {
  name: 'id',
  summary: "this node's peer ID and addresses",
  help: `
Usage
  $ cairn id

With a seed running: its peer ID, addresses (relayed ones end in
/p2p-circuit/p2p/<id>; "unconfirmed" means AutoNAT has not yet seen it
dialable), network, reachability (public, private or unknown), the relays it
holds a slot on, and the NAT features on. Without: the repo's peer ID (its
key is created on first use).`,
  flags: {},
  async run (ctx) {
    noArgs(ctx, 'id')
    const r = await withInvoker(ctx, { write: false }, async inv => await inv.call('id', {})) as { id: string, addresses: string[], network: string, reachability?: string, relays?: string[], nat?: string[], addressStates?: Array<{ address: string, verified: boolean, type: string, relayed: boolean }> }
    const lines = [`id        ${r.id}`, `network   ${r.network}`, ...r.addresses.map(a => `address   ${a}${addressNote(a, r.addressStates)}`)]
    if (r.reachability != null) {
      lines.push(`reachable ${r.reachability}`, `relay     ${(r.relays ?? []).length > 0 ? (r.relays ?? []).join(', ') : 'none'}`, `nat       ${(r.nat ?? []).join(' ') || 'off'}`)
    }
    emit(ctx, lines.join('\n'), r)
  }
}

/** ' (relayed)', ' (unconfirmed)' or '' for an address line of `cairn id`. */
function addressNote (address: string, states: Array<{ address: string, verified: boolean, relayed: boolean }> | undefined): string {
  if (address.includes('/p2p-circuit')) return ' (relayed)'
  const row = states?.find(a => address === a.address || address.startsWith(`${a.address}/p2p/`))
  return row != null && !row.verified ? ' (unconfirmed)' : ''
}

export const peers: Command = {
  name: 'peers',
  summary: 'the peers the seed is connected to',
  help: `
Usage
  $ cairn peers

'<multiaddr>/p2p/<id> <direction> <latency> <direct|relayed>' per
connection (needs a seed).`,
  flags: {},
  async run (ctx) {
    noArgs(ctx, 'peers')
    const rows = await withInvoker(ctx, { write: false }, async inv => await inv.call('peers', {})) as Array<{ id: string, address: string, direction: string, latency: number | null, relayed?: boolean }>
    for (const r of rows) emit(ctx, `${r.address.endsWith(`/p2p/${r.id}`) ? r.address : `${r.address}/p2p/${r.id}`} ${r.direction} ${r.latency == null ? '-' : `${r.latency}ms`} ${r.relayed === true ? 'relayed' : 'direct'}`, r)
  }
}

export const connect: Command = {
  name: 'connect',
  summary: 'open a connection to a peer',
  help: `
Usage
  $ cairn connect MULTIADDR

MULTIADDR ends in /p2p/<peer id> (needs a seed).

Examples
  $ cairn connect /ip4/127.0.0.1/tcp/4737/p2p/12D3Koo...`,
  flags: {},
  async run (ctx) {
    if (ctx.input.length !== 1) throw new UsageError('connect needs one multiaddr ending in /p2p/<peer id>')
    const r = await withInvoker(ctx, { write: false }, async inv => await inv.call('connect', { address: ctx.input[0] })) as { id: string, address: string }
    emit(ctx, `connected ${r.id}`, r)
  }
}

export const provide: Command = {
  name: 'provide',
  summary: 'announce a CID in the DHT, or report on announcing (provide stat)',
  help: `
Usage
  $ cairn provide CID [--timeout S]
  $ cairn provide stat

Needs a seed: the record points at it. Seeds also announce what they hold,
sweeping the keyspace region by region over config provide.interval (one
lookup per region, then every CID of the region to its peers), and fresh
content at once (config provide.strategy: all, pinned or roots).

provide CID fails with the reason no peer took the record: timeout, no
peers (the lookup found nobody), refused (peers reset or refused the
stream).

provide stat reports the announcing: CIDs under announcement, regions,
lookups in the last round, the last and next sweep, the round's duration,
and failures by reason with the latest ones in detail (--json: all fields).`,
  flags: { timeout: { type: 'number' } },
  async run (ctx) {
    if (ctx.input[0] === 'stat') {
      if (ctx.input.length > 1) throw new UsageError('provide stat takes no arguments (see cairn provide --help)')
      const s = await withInvoker(ctx, { write: false }, async inv => await inv.call('provideStat', {})) as ProvideStat
      emit(ctx, formatProvideStat(s), s)
      return
    }
    const cid = cidArg(ctx, 'provide')
    const r = await withInvoker(ctx, { write: false }, async inv => await inv.call('provide', { cid, timeoutMs: timeoutMs(ctx) })) as { cid: string, ms: number, peers: number }
    emit(ctx, `provided ${r.cid} to ${r.peers} peer(s) in ${r.ms} ms`, r)
  }
}

export const findprovs: Command = {
  name: 'findprovs',
  summary: 'find peers that provide a CID',
  help: `
Usage
  $ cairn findprovs CID [--max N] [--timeout S] [--bootstrap MA]...

Prints one peer ID per provider as they are found. Uses the seed when one
runs; else starts a node for the command, bootstrapped from config and
--bootstrap. A lookup that finds nobody is run again until --timeout
(default 30 s); then it fails.

Examples
  $ cairn findprovs bafy... --max 1 --bootstrap /ip4/127.0.0.1/tcp/4737/p2p/12D3Koo...`,
  flags: { max: { type: 'number' }, timeout: { type: 'number' }, bootstrap: { type: 'string', isMultiple: true } },
  async run (ctx) {
    const cid = cidArg(ctx, 'findprovs')
    const max = ctx.flags.max as number | undefined
    if (max != null && !(Number.isInteger(max) && max >= 1)) throw new UsageError('--max needs a whole number ≥ 1')
    await withInvoker(ctx, { write: false, bootstrap: (ctx.flags.bootstrap as string[] | undefined) ?? [] }, async inv => {
      await inv.call('findprovs', { cid, max, timeoutMs: timeoutMs(ctx) }, {
        onItem: i => { const p = i as { id: string, addresses: string[], ms: number }; emit(ctx, p.id, p) }
      })
    })
  }
}

function timeoutMs (ctx: Context): number | undefined {
  const t = ctx.flags.timeout as number | undefined
  if (t == null) return undefined
  if (!(t > 0)) throw new UsageError('--timeout needs a number of seconds > 0')
  return Math.round(t * 1000)
}

/** The anchor chain in one line: height, pending, mining. */
function gossipLine (g: GossipStats): string {
  return `${g.peers} peer(s); received ${g.received}, accepted ${g.accepted}, rejected ${g.rejected}${g.offenders > 0 ? ` from ${g.offenders} peer(s)` : ''}, ignored ${g.ignored}, published ${g.published}`
}

function chainLine (c: ChainRow): string {
  return `${c.network} at height ${c.height}, ${c.pending} pending, ${c.mining ? `mining ${(c.hashRate / 1e6).toFixed(2)} MH/s (${c.blocksMined} blocks)` : 'not mining'}`
}

export const stats: Command = {
  name: 'stats',
  summary: "the seed's counters",
  help: `
Usage
  $ cairn stats
  $ cairn stats bw     block bytes in and out since start, and current rates

Peers (direct and relayed), reachability and relays in use, DHT routing
table size, the last provide round, blocks served, block bytes exchanged
since start and the upload/download caps (needs a seed; set them with seed
--max-upload/--max-download or config transfer.maxUpload/maxDownload).
'seed --metrics'
serves the same and more in the Prometheus format.`,
  flags: {},
  async run (ctx) {
    if (ctx.input.length > 1 || (ctx.input.length === 1 && ctx.input[0] !== 'bw')) throw new UsageError('stats takes no argument or "bw" (see cairn stats --help)')
    const s = await withInvoker(ctx, { write: false }, async inv => await inv.call('stats', {})) as Record<string, unknown> & { provide: Record<string, unknown> | null, limits?: { upload: number, download: number } }
    const rate = (r: number | undefined): string => r == null || r === 0 ? 'none' : `${formatBytes(r)}/s`
    if (ctx.input[0] === 'bw') {
      const bw = { totalIn: Number(s.bytesIn ?? 0), totalOut: Number(s.bytesOut ?? 0), rateIn: Number(s.rateIn ?? 0), rateOut: Number(s.rateOut ?? 0) }
      emit(ctx, [
        `total in   ${formatBytes(bw.totalIn)}`,
        `total out  ${formatBytes(bw.totalOut)}`,
        `rate in    ${formatBytes(bw.rateIn)}/s`,
        `rate out   ${formatBytes(bw.rateOut)}/s`
      ].join('\n'), bw)
      return
    }
    emit(ctx, [
      `peers          ${String(s.peers)} (${String(s.direct ?? s.peers)} direct, ${String(s.relayed ?? 0)} relayed)`,
      `reachable      ${String(s.reachability ?? 'unknown')}${(s.relays as string[] | undefined ?? []).length > 0 ? `, relay ${(s.relays as string[]).join(', ')}` : ''}`,
      `routing table  ${String(s.routingTable)}`,
      `announcing     ${provideLine(s.provide as ProvideStat | null)}`,
      `served         ${String((s.served as { blocks?: number } | null)?.blocks ?? 0)} blocks, ${formatBytes(Number((s.served as { bytes?: number } | null)?.bytes ?? 0))}`,
      `blocks in/out  ${formatBytes(Number(s.bytesIn ?? 0))} / ${formatBytes(Number(s.bytesOut ?? 0))} since start`,
      `limits         upload ${rate(s.limits?.upload)}, download ${rate(s.limits?.download)}`,
      ...(s.chain != null ? [`anchor chain   ${chainLine(s.chain as ChainRow)}`] : []),
      ...((s.chain as ChainRow | null)?.gossip != null ? [`anchor gossip  ${gossipLine((s.chain as ChainRow).gossip as GossipStats)}`] : []),
      `uptime         ${Math.round(Number(s.uptimeMs) / 1000)} s`
    ].join('\n'), s)
  }
}

export const status: Command = {
  name: 'status',
  summary: 'describe the running seed',
  help: `
Usage
  $ cairn status

Exits 1 with one Error line when no seed runs on the repo.`,
  flags: {},
  async run (ctx) {
    noArgs(ctx, 'status')
    const s = await withInvoker(ctx, { write: false }, async inv => await inv.call('status', {})) as { pid: number, id: string, addresses: string[], peers: number, routingTable: number, uptimeMs: number, chain?: ChainRow | null }
    emit(ctx, [`seed running (pid ${s.pid}) as ${s.id}`, ...s.addresses.map(a => `  ${a}`), `peers ${s.peers}, routing table ${s.routingTable}, up ${Math.round(s.uptimeMs / 1000)} s`,
      ...(s.chain != null ? [`anchor chain ${chainLine(s.chain)}`] : [])].join('\n'), s)
  }
}

export const shutdown: Command = {
  name: 'shutdown',
  summary: 'stop the running seed',
  help: `
Usage
  $ cairn shutdown`,
  flags: {},
  async run (ctx) {
    noArgs(ctx, 'shutdown')
    await withInvoker(ctx, { write: false }, async inv => await inv.call('shutdown', {}))
    report(ctx, 'the seed is stopping', { stopping: true })
  }
}

/** The provider in one line (stats): CIDs, regions, the last round, failures. */
function provideLine (p: ProvideStat | null): string {
  if (p == null) return '-'
  const failed = Object.values(p.failures).reduce((a, b) => a + b, 0)
  return `${p.cids} CID(s) in ${p.regions} region(s)${p.lastRound != null ? `, last round ${p.lastRound.lookups} lookup(s) in ${Math.round(p.lastRound.ms / 1000)} s` : ''}${p.round != null ? ', round under way' : ''}${failed > 0 ? ` (${failed} failed: cairn provide stat)` : ''}`
}

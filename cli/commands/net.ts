// The small network commands: id, peers, connect, provide, findprovs, stats,
// status, shutdown. Each is one call through the seed (or in process).

import type { ChainRow } from '../../core/daemon/monitor.ts'
import type { GossipStats } from '../../core/anchor/gossip.ts'
import { escapeTerminal } from '../../core/util/escape.ts'
import { UsageError } from '../../core/util/errors.ts'
import { parseContentPath } from '../../core/unixfs/resolve.ts'
import { emit, listFlag, numberFlag, report, type Command, type Context } from '../command.ts'
import * as v from 'valibot'
import { withInvoker } from '../client.ts'
import { expectItem } from '../items.ts'
import { formatBytes, formatHashRate, formatRate, minedLine } from '../format.ts'
import { formatProvideStat } from '../provide-stat.ts'
import type { ProvideStat } from '../../core/net/provide-report.ts'

/** a provider findprovs found (loose, in the handler's key order: --json prints it whole) */
const PROVIDER = v.looseObject({ id: v.string(), addresses: v.array(v.string()), ms: v.number() })

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
holds a slot on, the NAT features on, the DHT mode (server or client) and
the agent version peers see; --json adds the protocols it answers. Without:
the repo's peer ID (its key is created on first use).`,
  flags: {},
  async run (ctx) {
    noArgs(ctx, 'id')
    const r = await withInvoker(ctx, { write: false }, async inv => await inv.call('id', {}))
    const lines = [`id        ${r.id}`, `network   ${r.network}`, ...r.addresses.map(a => `address   ${a}${r.online ? addressNote(a, r.addressStates) : ''}`)]
    if (r.online) {
      lines.push(`reachable ${r.reachability}`, `relay     ${r.relays.length > 0 ? r.relays.join(', ') : 'none'}`, `nat       ${r.nat.join(' ') || 'off'}`)
    }
    if (r.online) lines.push(`dht       ${r.dhtMode}`, `agent     ${r.agent}`)
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
    const rows = await withInvoker(ctx, { write: false }, async inv => await inv.call('peers', {}))
    // an address a peer gave (a relayed or DNS one) is its own text
    for (const r of rows) {
      const address = r.address.endsWith(`/p2p/${r.id}`) ? r.address : `${r.address}/p2p/${r.id}`
      const latency = r.latency == null ? '-' : `${Math.round(r.latency)}ms`
      emit(ctx, `${escapeTerminal(address)} ${r.direction} ${latency} ${r.relayed === true ? 'relayed' : 'direct'}`, r)
    }
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
    const r = await withInvoker(ctx, { write: false }, async inv => await inv.call('connect', { address: ctx.input[0] }))
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

Needs a seed: the record points at it, so a CID whose block the seed does
not hold is refused (exit 1). Seeds also announce what they hold,
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
  subcommands: ['stat'],
  async run (ctx) {
    if (ctx.input[0] === 'stat') {
      if (ctx.input.length > 1) throw new UsageError('provide stat takes no arguments (see cairn provide --help)')
      const s = await withInvoker(ctx, { write: false }, async inv => await inv.call('provideStat', {}))
      emit(ctx, formatProvideStat(s), s)
      return
    }
    const cid = cidArg(ctx, 'provide')
    const r = await withInvoker(ctx, { write: false }, async inv => await inv.call('provide', { cid, timeoutMs: timeoutMs(ctx) }))
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
    const max = numberFlag(ctx, 'max')
    if (max != null && !(Number.isInteger(max) && max >= 1)) throw new UsageError('--max needs a whole number ≥ 1')
    await withInvoker(ctx, { write: false, bootstrap: listFlag(ctx, 'bootstrap') }, async inv => {
      await inv.call('findprovs', { cid, max, timeoutMs: timeoutMs(ctx) }, {
        onItem: i => { const p = expectItem(PROVIDER, i, 'findprovs'); emit(ctx, p.id, p) }
      })
    })
  }
}

function timeoutMs (ctx: Context): number | undefined {
  const t = numberFlag(ctx, 'timeout')
  if (t == null) return undefined
  if (!(t > 0)) throw new UsageError('--timeout needs a number of seconds > 0')
  return Math.round(t * 1000)
}

/** The anchor chain in one line: height, pending, mining. */
function gossipLine (g: GossipStats): string {
  const offenders = g.offenders > 0 ? ` from ${g.offenders} peer(s)` : ''
  return `${g.peers} peer(s); received ${g.received}, accepted ${g.accepted}, rejected ${g.rejected}${offenders}, ignored ${g.ignored}, published ${g.published}`
}

function chainLine (c: ChainRow): string {
  return `${c.network} at height ${c.height}, ${c.pending} pending, ${c.mining ? `mining ${formatHashRate(c.hashRate)} (${minedLine(c)})` : 'not mining'}`
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
  subcommands: ['bw'],
  async run (ctx) {
    if (ctx.input.length > 1 || (ctx.input.length === 1 && ctx.input[0] !== 'bw')) throw new UsageError('stats takes no argument or "bw" (see cairn stats --help)')
    const s = await withInvoker(ctx, { write: false }, async inv => await inv.call('stats', {}))
    const rate = (r: number | undefined): string => r == null || r === 0 ? 'none' : formatRate(r)
    if (ctx.input[0] === 'bw') {
      const bw = { totalIn: Number(s.bytesIn ?? 0), totalOut: Number(s.bytesOut ?? 0), rateIn: Number(s.rateIn ?? 0), rateOut: Number(s.rateOut ?? 0) }
      emit(ctx, [
        `total in   ${formatBytes(bw.totalIn)}`,
        `total out  ${formatBytes(bw.totalOut)}`,
        `rate in    ${formatRate(bw.rateIn)}`,
        `rate out   ${formatRate(bw.rateOut)}`
      ].join('\n'), bw)
      return
    }
    emit(ctx, [
      `peers          ${String(s.peers)} (${String(s.direct ?? s.peers)} direct, ${String(s.relayed ?? 0)} relayed)`,
      `reachable      ${String(s.reachability ?? 'unknown')}${s.relays.length > 0 ? `, relay ${s.relays.join(', ')}` : ''}`,
      `routing table  ${String(s.routingTable)}`,
      `announcing     ${provideLine(s.provide)}`,
      `served         ${s.served?.blocks ?? 0} blocks, ${formatBytes(s.served?.bytes ?? 0)}`,
      `blocks in/out  ${formatBytes(Number(s.bytesIn ?? 0))} / ${formatBytes(Number(s.bytesOut ?? 0))} since start`,
      `limits         upload ${rate(s.limits?.upload)}, download ${rate(s.limits?.download)}`,
      ...(s.chain != null ? [`anchor chain   ${chainLine(s.chain)}`] : []),
      ...(s.chain?.gossip != null ? [`anchor gossip  ${gossipLine(s.chain.gossip)}`] : []),
      ...s.names.map(n => `name           ${n.name} (key ${n.key}) → ${escapeTerminal(n.value)}, sequence ${n.seq}, republish ${new Date(n.nextRepublish).toISOString()}`),
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
    const s = await withInvoker(ctx, { write: false }, async inv => await inv.call('status', {}))
    emit(ctx, [
      `seed running (pid ${s.pid}) as ${s.id}`,
      ...s.addresses.map(a => `  ${a}`),
      `peers ${s.peers}, routing table ${s.routingTable}, up ${Math.round(s.uptimeMs / 1000)} s`,
      ...(s.chain != null ? [`anchor chain ${chainLine(s.chain)}`] : [])
    ].join('\n'), s)
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

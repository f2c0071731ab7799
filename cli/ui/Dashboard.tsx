// The seeding dashboard: a pure function of a SeedSnapshot, which pane has
// focus and the terminal's size. The seed command feeds it at most 10 frames
// a second. Every line is cut to the width and the panes to the height
// (layout.ts): a frame taller than the terminal scrolls it.

import { Box, Text } from 'ink'
import { formatBytes, formatDuration } from '../format.ts'
import { escapeTerminal } from '../../core/util/escape.ts'
import { barText } from './ProgressBar.tsx'
import { BAND_OF, FRAME_ROWS, bandRows, type Band } from './layout.ts'
import type { ContentRow, SeedSnapshot, TransferRow, UploadSnapshotRow } from '../../core/daemon/monitor.ts'
import type { NameStatus } from '../../core/names/republisher.ts'

export const PANES = ['peers', 'transfers', 'content', 'dht', 'chain', 'log'] as const
export type Pane = typeof PANES[number]

const short = (id: string): string => id.length > 14 ? `…${id.slice(-10)}` : id
/** peer IDs in a log line (Ed25519 and RSA), shortened as everywhere else on the dashboard */
const PEER_ID = /\b(?:12D3KooW|Qm)[1-9A-HJ-NP-Za-km-z]{44}\b/g
const shortPeers = (line: string): string => line.replace(PEER_ID, short)
const rate = (n: number): string => `${formatBytes(Math.round(n))}/s`
/** hashes a second, in k/M */
const formatRate = (n: number): string => n >= 1e6 ? `${(n / 1e6).toFixed(2)} MH/s` : `${(n / 1e3).toFixed(0)} kH/s`

function Panel ({ title, focused, children, width, rows }: { title: string, focused: boolean, children: React.ReactNode, width?: string | number, rows: number }) {
  // the height is the band's: the pane beside a longer one is as tall, and nothing inside can make it taller
  return (
    <Box
      flexDirection='column' borderStyle='round' borderColor={focused ? 'cyan' : 'gray'} paddingX={1} width={width}
      flexGrow={width == null ? 1 : 0} flexShrink={width == null ? 1 : 0} height={rows + FRAME_ROWS} overflowY='hidden'
    >
      <Text bold color={focused ? 'cyan' : undefined} wrap='truncate-end'>{title}</Text>
      {children}
    </Box>
  )
}

/** One line, cut at the pane's edge. */
const Line = ({ children, dim = false }: { children: React.ReactNode, dim?: boolean }) => <Text wrap='truncate-end' dimColor={dim}>{children}</Text>

/** The first `rows` of `items`; when some do not fit, the last row says how many more (Tab focuses the pane); one row shows the first. */
function fit<T> (items: T[], rows: number): { shown: T[], more: number } {
  if (items.length <= rows || rows <= 1) return { shown: items.slice(0, rows), more: 0 }
  const shown = items.slice(0, Math.max(0, rows - 1))
  return { shown, more: items.length - shown.length }
}
const More = ({ n }: { n: number }) => n > 0 ? <Line dim>+{n} more</Line> : null

/** a gateway request's path: a stranger's string, escaped, and cut to fit a row */
const httpLabel = (p: string): string => {
  const e = escapeTerminal(p)
  return e.length > 40 ? `${e.slice(0, 39)}…` : e
}

function DownloadLines ({ t, two }: { t: TransferRow, two: boolean }) {
  const total = t.total != null && t.total > 0 ? t.total : null
  const known = total != null
  const fraction = known ? t.bytes / total : (t.done ? 1 : 0)
  const eta = known && t.rate > 0 ? (total - t.bytes) / t.rate : Number.NaN
  return (
    <>
      <Line>
        <Text bold>{t.kind === 'http' ? `↑ http ${httpLabel(t.cid)}` : `↓ get ${short(t.cid)}`} </Text>
        {known || t.done ? <Text color={t.done ? 'green' : 'cyan'}>{barText(fraction, 16)} </Text> : null}
        {known ? `${String(Math.floor(fraction * 100)).padStart(3)}% ` : ''}
        {formatBytes(t.bytes)}{known ? ` / ${formatBytes(total)}` : ''}
        <Text dimColor>{`  ${rate(t.rate)}`}</Text>
        {t.done ? <Text color='green'>  done</Text> : known ? <Text dimColor>{`  ETA ${formatDuration(eta)}`}</Text> : null}
      </Line>
      {two && t.kind !== 'http' ? <Line dim>  from {Object.entries(t.peers).map(([p, b]) => `${short(p)} ${formatBytes(b)}`).join(', ') || '…'}</Line> : null}
    </>
  )
}

function UploadLine ({ u }: { u: UploadSnapshotRow }) {
  const what = u.name ?? (u.root == null ? 'other blocks' : short(u.root))
  const size = u.size != null && u.size > 0 ? u.size : null
  return (
    <Line>
      <Text bold>↑ {what}</Text> → {short(u.peer)}{' '}
      {size != null ? <Text color={u.done ? 'green' : 'cyan'}>{barText(u.bytes / size, 10)} </Text> : null}
      {formatBytes(u.bytes)}{size != null ? ` / ${formatBytes(size)}` : ''}
      <Text dimColor>{`  ${rate(u.rate)}`}</Text>
      {u.done ? <Text color='green'>  done</Text> : null}
    </Line>
  )
}

export interface DashboardProps {
  snap: SeedSnapshot
  focus: Pane
  help: boolean
  /** the terminal's rows: the frame is never taller */
  height?: number
}

/** the upload/download caps, when set */
/** a peer's row: id, direction, latency, rates, relayed */
function peerText (p: SeedSnapshot['peers'][number]): string {
  const latency = p.latencyMs == null ? '  -' : `${String(Math.round(p.latencyMs)).padStart(3)}ms`
  return `${short(p.id)} ${p.direction === 'inbound' ? 'in ' : 'out'} ${latency} ↓${rate(p.rateIn)} ↑${rate(p.rateOut)}${p.relayed === true ? ' via relay' : ''}`
}

/** reachability as AutoNAT judges it: green public, yellow private, plain unknown */
const REACHABILITY_COLOUR: Record<string, string | undefined> = { public: 'green', private: 'yellow' }

function capsText (l: SeedSnapshot['limits']): string {
  const parts = [l.upload > 0 ? `↑ ≤ ${formatBytes(l.upload)}/s` : '', l.download > 0 ? `↓ ≤ ${formatBytes(l.download)}/s` : ''].filter(x => x !== '')
  return parts.length > 0 ? `  caps ${parts.join('  ')}` : ''
}

/** the rows of the Transfers pane: each download two (bar, who serves it), each upload one */
function transferLines (snap: SeedSnapshot, rows: number): Array<{ key: string, el: React.ReactNode }> {
  const out: Array<{ key: string, el: React.ReactNode }> = []
  let left = rows
  const uploads = snap.uploads ?? []
  const total = snap.transfers.length + uploads.length
  for (const t of snap.transfers) {
    if (left < 1) break
    const two = left >= 2
    out.push({ key: `d${t.id}`, el: <DownloadLines key={`d${t.id}`} t={t} two={two} /> })
    left -= two ? 2 : 1
  }
  for (const u of uploads) {
    if (left < 1) break
    out.push({ key: `u${u.peer}${u.root ?? ''}`, el: <UploadLine key={`u${u.peer}${u.root ?? ''}`} u={u} /> })
    left--
  }
  // the last row says what did not fit
  if (out.length < total && out.length > 1) {
    out[out.length - 1] = { key: 'more', el: <More key='more' n={total - out.length + 1} /> }
  }
  return out
}

export function Dashboard ({ snap, focus, help, height = 24 }: DashboardProps) {
  const relayedCount = snap.peers.filter(p => p.relayed === true).length
  if (help) {
    return (
      <Box flexDirection='column' borderStyle='round' paddingX={1}>
        <Text bold>cairn seed — keys</Text>
        <Text wrap='truncate-end'>q, Ctrl-C   stop the seed and quit</Text>
        <Text wrap='truncate-end'>Tab, ←/→    move between panes (the focused pane shows more rows;</Text>
        <Text wrap='truncate-end'>            on a short terminal it shows panes that do not fit)</Text>
        <Text wrap='truncate-end'>m          start or stop mining anchor blocks</Text>
        <Text wrap='truncate-end'>?          this help (any key closes it)</Text>
      </Box>
    )
  }
  const uploads = snap.uploads ?? []
  const names = snap.names ?? []
  const chainLines = snap.chain == null ? 1 : 3 + (snap.chain.gossip != null ? 1 : 0)
  const dhtLines = [
    <Line key='t'>routing table {snap.dht.routingTable}</Line>,
    <Line key='c'>{snap.dht.cids} CIDs, {snap.dht.regions} regions</Line>,
    <Line key='l'>{snap.dht.lookups == null ? 'no round yet' : `${snap.dht.lookups} lookups/round`}</Line>,
    ...(snap.dht.failed > 0 ? [<Line key='f'><Text color='yellow'>{snap.dht.failed} failed: provide stat</Text></Line>] : []),
    <Line key='r' dim>{snap.dht.running ? 'sweeping…' : snap.dht.nextSweep == null ? '' : `next sweep ${formatDuration(Math.max(0, snap.dht.nextSweep - Date.now()) / 1000)}`}</Line>
  ]
  const needs: Record<Band, number> = {
    top: Math.max(snap.peers.length, dhtLines.length, 1),
    transfers: Math.max(snap.transfers.length * 2 + uploads.length, 1),
    bottom: Math.max(snap.content.length + names.length, chainLines, 1),
    log: Math.max(snap.log.length, 1)
  }
  const fixed = 2 + (snap.nat != null ? 1 : 0)
  const rows = bandRows(needs, BAND_OF[focus], height - fixed)
  const peers = fit(snap.peers, rows.top)
  // what this seed serves: pinned roots, then the names it publishes (and keeps republishing)
  const seeded = fit<{ c?: ContentRow, n?: NameStatus }>([...snap.content.map(c => ({ c })), ...names.map(n => ({ n }))], rows.bottom)
  const chainRows = snap.chain == null
    ? [<Line key='n' dim>no chain</Line>]
    : [
      <Line key='h'>height {snap.chain.height} <Text dimColor>{snap.chain.network}</Text></Line>,
      <Line key='p'>pending {snap.chain.pending}</Line>,
      <Line key='m' dim={!snap.chain.mining}>{snap.chain.mining ? `mining ${formatRate(snap.chain.hashRate)}` : 'not mining (m)'}</Line>,
      ...(snap.chain.gossip != null ? [<Line key='g'>gossip {snap.chain.gossip.peers} peers {snap.chain.gossip.rejected} bad</Line>] : [])
      ]
  return (
    <Box flexDirection='column'>
      <Box>
        <Box flexShrink={1}>
          <Text wrap='truncate-end'>
            <Text bold color='green'>cairn seed </Text>{`${short(snap.id)}  ${snap.network}  up ${formatDuration(snap.uptimeMs / 1000)}  served ${formatBytes(snap.served.bytes)}`}
          </Text>
        </Box>
        <Box flexShrink={0}><Text dimColor>   ? help  q quit</Text></Box>
      </Box>
      <Line dim>{snap.addresses[0] ?? 'not listening'}</Line>
      {snap.nat != null
        ? (
          <Line>
            reachable <Text color={REACHABILITY_COLOUR[snap.nat.reachability]}>{snap.nat.reachability}</Text>
            {`  relay ${snap.nat.relays.length > 0 ? snap.nat.relays.map(short).join(', ') : 'none'}`}
          </Line>
          )
        : null}
      {rows.top > 0 && (
        <Box>
          <Panel title={`Peers (${snap.peers.length}${relayedCount > 0 ? `, ${relayedCount} relayed` : ''})`} focused={focus === 'peers'} rows={rows.top}>
            {snap.peers.length === 0 ? <Line dim>no peers yet</Line> : null}
            {peers.shown.map(p => (
              <Line key={p.id}>{peerText(p)}</Line>
            ))}
            <More n={peers.more} />
          </Panel>
          <Panel title='DHT' focused={focus === 'dht'} width={26} rows={rows.top}>
            {dhtLines.slice(0, rows.top)}
          </Panel>
        </Box>
      )}
      {rows.transfers > 0 && (
        <Panel title={`Transfers ↓${snap.transfers.length} ↑${uploads.length}${capsText(snap.limits)}`} focused={focus === 'transfers'} rows={rows.transfers}>
          {snap.transfers.length + uploads.length === 0 ? <Line dim>nothing in flight</Line> : null}
          {transferLines(snap, rows.transfers).map(l => l.el)}
        </Panel>
      )}
      {rows.bottom > 0 && (
        <Box>
          <Panel title={`Seeded (${snap.content.length}${names.length > 0 ? `, ${names.length} name${names.length > 1 ? 's' : ''}` : ''})`} focused={focus === 'content'} rows={rows.bottom}>
            {snap.content.length + names.length === 0 ? <Line dim>nothing pinned</Line> : null}
            {seeded.shown.map(({ c, n }) => c != null
              ? <Line key={c.cid}>{c.name != null ? <Text bold>{c.name} </Text> : null}{short(c.cid)} {c.size == null ? '?' : formatBytes(c.size)}</Line>
              : n != null && <Line key={n.name}><Text bold>/ipns/{short(n.name)}</Text> → {short(n.value.replace(/^\/ipfs\//, ''))} #{n.seq} <Text dimColor>republish in {formatDuration(Math.max(0, n.nextRepublish - Date.now()) / 1000)}</Text></Line>)}
            <More n={seeded.more} />
          </Panel>
          <Panel title='Anchor chain' focused={focus === 'chain'} width={26} rows={rows.bottom}>
            {chainRows.slice(0, rows.bottom)}
          </Panel>
        </Box>
      )}
      {rows.log > 0 && (
        <Panel title='Log' focused={focus === 'log'} rows={rows.log}>
          {snap.log.slice(-rows.log).map((l, i) => (
            <Line key={`${l.time}-${i}`}><Text dimColor>{new Date(l.time).toISOString().slice(11, 19)} </Text>{shortPeers(l.line)}</Line>
          ))}
        </Panel>
      )}
    </Box>
  )
}

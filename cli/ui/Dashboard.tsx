// The seeding dashboard: a pure function of a SeedSnapshot and which pane has
// focus. The seed command feeds it at most 10 frames a second.

import { Box, Text } from 'ink'
import { formatBytes, formatDuration } from '../format.ts'
import { ProgressBar } from './ProgressBar.tsx'
import type { SeedSnapshot } from '../../core/monitor.ts'

export const PANES = ['peers', 'transfers', 'content', 'dht', 'chain', 'log'] as const
export type Pane = typeof PANES[number]

const short = (id: string): string => id.length > 14 ? `…${id.slice(-10)}` : id
const rate = (n: number): string => `${formatBytes(Math.round(n))}/s`
/** hashes a second, in k/M */
const formatRate = (n: number): string => n >= 1e6 ? `${(n / 1e6).toFixed(2)} MH/s` : `${(n / 1e3).toFixed(0)} kH/s`

function Panel ({ title, focused, children, width }: { title: string, focused: boolean, children: React.ReactNode, width?: string | number }) {
  return (
    <Box flexDirection='column' borderStyle='round' borderColor={focused ? 'cyan' : 'gray'} paddingX={1} width={width} flexGrow={width == null ? 1 : 0}>
      <Text bold color={focused ? 'cyan' : undefined}>{title}</Text>
      {children}
    </Box>
  )
}

export interface DashboardProps {
  snap: SeedSnapshot
  focus: Pane
  help: boolean
  /** rows each list may use (the focused pane gets more) */
  rows?: number
}

/** the upload/download caps, when set */
function capsText (l: SeedSnapshot['limits']): string {
  const parts = [l.upload > 0 ? `↑ ≤ ${formatBytes(l.upload)}/s` : '', l.download > 0 ? `↓ ≤ ${formatBytes(l.download)}/s` : ''].filter(x => x !== '')
  return parts.length > 0 ? `  caps ${parts.join('  ')}` : ''
}

export function Dashboard ({ snap, focus, help, rows = 3 }: DashboardProps) {
  const n = (pane: Pane): number => focus === pane ? rows * 2 : rows
  const relayedCount = snap.peers.filter(p => p.relayed === true).length
  if (help) {
    return (
      <Box flexDirection='column' borderStyle='round' paddingX={1}>
        <Text bold>cairn seed — keys</Text>
        <Text>q, Ctrl-C   stop the seed and quit</Text>
        <Text>Tab, ←/→    move between panes (the focused pane shows more rows)</Text>
        <Text>m          start or stop mining anchor blocks</Text>
        <Text>?          this help (any key closes it)</Text>
      </Box>
    )
  }
  return (
    <Box flexDirection='column'>
      <Box>
        <Text bold color='green'>cairn seed </Text>
        <Text>{short(snap.id)}  {snap.network}  up {formatDuration(snap.uptimeMs / 1000)}  served {formatBytes(snap.served.bytes)}</Text>
        <Text dimColor>   ? help  q quit</Text>
      </Box>
      <Text dimColor wrap='truncate-end'>{snap.addresses[0] ?? 'not listening'}</Text>
      {snap.nat != null
        ? <Text wrap='truncate-end'>reachable <Text color={snap.nat.reachability === 'public' ? 'green' : snap.nat.reachability === 'private' ? 'yellow' : undefined}>{snap.nat.reachability}</Text>  relay {snap.nat.relays.length > 0 ? snap.nat.relays.map(short).join(', ') : 'none'}</Text>
        : null}
      <Box>
        <Panel title={`Peers (${snap.peers.length}${relayedCount > 0 ? `, ${relayedCount} relayed` : ''})`} focused={focus === 'peers'}>
          {snap.peers.length === 0 ? <Text dimColor>no peers yet</Text> : null}
          {snap.peers.slice(0, n('peers')).map(p => (
            <Text key={p.id} wrap='truncate-end'>{short(p.id)} {p.direction === 'inbound' ? 'in ' : 'out'} {p.latencyMs == null ? '  -' : `${String(Math.round(p.latencyMs)).padStart(3)}ms`} ↓{rate(p.rateIn)} ↑{rate(p.rateOut)}{p.relayed === true ? ' via relay' : ''}</Text>
          ))}
        </Panel>
        <Panel title='DHT' focused={focus === 'dht'} width={26}>
          <Text>routing table {snap.dht.routingTable}</Text>
          <Text>{snap.dht.cids} CIDs, {snap.dht.regions} regions</Text>
          <Text>{snap.dht.lookups == null ? 'no round yet' : `${snap.dht.lookups} lookups/round`}</Text>
          {snap.dht.failed > 0 ? <Text color='yellow'>{snap.dht.failed} failed: provide stat</Text> : null}
          <Text dimColor>{snap.dht.running ? 'sweeping…' : snap.dht.nextSweep == null ? '' : `next sweep ${formatDuration(Math.max(0, snap.dht.nextSweep - Date.now()) / 1000)}`}</Text>
        </Panel>
      </Box>
      <Panel title={`Transfers (${snap.transfers.length})${capsText(snap.limits)}`} focused={focus === 'transfers'}>
        {snap.transfers.length === 0 ? <Text dimColor>nothing in flight</Text> : null}
        {snap.transfers.slice(0, n('transfers')).map(t => (
          <Box key={t.id} flexDirection='column'>
            <ProgressBar label={`get ${short(t.cid)}`} bytes={t.bytes} total={t.total} rate={t.rate} done={t.done} width={16} />
            <Text dimColor wrap='truncate-end'>  from {Object.entries(t.peers).map(([p, b]) => `${short(p)} ${formatBytes(b)}`).join(', ') || '…'}</Text>
          </Box>
        ))}
      </Panel>
      <Box>
        <Panel title={`Seeded (${snap.content.length})`} focused={focus === 'content'}>
          {snap.content.length === 0 ? <Text dimColor>nothing pinned</Text> : null}
          {snap.content.slice(0, n('content')).map(c => (
            <Text key={c.cid} wrap='truncate-end'>{short(c.cid)} {c.size == null ? '?' : formatBytes(c.size)}</Text>
          ))}
        </Panel>
        <Panel title='Anchor chain' focused={focus === 'chain'} width={26}>
          {snap.chain == null
            ? <Text dimColor>no chain</Text>
            : (
              <>
                <Text>height {snap.chain.height} <Text dimColor>{snap.chain.network}</Text></Text>
                <Text>pending {snap.chain.pending}</Text>
                <Text dimColor={!snap.chain.mining}>{snap.chain.mining ? `mining ${formatRate(snap.chain.hashRate)}` : 'not mining (m)'}</Text>
                {snap.chain.gossip != null && <Text wrap='truncate-end'>gossip {snap.chain.gossip.peers} peers {snap.chain.gossip.rejected} bad</Text>}
              </>
              )}
        </Panel>
      </Box>
      <Panel title='Log' focused={focus === 'log'}>
        {snap.log.slice(-n('log')).map((l, i) => (
          <Text key={`${l.time}-${i}`} wrap='truncate-end'><Text dimColor>{new Date(l.time).toISOString().slice(11, 19)} </Text>{l.line}</Text>
        ))}
      </Panel>
    </Box>
  )
}

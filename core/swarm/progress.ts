// What a fetch reports: progress events for the CLI's closing report and
// the dashboard, debug lines (DEBUG=cairn:swarm), and the words of the
// errors that end a fetch for want of providers.

import { logger } from '@libp2p/logger'
import { FetchTimeoutError, NoProvidersError, PeerDialError } from './errors.ts'
import type { Lane } from './lane.ts'
import type { CID } from 'multiformats/cid'

export type FetchProgress =
  | { type: 'fetch:providers', providers: number }
  | { type: 'fetch:block', peer: string, bytes: number }
  | { type: 'fetch:duplicate', peer: string, bytes: number }
  | { type: 'fetch:dropped', peer: string, reason: string }
  | { type: 'fetch:banned', peer: string, offence: string }

export const log = logger('cairn:swarm')

export class Progress {
  constructor (private readonly onProgress: ((e: FetchProgress) => void) | undefined) {}

  providers (n: number): void { this.onProgress?.({ type: 'fetch:providers', providers: n }) }
  /** who served what: the CLI's closing report and the dashboard tally these */
  block (peer: string, bytes: number): void { this.onProgress?.({ type: 'fetch:block', peer, bytes }) }
  duplicate (peer: string, bytes: number): void { this.onProgress?.({ type: 'fetch:duplicate', peer, bytes }) }

  dropped (peer: string, reason: string): void { this.onProgress?.({ type: 'fetch:dropped', peer, reason }) }
  banned (peer: string, offence: string): void { this.onProgress?.({ type: 'fetch:banned', peer, offence }) }

  /** A line per lane for DEBUG=cairn:swarm, each tick. */
  lanes (lanes: Iterable<Lane>, now: number, queued: number): void {
    if (!log.enabled) return
    for (const l of lanes) log('%s window %d in flight %d rate %s MiB/s base rtt %s ms rtt %s ms queue %d', l.key.slice(-8), l.window, l.inFlight.size, (l.meter.rate(now) / 1048576).toFixed(1), l.baseLatencyMs.toFixed(1), l.latencyMs.toFixed(1), queued)
  }
}

const NO_PEER_HINT = 'add bootstrap peers (cairn config set bootstrap …), or pass --peer or --bootstrap'

/** A block is missing and there is nobody at all to ask. */
export function nobodyToAsk (root: CID, block?: CID): NoProvidersError {
  return new NoProvidersError(block == null
    ? `${root.toString()} is not in the repo, and there is no peer to ask: ${NO_PEER_HINT}`
    : `block ${block.toString()} of ${root.toString()} is not in the repo, and there is no peer to ask: ${NO_PEER_HINT}`)
}

const unreachableList = (unreachable: Map<string, string>, sep: string, join: string): string => [...unreachable].map(([id, why]) => `${id}${sep}${why}`).join(join)

/** The idle limit passed: nobody found, or nothing arrived for that long. */
export function idleFailure (root: CID, idleTimeoutMs: number, served: boolean, lanes: Lane[], unreachable: Map<string, string>, refused: CID | null): Error {
  const live = lanes.filter(l => l.dead == null).length
  const couldNot = unreachable.size > 0 ? `; found but could not connect to ${unreachableList(unreachable, ' (', '), ')})` : ''
  return !served
    ? new NoProvidersError(`no provider of ${root.toString()} found within ${idleTimeoutMs / 1000} s${lanes.length > 0 ? ` (${lanes.length} peer(s) asked do not have it)` : ''}${couldNot}`)
    : new FetchTimeoutError(`no block of ${root.toString()} arrived for ${idleTimeoutMs / 1000} s (${live} provider(s) left${refused != null ? `, none of which has block ${refused.toString()}` : ''})`)
}

/**
 * Why a provider was dropped, never blank: some stream errors carry no
 * message (a stream closed under a lane), and a bare "peer: " told the user
 * nothing (seen in a loaded test run).
 */
export function dropReason (err: Error): string {
  if (err.message !== '') return err.message
  if (err.name !== '' && err.name !== 'Error') return err.name
  return 'failed, with no reason given'
}

/** Discovery is over and no provider is left working. */
export function noneLeft (root: CID, lanes: Lane[], unreachable: Map<string, string>, anyoneToAsk: boolean): Error {
  if (lanes.length === 0 && !anyoneToAsk) return nobodyToAsk(root)
  if (lanes.length === 0 && unreachable.size > 0) return new PeerDialError(`cannot connect to ${unreachableList(unreachable, ': ', '; ')}`)
  if (lanes.length === 0) return new NoProvidersError(`no provider of ${root.toString()} found`)
  return new FetchTimeoutError(`every provider of ${root.toString()} failed: ${lanes.map(l => `${l.key.slice(-8)}: ${l.dead != null ? dropReason(l.dead) : 'still open'}`).join('; ')}`)
}

// Announcing content in the DHT: what the strategy names, swept region by
// region over `provide.interval` (sweeper.ts), and new DAGs at once by the
// same mechanism. Strategies as in Kubo: all (every block), pinned (every
// block of pinned DAGs), roots (pinned roots only). This module is the
// seed's face of it: the strategy's targets, a DAG just added, one CID
// asked for by `cairn provide`, and `provide stat`.

import { walkDag } from '../repo/dag.ts'
import { CairnError, DagTooDeepError } from '../util/errors.ts'
import { ProvideScheduleStore } from '../../storage/provide-schedule.ts'
import { Sweeper } from './sweeper.ts'
import { peerKey, REASON_TEXT, SweepWire, type FailureReason } from './sweep-wire.ts'
import type { ProvideStat } from './provide-report.ts'
import type { CairnNode } from './node.ts'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

export type ProvideStrategy = 'all' | 'pinned' | 'roots'
export type { ProvideStat }

/** `cairn provide` could not get the record to any peer; `reason` says why */
export class ProvideError extends CairnError {
  constructor (readonly reason: FailureReason, message: string) { super(message) }
}

/** `cairn provide`'s time limit when none is given */
export const PROVIDE_TIMEOUT_MS = 30_000

/** pins made this long before the seed's last save count as made while it was down (clocks, a save racing an add) */
const OFFLINE_MARGIN_MS = 5_000

/**
 * A pinned DAG deeper than MAX_DAG_DEPTH (pinned before the limit, or by an
 * older cairn) is announced down to the limit: the blocks walked so far
 * are announced, and one such pin stops no sweep of the others.
 */
function tooDeepIsPartial (err: unknown): void {
  if (!(err instanceof DagTooDeepError)) throw err
}

export class Provider {
  readonly sweeper: Sweeper<PeerId>
  private readonly store: ProvideScheduleStore

  constructor (private readonly node: CairnNode, private readonly strategy: ProvideStrategy, intervalMs: number) {
    this.store = new ProvideScheduleStore(node.repo.datastore)
    this.sweeper = new Sweeper<PeerId>({
      wire: Object.assign(new SweepWire(node.libp2p, node.libp2p.services.dht), { peerKey }),
      store: this.store,
      targets: signal => this.targets(signal),
      strategy,
      intervalMs,
      // blocks served (bitswap or /cairn/blocks) or fetched: announcing waits
      lastTransferAt: () => Math.max(node.upload.lastUse, node.download.lastUse)
    })
  }

  get stats (): ProvideStat { return this.sweeper.stat }

  /** told of each finished round (the seed's log) */
  get onRound (): ((s: ProvideStat) => void) | undefined { return this.sweeper.onRound }
  set onRound (f: ((s: ProvideStat) => void) | undefined) { this.sweeper.onRound = f }

  /** The CIDs the strategy names, from the repo. */
  async * targets (signal?: AbortSignal): AsyncGenerator<CID> {
    const repo = this.node.repo
    if (this.strategy === 'all') {
      for await (const { cid } of repo.blocks.list()) yield cid
      return
    }
    const seen = new Set<string>()
    for await (const pin of repo.pins.ls()) {
      if (this.strategy === 'roots') {
        yield pin.cid
        continue
      }
      const found: CID[] = []
      const add = (cid: CID): void => { found.push(cid) }
      await walkDag(repo.blocks, pin.cid, { signal, allowMissing: true, onBlock: add, onLeaf: add }, seen).catch(tooDeepIsPartial)
      yield * found
    }
  }

  /** Announces a DAG just added, as the strategy would: its root first, at once. */
  async provideDag (root: CID, signal?: AbortSignal): Promise<void> {
    this.sweeper.announce([root], true)
    if (this.strategy === 'roots') return
    const cids: CID[] = []
    // the leaves are looked up, not read: the fetch that follows an add at once needs the CPU (walkDag's onLeaf)
    const add = (cid: CID): void => { if (!cid.equals(root)) cids.push(cid) }
    await walkDag(this.node.repo.blocks, root, { signal, allowMissing: true, onBlock: add, onLeaf: add }).catch(tooDeepIsPartial)
    this.sweeper.announce(cids)
  }

  /** Announces one CID now (`cairn provide`): how many peers took it, or a ProvideError with the reason. */
  async provideOne (cid: CID, timeoutMs = PROVIDE_TIMEOUT_MS, signal?: AbortSignal): Promise<{ peers: number, failures: Array<{ reason: FailureReason, message: string }> }> {
    const t = AbortSignal.timeout(timeoutMs)
    const r = await this.sweeper.announceNow([cid], { urgent: true, signal: signal == null ? t : AbortSignal.any([signal, t]) })
    if (r.delivered === 0) {
      signal?.throwIfAborted()
      const f = r.failures[0] ?? { reason: 'timeout' as const, message: `nothing answered within ${timeoutMs / 1000} s` }
      throw new ProvideError(f.reason, `${cid.toString()} was announced to no peer: ${REASON_TEXT[f.reason]} (${f.message})`)
    }
    return { peers: r.delivered, failures: r.failures }
  }

  /**
   * Starts the rounds, and announces at once the DAGs pinned while no seed
   * ran (added offline: the last round did not have them, the next may be
   * a day away).
   */
  start (): void {
    void (async () => {
      const last = await this.store.load()
      this.sweeper.start()
      if (last?.seenUntil == null) return // no schedule: the first round is a catch-up round over everything
      for await (const pin of this.node.repo.pins.ls()) {
        if (pin.time >= last.seenUntil - OFFLINE_MARGIN_MS) await this.provideDag(pin.cid)
      }
    })().catch(() => {})
  }

  async stop (): Promise<void> { await this.sweeper.stop() }
}

// The swarm's lanes to IPFS peers that do not speak /cairn/blocks: bitswap
// 1.2, one lane per peer like any other provider, its wants sent to that
// peer alone (not broadcast to every bitswap peer, as @helia/bitswap's own
// want() does). A peer that has served this fetch nothing yet is asked
// want-have first (a small answer either way: a peer that lacks the content
// sends no block, one that has it is not sent a duplicate of a block
// another peer is sending); after a HAVE, or once it has served a block, it
// is asked want-block. Every want asks for DONT_HAVE, which the scheduler
// takes as a refusal: that peer is not asked for that block again.

import { base64 } from 'multiformats/bases/base64'
import { blockKey } from '../repo/dag.ts'
import type { Asker } from './lane.ts'
import type { Answer } from '../net/block-protocol.ts'
import type { BitswapEngine, BitswapPresence } from '../net/bitswap-host.ts'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

/** a peer that neither sends a block nor says it has none by then is taken to have none (old peers ignore sendDontHave) */
const BITSWAP_WANT_MS = 30_000
/** a cancel that cannot be sent by then is dropped (the fetch may have ended: the cancel outlives its signal) */
const CANCEL_SEND_MS = 10_000

type WantType = 'WantBlock' | 'WantHave'

interface Pending { type: WantType, resolve: (p: BitswapPresence | null) => void }

/**
 * The bitswap engine's messages, as one fetch sees them: one listener on
 * the presences and blocks that arrive, matched to the wants of every lane,
 * and wants and cancels sent to one peer each.
 */
export class BitswapWire {
  private readonly pending = new Map<string, Pending>()
  private readonly onPresence = (evt: CustomEvent<BitswapPresence>): void => {
    const p = evt.detail
    const key = `${p.sender.toString()}/${blockKey(p.cid)}`
    const w = this.pending.get(key)
    // a HAVE in answer to a want-block: the block is still to come
    if (w == null || (w.type === 'WantBlock' && p.block == null && p.has)) return
    this.pending.delete(key)
    w.resolve(p)
  }

  /** `wanted`: told of each block asked for before the want goes out (the peer guard's unsolicited-block check) */
  constructor (private readonly engine: BitswapEngine, private readonly signal: AbortSignal, private readonly wanted: (cid: CID) => void) {
    engine.wantList.addEventListener('presence', this.onPresence)
  }

  /**
   * Sends one want to `peer`; the presence or block it answers with, or
   * null if the want was cancelled, timed out or the fetch ended.
   */
  async want (peer: PeerId, cid: CID, type: WantType, cancel: AbortSignal): Promise<BitswapPresence | null> {
    const key = `${peer.toString()}/${blockKey(cid)}`
    const signal = AbortSignal.any([this.signal, cancel, AbortSignal.timeout(BITSWAP_WANT_MS)])
    if (signal.aborted) return null
    this.pending.get(key)?.resolve(null) // one want per block and peer
    let entry: Pending | null = null
    const answer = new Promise<BitswapPresence | null>(resolve => {
      entry = { type, resolve }
      this.pending.set(key, entry)
      signal.addEventListener('abort', () => { this.forget(key, entry); resolve(null) }, { once: true })
    })
    // a peer may send a small block in place of a HAVE: both kinds of want
    // tell the guard, or that block would count as unsolicited
    this.wanted(cid)
    try {
      await this.send(peer, cid, { wantType: type, cancel: false, sendDontHave: true }, signal)
    } catch (err) {
      this.forget(key, entry)
      if (signal.aborted) return null
      throw err
    }
    const got = await answer
    if (got == null) void this.send(peer, cid, { wantType: type, cancel: true, sendDontHave: false }, AbortSignal.timeout(CANCEL_SEND_MS)).catch(() => {})
    return got
  }

  private forget (key: string, entry: Pending | null): void {
    if (entry != null && this.pending.get(key) === entry) this.pending.delete(key)
  }

  private async send (peer: PeerId, cid: CID, entry: { wantType: WantType, cancel: boolean, sendDontHave: boolean }, signal: AbortSignal): Promise<void> {
    // the shape of @helia/bitswap's queued message: it merges ours with any
    // other queued for the same peer, keyed as it keys them
    await this.engine.network.sendMessage(peer, {
      full: false,
      pendingBytes: 0,
      wantlist: new Map([[base64.encode(cid.multihash.bytes), { cid: cid.bytes, priority: 1, ...entry }]]),
      blockPresences: new Map(),
      blocks: new Map()
    }, { signal })
  }

  close (): void {
    this.engine.wantList.removeEventListener('presence', this.onPresence)
    for (const w of this.pending.values()) w.resolve(null)
    this.pending.clear()
  }
}

/** An asker over bitswap to one peer; `served` says whether that peer has served this fetch a block yet. */
export function bitswapAsker (wire: BitswapWire, peer: PeerId, served: () => boolean): Asker {
  const wants = new Map<string, AbortController>()
  return {
    ask: async (cid: CID): Promise<Answer> => {
      const key = blockKey(cid)
      const ac = new AbortController()
      wants.set(key, ac)
      try {
        if (!served()) {
          const have = await wire.want(peer, cid, 'WantHave', ac.signal)
          if (have == null) return ac.signal.aborted ? { status: 'cancelled' } : { status: 'dont-have' }
          if (!have.has) return { status: 'dont-have' }
          // a small block may come in place of the HAVE
          if (have.block != null) return { status: 'have', bytes: have.block }
        }
        const got = await wire.want(peer, cid, 'WantBlock', ac.signal)
        if (got == null) return ac.signal.aborted ? { status: 'cancelled' } : { status: 'dont-have' }
        if (!got.has || got.block == null) return { status: 'dont-have' }
        return { status: 'have', bytes: got.block }
      } catch (err) {
        if (ac.signal.aborted) return { status: 'cancelled' }
        throw err // the message could not be sent: the lane fails
      } finally {
        wants.delete(key)
      }
    },
    cancel: cid => { wants.get(blockKey(cid))?.abort() },
    close: () => { for (const ac of wants.values()) ac.abort() }
  }
}

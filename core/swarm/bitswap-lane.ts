// The swarm's lane to IPFS peers that do not speak /cairn/blocks: one lane
// for all of them, since bitswap's want list reaches every connected peer.
// Bitswap has no "don't have" we can rely on, so a want that times out
// counts as one.

import { blockKey } from '../dag.ts'
import type { Asker } from './lane.ts'
import type { Answer } from '../net/block-protocol.ts'
import type { BitswapEngine } from '../net/bitswap-host.ts'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

/** one bitswap want's limit */
const BITSWAP_WANT_MS = 30_000

/** An asker over bitswap; `from` says which peer sent each block (by block key). */
export interface BitswapAsker extends Asker { from: Map<string, string> }

export function bitswapAsker (bitswap: BitswapEngine | undefined, signal: AbortSignal): BitswapAsker {
  const wants = new Map<string, AbortController>()
  const asker: BitswapAsker = {
    from: new Map(),
    ask: async (cid: CID): Promise<Answer> => {
      if (bitswap == null) return { status: 'dont-have' }
      const ac = new AbortController()
      wants.set(blockKey(cid), ac)
      try {
        const bytes = await bitswap.want(cid, {
          signal: AbortSignal.any([signal, ac.signal, AbortSignal.timeout(BITSWAP_WANT_MS)]),
          maxProviders: 0,
          onProgress: e => { if (e.type === 'bitswap:block') asker.from.set(blockKey(cid), (e.detail as { sender: PeerId }).sender.toString()) }
        })
        return { status: 'have', bytes }
      } catch {
        return ac.signal.aborted ? { status: 'cancelled' } : { status: 'dont-have' }
      } finally {
        wants.delete(blockKey(cid))
      }
    },
    cancel: cid => { wants.get(blockKey(cid))?.abort() },
    close: () => { for (const ac of wants.values()) ac.abort() }
  }
  return asker
}

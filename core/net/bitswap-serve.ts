// What bitswap serves from, and how its block memory is bounded.
//
// @helia/bitswap's ledger answers a peer by reading every block the peer
// wants (up to its want-list size, 1024) into one message and only then
// sending it: a peer wanting 1024 blocks of 1 MiB made it hold 1 GiB. Each
// block it reads here first takes room in the node's block budget
// (block-budget.ts), in the name of the ledger's send job (its AbortSignal,
// which bitswap passes both to the read and to the send that follows); the
// room is given back when that send has finished. A job that already holds
// blocks and finds the budget full does not wait (it could wait for itself):
// the want is answered "not found" for now, bitswap sends what it has, and
// once that send is done the peer's ledger is asked to try again. A job that
// holds nothing waits for room: backpressure.
//
// This reaches into two objects of the engine (its network's sendMessage,
// its peerWantLists' receiveMessage); start() fails loudly if either is not
// there (an @helia/bitswap that changed), rather than serve unbounded.

import { BlockNotFoundError, CairnError, CorruptBlockError } from '../util/errors.ts'
import { MAX_BLOCK_BYTES, type BlockReader } from '../../storage/blocks.ts'
import type { RateLimiter } from '../util/rate.ts'
import type { BlockBudget } from './block-budget.ts'
import type { CID } from 'multiformats/cid'
import type { PeerId } from '@libp2p/interface'

/** the error name Helia's bitswap treats as "don't have" */
class NotFoundError extends Error { override name = 'NotFoundError' }

/** @helia/bitswap no longer has what the budget hooks into */
export class BitswapHookError extends CairnError {}

/** one ledger send job's part of the budget */
interface Hold { bytes: number, deferred: boolean }

/** The parts of @helia/bitswap's engine this needs. */
export interface ServedEngine {
  network: { sendMessage: (peer: PeerId, message: unknown, options?: { signal?: AbortSignal }) => Promise<void> }
  peerWantLists: { receiveMessage: (peer: PeerId, message: Record<string, never>) => void }
}

export class BitswapServe {
  private readonly holds = new WeakMap<AbortSignal, Hold>()
  /** a job that read blocks and never sent (every want cancelled meanwhile) gives its room back when collected */
  private readonly orphans = new FinalizationRegistry<Hold>(hold => { this.releaseHold(hold) })
  /** blocks put off for want of room (metrics, tests) */
  deferred = 0

  constructor (private readonly blocks: BlockReader, private readonly upload: RateLimiter, private readonly budget: BlockBudget) {}

  private releaseHold (hold: Hold): void {
    this.budget.release(hold.bytes)
    hold.bytes = 0
  }

  private holdFor (signal: AbortSignal): Hold {
    let hold = this.holds.get(signal)
    if (hold == null) {
      hold = { bytes: 0, deferred: false }
      this.holds.set(signal, hold)
      this.orphans.register(signal, hold)
    }
    return hold
  }

  /**
   * The block store bitswap reads from: the upload cap and the budget apply,
   * and a block that fails its hash on disk (or vanished since `has`) is
   * "not found", which bitswap answers with don't-have; any other error made
   * it drop every want in the batch, so one bad block stopped a peer's whole
   * download.
   */
  reader (): BlockReader {
    const self = this
    const served: BlockReader = Object.create(this.blocks)
    served.get = async function * (cid: CID, options?: { signal?: AbortSignal }) {
      const signal = options?.signal
      const hold = signal != null ? self.holdFor(signal) : null
      if (hold != null && !self.budget.tryAcquire(MAX_BLOCK_BYTES)) {
        if (hold.bytes > 0) {
          hold.deferred = true
          self.deferred++
          throw new NotFoundError('no room in the block budget now; tried again after the next send')
        }
        await self.budget.acquire(MAX_BLOCK_BYTES, signal)
      }
      if (hold != null) hold.bytes += MAX_BLOCK_BYTES
      let bytes: Uint8Array
      try {
        bytes = await self.blocks.getBytes(cid, options)
      } catch (err) {
        if (hold != null) { hold.bytes -= MAX_BLOCK_BYTES; self.budget.release(MAX_BLOCK_BYTES) }
        if (err instanceof CorruptBlockError || err instanceof BlockNotFoundError) throw new NotFoundError(err.message)
        throw err
      }
      if (hold != null) {
        const spare = MAX_BLOCK_BYTES - Math.min(bytes.byteLength, MAX_BLOCK_BYTES)
        hold.bytes -= spare
        self.budget.release(spare)
      }
      await self.upload.take(bytes.byteLength, signal)
      yield bytes
    }
    return served
  }

  /** Hooks the engine's sends: a job's room comes back when its send is done. */
  attach (engine: ServedEngine): void {
    const network = engine.network
    const wantLists = engine.peerWantLists
    if (typeof network?.sendMessage !== 'function' || typeof wantLists?.receiveMessage !== 'function') {
      throw new BitswapHookError('@helia/bitswap changed: its network.sendMessage or peerWantLists.receiveMessage is gone, so its block memory cannot be bounded (core/net/bitswap-serve.ts)')
    }
    const send = network.sendMessage.bind(network)
    network.sendMessage = async (peer, message, options) => {
      try {
        await send(peer, message, options)
      } finally {
        const hold = options?.signal != null ? this.holds.get(options.signal) : undefined
        if (hold != null) {
          this.releaseHold(hold)
          if (hold.deferred) {
            hold.deferred = false
            // the wants put off are back to "want" in the ledger: a fresh send job picks them up
            try { wantLists.receiveMessage(peer, {}) } catch {}
          }
        }
      }
    }
  }
}

// Bitswap on our libp2p node without Helia. Importing 'helia' (for
// createHeliaLight) and '@helia/libp2p' loads libp2p's whole default stack
// (WebRTC, HTTP, ...) whether used or not: measured here, RSS after import
// 138 MiB against 83 for libp2p alone, and about a second of start-up CPU
// for every command that starts a node. withBitswap() is @helia/bitswap's
// public entry point; it asks its host for the libp2p node, a blockstore,
// routing, a logger and hashers, which this small host gives it.

import { withBitswap } from '@helia/bitswap'
import { BitswapInbound } from './bitswap-inbound.ts'
import { base64 } from 'multiformats/bases/base64'
import { identity } from 'multiformats/hashes/identity'
import { sha256, sha512 } from 'multiformats/hashes/sha2'
import type { Libp2p, PeerId, StreamHandler } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import type { BlockReader } from '../../storage/blocks.ts'

/** A block, or a HAVE / DONT_HAVE, from one peer (a block's CID is computed from its bytes). */
export interface BitswapPresence { sender: PeerId, cid: CID, has: boolean, block?: Uint8Array }

/**
 * What the fetcher uses of the bitswap engine: its events for what arrives,
 * and its send queue, to send wants to one peer at a time
 * (core/swarm/bitswap-lane.ts); `message` is the engine's queued-message shape.
 */
export interface BitswapEngine {
  wantList: {
    addEventListener: (type: 'presence', fn: (evt: CustomEvent<BitswapPresence>) => void) => void
    removeEventListener: (type: 'presence', fn: (evt: CustomEvent<BitswapPresence>) => void) => void
  }
  network: {
    sendMessage: (peer: PeerId, message: unknown, options: { signal: AbortSignal }) => Promise<void>
  }
}

export interface BitswapService {
  bitswap: BitswapEngine
  /** the bound on bytes of each peer's inbound messages not yet whole (bitswap-inbound.ts) */
  inbound: BitswapInbound
  stop: () => Promise<void>
}

interface Broker { bitswap: BitswapEngine, stop: () => Promise<void> }
interface Mixin { start: (host: unknown) => Promise<void> }

const HASHERS = new Map<number, unknown>([[sha256.code, sha256], [sha512.code, sha512], [identity.code, identity]])

/** A message @helia/bitswap sends: its blocks keyed by multibase base64 of the block's multihash. */
interface SentMessage { blocks?: Map<string, { data: Uint8Array }> }
interface SendingNetwork { sendMessage?: (peer: { toString: () => string }, message: SentMessage, options?: unknown) => Promise<void> }

/**
 * Calls `onSent(peer, block, bytes)` for every block bitswap sends, once its
 * message is handed to the stream; `block` is the multihash key of core/repo/dag.ts
 * (blockKey). @helia/bitswap tells nobody which peer got which block (its
 * counters are totals), so this wraps its network's sendMessage; if a later
 * version moves it, uploads over bitswap go unlisted and nothing else changes.
 */
export function observeSentBlocks (engine: BitswapEngine, onSent: (peer: string, block: string, bytes: number) => void): boolean {
  const network = (engine as unknown as { network?: SendingNetwork }).network
  const send = network?.sendMessage
  if (network == null || typeof send !== 'function') return false
  network.sendMessage = async function (peer, message, options) {
    await send.call(this, peer, message, options)
    for (const [key, block] of message.blocks ?? []) {
      let mh: Uint8Array
      try { mh = base64.decode(key) } catch { continue }
      onSent(peer.toString(), Buffer.from(mh).toString('base64'), block.data.byteLength)
    }
  }
  return true
}

/** Starts bitswap on `libp2p`, serving from `blockstore`; `options` are @helia/bitswap's own. */
export async function startBitswap (libp2p: Libp2p, blockstore: BlockReader, options: Record<string, unknown> = {}): Promise<BitswapService> {
  let broker: Broker | null = null
  let mixin: Mixin | null = null
  const inbound = new BitswapInbound()
  // bitswap's libp2p: the node itself, but the stream handler it registers gets the inbound bound in front
  const handle = libp2p.handle.bind(libp2p)
  const bitswapLibp2p = new Proxy(libp2p, {
    get (target, prop) {
      if (prop === 'handle') return async (protocols: string | string[], handler: StreamHandler, options?: unknown) => { await handle(protocols, inbound.wrap(handler), options as never) }
      const v = Reflect.get(target, prop, target) as unknown
      return typeof v === 'function' ? v.bind(target) : v
    }
  })
  const host = {
    status: 'starting',
    libp2p: bitswapLibp2p,
    blockstore,
    logger: libp2p.logger,
    routing: {
      // only used when a want asks bitswap to look for providers itself; cairn's fetcher never does (maxProviders 0)
      findProviders: (cid: CID, options?: { signal?: AbortSignal }) => libp2p.contentRouting.findProviders(cid, options)
    },
    getHasher: async (code: number) => {
      const h = HASHERS.get(code)
      if (h == null) throw new Error(`no hasher for multihash code 0x${code.toString(16)}`)
      return h
    },
    hasBlockBroker: () => broker != null,
    addBlockBroker: (b: Broker) => { broker = b },
    addMixin: (m: Mixin) => { mixin = m }
  }
  withBitswap(host as never, options)
  if (mixin == null) throw new Error('@helia/bitswap did not register itself')
  await (mixin as Mixin).start(host)
  const started = broker as Broker | null
  if (started == null) throw new Error('@helia/bitswap did not start')
  return { bitswap: started.bitswap, inbound, stop: async () => { await started.stop() } }
}

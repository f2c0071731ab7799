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
import type { Libp2p, PeerId, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import type { BlockReader } from '../../storage/blocks.ts'
import type { ServedEngine } from './bitswap-serve.ts'
import type { BitswapEngine as WatchedEngine } from './peer-guard.ts'
import { undeclared } from './undeclared.ts'

/** A block, or a HAVE / DONT_HAVE, from one peer (a block's CID is computed from its bytes). */
export interface BitswapPresence { sender: PeerId, cid: CID, has: boolean, block?: Uint8Array }

/**
 * What the fetcher uses of the bitswap engine: its events for what arrives,
 * and its send queue, to send wants to one peer at a time
 * (core/swarm/bitswap-lane.ts); `message` is the engine's queued-message shape.
 */
interface FetchingEngine {
  wantList: {
    addEventListener: (type: 'presence', fn: (evt: CustomEvent<BitswapPresence>) => void) => void
    removeEventListener: (type: 'presence', fn: (evt: CustomEvent<BitswapPresence>) => void) => void
  }
  network: {
    sendMessage: (peer: PeerId, message: unknown, options: { signal: AbortSignal }) => Promise<void>
  }
}

/** What cairn uses of @helia/bitswap's engine: the fetcher's part, the serving budget's (bitswap-serve.ts) and the peer guard's. */
export type BitswapEngine = FetchingEngine & ServedEngine & WatchedEngine

export interface BitswapService {
  bitswap: BitswapEngine
  /** the bound on bytes of each peer's inbound messages not yet whole (bitswap-inbound.ts) */
  inbound: BitswapInbound
  stop: () => Promise<void>
}

interface Broker { bitswap: BitswapEngine, stop: () => Promise<void> }
interface Mixin { start: (host: unknown) => Promise<void> }

const HASHERS = new Map<number, unknown>([[sha256.code, sha256], [sha512.code, sha512], [identity.code, identity]])

/** The blocks of a message @helia/bitswap sends (keyed by multibase base64 of the block's multihash): key and size. */
function sentBlocks (message: unknown): Array<[string, number]> {
  const blocks = undeclared(message, 'blocks')
  if (!(blocks instanceof Map)) return []
  const out: Array<[string, number]> = []
  for (const [key, block] of blocks) {
    const data = undeclared(block, 'data')
    if (typeof key === 'string' && data instanceof Uint8Array) out.push([key, data.byteLength])
  }
  return out
}

/**
 * Calls `onSent(peer, block, bytes)` for every block bitswap sends, once its
 * message is handed to the stream; `block` is the multihash key of core/repo/dag.ts
 * (blockKey). @helia/bitswap tells nobody which peer got which block (its
 * counters are totals), so this wraps its network's sendMessage; if a later
 * version moves it, uploads over bitswap go unlisted and nothing else changes.
 */
export function observeSentBlocks (engine: BitswapEngine, onSent: (peer: string, block: string, bytes: number) => void): boolean {
  const network: unknown = engine.network
  const sendMessage = undeclared(network, 'sendMessage')
  if (typeof sendMessage !== 'function') return false
  const send = sendMessage.bind(network)
  engine.network.sendMessage = async (peer, message, options) => {
    await send(peer, message, options)
    for (const [key, bytes] of sentBlocks(message)) {
      let mh: Uint8Array
      try { mh = base64.decode(key) } catch { continue }
      onSent(peer.toString(), Buffer.from(mh).toString('base64'), bytes)
    }
  }
  return true
}

/** Starts bitswap on `libp2p`, serving from `blockstore`; `options` are @helia/bitswap's own. */
export async function startBitswap (libp2p: Libp2p, blockstore: BlockReader, options: Record<string, unknown> = {}): Promise<BitswapService> {
  // set by @helia/bitswap through the host's addBlockBroker and addMixin
  const registered: { broker?: Broker, mixin?: Mixin } = {}
  const inbound = new BitswapInbound()
  // bitswap's libp2p: the node itself, but the stream handler it registers gets the inbound bound in front
  const bitswapLibp2p = new Proxy(libp2p, {
    get (target, prop) {
      if (prop === 'handle') {
        return async (protocols: string | string[], handler: StreamHandler, options?: StreamHandlerOptions) => { await target.handle(protocols, inbound.wrap(handler), options) }
      }
      const v: unknown = Reflect.get(target, prop, target)
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
    hasBlockBroker: () => registered.broker != null,
    addBlockBroker: (b: Broker) => { registered.broker = b },
    addMixin: (m: Mixin) => { registered.mixin = m }
  }
  // withBitswap is typed to take a whole Helia; it reads only the fields
  // above (@helia/bitswap 4), and a whole Helia is what this module avoids
  withBitswap(host as never, options)
  if (registered.mixin == null) throw new Error('@helia/bitswap did not register itself')
  await registered.mixin.start(host)
  const started = registered.broker
  if (started == null) throw new Error('@helia/bitswap did not start')
  return { bitswap: started.bitswap, inbound, stop: async () => { await started.stop() } }
}

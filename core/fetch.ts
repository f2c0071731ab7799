// Fetching content that is not in the repo: providers are found once per
// fetch (the DHT for the root, peers already connected, and --peer
// addresses); then every missing block is asked of one provider at a time,
// the least busy first, over /cairn/blocks to cairn peers and /ipfs/bitswap
// to any other IPFS peer. A provider that lacks a block, times out, sends
// wrong bytes or leaves is skipped and the block asked of the next. Every
// block is checked against its CID and written to the repo as it arrives,
// so an interrupted fetch resumes where it stopped.
//
// Not Helia's session path: it stalled on a leaf until its 300 s timeout
// (STACK.md), and its plain path runs one DHT lookup per block.

import { multiaddr } from '@multiformats/multiaddr'
import { digestMatches } from '../storage/blocks.ts'
import { BlockChannel, ProtocolViolationError } from './net/block-protocol.ts'
import { AbortedError, BlockNotFoundError, CairnError, CorruptBlockError } from './errors.ts'
import type { CairnNode } from './net/node.ts'
import type { Blocks } from '../storage/blocks.ts'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

export class NoProvidersError extends CairnError {}
export class FetchTimeoutError extends CairnError {}
/** A --peer address that cannot be dialled (refused by our own allow/deny settings, or by the peer). */
export class PeerDialError extends CairnError {}

/** one block request's time limit before the next provider is asked */
export const BLOCK_TIMEOUT_MS = 15_000
/** providers looked for in the DHT, at most */
const MAX_DHT_PROVIDERS = 20
/** requests outstanding on one peer's block stream */
const CHANNEL_WINDOW = 32

export type FetchProgress =
  | { type: 'fetch:providers', providers: number }
  | { type: 'fetch:block', peer: string, bytes: number }
  | { type: 'fetch:banned', peer: string, offence: string }

export interface FetchOptions {
  /** multiaddrs to fetch from directly (--peer) */
  peers?: string[]
  /** bounds the whole wait for providers and blocks */
  timeoutMs: number
  signal?: AbortSignal
  onProgress?: (e: FetchProgress) => void
}

interface Bitswap {
  want: (cid: CID, o: { signal: AbortSignal, maxProviders: number, onProgress?: (e: { type: string, detail: unknown }) => void }) => Promise<Uint8Array>
}

/** Per-peer tallies for the closing report. */
export interface PeerTally { blocks: number, bytes: number }

/** A provider: its block stream when it speaks /cairn/blocks, else bitswap. */
interface Provider {
  id: PeerId
  channel: Promise<BlockChannel | null> | null
  broken: boolean
}

export class Fetcher {
  private readonly providers = new Map<string, Provider>()
  readonly served = new Map<string, PeerTally>()
  private finding: Promise<void> | null = null
  private readonly deadline: AbortSignal
  private readonly unwatch: () => void

  constructor (private readonly node: CairnNode, private readonly root: CID, private readonly o: FetchOptions) {
    this.deadline = o.signal != null ? AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)]) : AbortSignal.timeout(o.timeoutMs)
    // a peer banned for misbehaving (here or on bitswap) is asked nothing more
    this.unwatch = node.guard.onBan(e => {
      const p = this.providers.get(e.peer)
      if (p != null) p.broken = true
      o.onProgress?.({ type: 'fetch:banned', peer: e.peer, offence: e.offence })
    })
  }

  private get bitswap (): Bitswap {
    // Helia keeps its block brokers private; the bitswap one holds the engine
    const brokers = (this.node.helia as unknown as { blockBrokers: Array<{ name: string, bitswap?: Bitswap }> }).blockBrokers
    const b = brokers.find(x => x.name === 'bitswap')?.bitswap
    if (b == null) throw new CairnError('the node has no bitswap')
    return b
  }

  private add (id: PeerId): void {
    const key = id.toString()
    if (this.providers.has(key) || key === this.node.libp2p.peerId.toString() || this.node.guard.isBanned(key)) return
    this.providers.set(key, { id, channel: null, broken: false })
  }

  /** Finds providers once: --peer addresses, connected peers, the DHT. */
  private async findProviders (): Promise<void> {
    for (const addr of this.o.peers ?? []) {
      let conn
      try {
        conn = await this.node.libp2p.dial(multiaddr(addr), { signal: this.deadline })
      } catch (err) {
        if (this.o.signal?.aborted === true) throw err
        const e = err as Error
        if (e.name === 'DialDeniedError') throw new PeerDialError(`not dialling ${addr}: this repo's security settings (security.deny, security.trustedOnly) refuse it`)
        throw new PeerDialError(`cannot connect to ${addr}: ${e.message} (a peer that refuses us, by its deny list or trusted-only mode, just closes the connection)`)
      }
      this.add(conn.remotePeer)
    }
    for (const c of this.node.libp2p.getConnections()) this.add(c.remotePeer)
    // nobody to ask (fetch() says so at once) or asked for: no DHT lookup
    if ((this.o.peers ?? []).length === 0 && (this.providers.size > 0 || this.node.settings.bootstrap.length > 0)) {
      let found = 0
      try {
        for await (const p of this.node.libp2p.contentRouting.findProviders(this.root, { signal: this.deadline })) {
          this.add(p.id)
          if (++found >= MAX_DHT_PROVIDERS) break
        }
      } catch {
        // a lookup that ends without providers leaves the connected peers
      }
    }
    this.o.onProgress?.({ type: 'fetch:providers', providers: this.providers.size })
  }

  private channelOf (p: Provider): Promise<BlockChannel | null> {
    p.channel ??= (async () => {
      try {
        // asking for the protocol is the test: identify may not have told us yet
        return await BlockChannel.open(this.node.libp2p, p.id, this.deadline, CHANNEL_WINDOW)
      } catch {
        return null
      }
    })()
    return p.channel
  }

  /** Providers not yet tried for this block, the least busy first. */
  private async candidates (tried: Set<string>): Promise<Array<{ p: Provider, channel: BlockChannel | null }>> {
    const out = []
    for (const p of this.providers.values()) {
      if (p.broken || tried.has(p.id.toString())) continue
      out.push({ p, channel: await this.channelOf(p) })
    }
    // cairn peers first (a stream of our own), then by how much they have outstanding
    return out.sort((a, b) => (a.channel == null ? 1 : 0) - (b.channel == null ? 1 : 0) || (a.channel?.outstanding ?? 0) - (b.channel?.outstanding ?? 0))
  }

  private tally (peer: string, bytes: number): void {
    const t = this.served.get(peer) ?? { blocks: 0, bytes: 0 }
    t.blocks++
    t.bytes += bytes
    this.served.set(peer, t)
    this.o.onProgress?.({ type: 'fetch:block', peer, bytes })
  }

  /** One block from the network, verified. */
  async fetch (cid: CID): Promise<Uint8Array> {
    this.finding ??= this.findProviders()
    await this.finding
    if (this.providers.size === 0 && this.node.settings.bootstrap.length === 0) {
      throw new NoProvidersError(`block ${cid.toString()} of ${this.root.toString()} is not in the repo, and there is no peer to ask: add bootstrap peers (cairn config set bootstrap …), or pass --peer or --bootstrap`)
    }
    const tried = new Set<string>()
    while (true) {
      if (this.deadline.aborted) throw this.stopError(cid)
      const [next] = await this.candidates(tried)
      if (next == null) {
        if (this.providers.size === 0) throw new NoProvidersError(`no provider of ${this.root.toString()} found within ${this.o.timeoutMs / 1000} s`)
        throw new BlockNotFoundError(cid.toString(), `none of the ${this.providers.size} provider(s) of ${this.root.toString()} has block ${cid.toString()}`)
      }
      const key = next.p.id.toString()
      tried.add(key)
      const signal = AbortSignal.any([this.deadline, AbortSignal.timeout(BLOCK_TIMEOUT_MS)])
      try {
        const got = next.channel != null
          ? { block: await raceSignal(next.channel.request(cid), signal), from: key }
          : await this.viaBitswap(cid, signal)
        if (got.block == null) continue
        if (!digestMatches(cid, got.block)) {
          // an honest cairn seed hashes every block it reads: wrong bytes are a lie
          this.node.guard.report(got.from ?? key, 'wrong-block')
          next.p.broken = true
          continue
        }
        this.tally(got.from ?? key, got.block.byteLength)
        return got.block
      } catch (err) {
        if (process.env.CAIRN_DEBUG != null) process.stderr.write(`fetch ${cid.toString()} from ${key}: ${(err as Error).message} (outstanding ${next.channel?.outstanding})\n`)
        if (this.o.signal?.aborted === true) throw this.stopError(cid)
        if (err instanceof ProtocolViolationError) this.node.guard.report(key, err.offence)
        // timed out or the peer left: stop asking it, ask the next
        if (next.channel != null) {
          next.p.broken = true
          next.channel.close(new Error('timed out'))
        }
      }
    }
  }

  /** Any IPFS peer: bitswap's own want list, sent to the connected peers (no DHT lookup per block). */
  private async viaBitswap (cid: CID, signal: AbortSignal): Promise<{ block: Uint8Array, from: string | null }> {
    let from: string | null = null
    const block = await this.bitswap.want(cid, {
      signal,
      maxProviders: 0,
      onProgress: e => { if (e.type === 'bitswap:block') from = (e.detail as { sender: PeerId }).sender.toString() }
    })
    return { block, from }
  }

  private stopError (cid: CID): CairnError {
    if (this.o.signal?.aborted === true) return new AbortedError('fetch interrupted; the blocks received are kept: run the same command again to resume')
    return new FetchTimeoutError(`timed out after ${this.o.timeoutMs / 1000} s waiting for block ${cid.toString()} of ${this.root.toString()}`)
  }

  /** Closes the block streams. */
  close (): void {
    this.unwatch()
    for (const p of this.providers.values()) void p.channel?.then(c => c?.close())
  }
}

async function raceSignal<T> (p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) throw signal.reason
  let onAbort: () => void = () => {}
  try {
    return await Promise.race([p, new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
    })])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/**
 * The repo's blocks, with what is missing fetched and stored on the way: the
 * store cat, get, ls and pin read through when the network may be used.
 */
export class FetchingStore {
  /** measured: one peer's block stream moved 26 MiB/s with 1 request outstanding, 59 with 8, 106 with 32 */
  readonly readAhead = CHANNEL_WINDOW

  constructor (private readonly blocks: Blocks, private readonly fetcher: () => Promise<Fetcher>) {}

  async getBytes (cid: CID, options?: { signal?: AbortSignal }): Promise<Uint8Array> {
    let corrupt: CorruptBlockError | null = null
    try {
      return await this.blocks.getBytes(cid, options)
    } catch (err) {
      // a block corrupted on disk counts as missing: fetched again, and the good copy replaces it
      if (err instanceof CorruptBlockError) corrupt = err
      else if (!(err instanceof BlockNotFoundError)) throw err
    }
    let bytes: Uint8Array
    try {
      bytes = await (await this.fetcher()).fetch(cid)
    } catch (err) {
      // nobody to fetch a good copy from: the corruption is the news
      if (corrupt != null && err instanceof NoProvidersError) throw corrupt
      throw err
    }
    await this.blocks.put(cid, bytes, options)
    return bytes
  }

  async * get (cid: CID, options?: { signal?: AbortSignal }): AsyncGenerator<Uint8Array> {
    yield await this.getBytes(cid, options)
  }

  async has (cid: CID): Promise<boolean> { return await this.blocks.has(cid) }
}

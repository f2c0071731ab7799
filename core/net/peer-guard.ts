// Who may connect, and what happens to a peer that misbehaves.
//
// Admission (libp2p's connection gater, so a refused peer never gets a
// stream): `security.deny` peer IDs and address ranges are refused in both
// directions; with `security.trustedOnly` only `security.allow` peers and
// ranges are let in or dialled; at most `connections.maxPerIP` inbound
// connections from one IP address (many peers behind one address is how a
// Sybil attack is cheap).
//
// Misbehaviour: the fetch path and the block server report offences here.
// Each offence adds to the peer's score; at BAN_SCORE the peer is
// disconnected and refused for BAN_MS. Wrong bytes on /cairn/blocks are
// proof of a lie (an honest seed hashes every block it reads), so one is
// enough. Bitswap 1.2 sends a block as (CID prefix, bytes) and the receiver
// hashes the bytes to find the CID, so wrong bytes for a wanted CID arrive as
// a block nobody asked for; those are counted, with room for the late
// duplicates an honest peer sends when a want was answered elsewhere first.

import net from 'node:net'
import { peerIdFromString } from '@libp2p/peer-id'
import { ConfigError } from '../util/errors.ts'
import { BoundedMap } from '../util/bounded-map.ts'
import type { ConnectionGater, Libp2p, MultiaddrConnection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { CID } from 'multiformats/cid'

/** score at which a peer is disconnected and banned */
export const BAN_SCORE = 100
/** how long a ban lasts: long enough to finish a download without the peer */
export const BAN_MS = 10 * 60_000
/** a wanted block lingers this long after it arrived: later copies are duplicates, not unsolicited */
export const RECENT_WANT_MS = 60_000
/** recently wanted blocks remembered, at most (memory bound) */
const MAX_RECENT_WANTS = 8192
/**
 * wants one peer may send us in one bitswap message: 4× what Helia keeps per
 * peer (1024), because an honest Helia reading a 1024-link layer at once
 * sends about that many in its full want list
 */
export const MAX_WANTS_PER_MESSAGE = 4096
/**
 * wants one peer may send us within WANT_WINDOW_MS before it counts as a
 * flood: ~820 a second, 200 MiB/s of 256 KiB blocks. Measured: 40,000 wants
 * cost a seed ~100 MiB of memory before a ban at 32,768 landed
 */
export const MAX_WANTS_PER_WINDOW = 8192
const WANT_WINDOW_MS = 10_000
/** peers whose scores are remembered, at most (memory bound against Sybil churn) */
const MAX_TRACKED_PEERS = 4096

/** What a peer did wrong, and what it costs. */
export const OFFENCES = {
  /** /cairn/blocks: bytes that do not hash to the CID asked for */
  'wrong-block': BAN_SCORE,
  /** /cairn/blocks: a frame longer than any block, or unparseable framing */
  'bad-frame': BAN_SCORE,
  /** /cairn/blocks: an answer to a request never made */
  'unsolicited-answer': BAN_SCORE,
  /** bitswap: a block we did not want (wrong bytes for a wanted CID land here) */
  'unsolicited-block': 10,
  /** bitswap: more wants than any honest peer sends */
  'want-flood': BAN_SCORE,
  /** our answers sat unread past the stall limit (a slow reader holding our memory) */
  'stalled-reader': 25,
  /** anchor sync: a header or block that breaks a consensus rule (honest peers judge what they keep) */
  'sync-invalid': BAN_SCORE,
  /** anchor sync: garbage, more than asked, headers that do not chain, more work claimed than sent */
  'sync-bad-reply': BAN_SCORE,
  /** anchor gossip: an invalid block or manifest (an honest node validates before it forwards) */
  'invalid-anchor': BAN_SCORE
} as const
export type Offence = keyof typeof OFFENCES

export interface GuardPolicy {
  /** peer IDs and IP ranges (CIDR or a single address) always let in; with trustedOnly, the only ones */
  allow: string[]
  /** peer IDs and IP ranges never let in nor dialled */
  deny: string[]
  trustedOnly: boolean
  /** inbound connections from one IP address, at most */
  maxConnectionsPerIP: number
}

export interface BanEvent { peer: string, offence: Offence, score: number }

interface Rule { peers: Set<string>, ranges: net.BlockList, hasRanges: boolean }

/** Parses allow/deny entries: a peer ID, an IP address, or ADDRESS/PREFIX. */
export function parseRule (entries: string[], key: string): Rule {
  const rule: Rule = { peers: new Set(), ranges: new net.BlockList(), hasRanges: false }
  for (const entry of entries) {
    const [addr, prefix, ...rest] = entry.split('/')
    const family = net.isIP(addr)
    if (family !== 0 && rest.length === 0) {
      const type = family === 4 ? 'ipv4' : 'ipv6'
      const bits = prefix == null ? (family === 4 ? 32 : 128) : Number(prefix)
      if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128) || (prefix != null && !/^\d+$/.test(prefix))) {
        throw new ConfigError(`${key}: "${entry}" has a bad prefix length`)
      }
      rule.ranges.addSubnet(addr, bits, type)
      rule.hasRanges = true
      continue
    }
    try {
      rule.peers.add(peerIdFromString(entry).toString())
    } catch {
      throw new ConfigError(`${key}: "${entry}" is neither a peer ID nor an IP address range such as 192.0.2.0/24`)
    }
  }
  return rule
}

/** The IP address a multiaddr names, or null (a DNS name, a relay). */
export function ipOf (ma: Multiaddr): { ip: string, type: 'ipv4' | 'ipv6' } | null {
  for (const c of ma.getComponents()) {
    if (c.name === 'ip4' && c.value != null) return { ip: c.value, type: 'ipv4' }
    if (c.name === 'ip6' && c.value != null) return { ip: c.value, type: 'ipv6' }
  }
  return null
}

/** blocks are named by multihash: CIDv0 and v1 of the same bytes are one block */
const mhKey = (cid: CID): string => Buffer.from(cid.multihash.bytes).toString('base64')

const inRanges = (rule: Rule, ma: Multiaddr): boolean => {
  if (!rule.hasRanges) return false
  const a = ipOf(ma)
  return a != null && rule.ranges.check(a.ip, a.type)
}

export class PeerGuard {
  private readonly allow: Rule
  private readonly deny: Rule
  /** the oldest score is forgotten rather than grow without bound */
  private readonly scores = new BoundedMap<string, number>(MAX_TRACKED_PEERS)
  private readonly bans = new Map<string, number>()
  private readonly recentWants = new BoundedMap<string, number>(MAX_RECENT_WANTS)
  private readonly wantWindows = new BoundedMap<string, { start: number, wants: number }>(MAX_TRACKED_PEERS)
  private readonly listeners = new Set<(e: BanEvent) => void>()
  private libp2p: Libp2p | null = null
  /** offences reported and bans made since start (metrics, tests) */
  readonly stats = { offences: 0, bans: 0, refused: 0 }

  constructor (private readonly policy: GuardPolicy) {
    this.allow = parseRule(policy.allow, 'security.allow')
    this.deny = parseRule(policy.deny, 'security.deny')
  }

  /** Once the node exists: bans hang up on the peer. */
  attach (libp2p: Libp2p): void { this.libp2p = libp2p }

  /** Calls `fn` on every ban; returns the unsubscribe. */
  onBan (fn: (e: BanEvent) => void): () => void {
    this.listeners.add(fn)
    return () => { this.listeners.delete(fn) }
  }

  isBanned (peer: PeerId | string): boolean {
    const key = peer.toString()
    const until = this.bans.get(key)
    if (until == null) return false
    if (until > Date.now()) return true
    this.bans.delete(key)
    this.scores.delete(key)
    return false
  }

  /** Adds the offence to the peer's score; at BAN_SCORE disconnects and bans it. True when banned. */
  report (peer: PeerId | string, offence: Offence): boolean {
    const key = peer.toString()
    this.stats.offences++
    if (this.isBanned(key)) return true
    const score = (this.scores.get(key) ?? 0) + OFFENCES[offence]
    this.scores.set(key, score)
    if (score < BAN_SCORE) return false
    this.bans.set(key, Date.now() + BAN_MS)
    this.stats.bans++
    for (const fn of this.listeners) fn({ peer: key, offence, score })
    const libp2p = this.libp2p
    if (libp2p != null) {
      const conns = libp2p.getConnections().filter(c => c.remotePeer.toString() === key)
      for (const c of conns) void c.close().catch(() => { c.abort(new Error(`banned: ${offence}`)) })
    }
    return true
  }

  score (peer: PeerId | string): number { return this.scores.get(peer.toString()) ?? 0 }

  /** Refused: denied or banned, or (trusted only) neither its ID nor its address is allowed. */
  private denied (peer: PeerId | null, ma: Multiaddr | null): boolean {
    const id = peer?.toString()
    if (id != null && (this.deny.peers.has(id) || this.isBanned(id))) return true
    if (ma != null && inRanges(this.deny, ma)) return true
    if (!this.policy.trustedOnly) return false
    return !((id != null && this.allow.peers.has(id)) || (ma != null && inRanges(this.allow, ma)))
  }

  private inboundFromIP (ma: Multiaddr): number {
    const a = ipOf(ma)
    if (a == null || this.libp2p == null) return 0
    return this.libp2p.getConnections().filter(c => c.direction === 'inbound' && ipOf(c.remoteAddr)?.ip === a.ip).length
  }

  private refuse (yes: boolean): boolean {
    if (yes) this.stats.refused++
    return yes
  }

  /** libp2p's connection gater: every check above, at the earliest point it can be made. */
  gater (): ConnectionGater {
    return {
      denyDialPeer: peer => this.refuse(this.deny.peers.has(peer.toString()) || this.isBanned(peer) ||
        // trusted only, by ID alone: an allowed range is checked once the address is known
        (this.policy.trustedOnly && !this.allow.hasRanges && !this.allow.peers.has(peer.toString()))),
      denyDialMultiaddr: ma => this.refuse(inRanges(this.deny, ma)),
      denyInboundConnection: (maConn: MultiaddrConnection) => {
        const ma = maConn.remoteAddr
        if (inRanges(this.deny, ma)) return this.refuse(true)
        if (this.policy.trustedOnly && this.allow.peers.size === 0 && !inRanges(this.allow, ma)) return this.refuse(true)
        if (inRanges(this.allow, ma)) return false
        return this.refuse(this.inboundFromIP(ma) >= this.policy.maxConnectionsPerIP)
      },
      denyInboundEncryptedConnection: (peer, maConn) => this.refuse(this.denied(peer, maConn.remoteAddr)),
      denyOutboundEncryptedConnection: (peer, maConn) => this.refuse(this.denied(peer, maConn.remoteAddr))
    }
  }

  /** Remembers a block we asked for, so copies arriving after it are duplicates, not unsolicited. */
  wanted (cid: CID): void {
    const now = Date.now()
    this.recentWants.renew(mhKey(cid), now + RECENT_WANT_MS)
    // renewed in time order: the expired ones are the oldest
    this.recentWants.forgetWhile(until => until <= now)
  }

  /** what the bitswap watch remembers now: blocks wanted in the last RECENT_WANT_MS, peers with a want window still open */
  get remembered (): { wants: number, windows: number } {
    return { wants: this.recentWants.size, windows: this.wantWindows.size }
  }

  private recentlyWanted (cid: CID): boolean {
    const until = this.recentWants.get(mhKey(cid))
    return until != null && until > Date.now()
  }

  /**
   * Watches a Helia bitswap engine: blocks nobody wanted, and want floods.
   * Both are its public events; only the engine object itself is reached
   * through Helia's private block brokers.
   */
  watchBitswap (engine: BitswapEngine): void {
    engine.wantList.addEventListener('block', (evt) => {
      const { cid, sender } = evt.detail
      if (engine.wantList.has(cid)) {
        this.wanted(cid)
        return
      }
      if (this.recentlyWanted(cid)) return
      this.report(sender, 'unsolicited-block')
    })
    engine.network.addEventListener('bitswap:message', (evt) => {
      const { peer, message } = evt.detail
      // cancels are not wants: a peer cancelling what it got is no flood
      const wants = (message.wantlist?.entries ?? []).filter(e => e.cancel !== true).length
      if (wants === 0) return
      const key = peer.toString()
      const now = Date.now()
      let w = this.wantWindows.get(key)
      if (w == null || now - w.start > WANT_WINDOW_MS) {
        w = { start: now, wants: 0 }
        // a new window is the youngest: windows stay in the order they
        // started, and those past theirs (every peer that has stopped
        // sending wants) are forgotten from the oldest on
        this.wantWindows.renew(key, w)
        this.wantWindows.forgetWhile(old => now - old.start > WANT_WINDOW_MS)
      }
      w.wants += wants
      if (wants > MAX_WANTS_PER_MESSAGE || w.wants > MAX_WANTS_PER_WINDOW) this.report(peer, 'want-flood')
    })
  }
}

/** The parts of @helia/bitswap's engine the guard listens to. */
export interface BitswapEngine {
  wantList: {
    has: (cid: CID) => boolean
    addEventListener: (type: 'block', fn: (evt: CustomEvent<{ cid: CID, sender: PeerId }>) => void) => void
  }
  network: {
    addEventListener: (type: 'bitswap:message', fn: (evt: CustomEvent<{ peer: PeerId, message: { wantlist?: { entries?: Array<{ cancel?: boolean }> } } }>) => void) => void
  }
}

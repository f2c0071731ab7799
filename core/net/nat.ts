// Getting through home routers: circuit relay v2 (serving and using relays),
// AutoNAT, UPnP port mapping and DCUtR, each switched by config (nat.*), and
// the NatWatcher, which tells reachability and reserves a relay slot when the
// node learns nobody outside can dial it. docs/network.md explains the choices.

import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { dcutr } from '@libp2p/dcutr'
import { isLoopback, isPrivate } from '@libp2p/utils'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { setPublicRanges, publicRangesActive } from './public-ranges.ts'
import { CairnError, errorMessage } from '../util/errors.ts'
import { askDialback, DIALBACK_PROTOCOL, DIALBACK_TIMEOUT_MS, MAX_DIALBACK_ADDRS, serveDialback } from './dialback.ts'
import type { Config } from '../../storage/config.ts'
import { parseSize } from '../../storage/units.ts'
import type { RateLimiter } from '../util/rate.ts'
import { RelayMeter } from './relay-meter.ts'
import type { ComponentLogger, Connection, Libp2p, Libp2pEvents, PeerId, PeerStore, Stream, TypedEventTarget } from '@libp2p/interface'
import type { AddressManager, ConnectionManager, Registrar, TransportManager } from '@libp2p/interface-internal'
import type { uPnPNAT } from '@libp2p/upnp-nat'

export class PublicRangesError extends CairnError {}

/**
 * Limits of our relay service come from config (nat.relayDataLimit, default
 * 128 KiB, and nat.relayDurationLimit, default 120 s, per relayed
 * connection): Kubo's (go-libp2p's) numbers, made for hole-punch signalling.
 * A relay that moved whole files for strangers (this service once allowed
 * 1 TiB and 24 h per connection) spends its owner's upload on them; relayed
 * bytes are charged to the upload cap too (relay-meter.ts). Limits are kept
 * rather than switched off because a connection with limits is what libp2p
 * calls "limited": protocols that did not opt in (the DHT, AutoNAT) stay off
 * relayed connections. Without limits AutoNAT ran over the relayed
 * connection, "verified" the relayed address by dialling the relay, and
 * closed that shared connection, taking the relayed connection down with it.
 */
export const RELAY_MAX_RESERVATIONS = 128
/** relayed connections (hop streams) open at once through our relay */
export const RELAY_MAX_HOP_STREAMS = 256
/** a reservation lasts this long before the client must refresh it (libp2p default) */
export const RELAY_RESERVATION_TTL_MS = 2 * 60 * 60 * 1000

/** how long a node talking to public peers waits for AutoNAT before it calls itself unreachable */
export const REACHABILITY_GRACE_MS = 10_000
/** between looks at our addresses and connections */
const WATCH_INTERVAL_MS = 2_000
/** an address checked by dial-back is checked again after this */
const RECHECK_MS = 10 * 60_000
/** peers asked to dial back in one round */
const DIALBACK_PEERS = 2
/** a configured relay that refused us is tried again after this */
const RELAY_RETRY_MS = 10_000

/** The relay's peer id: the last /p2p/ part of a configured relay address. */
const relayPeer = (relay: string): string => relay.split('/p2p/').at(-1) ?? relay

export type Reachability = 'public' | 'private' | 'unknown'

export interface NatSettings {
  relayService: boolean
  /** bytes per relayed connection through our relay service */
  relayDataLimit: number
  /** seconds per relayed connection through our relay service */
  relayDurationLimit: number
  /** relays to reserve on (config nat.relays plus --relay) */
  relays: string[]
  autoRelay: boolean
  autonat: boolean
  upnp: boolean
  dcutr: boolean
  publicRanges: string[]
  /**
   * announce the public addresses we listen on before a dial-back confirms
   * them (the `ipfs` kind: stock IPFS peers answer no cairn dial-back, and
   * Kubo announces its listen addresses unconfirmed too); one whose
   * dial-back fails is withdrawn
   */
  announceListen: boolean
}

export interface NatOptions {
  /** overrides config nat.relayService */
  relayService?: boolean
  /** added to config nat.relays */
  relays?: string[]
}

export function natSettings (config: Config, o: NatOptions = {}): NatSettings {
  return {
    ...config.nat,
    relayDataLimit: parseSize(config.nat.relayDataLimit) ?? 128 * 1024,
    relayService: o.relayService ?? config.nat.relayService,
    relays: [...new Set([...config.nat.relays, ...(o.relays ?? [])])],
    publicRanges: config.network.publicRanges,
    announceListen: config.network.kind === 'ipfs'
  }
}

/**
 * Declares the public ranges to libp2p (see public-ranges.ts); throws when
 * ranges are set but libp2p was loaded without the hook (a program that
 * imported cairn's node without going through the cairn launcher).
 */
export function applyPublicRanges (s: NatSettings): void {
  setPublicRanges(s.publicRanges)
  if (s.publicRanges.length > 0 && !publicRangesActive()) {
    throw new PublicRangesError('network.publicRanges needs libp2p loaded through the cairn launcher (cli/cairn.js), whose hook makes those ranges public, and @libp2p/utils exactly 7.4.1, the version that hook was written against')
  }
}

/** The libp2p services the NAT settings ask for (the relay transport is always there, to dial relayed addresses). */
/** The libp2p services natServices adds, by name (libp2p types each node's `services` from these factories). */
export interface NatServices {
  nat: (components: NatWatcherComponents) => NatWatcher
  relay?: ReturnType<typeof circuitRelayServer>
  relayMeter?: (components: { registrar: Registrar }) => RelayMeter
  upnp?: ReturnType<typeof uPnPNAT>
  dcutr?: ReturnType<typeof dcutr>
}

export async function natServices (s: NatSettings, upload: RateLimiter): Promise<NatServices> {
  const services: NatServices = {
    nat: (components: NatWatcherComponents) => new NatWatcher(components, s)
  }
  if (s.relayService) {
    services.relay = circuitRelayServer({
      maxInboundHopStreams: RELAY_MAX_HOP_STREAMS,
      maxOutboundStopStreams: RELAY_MAX_HOP_STREAMS,
      reservations: {
        maxReservations: RELAY_MAX_RESERVATIONS,
        reservationTtl: RELAY_RESERVATION_TTL_MS,
        applyDefaultLimit: true,
        defaultDataLimit: BigInt(s.relayDataLimit),
        // ms: the server's unit (libp2p's client reads the number as seconds)
        defaultDurationLimit: s.relayDurationLimit * 1000
      }
    })
    services.relayMeter = (components: { registrar: Registrar }) => new RelayMeter(components, upload)
  }
  if (s.upnp) {
    // loaded only when asked for: it pulls in an XML parser and an SSDP client (~150 ms)
    const { uPnPNAT } = await import('@libp2p/upnp-nat')
    services.upnp = uPnPNAT({ portMappingDescription: 'cairn' })
  }
  if (s.dcutr) services.dcutr = dcutr()
  return services
}

export function relayTransport (): ReturnType<typeof circuitRelayTransport> {
  return circuitRelayTransport({ maxInboundStopStreams: RELAY_MAX_HOP_STREAMS, maxOutboundStopStreams: RELAY_MAX_HOP_STREAMS })
}

export interface NatWatcherComponents {
  registrar: Registrar
  peerStore: PeerStore
  addressManager: AddressManager
  transportManager: TransportManager
  connectionManager: ConnectionManager
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
}

export interface AddressRow {
  address: string
  /** confirmed dialable (AutoNAT, a relay reservation, or an address libp2p trusts as is) */
  verified: boolean
  /** transport (we listen on it), observed (a peer saw it), ip-mapping (UPnP), announce */
  type: string
  relayed: boolean
}

/** Watches our addresses: reachability, relays in use, and the automatic relay reservation. */
export class NatWatcher {
  private timer: NodeJS.Timeout | null = null
  /** dial-back results: address → whether a peer reached us there, and when */
  private readonly checked = new Map<string, { ok: boolean, at: number }>()
  private checking = false
  private publicPeerSince: number | null = null
  private searching = false
  private readonly relayTried = new Map<string, number>()
  private stopped = true
  /** told once per change: 'reachability public', 'relay reserved …' */
  onLog: ((line: string) => void) | undefined
  /** told of every change of reachability (the DHT's mode follows it in `ipfs` mode) */
  onReachability: ((r: Reachability) => void) | undefined
  private last: Reachability = 'unknown'
  /** public listen addresses announced before any dial-back (settings.announceListen): no evidence of reachability */
  private readonly assumed = new Set<string>()

  constructor (private readonly components: NatWatcherComponents, readonly settings: NatSettings) {}

  /** a listener that just opened: its public addresses announced at once, before the first provide round */
  private readonly onListening = (): void => { if (this.settings.announceListen && !this.stopped) this.announceListenAddresses() }

  async start (): Promise<void> {
    this.stopped = false
    this.components.events.addEventListener('transport:listening', this.onListening)
    if (this.settings.autonat) {
      await this.components.registrar.handle(DIALBACK_PROTOCOL, (stream, connection) => {
        void serveDialback(stream, connection, this.components.connectionManager, !isDirect(connection))
      }, { maxInboundStreams: 1, runOnLimitedConnection: false })
    }
    this.timer = setInterval(() => { this.tick() }, WATCH_INTERVAL_MS)
    this.timer.unref()
    this.tick()
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.components.events.removeEventListener('transport:listening', this.onListening)
    if (this.timer != null) clearInterval(this.timer)
    this.timer = null
    if (this.settings.autonat) await this.components.registrar.unhandle(DIALBACK_PROTOCOL).catch(() => {})
  }

  /** Every address with its state, relayed ones included. */
  addresses (): AddressRow[] {
    const seen = new Set<string>()
    const out: AddressRow[] = []
    for (const a of this.components.addressManager.getAddressesWithMetadata()) {
      const s = a.multiaddr.toString()
      if (seen.has(s)) continue
      seen.add(s)
      // announced on assumption is not confirmed: `cairn id` still says so
      const verified = a.verified && !(this.assumed.has(s) && this.checked.get(s)?.ok !== true)
      out.push({ address: s, verified, type: a.type, relayed: s.includes('/p2p-circuit') })
    }
    return out
  }

  /** Relay peer IDs we hold a reservation on (from our relayed addresses). */
  relays (): string[] {
    const ids = new Set<string>()
    for (const a of this.addresses()) {
      if (!a.relayed) continue
      const m = /\/p2p\/([^/]+)\/p2p-circuit/.exec(a.address)
      if (m != null) ids.add(m[1])
    }
    return [...ids]
  }

  /** Our direct addresses on public IPs (listened on, seen by peers, or mapped by UPnP). */
  private publicCandidates (): Array<{ multiaddr: Multiaddr, verified: boolean }> {
    return this.components.addressManager.getAddressesWithMetadata()
      .filter(a => !a.multiaddr.toString().includes('/p2p-circuit') && isPublicAddress(a.multiaddr))
  }

  /**
   * public: a public, direct address of ours is confirmed dialable.
   * private: every public address we have failed a dial-back, or we talk to
   * public peers and have no public address at all (for REACHABILITY_GRACE_MS).
   * unknown: no evidence either way (only loopback or LAN peers, or too early).
   */
  reachability (now = Date.now()): Reachability {
    const direct = this.publicCandidates()
    // an address announced on assumption proves nothing until a peer dials it
    if (direct.some(a => a.verified && (!this.assumed.has(a.multiaddr.toString()) || this.checked.get(a.multiaddr.toString())?.ok === true))) return 'public'
    if (direct.length > 0 && direct.every(a => this.checked.get(a.multiaddr.toString())?.ok === false)) return 'private'
    if (direct.length === 0 && this.publicPeerSince != null && now - this.publicPeerSince >= REACHABILITY_GRACE_MS) return 'private'
    return 'unknown'
  }

  /** Asks up to DIALBACK_PEERS public peers to dial our unchecked public addresses. */
  private async checkReachability (): Promise<void> {
    const now = Date.now()
    const due = this.publicCandidates().map(a => a.multiaddr.toString())
      .filter(a => { const c = this.checked.get(a); return c == null || now - c.at > RECHECK_MS })
      .slice(0, MAX_DIALBACK_ADDRS)
    if (due.length === 0) return
    const servers: Connection[] = []
    for (const c of this.components.connectionManager.getConnections()) {
      if (servers.length >= DIALBACK_PEERS || !isDirect(c) || !isPublicAddress(c.remoteAddr)) continue
      const peer = await this.components.peerStore.get(c.remotePeer).catch(() => null)
      if (peer?.protocols.includes(DIALBACK_PROTOCOL) === true) servers.push(c)
    }
    if (servers.length === 0) return
    const ok = new Set<string>()
    const answered = new Set<string>()
    for (const c of servers) {
      try {
        for (const r of await askDialback(c, due, AbortSignal.timeout(DIALBACK_TIMEOUT_MS * (MAX_DIALBACK_ADDRS + 1)))) {
          answered.add(r.addr)
          if (r.ok) ok.add(r.addr)
        }
      } catch {
        // that peer could not answer: another round asks again
      }
    }
    for (const a of answered) {
      this.checked.set(a, { ok: ok.has(a), at: Date.now() })
      if (ok.has(a)) this.components.addressManager.confirmObservedAddr(multiaddr(a))
      // announced on assumption and nobody could dial it: withdrawn (a firewall)
      else if (this.assumed.delete(a)) this.components.addressManager.removeObservedAddr(multiaddr(a))
    }
  }

  /**
   * Announces the public addresses we listen on directly (a socket bound to
   * a public IP of this host) that no dial-back has failed: confirmed in
   * libp2p's address manager, so identify and DHT records carry them, but
   * remembered as assumed, so they say nothing about reachability.
   */
  private announceListenAddresses (): void {
    for (const a of this.components.addressManager.getAddressesWithMetadata()) {
      const addr = a.multiaddr.toString()
      if (a.type !== 'transport' || a.verified || addr.includes('/p2p-circuit') || !isPublicAddress(a.multiaddr)) continue
      if (this.checked.get(addr)?.ok === false) continue
      this.assumed.add(addr)
      this.components.addressManager.confirmObservedAddr(a.multiaddr, { type: 'transport' })
    }
  }

  private tick (): void {
    if (this.stopped) return
    const talksToPublic = this.components.connectionManager.getConnections().some(c => isDirect(c) && isPublicAddress(c.remoteAddr))
    if (!talksToPublic) this.publicPeerSince = null
    else this.publicPeerSince ??= Date.now()
    if (this.settings.announceListen) this.announceListenAddresses()
    if (this.settings.autonat && !this.checking) {
      this.checking = true
      void this.checkReachability().finally(() => { this.checking = false })
    }
    const r = this.reachability()
    if (r !== this.last) {
      this.last = r
      this.onLog?.(`reachability ${r}`)
      this.onReachability?.(r)
    }
    this.reserveConfigured()
    // a node nobody can dial finds a relay itself: listening on /p2p-circuit
    // makes the relay transport look for peers that offer relaying and reserve on one
    if (r === 'private' && this.settings.autoRelay && this.settings.relays.length === 0 && !this.searching && this.relays().length === 0) {
      this.searching = true
      this.onLog?.('unreachable from outside: looking for a relay')
      this.components.transportManager.listen([multiaddr('/p2p-circuit')]).catch(err => {
        this.searching = false
        this.onLog?.(`relay search failed: ${errorMessage(err)}`)
      })
    }
  }

  private reserveConfigured (): void {
    const held = new Set(this.relays())
    for (const relay of this.settings.relays) {
      const id = relayPeer(relay)
      const last = this.relayTried.get(relay)
      if (held.has(id) || (last != null && Date.now() - last < RELAY_RETRY_MS)) continue
      this.relayTried.set(relay, Date.now())
      this.components.transportManager.listen([multiaddr(`${relay}/p2p-circuit`)]).then(() => {
        this.onLog?.(`relay slot reserved on ${id}`)
      }, err => {
        this.onLog?.(`cannot reserve a slot on relay ${relay}: ${errorMessage(err)}`)
      })
    }
  }

  /** Resolves once every configured relay holds a reservation, or after `ms`. */
  async waitForRelays (ms: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + ms
    const want = this.settings.relays.map(relayPeer)
    while (Date.now() < deadline && signal?.aborted !== true) {
      const held = new Set(this.relays())
      if (want.every(id => held.has(id))) return true
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    return false
  }
}

/** A routable address: not loopback, not private (network.publicRanges counts as public). */
export function isPublicAddress (ma: Multiaddr): boolean {
  try {
    return !isLoopback(ma) && !isPrivate(ma)
  } catch {
    return false
  }
}

/** A connection that goes straight to the peer, not through a relay. */
export function isDirect (c: Connection): boolean {
  return c.limits == null && !c.remoteAddr.toString().includes('/p2p-circuit')
}

/**
 * A stream to `peer` for `protocol` on a connection we already have (direct
 * first, else relayed), or on a new one. libp2p's dialProtocol never reuses a
 * limited (relayed) connection: it dials again, and the second relayed
 * connection to the same peer is refused as a duplicate, so a fetch from a
 * peer reachable only through a relay failed when it opened its block stream.
 */
export async function streamTo (libp2p: Libp2p, peer: PeerId, protocol: string, signal: AbortSignal): Promise<Stream> {
  const open = libp2p.getConnections(peer).filter(c => c.status === 'open')
  const conn = open.find(isDirect) ?? open[0]
  if (conn != null) return await conn.newStream(protocol, { signal, runOnLimitedConnection: true })
  return await libp2p.dialProtocol(peer, protocol, { signal, runOnLimitedConnection: true })
}

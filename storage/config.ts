// config.json: validated on load. An unknown key or a bad value is an error
// that names the key and the problem; defaults fill what is missing.

import fs from 'node:fs/promises'
import { isIP } from 'node:net'
import { ConfigError, describeFsError } from './errors.ts'
import { writeFileAtomic } from './atomic-file.ts'
import { RATE_FORMAT, SIZE_FORMAT, parseRate, parseSize } from './units.ts'

/** Profiles a repo may default to; the table lives in core/unixfs/profiles.ts. */
export const PROFILE_NAMES = ['unixfs-v1-2025', 'kubo-v0', 'kubo-v1'] as const
export type ProfileName = typeof PROFILE_NAMES[number]

export interface Config {
  network: {
    /** network name: part of the DHT protocol id; not a secret */
    name: string
    /** `local`: own DHT, loopback/private addresses kept; `ipfs`: public Amino DHT */
    kind: 'local' | 'ipfs'
    /** find peers on the LAN by multicast DNS */
    mdns: boolean
    /**
     * CIDR ranges libp2p treats as public although its built-in list calls
     * them private (the documentation ranges used by the NAT tests)
     */
    publicRanges: string[]
    /**
     * `ipfs` kind: also dial the public IPFS bootstrap list; false keeps the
     * node to `bootstrap` and --bootstrap peers (a private IPFS-protocol
     * cluster, a test network)
     */
    publicBootstrap: boolean
  }
  addresses: {
    listen: string[]
  }
  bootstrap: string[]
  import: {
    profile: ProfileName
  }
  provide: {
    /** what a seed announces: every block, pinned DAGs' blocks, or pinned roots only (as Kubo) */
    strategy: 'all' | 'pinned' | 'roots'
    /** seconds between reprovides while seeding */
    interval: number
  }
  connections: {
    /** connections kept before pruning */
    max: number
    /** inbound connections from one IP address, at most (Sybil peers are cheap behind one address) */
    maxPerIP: number
    /**
     * CIDR ranges spared libp2p's connection limits (connections.max, the
     * cap on connections still opening, the per-IP inbound rate), besides
     * this machine, which always is: a LAN of many cairn peers, say
     */
    exempt: string[]
  }
  security: {
    /** peer IDs and IP ranges always let in; with trustedOnly, the only ones */
    allow: string[]
    /** peer IDs and IP ranges never let in nor dialled */
    deny: string[]
    /** only `allow` peers may connect, in or out */
    trustedOnly: boolean
  }
  nat: {
    /** offer circuit relay v2 to other peers (seed --relay-service) */
    relayService: boolean
    /** SIZE: bytes one connection relayed through our relay service may carry, both ways together */
    relayDataLimit: string | number
    /** seconds one connection relayed through our relay service may last */
    relayDurationLimit: number
    /** relays to reserve a slot on, multiaddrs ending in /p2p/<id> (seed --relay) */
    relays: string[]
    /** find and use a relay by itself once the node learns it is unreachable */
    autoRelay: boolean
    /** ask peers to dial our addresses back (AutoNAT) to learn whether we are reachable */
    autonat: boolean
    /** ask the home router to open a port (UPnP IGD) */
    upnp: boolean
    /** upgrade relayed connections to direct ones by hole punching (DCUtR) */
    dcutr: boolean
  }
  api: {
    /** 'unix' (a socket in the repo, mode 0600) or a loopback multiaddr /ip4/127.0.0.1/tcp/N */
    listen: string
  }
  rpc: {
    /** '' (off), PORT, "[HOST:]PORT", "unix" (rpc.sock in the repo) or "unix:PATH": serve the Kubo RPC there while seeding (host 127.0.0.1 unless named) */
    listen: string | number
    /** 'token' (every request carries the repo's rpc-token) or 'none' (loopback or a Unix socket only; a socket never asks for one) */
    auth: string
  }
  transfer: {
    /** RATE: upload cap for everything a seed serves; 0 = none */
    maxUpload: string | number
    /** RATE: download cap for fetches through the seed or a command's own node; 0 = none */
    maxDownload: string | number
    /** SIZE: memory for blocks in flight to other peers, all peers and both protocols together */
    blockMemory: string | number
  }
  anchor: {
    /** which anchor network (a built-in genesis, core/anchor/params.ts); selects rules, never changes them */
    network: string
    /** hashing threads for `seed --mine` unless --miner-threads says otherwise */
    minerThreads: number
  }
  gateway: {
    /** '' = no gateway; else PORT or HOST:PORT (a bare port binds 127.0.0.1): seed --gateway */
    listen: string | number
    /** serve held content only: never fetch from the swarm for an HTTP client */
    offline: boolean
    /** seconds a request may wait for content nobody serves before 504 */
    timeout: number
    /** requests served at once; more wait briefly in a queue, then get 429 */
    maxRequests: number
  }
}

/** Built-in defaults: config.json overrides them, flags override both. */
export const DEFAULT_CONFIG: Config = {
  network: { name: 'cairn', kind: 'local', mdns: false, publicRanges: [], publicBootstrap: true },
  // a stable default port, so a seed's address survives restarts; loopback
  // until the user opens it (docs/design.md)
  addresses: { listen: ['/ip4/127.0.0.1/tcp/4737'] },
  bootstrap: [],
  import: { profile: 'unixfs-v1-2025' },
  // Kubo reprovides every 22 h; records live 48 h
  provide: { strategy: 'all', interval: 22 * 60 * 60 },
  // 64 per IP: room for a 50-node swarm on one test host or a busy NAT, not for a Sybil farm
  connections: { max: 300, maxPerIP: 64, exempt: [] },
  security: { allow: [], deny: [], trustedOnly: false },
  // UPnP off by default: it multicasts SSDP searches on the LAN, which a
  // tool first run on a laptop should not do unasked (docs/network.md)
  // relay limits as Kubo's (go-libp2p's): enough for hole-punch signalling
  // and a few small messages, not for serving content through us
  nat: { relayService: false, relayDataLimit: '128KiB', relayDurationLimit: 120, relays: [], autoRelay: true, autonat: true, upnp: false, dcutr: true },
  api: { listen: 'unix' },
  rpc: { listen: '', auth: 'token' },
  // 64 MiB of blocks in flight: ~64 blocks of 1 MiB, far more than one fast
  // peer keeps busy, bounded whatever the number of peers (block-budget.ts)
  transfer: { maxUpload: 0, maxDownload: 0, blockMemory: '64MiB' },
  anchor: { network: 'local', minerThreads: 1 },
  // off until asked for; read-only, loopback unless a host is named (core/gateway/)
  gateway: { listen: '', offline: false, timeout: 60, maxRequests: 48 }
}

interface Field {
  /** human description of what is allowed, used in error messages */
  expect: string
  check: (v: unknown) => boolean
}

const isMultiaddr = (v: unknown): boolean => typeof v === 'string' && /^\/[a-z0-9]+\/[^\s]*$/i.test(v)
/** A peer ID (base58 or CID form) or an IP address with an optional /PREFIX; core parses it fully. */
export function isPeerOrRange (v: unknown): boolean {
  if (typeof v !== 'string') return false
  const [addr, prefix, ...rest] = v.split('/')
  const family = isIP(addr)
  if (family !== 0) return rest.length === 0 && (prefix == null || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128)))
  return /^(12D3KooW|Qm)[1-9A-HJ-NP-Za-km-z]{40,50}$|^b[a-z2-7]{50,70}$|^k[0-9a-z]{50,70}$/.test(v)
}
const stringList = (item: (v: unknown) => boolean) => (v: unknown): boolean => Array.isArray(v) && v.every(item)
const isBoolean = (v: unknown): boolean => typeof v === 'boolean'
const isPeerMultiaddr = (v: unknown): boolean => isMultiaddr(v) && /\/p2p\/[A-Za-z0-9]+$/.test(v as string)

/** 'PORT' or 'HOST:PORT' ([v6]:PORT for IPv6): where an HTTP server listens. */
export function isHostPort (v: unknown): boolean {
  if (typeof v !== 'string') return false
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(v)
  return m != null && Number(m[2]) <= 65535
}

/** An IPv4 or IPv6 CIDR such as "198.51.100.0/24" or "2001:db8::/32". */
export function isCidr (v: unknown): boolean {
  if (typeof v !== 'string') return false
  const m = /^([^/]+)\/(\d{1,3})$/.exec(v)
  if (m == null) return false
  const family = isIP(m[1])
  const bits = Number(m[2])
  return (family === 4 && bits <= 32) || (family === 6 && bits <= 128)
}

/**
 * The anchor networks built into cairn (core/anchor/params.ts NETWORKS; a
 * test keeps the two equal). Named here so a bad name fails when it is set,
 * not at the next add or chain.
 */
export const ANCHOR_NETWORK_NAMES = ['local', 'test'] as const

/** The highest TCP port. */
const MAX_PORT = 65535

/** The schema: dotted key → rule. Every leaf of Config appears here. */
const FIELDS: Record<string, Field> = {
  'network.name': { expect: 'a name of 1-64 letters, digits, - or _', check: v => typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v) },
  'network.kind': { expect: '"local" or "ipfs"', check: v => v === 'local' || v === 'ipfs' },
  'addresses.listen': { expect: 'a list of multiaddrs such as "/ip4/127.0.0.1/tcp/4737"', check: stringList(isMultiaddr) },
  bootstrap: { expect: 'a list of multiaddrs ending in /p2p/<peer id>', check: stringList(isMultiaddr) },
  'network.mdns': { expect: 'true or false', check: isBoolean },
  'network.publicRanges': { expect: 'a list of CIDR ranges such as "198.51.100.0/24"', check: stringList(isCidr) },
  'network.publicBootstrap': { expect: 'true or false', check: isBoolean },
  'nat.relayService': { expect: 'true or false', check: isBoolean },
  'nat.relayDataLimit': { expect: `${SIZE_FORMAT}, at least 1KiB`, check: v => (parseSize(v) ?? 0) >= 1024 },
  'nat.relayDurationLimit': { expect: 'a whole number of seconds from 1 to 86400', check: v => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 86400 },
  'nat.relays': { expect: 'a list of relay multiaddrs ending in /p2p/<peer id>', check: stringList(isPeerMultiaddr) },
  'nat.autoRelay': { expect: 'true or false', check: isBoolean },
  'nat.autonat': { expect: 'true or false', check: isBoolean },
  'nat.upnp': { expect: 'true or false', check: isBoolean },
  'nat.dcutr': { expect: 'true or false', check: isBoolean },
  'provide.strategy': { expect: '"all", "pinned" or "roots"', check: v => v === 'all' || v === 'pinned' || v === 'roots' },
  'provide.interval': { expect: 'a whole number of seconds, 10 or more', check: v => Number.isSafeInteger(v) && (v as number) >= 10 },
  'connections.max': { expect: 'a whole number from 1 to 10000', check: v => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 10000 },
  'connections.exempt': { expect: 'a list of CIDR ranges such as "192.168.1.0/24"', check: stringList(isCidr) },
  'connections.maxPerIP': { expect: 'a whole number from 1 to 10000', check: v => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 10000 },
  'security.allow': { expect: 'a list of peer IDs or IP ranges such as "192.0.2.0/24"', check: stringList(isPeerOrRange) },
  'security.deny': { expect: 'a list of peer IDs or IP ranges such as "192.0.2.0/24"', check: stringList(isPeerOrRange) },
  'security.trustedOnly': { expect: 'true or false', check: v => typeof v === 'boolean' },
  'api.listen': { expect: `"unix" or "/ip4/127.0.0.1/tcp/PORT" (PORT 0-${MAX_PORT})`, check: v => v === 'unix' || (typeof v === 'string' && /^\/ip4\/127\.0\.0\.1\/tcp\/\d{1,5}$/.test(v) && Number(v.split('/')[4]) <= MAX_PORT) },
  'rpc.listen': { expect: '"" (off), PORT, "HOST:PORT", "unix" or "unix:/PATH"', check: v => v === '' || v === 'unix' || (typeof v === 'string' && /^unix:\/./.test(v)) || (Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= 65535) || (typeof v === 'string' && /^(?:(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?\d{1,5}$/.test(v) && Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535) },
  'rpc.auth': { expect: '"token" or "none" (none: loopback or a Unix socket only)', check: v => v === 'token' || v === 'none' },
  'transfer.maxUpload': { expect: RATE_FORMAT, check: v => parseRate(v) != null },
  'transfer.maxDownload': { expect: RATE_FORMAT, check: v => parseRate(v) != null },
  'transfer.blockMemory': { expect: `${SIZE_FORMAT}, from 4MiB (two of the largest blocks) up`, check: v => (parseSize(v) ?? 0) >= 4 * 1024 * 1024 },
  'anchor.network': { expect: `a built-in anchor network: ${ANCHOR_NETWORK_NAMES.map(n => `"${n}"`).join(' or ')}`, check: v => (ANCHOR_NETWORK_NAMES as readonly unknown[]).includes(v) },
  'anchor.minerThreads': { expect: 'a whole number from 1 to 64', check: v => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 64 },
  'gateway.listen': { expect: '"" (off), PORT or "HOST:PORT"', check: v => v === '' || isHostPort(typeof v === 'number' ? String(v) : v) },
  'gateway.offline': { expect: 'true or false', check: isBoolean },
  'gateway.timeout': { expect: 'a whole number of seconds from 1 to 3600', check: v => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 3600 },
  'gateway.maxRequests': { expect: 'a whole number from 1 to 4096', check: v => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 4096 },
  'import.profile': { expect: PROFILE_NAMES.map(p => `"${p}"`).join(', '), check: v => (PROFILE_NAMES as readonly string[]).includes(v as string) }
}

/** The rule for a key; null for unknown keys, including Object.prototype names ("constructor"). */
const fieldOf = (key: string): Field | null => Object.hasOwn(FIELDS, key) ? FIELDS[key] : null

export const CONFIG_KEYS = Object.keys(FIELDS)

function isPlainObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Validates a parsed config.json and merges it over the defaults. */
export function validateConfig (raw: unknown, source = 'config.json'): Config {
  if (!isPlainObject(raw)) throw new ConfigError(`${source}: must be a JSON object`)
  const out = structuredClone(DEFAULT_CONFIG) as unknown as Record<string, unknown>
  const walk = (obj: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix === '' ? k : `${prefix}.${k}`
      const field = fieldOf(key)
      if (field != null) {
        if (!field.check(v)) throw new ConfigError(`${source}: "${key}" must be ${field.expect} (got ${JSON.stringify(v)})`)
        setPath(out, key, v)
      } else if (CONFIG_KEYS.some(f => f.startsWith(key + '.'))) {
        if (!isPlainObject(v)) throw new ConfigError(`${source}: "${key}" must be an object (got ${JSON.stringify(v)})`)
        walk(v, key)
      } else {
        throw new ConfigError(`${source}: unknown key "${key}" (known keys: ${CONFIG_KEYS.join(', ')})`)
      }
    }
  }
  walk(raw, '')
  return out as unknown as Config
}

function setPath (obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.')
  let cur = obj
  for (const p of parts.slice(0, -1)) cur = cur[p] as Record<string, unknown>
  cur[parts[parts.length - 1]] = value
}

export function getConfigValue (config: Config, key: string): unknown {
  if (fieldOf(key) == null && !CONFIG_KEYS.some(f => f.startsWith(key + '.'))) {
    throw new ConfigError(`unknown config key "${key}" (known keys: ${CONFIG_KEYS.join(', ')})`)
  }
  let cur: unknown = config
  for (const p of key.split('.')) cur = (cur as Record<string, unknown>)[p]
  return cur
}

/**
 * Parses a value given on the command line for `key`: JSON when it parses
 * (lists, booleans), else the plain string.
 */
export function parseConfigValue (key: string, text: string): unknown {
  const field = fieldOf(key)
  if (field == null) throw new ConfigError(`unknown config key "${key}" (known keys: ${CONFIG_KEYS.join(', ')})`)
  let value: unknown
  try { value = JSON.parse(text) } catch { value = text }
  if (!field.check(value)) throw new ConfigError(`"${key}" must be ${field.expect} (got ${JSON.stringify(value)})`)
  return value
}

export async function readConfig (file: string): Promise<Config> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return structuredClone(DEFAULT_CONFIG)
    throw new ConfigError(describeFsError(err, file))
  }
  return parseConfigText(text, file)
}

/** config.json's text (from `source`) to a validated Config: what readConfig does after reading the file. */
export function parseConfigText (text: string, source = 'config.json'): Config {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new ConfigError(`${source}: not valid JSON (${(err as Error).message})`)
  }
  return validateConfig(raw, source)
}

/** Writes config.json atomically (temp file, fsync, rename). */
export async function writeConfig (file: string, config: Config): Promise<void> {
  validateConfig(config, file)
  await writeFileAtomic(file, JSON.stringify(config, null, 2) + '\n', { durability: 'fsync', mode: 0o644 })
}

export function setConfigValue (config: Config, key: string, value: unknown): Config {
  const next = structuredClone(config) as unknown as Record<string, unknown>
  setPath(next, key, value)
  return next as unknown as Config
}

// config.json: validated on load against a valibot schema (CONFIG_SCHEMA),
// which also gives the Config type. An unknown key or a bad value is an error
// that names the key and the problem; defaults fill what is missing.

import fs from 'node:fs/promises'
import { isIP } from 'node:net'
import * as v from 'valibot'
import { ConfigError, describeFsError, errnoCode, errorMessage } from './errors.ts'
import { writeFileAtomic } from './atomic-file.ts'
import { RATE_FORMAT, SIZE_FORMAT, parseRate, parseSize } from './units.ts'

/** Profiles a repo may default to; the table lives in core/unixfs/profiles.ts. */
export const PROFILE_NAMES = ['unixfs-v1-2025', 'kubo-v0', 'kubo-v1'] as const
export type ProfileName = typeof PROFILE_NAMES[number]

const isMultiaddr = (v: unknown): boolean => typeof v === 'string' && /^\/[a-z0-9]+\/[^\s]*$/i.test(v)
/** A peer ID (base58 or CID form) or an IP address with an optional /PREFIX; core parses it fully. */
export function isPeerOrRange (v: unknown): boolean {
  if (typeof v !== 'string') return false
  const [addr, prefix, ...rest] = v.split('/')
  const family = isIP(addr)
  if (family !== 0) return rest.length === 0 && (prefix == null || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128)))
  return /^(12D3KooW|Qm)[1-9A-HJ-NP-Za-km-z]{40,50}$|^b[a-z2-7]{50,70}$|^k[0-9a-z]{50,70}$/.test(v)
}
const isPeerMultiaddr = (v: string): boolean => isMultiaddr(v) && /\/p2p\/[A-Za-z0-9]+$/.test(v)

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

/** One setting: what its value may be, and the words an error uses for that. */
interface Setting {
  /** human description of what is allowed, used in error messages */
  expect: string
  schema: v.GenericSchema
}

/** Each setting's schema (an optional one, with its default) → its rule, for the messages. */
const SETTINGS = new Map<unknown, Setting>()
/** Each section's object schema → its settings. */
const SECTIONS = new Map<unknown, v.ObjectEntries>()

/** A setting: `schema` checks the value, `expect` says in words what it must be, `fallback` fills it when absent. */
function setting<S extends v.GenericSchema> (expect: string, schema: S, fallback: v.InferInput<S>): v.OptionalSchema<S, v.InferInput<S>> {
  const out = v.optional(schema, fallback)
  SETTINGS.set(out, { expect, schema })
  return out
}

/**
 * A group of settings (config.json's "network": {…}), wrapped in
 * v.optional(…, {}) where used: absent, every setting takes its default.
 */
function section<E extends v.ObjectEntries> (entries: E): v.ObjectSchema<E, undefined> {
  const out = v.object(entries)
  SECTIONS.set(out, entries)
  return out
}

const BOOLEAN = 'true or false'
/** a JSON list whose every item is a string passing `check` */
const stringList = (check: (s: string) => boolean): v.GenericSchema<string[]> => v.array(v.pipe(v.string(), v.check(check)))
/** a whole number from `min` to `max` */
const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER): v.GenericSchema<number> => v.pipe(v.number(), v.safeInteger(), v.minValue(min), v.maxValue(max))
/** a size or rate: a number of bytes, or a string with a unit, as storage/units.ts reads it */
const amount = (check: (a: string | number) => boolean): v.GenericSchema<string | number> => v.pipe(v.union([v.string(), v.number()]), v.check(check))

/**
 * config.json's schema: each setting with its check, its default and the
 * words an error uses. Built-in defaults (DEFAULT_CONFIG) are what it makes
 * of `{}`; config.json overrides them, flags override both.
 */
const CONFIG_SCHEMA = v.object({
  network: v.optional(section({
    /** network name: part of the DHT protocol id; not a secret */
    name: setting('a name of 1-64 letters, digits, - or _', v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/)), 'cairn'),
    /** `local`: own DHT, loopback/private addresses kept; `ipfs`: public Amino DHT */
    kind: setting('"local" or "ipfs"', v.picklist(['local', 'ipfs']), 'local'),
    /** find peers on the LAN by multicast DNS */
    mdns: setting(BOOLEAN, v.boolean(), false),
    /**
     * CIDR ranges libp2p treats as public although its built-in list calls
     * them private (the documentation ranges used by the NAT tests)
     */
    publicRanges: setting('a list of CIDR ranges such as "198.51.100.0/24"', stringList(isCidr), []),
    /**
     * `ipfs` kind: also dial the public IPFS bootstrap list; false keeps the
     * node to `bootstrap` and --bootstrap peers (a private IPFS-protocol
     * cluster, a test network)
     */
    publicBootstrap: setting(BOOLEAN, v.boolean(), true)
  }), {}),
  addresses: v.optional(section({
    // a stable default port, so a seed's address survives restarts; loopback
    // until the user opens it (docs/design.md)
    listen: setting('a list of multiaddrs such as "/ip4/127.0.0.1/tcp/4737"', stringList(isMultiaddr), ['/ip4/127.0.0.1/tcp/4737'])
  }), {}),
  bootstrap: setting('a list of multiaddrs ending in /p2p/<peer id>', stringList(isMultiaddr), []),
  import: v.optional(section({
    profile: setting(PROFILE_NAMES.map(p => `"${p}"`).join(', '), v.picklist(PROFILE_NAMES), 'unixfs-v1-2025')
  }), {}),
  provide: v.optional(section({
    /** what a seed announces: every block, pinned DAGs' blocks, or pinned roots only (as Kubo) */
    strategy: setting('"all", "pinned" or "roots"', v.picklist(['all', 'pinned', 'roots']), 'all'),
    /** seconds between reprovides while seeding; Kubo reprovides every 22 h, records live 48 h */
    interval: setting('a whole number of seconds, 10 or more', wholeNumber(10), 22 * 60 * 60)
  }), {}),
  connections: v.optional(section({
    /** connections kept before pruning */
    max: setting('a whole number from 1 to 10000', wholeNumber(1, 10000), 300),
    /**
     * inbound connections from one IP address, at most (Sybil peers are
     * cheap behind one address); 64: room for a 50-node swarm on one test
     * host or a busy NAT, not for a Sybil farm
     */
    maxPerIP: setting('a whole number from 1 to 10000', wholeNumber(1, 10000), 64),
    /**
     * CIDR ranges spared libp2p's connection limits (connections.max, the
     * cap on connections still opening, the per-IP inbound rate), besides
     * this machine, which always is: a LAN of many cairn peers, say
     */
    exempt: setting('a list of CIDR ranges such as "192.168.1.0/24"', stringList(isCidr), [])
  }), {}),
  security: v.optional(section({
    /** peer IDs and IP ranges always let in; with trustedOnly, the only ones */
    allow: setting('a list of peer IDs or IP ranges such as "192.0.2.0/24"', stringList(isPeerOrRange), []),
    /** peer IDs and IP ranges never let in nor dialled */
    deny: setting('a list of peer IDs or IP ranges such as "192.0.2.0/24"', stringList(isPeerOrRange), []),
    /** only `allow` peers may connect, in or out */
    trustedOnly: setting(BOOLEAN, v.boolean(), false)
  }), {}),
  // relay limits as Kubo's (go-libp2p's): enough for hole-punch signalling
  // and a few small messages, not for serving content through us
  nat: v.optional(section({
    /** offer circuit relay v2 to other peers (seed --relay-service) */
    relayService: setting(BOOLEAN, v.boolean(), false),
    /** SIZE: bytes one connection relayed through our relay service may carry, both ways together */
    relayDataLimit: setting(`${SIZE_FORMAT}, at least 1KiB`, amount(a => (parseSize(a) ?? 0) >= 1024), '128KiB'),
    /** seconds one connection relayed through our relay service may last */
    relayDurationLimit: setting('a whole number of seconds from 1 to 86400', wholeNumber(1, 86400), 120),
    /** relays to reserve a slot on, multiaddrs ending in /p2p/<id> (seed --relay) */
    relays: setting('a list of relay multiaddrs ending in /p2p/<peer id>', stringList(isPeerMultiaddr), []),
    /** find and use a relay by itself once the node learns it is unreachable */
    autoRelay: setting(BOOLEAN, v.boolean(), true),
    /** ask peers to dial our addresses back (AutoNAT) to learn whether we are reachable */
    autonat: setting(BOOLEAN, v.boolean(), true),
    /**
     * ask the home router to open a port (UPnP IGD). Off by default: it
     * multicasts SSDP searches on the LAN, which a tool first run on a
     * laptop should not do unasked (docs/network.md)
     */
    upnp: setting(BOOLEAN, v.boolean(), false),
    /** upgrade relayed connections to direct ones by hole punching (DCUtR) */
    dcutr: setting(BOOLEAN, v.boolean(), true)
  }), {}),
  api: v.optional(section({
    /** 'unix' (a socket in the repo, mode 0600) or a loopback multiaddr /ip4/127.0.0.1/tcp/N */
    listen: setting(`"unix" or "/ip4/127.0.0.1/tcp/PORT" (PORT 0-${MAX_PORT})`,
      v.pipe(v.string(), v.check(s => s === 'unix' || (/^\/ip4\/127\.0\.0\.1\/tcp\/\d{1,5}$/.test(s) && Number(s.split('/')[4]) <= MAX_PORT))), 'unix')
  }), {}),
  rpc: v.optional(section({
    /** '' (off), PORT, "[HOST:]PORT", "unix" (rpc.sock in the repo) or "unix:PATH": serve the Kubo RPC there while seeding (host 127.0.0.1 unless named) */
    listen: setting('"" (off), PORT, "HOST:PORT", "unix" or "unix:/PATH"', v.union([
      wholeNumber(0, MAX_PORT),
      v.pipe(v.string(), v.check(s => s === '' || s === 'unix' || /^unix:\/./.test(s) || (/^(?:(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?\d{1,5}$/.test(s) && Number(s.slice(s.lastIndexOf(':') + 1)) <= MAX_PORT)))
    ]), ''),
    /** 'token' (every request carries the repo's rpc-token) or 'none' (loopback or a Unix socket only; a socket never asks for one) */
    auth: setting('"token" or "none" (none: loopback or a Unix socket only)', v.picklist(['token', 'none']), 'token')
  }), {}),
  transfer: v.optional(section({
    /** RATE: upload cap for everything a seed serves; 0 = none */
    maxUpload: setting(RATE_FORMAT, amount(a => parseRate(a) != null), 0),
    /** RATE: download cap for fetches through the seed or a command's own node; 0 = none */
    maxDownload: setting(RATE_FORMAT, amount(a => parseRate(a) != null), 0),
    /**
     * SIZE: memory for blocks in flight to other peers, all peers and both
     * protocols together. 64 MiB: ~64 blocks of 1 MiB, far more than one
     * fast peer keeps busy, bounded whatever the number of peers (block-budget.ts)
     */
    blockMemory: setting(`${SIZE_FORMAT}, from 4MiB (two of the largest blocks) up`, amount(a => (parseSize(a) ?? 0) >= 4 * 1024 * 1024), '64MiB')
  }), {}),
  anchor: v.optional(section({
    /** which anchor network (a built-in genesis, core/anchor/params.ts); selects rules, never changes them */
    network: setting(`a built-in anchor network: ${ANCHOR_NETWORK_NAMES.map(n => `"${n}"`).join(' or ')}`, v.picklist(ANCHOR_NETWORK_NAMES), 'local'),
    /** hashing threads for `seed --mine` unless --miner-threads says otherwise */
    minerThreads: setting('a whole number from 1 to 64', wholeNumber(1, 64), 1)
  }), {}),
  // off until asked for; read-only, loopback unless a host is named (core/gateway/)
  gateway: v.optional(section({
    /** '' = no gateway; else PORT or HOST:PORT (a bare port binds 127.0.0.1): seed --gateway */
    listen: setting('"" (off), PORT or "HOST:PORT"', v.union([
      v.pipe(v.number(), v.check(n => isHostPort(String(n)))),
      v.pipe(v.string(), v.check(s => s === '' || isHostPort(s)))
    ]), ''),
    /** serve held content only: never fetch from the swarm for an HTTP client */
    offline: setting(BOOLEAN, v.boolean(), false),
    /** seconds a request may wait for content nobody serves before 504 */
    timeout: setting('a whole number of seconds from 1 to 3600', wholeNumber(1, 3600), 60),
    /** requests served at once; more wait briefly in a queue, then get 429 */
    maxRequests: setting('a whole number from 1 to 4096', wholeNumber(1, 4096), 48)
  }), {})
})

export type Config = v.InferOutput<typeof CONFIG_SCHEMA>

/** Built-in defaults: config.json overrides them, flags override both. */
export const DEFAULT_CONFIG: Config = v.parse(CONFIG_SCHEMA, {})

/** Every setting by its dotted key ("network.name"), in the schema's order. */
const FIELDS = new Map<string, Setting>()
for (const [name, schema] of Object.entries(CONFIG_SCHEMA.entries)) {
  const rule = SETTINGS.get(schema)
  if (rule != null) FIELDS.set(name, rule)
  for (const [inner, s] of Object.entries(SECTIONS.get(schema.wrapped) ?? {})) {
    const innerRule = SETTINGS.get(s)
    if (innerRule != null) FIELDS.set(`${name}.${inner}`, innerRule)
  }
}

/** The rule for a key; null for unknown keys, including Object.prototype names ("constructor"). */
const fieldOf = (key: string): Setting | null => FIELDS.get(key) ?? null

export const CONFIG_KEYS = [...FIELDS.keys()]

function isPlainObject (x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

/** Validates a parsed config.json and merges it over the defaults. */
export function validateConfig (raw: unknown, source = 'config.json'): Config {
  if (!isPlainObject(raw)) throw new ConfigError(`${source}: must be a JSON object`)
  // the keys in the file's order, so the first bad one is the one named
  const walk = (obj: Record<string, unknown>, prefix: string): void => {
    for (const [k, value] of Object.entries(obj)) {
      const key = prefix === '' ? k : `${prefix}.${k}`
      const field = fieldOf(key)
      if (field != null) {
        if (!v.is(field.schema, value)) throw new ConfigError(`${source}: "${key}" must be ${field.expect} (got ${JSON.stringify(value)})`)
      } else if (CONFIG_KEYS.some(f => f.startsWith(key + '.'))) {
        if (!isPlainObject(value)) throw new ConfigError(`${source}: "${key}" must be an object (got ${JSON.stringify(value)})`)
        walk(value, key)
      } else {
        throw new ConfigError(`${source}: unknown key "${key}" (known keys: ${CONFIG_KEYS.join(', ')})`)
      }
    }
  }
  walk(raw, '')
  // every value passed its setting's schema above: this fills the defaults
  // and gives the typed copy (new objects and lists throughout)
  return v.parse(CONFIG_SCHEMA, raw)
}

export function getConfigValue (config: Config, key: string): unknown {
  if (fieldOf(key) == null && !CONFIG_KEYS.some(f => f.startsWith(key + '.'))) {
    throw new ConfigError(`unknown config key "${key}" (known keys: ${CONFIG_KEYS.join(', ')})`)
  }
  let cur: unknown = config
  for (const p of key.split('.')) cur = isPlainObject(cur) ? cur[p] : undefined
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
  if (!v.is(field.schema, value)) throw new ConfigError(`"${key}" must be ${field.expect} (got ${JSON.stringify(value)})`)
  return value
}

export async function readConfig (file: string): Promise<Config> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return structuredClone(DEFAULT_CONFIG)
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
    throw new ConfigError(`${source}: not valid JSON (${errorMessage(err)})`)
  }
  return validateConfig(raw, source)
}

/** Writes config.json atomically (temp file, fsync, rename). */
export async function writeConfig (file: string, config: Config): Promise<void> {
  validateConfig(config, file)
  await writeFileAtomic(file, JSON.stringify(config, null, 2) + '\n', { durability: 'fsync', mode: 0o644 })
}

/** `config` with the setting `key` (checked by parseConfigValue) set to `value`; a copy, checked again. */
export function setConfigValue (config: Config, key: string, value: unknown): Config {
  // keys are "setting" or "section.setting" (CONFIG_KEYS)
  const [name, inner] = key.split('.')
  const next: Record<string, unknown> = { ...config }
  const current = next[name]
  next[name] = inner == null ? value : { ...(isPlainObject(current) ? current : {}), [inner]: value }
  return validateConfig(next)
}

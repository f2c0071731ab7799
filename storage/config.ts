// config.json: validated on load. An unknown key or a bad value is an error
// that names the key and the problem; defaults fill what is missing.

import fs from 'node:fs/promises'
import { ConfigError, describeFsError } from './errors.ts'

/** Profiles a repo may default to; the table lives in core/profiles.ts. */
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
  }
  api: {
    /** 'unix' (a socket in the repo, mode 0600) or a loopback multiaddr /ip4/127.0.0.1/tcp/N */
    listen: string
  }
  anchor: {
    /** which anchor network (a built-in genesis, core/anchor/params.ts); selects rules, never changes them */
    network: string
    /** hashing threads for `seed --mine` unless --miner-threads says otherwise */
    minerThreads: number
  }
}

/** Built-in defaults: config.json overrides them, flags override both. */
export const DEFAULT_CONFIG: Config = {
  network: { name: 'cairn', kind: 'local', mdns: false },
  // a stable default port, so a seed's address survives restarts; loopback
  // until the user opens it (docs/design.md)
  addresses: { listen: ['/ip4/127.0.0.1/tcp/4737'] },
  bootstrap: [],
  import: { profile: 'unixfs-v1-2025' },
  // Kubo reprovides every 22 h; records live 48 h
  provide: { strategy: 'all', interval: 22 * 60 * 60 },
  connections: { max: 300 },
  api: { listen: 'unix' },
  anchor: { network: 'local', minerThreads: 1 }
}

interface Field {
  /** human description of what is allowed, used in error messages */
  expect: string
  check: (v: unknown) => boolean
}

const isMultiaddr = (v: unknown): boolean => typeof v === 'string' && /^\/[a-z0-9]+\/[^\s]*$/i.test(v)
const stringList = (item: (v: unknown) => boolean) => (v: unknown): boolean => Array.isArray(v) && v.every(item)

/** The schema: dotted key → rule. Every leaf of Config appears here. */
const FIELDS: Record<string, Field> = {
  'network.name': { expect: 'a name of 1-64 letters, digits, - or _', check: v => typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v) },
  'network.kind': { expect: '"local" or "ipfs"', check: v => v === 'local' || v === 'ipfs' },
  'addresses.listen': { expect: 'a list of multiaddrs such as "/ip4/127.0.0.1/tcp/4737"', check: stringList(isMultiaddr) },
  bootstrap: { expect: 'a list of multiaddrs ending in /p2p/<peer id>', check: stringList(isMultiaddr) },
  'network.mdns': { expect: 'true or false', check: v => typeof v === 'boolean' },
  'provide.strategy': { expect: '"all", "pinned" or "roots"', check: v => v === 'all' || v === 'pinned' || v === 'roots' },
  'provide.interval': { expect: 'a whole number of seconds, 10 or more', check: v => Number.isSafeInteger(v) && (v as number) >= 10 },
  'connections.max': { expect: 'a whole number from 1 to 10000', check: v => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 10000 },
  'api.listen': { expect: '"unix" or "/ip4/127.0.0.1/tcp/PORT"', check: v => v === 'unix' || (typeof v === 'string' && /^\/ip4\/127\.0\.0\.1\/tcp\/\d{1,5}$/.test(v)) },
  'anchor.network': { expect: 'a network name of 1-32 lowercase letters, digits or -', check: v => typeof v === 'string' && /^[a-z0-9-]{1,32}$/.test(v) },
  'anchor.minerThreads': { expect: 'a whole number from 1 to 64', check: v => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 64 },
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
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new ConfigError(`${file}: not valid JSON (${(err as Error).message})`)
  }
  return validateConfig(raw, file)
}

/** Writes config.json atomically (temp file, fsync, rename). */
export async function writeConfig (file: string, config: Config): Promise<void> {
  validateConfig(config, file)
  const tmp = `${file}.${process.pid}.tmp`
  const fh = await fs.open(tmp, 'w', 0o644)
  try {
    await fh.writeFile(JSON.stringify(config, null, 2) + '\n')
    await fh.sync()
  } finally {
    await fh.close()
  }
  await fs.rename(tmp, file)
}

export function setConfigValue (config: Config, key: string, value: unknown): Config {
  const next = structuredClone(config) as unknown as Record<string, unknown>
  setPath(next, key, value)
  return next as unknown as Config
}

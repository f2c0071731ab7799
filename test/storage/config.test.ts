// config.json: validated on load; an unknown key or a bad value is an error
// that names the key (and, for a value, what is allowed).

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, test } from 'node:test'
import { CONFIG_KEYS, DEFAULT_CONFIG, getConfigValue, parseConfigValue, readConfig, setConfigValue, validateConfig } from '../../storage/config.ts'
import { ConfigError } from '../../storage/errors.ts'
import { cairn, errorLine, tempDir } from '../helpers.ts'

/** Asserts `fn` throws a ConfigError and returns its message. */
function configError (fn: () => unknown): string {
  let caught: unknown
  try {
    fn()
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`)
  return caught.message
}

async function configErrorAsync (p: Promise<unknown>): Promise<string> {
  let caught: unknown
  try {
    await p
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`)
  return caught.message
}

describe('validateConfig', () => {
  test('an empty object gives the defaults, as a copy', () => {
    const c = validateConfig({})
    assert.deepEqual(c, DEFAULT_CONFIG)
    c.network.name = 'changed'
    c.addresses.listen.push('/ip4/1.2.3.4/tcp/1')
    assert.equal(DEFAULT_CONFIG.network.name, 'cairn')
    assert.deepEqual(DEFAULT_CONFIG.addresses.listen, ['/ip4/127.0.0.1/tcp/4737'])
  })

  test('defaults fill what a partial config leaves out, keys given win', () => {
    const c = validateConfig({ network: { kind: 'ipfs' }, import: { profile: 'kubo-v0' } })
    assert.equal(c.network.kind, 'ipfs')
    assert.equal(c.network.name, DEFAULT_CONFIG.network.name)
    assert.equal(c.import.profile, 'kubo-v0')
    assert.deepEqual(c.addresses, DEFAULT_CONFIG.addresses)
    assert.deepEqual(c.bootstrap, [])
  })

  test('an unknown top-level key is named', () => {
    const msg = configError(() => validateConfig({ bogus: 1 }))
    assert.match(msg, /unknown key "bogus"/)
  })

  test('an unknown nested key is named with its full dotted path', () => {
    const msg = configError(() => validateConfig({ network: { name: 'x', colour: 'red' } }))
    assert.match(msg, /unknown key "network\.colour"/)
  })

  // keys that happen to be names on Object.prototype are still unknown keys
  for (const key of ['constructor', 'toString', 'hasOwnProperty']) {
    test(`an unknown top-level key named "${key}" is named`, () => {
      const msg = configError(() => validateConfig(JSON.parse(`{"${key}": 1}`)))
      assert.match(msg, new RegExp(`"${key}"`))
    })
  }

  test('an unknown key "__proto__" (as JSON.parse makes it) is named', () => {
    const raw = JSON.parse('{"__proto__": {"check": 1}}') as unknown
    const msg = configError(() => validateConfig(raw))
    assert.match(msg, /"__proto__"/)
  })

  const badValues: Array<[string, unknown, RegExp]> = [
    ['network.kind', { network: { kind: 'mars' } }, /"network\.kind" must be "local" or "ipfs" \(got "mars"\)/],
    ['network.name', { network: { name: 'has space' } }, /"network\.name" must be a name of 1-64/],
    ['addresses.listen', { addresses: { listen: '/ip4/127.0.0.1/tcp/1' } }, /"addresses\.listen" must be a list of multiaddrs/],
    ['addresses.listen', { addresses: { listen: ['not a multiaddr'] } }, /"addresses\.listen" must be a list of multiaddrs/],
    ['bootstrap', { bootstrap: [42] }, /"bootstrap" must be a list of multiaddrs/],
    ['import.profile', { import: { profile: 'kubo-v9' } }, /"import\.profile" must be "unixfs-v1-2025", "kubo-v0", "kubo-v1" \(got "kubo-v9"\)/],
    ['network', { network: 'cairn' }, /"network" must be an object/],
    ['network.publicBootstrap', { network: { publicBootstrap: 'no' } }, /"network\.publicBootstrap" must be true or false/],
    ['network.publicRanges', { network: { publicRanges: ['198.51.100.0'] } }, /"network\.publicRanges" must be a list of CIDR ranges/],
    ['network.publicRanges', { network: { publicRanges: ['198.51.100.0/33'] } }, /"network\.publicRanges" must be a list of CIDR ranges/],
    ['network.publicRanges', { network: { publicRanges: ['example.com/24'] } }, /"network\.publicRanges" must be a list of CIDR ranges/],
    ['nat.relays', { nat: { relays: ['/ip4/198.51.100.2/tcp/4737'] } }, /"nat\.relays" must be a list of relay multiaddrs ending in \/p2p\/<peer id>/],
    ['nat.relayService', { nat: { relayService: 'yes' } }, /"nat\.relayService" must be true or false \(got "yes"\)/],
    ['nat.upnp', { nat: { upnp: 1 } }, /"nat\.upnp" must be true or false/],
    ['nat', { nat: { turbo: true } }, /unknown key "nat\.turbo"/]
  ]
  for (const [key, raw, re] of badValues) {
    test(`a bad value for ${key} names the key and what is allowed (${JSON.stringify(raw)})`, () => {
      assert.match(configError(() => validateConfig(raw)), re)
    })
  }

  test('the NAT settings and public ranges: defaults, and values given win', () => {
    assert.deepEqual(DEFAULT_CONFIG.nat, { relayService: false, relayDataLimit: '128KiB', relayDurationLimit: 120, relays: [], autoRelay: true, autonat: true, upnp: false, dcutr: true })
    assert.deepEqual(DEFAULT_CONFIG.network.publicRanges, [])
    const relay = '/ip4/198.51.100.2/tcp/4737/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp'
    const c = validateConfig({ network: { publicRanges: ['198.51.100.0/24', '2001:db8::/32'] }, nat: { relayService: true, relays: [relay], upnp: true } })
    assert.deepEqual(c.network.publicRanges, ['198.51.100.0/24', '2001:db8::/32'])
    assert.deepEqual(c.nat, { relayService: true, relayDataLimit: '128KiB', relayDurationLimit: 120, relays: [relay], autoRelay: true, autonat: true, upnp: true, dcutr: true })
  })

  test('the gateway: off by default; a port, HOST:PORT or [v6]:PORT; bad ones named', () => {
    assert.deepEqual(DEFAULT_CONFIG.gateway, { listen: '', offline: false, timeout: 60, maxRequests: 48 })
    for (const listen of [8080, '8080', '127.0.0.1:8080', '0.0.0.0:80', '[::1]:8080', 'localhost:8080']) {
      assert.equal(validateConfig({ gateway: { listen } }).gateway.listen, listen)
    }
    for (const listen of ['x', ':80', '127.0.0.1:99999', 70000, '1.2.3.4:80 ', true]) {
      assert.match(configError(() => validateConfig({ gateway: { listen } })), /"gateway\.listen" must be/)
    }
    assert.match(configError(() => validateConfig({ gateway: { maxRequests: 0 } })), /"gateway\.maxRequests"/)
    assert.match(configError(() => validateConfig({ gateway: { timeout: 0.5 } })), /"gateway\.timeout"/)
    assert.match(configError(() => validateConfig({ gateway: { offline: 'yes' } })), /"gateway\.offline"/)
  })

  test('CONFIG_KEYS names every setting of DEFAULT_CONFIG, and each default passes its own rule', () => {
    const leaves: string[] = []
    for (const [k, value] of Object.entries(DEFAULT_CONFIG)) {
      if (typeof value === 'object' && !Array.isArray(value)) leaves.push(...Object.keys(value).map(inner => `${k}.${inner}`))
      else leaves.push(k)
    }
    assert.deepEqual([...CONFIG_KEYS].sort(), leaves.sort())
    for (const key of CONFIG_KEYS) {
      assert.deepEqual(parseConfigValue(key, JSON.stringify(getConfigValue(DEFAULT_CONFIG, key))), getConfigValue(DEFAULT_CONFIG, key), key)
    }
  })

  test('setConfigValue sets one setting in a copy and leaves the rest', () => {
    const c = setConfigValue(DEFAULT_CONFIG, 'gateway.listen', 8080)
    assert.deepEqual(c.gateway, { ...DEFAULT_CONFIG.gateway, listen: 8080 })
    assert.equal(DEFAULT_CONFIG.gateway.listen, '')
    assert.deepEqual(setConfigValue(c, 'bootstrap', ['/ip4/10.0.0.1/tcp/4737/p2p/12D3KooWabc']).bootstrap, ['/ip4/10.0.0.1/tcp/4737/p2p/12D3KooWabc'])
    assert.equal(getConfigValue(c, 'gateway.listen'), 8080)
  })

  test('a config that is not a JSON object is refused', () => {
    for (const raw of [null, [], 42, 'text']) {
      assert.match(configError(() => validateConfig(raw, 'the-file')), /the-file: must be a JSON object/)
    }
  })
})

describe('readConfig', () => {
  test('a missing file gives the defaults', async () => {
    const t = await tempDir()
    try {
      assert.deepEqual(await readConfig(path.join(t.dir, 'config.json')), DEFAULT_CONFIG)
    } finally {
      await t.cleanup()
    }
  })

  test('a valid file is merged over the defaults', async () => {
    const t = await tempDir()
    try {
      const file = path.join(t.dir, 'config.json')
      await fs.writeFile(file, JSON.stringify({ bootstrap: ['/ip4/10.0.0.1/tcp/4737/p2p/12D3KooWabc'] }))
      const c = await readConfig(file)
      assert.deepEqual(c.bootstrap, ['/ip4/10.0.0.1/tcp/4737/p2p/12D3KooWabc'])
      assert.deepEqual(c.network, DEFAULT_CONFIG.network)
    } finally {
      await t.cleanup()
    }
  })

  test('invalid JSON is a ConfigError naming the file', async () => {
    const t = await tempDir()
    try {
      const file = path.join(t.dir, 'config.json')
      await fs.writeFile(file, '{"network": {"kind": "local",')
      const msg = await configErrorAsync(readConfig(file))
      assert.ok(msg.includes(file), msg)
      assert.match(msg, /not valid JSON/)
    } finally {
      await t.cleanup()
    }
  })

  test('a bad value in the file names the file and the key', async () => {
    const t = await tempDir()
    try {
      const file = path.join(t.dir, 'config.json')
      await fs.writeFile(file, JSON.stringify({ import: { profile: 'fast' } }))
      const msg = await configErrorAsync(readConfig(file))
      assert.ok(msg.includes(file), msg)
      assert.match(msg, /"import\.profile"/)
    } finally {
      await t.cleanup()
    }
  })
})

describe('cairn config', { concurrency: true }, () => {
  test('set then get round-trips a value, and it lands in config.json', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      const set = await cairn(['config', 'set', 'import.profile', 'kubo-v1', '--repo', repo])
      assert.equal(set.code, 0, set.stderr)
      const got = await cairn(['config', 'get', 'import.profile', '--repo', repo])
      assert.equal(got.code, 0, got.stderr)
      assert.equal(got.stdout, 'kubo-v1\n')
      const onDisk = JSON.parse(await fs.readFile(path.join(repo, 'config.json'), 'utf8')) as { import: { profile: string } }
      assert.equal(onDisk.import.profile, 'kubo-v1')

      const list = ['/ip4/127.0.0.1/tcp/4001', '/ip6/::1/tcp/4001']
      const setList = await cairn(['config', 'set', 'addresses.listen', JSON.stringify(list), '--repo', repo])
      assert.equal(setList.code, 0, setList.stderr)
      const gotList = await cairn(['--json', 'config', 'get', 'addresses.listen', '--repo', repo])
      assert.equal(gotList.code, 0, gotList.stderr)
      assert.deepEqual(JSON.parse(gotList.stdout), { key: 'addresses.listen', value: list })

      const all = await cairn(['config', 'get', '--repo', repo])
      assert.equal(all.code, 0, all.stderr)
      const whole = JSON.parse(all.stdout) as typeof DEFAULT_CONFIG
      assert.deepEqual(whole, { ...DEFAULT_CONFIG, addresses: { listen: list }, import: { profile: 'kubo-v1' } })
    } finally {
      await t.cleanup()
    }
  })

  test('a bad value for config set is one Error line naming the key; config.json is unchanged', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      assert.equal((await cairn(['init', '--repo', repo])).code, 0)
      const before = await fs.readFile(path.join(repo, 'config.json'), 'utf8')
      const r = await cairn(['config', 'set', 'network.kind', 'mars', '--repo', repo])
      assert.notEqual(r.code, 0)
      const line = errorLine(r)
      assert.match(line, /"network\.kind"/)
      assert.match(line, /"local" or "ipfs"/)
      assert.equal(r.stdout, '')
      assert.equal(await fs.readFile(path.join(repo, 'config.json'), 'utf8'), before)
    } finally {
      await t.cleanup()
    }
  })

  test('config set checks every value when it is set: anchor.network bogus, a bad port, a bad multiaddr exit 2 and leave config.json as it was', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      assert.equal((await cairn(['init', '--repo', repo])).code, 0)
      const before = await fs.readFile(path.join(repo, 'config.json'), 'utf8')
      const cases: Array<[string, string, RegExp]> = [
        ['anchor.network', 'bogus', /"anchor\.network" must be a built-in anchor network: "local" or "test"/],
        ['api.listen', '/ip4/127.0.0.1/tcp/99999', /"api\.listen"/],
        ['bootstrap', '["/ip4/127.0.0.1/tcp/notaport/p2p/12D3KooWBogus"]', /"bootstrap": .* is not a valid multiaddr/],
        ['addresses.listen', '["/ip4/999.1.1.1/tcp/1"]', /"addresses\.listen": .* is not a valid multiaddr/]
      ]
      for (const [key, value, message] of cases) {
        const r = await cairn(['config', 'set', key, value, '--repo', repo])
        assert.equal(r.code, 2, `config set ${key} ${value}: exit ${String(r.code)} ${r.stderr}`)
        assert.match(errorLine(r), message)
        assert.equal(await fs.readFile(path.join(repo, 'config.json'), 'utf8'), before)
      }
      const good = await cairn(['config', 'set', 'anchor.network', 'test', '--repo', repo])
      assert.equal(good.code, 0, good.stderr)
    } finally {
      await t.cleanup()
    }
  })

  test('the anchor networks config accepts are the ones core has', async () => {
    const { ANCHOR_NETWORK_NAMES } = await import('../../storage/config.ts')
    const { NETWORKS } = await import('../../core/anchor/params.ts')
    assert.deepEqual([...ANCHOR_NETWORK_NAMES].sort(), Object.keys(NETWORKS).sort())
  })

  test('config set of an unknown key is one Error line naming the key', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      for (const key of ['network.colour', 'toString']) {
        const r = await cairn(['config', 'set', key, '1', '--repo', repo])
        assert.notEqual(r.code, 0, key)
        assert.match(errorLine(r), new RegExp(`unknown config key "${key.replace('.', '\\.')}"`))
      }
    } finally {
      await t.cleanup()
    }
  })

  test('config get of an unknown key is one Error line naming the key', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      for (const key of ['network.colour', 'constructor']) {
        const r = await cairn(['config', 'get', key, '--repo', repo])
        assert.notEqual(r.code, 0, `config get ${key} exited 0 printing ${JSON.stringify(r.stdout)}`)
        assert.match(errorLine(r), new RegExp(`unknown config key "${key.replace('.', '\\.')}"`))
        assert.equal(r.stdout, '')
      }
    } finally {
      await t.cleanup()
    }
  })

  test('the configured import profile is the default for add, and a flag wins over it', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      const file = path.join(t.dir, 'hello.txt')
      await fs.writeFile(file, 'hello\n')
      assert.equal((await cairn(['config', 'set', 'import.profile', 'kubo-v0', '--repo', repo])).code, 0)
      const v0 = await cairn(['add', file, '-Q', '--repo', repo])
      assert.equal(v0.code, 0, v0.stderr)
      assert.match(v0.stdout, /^Qm[1-9A-HJ-NP-Za-km-z]{44}\n$/)
      const flag = await cairn(['add', file, '-Q', '--profile', 'unixfs-v1-2025', '--repo', repo])
      assert.equal(flag.code, 0, flag.stderr)
      assert.match(flag.stdout, /^bafkrei[a-z2-7]+\n$/)
    } finally {
      await t.cleanup()
    }
  })
})

describe('a repo whose config.json is bad', { concurrency: true }, () => {
  const cases: Array<[string, string, RegExp]> = [
    ['an unknown nested key', JSON.stringify({ network: { colour: 'red' } }), /unknown key "network\.colour"/],
    ['a bad value', JSON.stringify({ network: { kind: 'mars' } }), /"network\.kind" must be "local" or "ipfs"/],
    ['an unknown key named like an Object method', JSON.stringify({ constructor: 1 }), /unknown key "constructor"/],
    ['invalid JSON', '{"network": ', /config\.json: not valid JSON/]
  ]
  for (const [what, text, re] of cases) {
    test(`${what}: cairn add fails with one Error line naming it, and stores nothing`, async () => {
      const t = await tempDir()
      try {
        const repo = path.join(t.dir, 'repo')
        assert.equal((await cairn(['init', '--repo', repo])).code, 0)
        await fs.writeFile(path.join(repo, 'config.json'), text)
        const file = path.join(t.dir, 'f.txt')
        await fs.writeFile(file, 'some bytes\n')
        const r = await cairn(['add', file, '--repo', repo])
        assert.equal(r.code, 1)
        assert.match(errorLine(r), re)
        assert.equal(r.stdout, '')
        assert.deepEqual(await fs.readdir(path.join(repo, 'blocks')), [])
      } finally {
        await t.cleanup()
      }
    })
  }
})

// NAT settings: flags win over config, config over defaults; which services
// the settings ask for.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { natServices, natSettings } from '../../../core/net/nat.ts'
import { RateLimiter } from '../../../core/util/rate.ts'
import { validateConfig } from '../../../storage/config.ts'

const RELAY_A = '/ip4/198.51.100.2/tcp/4737/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp'
const RELAY_B = '/ip4/198.51.100.5/tcp/4737/p2p/12D3KooWPLh6cnApNemzAN7YFicTcHo9GjrMjiv6umCxwX5s5DuR'

test('defaults: no relay service, no relays, UPnP off, the rest on', async () => {
  const s = natSettings(validateConfig({}))
  assert.deepEqual(s, { relayService: false, relayDataLimit: 128 * 1024, relayDurationLimit: 120, relays: [], autoRelay: true, autonat: true, upnp: false, dcutr: true, publicRanges: [], announceListen: false })
  assert.equal(natSettings(validateConfig({ network: { kind: 'ipfs' } })).announceListen, true)
  assert.deepEqual(Object.keys(await natServices(s, new RateLimiter(0))).sort(), ['dcutr', 'nat'])
})

test('flags win over config: --relay-service and --no-relay-service, --relay adds to nat.relays once', async () => {
  const config = validateConfig({ nat: { relayService: true, relays: [RELAY_A], upnp: true, dcutr: false }, network: { publicRanges: ['198.51.100.0/24'] } })
  assert.equal(natSettings(config).relayService, true)
  assert.equal(natSettings(config, { relayService: false }).relayService, false)
  assert.deepEqual(natSettings(config, { relays: [RELAY_B, RELAY_A] }).relays, [RELAY_A, RELAY_B])
  assert.deepEqual(natSettings(config).publicRanges, ['198.51.100.0/24'])
  // the relay service comes with its meter, which charges relayed bytes to the upload cap
  assert.deepEqual(Object.keys(await natServices(natSettings(config), new RateLimiter(0))).sort(), ['nat', 'relay', 'relayMeter', 'upnp'])
})

test('relay limits: Kubo\'s 128 KiB and 2 min per relayed connection by default, configurable, never unlimited', () => {
  const s = natSettings(validateConfig({ nat: { relayDataLimit: '4MiB', relayDurationLimit: 600 } }))
  assert.equal(s.relayDataLimit, 4 * 1024 * 1024)
  assert.equal(s.relayDurationLimit, 600)
  for (const bad of [{ relayDataLimit: 0 }, { relayDataLimit: '1TiB' }, { relayDataLimit: '1MiB/s' }, { relayDurationLimit: 0 }, { relayDurationLimit: 86401 }]) {
    assert.throws(() => validateConfig({ nat: bad }), /nat\.relayD/, JSON.stringify(bad))
  }
})

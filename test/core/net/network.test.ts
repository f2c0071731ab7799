import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AMINO_BOOTSTRAP, LOOPBACK_ALLOW, dhtProtocolFor, networkSettings, ownAddresses } from '../../../core/net/network.ts'
import { passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht'
import { DEFAULT_CONFIG, validateConfig } from '../../../storage/config.ts'

test('local network: own DHT protocol from the name, private addresses kept, only this machine exempt, quick self-queries', () => {
  const config = validateConfig({ network: { name: 'lab-7' }, bootstrap: ['/ip4/127.0.0.1/tcp/4737/p2p/12D3KooWPLh6cnApNemzAN7YFicTcHo9GjrMjiv6umCxwX5s5DuR'] })
  const s = networkSettings(config, ['/ip4/127.0.0.1/tcp/1/p2p/12D3KooWR3Vq5hHjy8Wa5A3JgmUVatqNM5BdmnsJs7aVUsGZNcoE'])
  assert.equal(s.kind, 'local')
  assert.equal(s.dhtProtocol, '/cairn/lab-7/kad/1.0.0')
  assert.equal(s.dhtProtocol, dhtProtocolFor('lab-7'))
  assert.equal(s.peerInfoMapper, passthroughMapper)
  assert.equal(s.clientMode, false)
  assert.deepEqual(s.bootstrap.length, 2)
  assert.ok(!s.bootstrap.some(a => AMINO_BOOTSTRAP.includes(a)), 'a local network never dials the public bootstrap list')
  assert.deepEqual(s.allow, [...LOOPBACK_ALLOW, ...ownAddresses()])
  assert.ok(s.allow.includes('/ip4/127.0.0.0/ipcidr/8'))
  // the LAN is not spared the limits unless the user says so (issue 22)
  for (const lan of ['/ip4/192.168.0.0/ipcidr/16', '/ip4/10.0.0.0/ipcidr/8', '/ip6/fc00::/ipcidr/7', '/ip4/198.51.100.0/ipcidr/24']) assert.ok(!s.allow.includes(lan), lan)
  assert.ok((s.initialQuerySelfInterval ?? Infinity) <= 1000)
})

test('ipfs network: Amino protocol, public bootstrap list, private addresses dropped, only loopback exempt', () => {
  const config = validateConfig({ network: { kind: 'ipfs' } })
  const s = networkSettings(config)
  assert.equal(s.kind, 'ipfs')
  assert.equal(s.dhtProtocol, '/ipfs/kad/1.0.0')
  assert.equal(s.peerInfoMapper, removePrivateAddressesMapper)
  assert.equal(s.clientMode, true) // until reachable: node.ts switches it
  for (const a of AMINO_BOOTSTRAP) assert.ok(s.bootstrap.includes(a))
  assert.deepEqual(s.allow, [...LOOPBACK_ALLOW, ...ownAddresses()])
  assert.equal(s.initialQuerySelfInterval, undefined)
})

test('ipfs network with network.publicBootstrap false: only the configured and --bootstrap peers', () => {
  const mine = '/ip4/198.51.100.2/tcp/4001/p2p/12D3KooWPLh6cnApNemzAN7YFicTcHo9GjrMjiv6umCxwX5s5DuR'
  const extra = '/ip4/198.51.100.3/tcp/4001/p2p/12D3KooWR3Vq5hHjy8Wa5A3JgmUVatqNM5BdmnsJs7aVUsGZNcoE'
  const config = validateConfig({ network: { kind: 'ipfs', publicBootstrap: false }, bootstrap: [mine] })
  const s = networkSettings(config, [extra])
  assert.equal(s.dhtProtocol, '/ipfs/kad/1.0.0')
  assert.deepEqual(s.bootstrap, [mine, extra])
  // default true: the public list is added
  assert.equal(DEFAULT_CONFIG.network.publicBootstrap, true)
  assert.equal(networkSettings(validateConfig({ network: { kind: 'ipfs' }, bootstrap: [mine] })).bootstrap.length, 1 + AMINO_BOOTSTRAP.length)
  // a local network never used the public list, whatever the setting
  assert.deepEqual(networkSettings(validateConfig({ network: { publicBootstrap: true }, bootstrap: [mine] })).bootstrap, [mine])
})

test('connections.exempt: ranges the user lists are spared the limits too, on either network', () => {
  for (const kind of ['local', 'ipfs'] as const) {
    const s = networkSettings(validateConfig({ network: { kind }, connections: { exempt: ['192.168.1.0/24', 'fd00::/8'] } }))
    assert.ok(s.allow.includes('/ip4/192.168.1.0/ipcidr/24'), kind)
    assert.ok(s.allow.includes('/ip6/fd00::/ipcidr/8'), kind)
    assert.ok(s.allow.includes('/ip4/127.0.0.0/ipcidr/8'), kind)
  }
  assert.throws(() => validateConfig({ connections: { exempt: ['192.168.1.0'] } }), /connections\.exempt/)
})

test('the default config is a local network that listens on loopback only', () => {
  assert.equal(DEFAULT_CONFIG.network.kind, 'local')
  assert.ok(DEFAULT_CONFIG.addresses.listen.every(a => a.startsWith('/ip4/127.0.0.1/')))
  assert.deepEqual(networkSettings(DEFAULT_CONFIG).bootstrap, [])
})

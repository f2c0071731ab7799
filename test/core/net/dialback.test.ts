// The dial-back check's safety rule: only plain TCP addresses on the asker's
// own IP are dialled.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { answeredResults, dialable, MAX_DIALBACK_ADDRS, requestedAddrs } from '../../../core/net/dialback.ts'

test('an address on the asker\'s own IP is dialled', () => {
  assert.equal(dialable('/ip4/198.51.100.11/tcp/4737', '198.51.100.11')?.toString(), '/ip4/198.51.100.11/tcp/4737')
  assert.equal(dialable('/ip6/2001:db8::1/tcp/4737', '2001:db8::1')?.toString(), '/ip6/2001:db8::1/tcp/4737')
})

test('a third party, a relayed asker, a circuit or odd address is refused', () => {
  assert.equal(dialable('/ip4/198.51.100.3/tcp/4737', '198.51.100.11'), null)
  assert.equal(dialable('/ip4/198.51.100.11/tcp/4737', null), null)
  assert.equal(dialable('/ip4/198.51.100.2/tcp/4737/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp/p2p-circuit', '198.51.100.2'), null)
  assert.equal(dialable('/ip4/198.51.100.11/udp/4737', '198.51.100.11'), null)
  assert.equal(dialable('/dns4/example.com/tcp/4737', 'example.com'), null)
  assert.equal(dialable('not a multiaddr', '198.51.100.11'), null)
})

test('a request frame is checked: an object with a list of addresses, or it is refused', () => {
  assert.deepEqual(requestedAddrs({ addrs: ['/ip4/198.51.100.11/tcp/4737', 7, null] }), ['/ip4/198.51.100.11/tcp/4737'])
  assert.deepEqual(requestedAddrs({}), [])
  assert.equal(requestedAddrs({ addrs: Array.from({ length: 10 }, (_, i) => `/ip4/198.51.100.11/tcp/${i + 1}`) }).length, MAX_DIALBACK_ADDRS)
  for (const bad of [null, 5, 'addrs', [], { addrs: '/ip4/198.51.100.11/tcp/4737' }, { addrs: { 0: 'x' } }]) {
    assert.throws(() => requestedAddrs(bad), /not \{ addrs/, JSON.stringify(bad))
  }
})

test('an answer frame is checked: an object with a list of results; entries of another shape are skipped', () => {
  assert.deepEqual(answeredResults({ results: [{ addr: '/ip4/198.51.100.11/tcp/1', ok: true }, { addr: 1, ok: true }, { addr: 'x', ok: 'yes' }, null] }),
    [{ addr: '/ip4/198.51.100.11/tcp/1', ok: true }])
  for (const bad of [null, 5, [], {}, { results: 'all ok' }]) {
    assert.throws(() => answeredResults(bad), /without results/, JSON.stringify(bad))
  }
})

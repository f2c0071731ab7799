// Unit test with a fake libp2p: the keeper re-dials bootstrap peers while under-connected.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BootstrapKeeper } from '../../../core/net/bootstrap-keeper.ts'

const A = '12D3KooWPLh6cnApNemzAN7YFicTcHo9GjrMjiv6umCxwX5s5DuR'
const B = '12D3KooWR3Vq5hHjy8Wa5A3JgmUVatqNM5BdmnsJs7aVUsGZNcoE'
const SELF = '12D3KooWMDjBaVijWjMGzgJ91YKDhsdSvHHqzsL3LtRLxF2qcQVH'

function fakeLibp2p (connected: string[], failFirst: Set<string>) {
  const dials: string[] = []
  const conns = connected.map(id => ({ remotePeer: { toString: () => id } }))
  return {
    dials,
    conns,
    peerId: { toString: () => SELF },
    getConnections: () => conns,
    addEventListener: () => {},
    removeEventListener: () => {},
    dial: async (ma: { toString: () => string }) => {
      const id = ma.toString().split('/p2p/')[1]
      dials.push(id)
      if (failFirst.delete(id)) throw new Error('refused (rate limit)')
      conns.push({ remotePeer: { toString: () => id } })
    }
  }
}

test('dials every bootstrap peer it lacks, again after a refusal, and not once connected enough', async () => {
  const lp = fakeLibp2p([], new Set([B]))
  const keeper = new BootstrapKeeper(lp as never, [`/ip4/127.0.0.1/tcp/1/p2p/${A}`, `/ip4/127.0.0.1/tcp/2/p2p/${B}`, `/ip4/127.0.0.1/tcp/3/p2p/${SELF}`], 4)
  try {
    assert.equal(await keeper.check(), 1) // A connects, B refuses, self is never dialled
    assert.deepEqual(lp.dials.sort(), [A, B].sort())
    assert.equal(await keeper.check(), 1) // B again: @libp2p/bootstrap would never have retried
    assert.deepEqual(lp.dials.filter(d => d === B).length, 2)
    assert.equal(await keeper.check(), 0) // both connected: nothing to dial
    const before = lp.dials.length
    lp.conns.push(...[1, 2, 3].map(i => ({ remotePeer: { toString: () => `other-${i}` } })))
    assert.equal(await keeper.check(), 0)
    assert.equal(lp.dials.length, before)
  } finally {
    keeper.stop()
  }
})

// Unit test with a fake node: findProviders looks again while a lookup ends
// empty (a fresh node's first lookup may run before its bootstrap peer is in
// its routing table), and fails at once when there is nobody to ask.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CID } from 'multiformats/cid'
import { findProviders, NotFoundInNetworkError } from '../../../core/net/info.ts'

const CIDX = CID.parse('bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4')
const PROVIDER = '12D3KooWPLh6cnApNemzAN7YFicTcHo9GjrMjiv6umCxwX5s5DuR'

/** A node whose lookups run `answers` in turn: a list of provider ids, or an error to throw. */
function fakeNode (answers: Array<string[] | Error>, o: { connections?: number, bootstrap?: string[] } = {}) {
  let lookups = 0
  const node = {
    settings: { bootstrap: o.bootstrap ?? ['/ip4/127.0.0.1/tcp/1/p2p/' + PROVIDER] },
    libp2p: {
      getConnections: () => Array.from({ length: o.connections ?? 0 }),
      contentRouting: {
        findProviders: async function * () {
          const a = answers[Math.min(lookups++, answers.length - 1)]
          if (a instanceof Error) throw a
          for (const id of a) yield { id: { toString: () => id }, multiaddrs: [] }
        }
      }
    }
  }
  return { node: node as never, lookups: () => lookups }
}

async function drain (it: AsyncGenerator<{ id: string }>): Promise<string[]> {
  const ids: string[] = []
  for await (const p of it) ids.push(p.id)
  return ids
}

test('a lookup that ends empty, or fails, is run again until a provider turns up', async () => {
  const f = fakeNode([new Error('no peers in routing table'), [], [PROVIDER]])
  const ids = await drain(findProviders(f.node, CIDX, { timeoutMs: 20_000 }))
  assert.deepEqual(ids, [PROVIDER])
  assert.equal(f.lookups(), 3)
})

test('no provider within the time limit: NotFoundInNetworkError naming the limit, after more than one lookup', async () => {
  const f = fakeNode([[]])
  await assert.rejects(drain(findProviders(f.node, CIDX, { timeoutMs: 1200 })), (err: Error) => err instanceof NotFoundInNetworkError && /within 1\.2 s/.test(err.message))
  assert.ok(f.lookups() >= 2, `${f.lookups()} lookup(s)`)
})

test('nobody connected and no bootstrap peer: the lookup error at once, no waiting', async () => {
  const f = fakeNode([new Error('no peers in routing table')], { connections: 0, bootstrap: [] })
  await assert.rejects(drain(findProviders(f.node, CIDX, { timeoutMs: 30_000 })), (err: Error) => err instanceof NotFoundInNetworkError && /failed: no peers in routing table/.test(err.message))
  assert.equal(f.lookups(), 1)
})

test('the caller aborting ends the search with its reason', async () => {
  const f = fakeNode([[]])
  const ac = new AbortController()
  setTimeout(() => { ac.abort(new Error('stopped by the caller')) }, 300)
  await assert.rejects(drain(findProviders(f.node, CIDX, { timeoutMs: 30_000, signal: ac.signal })), /stopped by the caller/)
})

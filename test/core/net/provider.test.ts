// Provider.provideMany against a fake content router (unit test): the
// "announcing" count follows the provides under way, at most PROVIDE_BATCH
// run at once, and successes and failures are tallied.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import * as raw from 'multiformats/codecs/raw'
import { Provider } from '../../../core/net/provider.ts'
import type { CairnNode } from '../../../core/net/node.ts'

async function cids (n: number): Promise<CID[]> {
  return await Promise.all(Array.from({ length: n }, async (_, i) => CID.createV1(raw.code, await sha256.digest(new Uint8Array([i, 1, 2])))))
}

test('announcing counts the provides under way; at most a batch runs at once; failures are tallied', async () => {
  const pending: Array<{ cid: CID, resolve: () => void, reject: (e: Error) => void }> = []
  const node = {
    libp2p: {
      contentRouting: {
        provide: async (cid: CID) => await new Promise<void>((resolve, reject) => { pending.push({ cid, resolve, reject }) })
      }
    }
  } as unknown as CairnNode
  const p = new Provider(node, 'all', 60_000)
  const list = await cids(40)
  const done = p.provideMany(list)
  // let the loop fill its batch
  for (let i = 0; i < 20 && pending.length === 0; i++) await new Promise(resolve => setImmediate(resolve))
  const batch = pending.length
  assert.ok(batch > 0 && batch < 40, `a bounded batch runs at once (${batch})`)
  assert.equal(p.stats.announcing, batch)
  let answered = 0
  for (let rounds = 0; rounds < 1000 && answered < 40; rounds++) {
    const next = pending.shift()
    if (next == null) { await new Promise(resolve => setImmediate(resolve)); continue }
    // every fifth one fails
    if (answered % 5 === 0) next.reject(new Error('no peers')); else next.resolve()
    answered++
    await new Promise(resolve => setImmediate(resolve))
    assert.ok(p.stats.announcing <= batch)
  }
  const r = await done
  assert.deepEqual(r, { provided: 32, failed: 8 })
  assert.equal(p.stats.announcing, 0)
})

// SIGKILL in the middle of a chain sync: the node reopens a whole chain (no
// block the index names is missing; at most one batch of blocks is lost) and
// the next sync finishes the job from where the disk left it.

import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { MAX_BODIES_PER_REQUEST } from '../../core/anchor/sync-protocol.ts'
import { ok, run, withTemp } from '../helpers.ts'
import { buildChain, configured } from '../integration/chain-fixture.ts'
import { apiCall, startSeed, stopLive, waitFor } from '../integration/seeds.ts'

/** long enough that a sync takes seconds, so the kill lands mid-sync */
const BLOCKS = 6000
const READY_MS = 120_000
const SYNC_TIMEOUT_MS = 180_000
/** the kill is sent once the syncing node reports this height */
const KILL_AT = 1000

after(async () => { await stopLive() })

interface ChainJson { height: number, head: string }

test('SIGKILL during a sync: the chain reopens whole, at most one batch behind what was seen, and the next sync completes it', async t => {
  await withTemp('cairn-sync-kill-', async dir => {
    const server = path.join(dir, 'server')
    const fresh = path.join(dir, 'fresh')
    await configured(server)
    await configured(fresh)
    const head = await buildChain(server, BLOCKS, 500)
    const s = await startSeed(server, { args: ['--no-tui'], readyTimeoutMs: READY_MS })
    try {
      let f = await startSeed(fresh, { args: ['--no-tui'], readyTimeoutMs: READY_MS })
      await apiCall(fresh, 'connect', { address: s.addrs[0] })
      const seen = await waitFor('the sync under way', async () => {
        const c = await apiCall(fresh, 'chain') as ChainJson
        return c.height >= KILL_AT ? c.height : undefined
      }, SYNC_TIMEOUT_MS, 10)
      await f.stop('SIGKILL')
      assert.ok(seen < BLOCKS, `the sync finished (${seen}) before the kill: nothing tested`)
      const r = await run(fresh, 'chain', '--json')
      ok(r, 'chain after the kill')
      const after = JSON.parse(r.stdout) as ChainJson
      t.diagnostic(`killed with ${seen} blocks seen; reopened at height ${after.height}`)
      assert.ok(after.height >= seen - MAX_BODIES_PER_REQUEST && after.height <= BLOCKS, `height ${after.height} after the kill, ${seen} seen before`)

      f = await startSeed(fresh, { args: ['--no-tui'], bootstrap: [s.addrs[0]], readyTimeoutMs: READY_MS })
      try {
        await waitFor('the sync completed', async () => (await apiCall(fresh, 'chain') as ChainJson).head === head, SYNC_TIMEOUT_MS, 200)
      } finally {
        await f.stop()
      }
      const done = JSON.parse((await run(fresh, 'chain', '--json')).stdout) as ChainJson
      assert.equal(done.head, head)
      assert.equal(done.height, BLOCKS)
    } finally {
      await s.stop()
    }
  })
})

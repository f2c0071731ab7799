// One memory budget for blocks in flight (issue 22): the budget itself, then
// a seed whose budget (4 MiB) is far smaller than what peers ask of it at
// once. Over bitswap, a peer wanting 17 blocks of up to 1 MiB at once gets
// them all (the ledger sends what fits, the rest follows once that is sent);
// over /cairn/blocks, a peer that asks for everything and never reads holds
// no more than the budget, and an honest fetch completes meanwhile. The
// seed's stats say what was held at most.

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { BlockBudget } from '../../core/net/block-budget.ts'
import { Blocks } from '../../storage/blocks.ts'
import { cairn, ok, pseudoRandom, tempDir } from '../helpers.ts'
import { Resources, apiCall, type SeedProcess } from '../integration/seeds.ts'
import { startHostile, type Hostile } from './peers.ts'

const MIB = 1024 * 1024
/** the seed's budget: two of the largest blocks */
const BUDGET = 4 * MIB

test('the budget: reservations up to the limit, then waits in order; release wakes them; one over the limit fits an empty budget', async () => {
  const b = new BlockBudget(10)
  assert.equal(b.tryAcquire(6), true)
  assert.equal(b.tryAcquire(6), false)
  const order: string[] = []
  const first = b.acquire(6).then(() => order.push('first'))
  const second = b.acquire(3).then(() => order.push('second'))
  // a small one may not jump the queue
  assert.equal(b.tryAcquire(1), false)
  await new Promise(resolve => setImmediate(resolve))
  assert.deepEqual(order, [])
  b.release(6)
  await Promise.all([first, second])
  assert.deepEqual(order, ['first', 'second'])
  assert.deepEqual(b.stats, { limit: 10, held: 9, peak: 9, waits: 2 })
  const ac = new AbortController()
  const gone = b.acquire(5, ac.signal).then(() => 'got', () => 'aborted')
  ac.abort()
  assert.equal(await gone, 'aborted')
  b.release(9)
  assert.equal(b.tryAcquire(25), true, 'a block larger than the budget still passes alone')
  assert.equal(b.tryAcquire(1), false)
})

describe('a seed with a 4 MiB block budget', { concurrency: false, timeout: 240_000 }, () => {
  const res = new Resources()
  const hostiles: Hostile[] = []
  let dir = ''
  let cleanup: () => Promise<void> = async () => {}
  let seed: SeedProcess
  let file = ''
  let root = ''
  let cids: string[] = []

  before(async () => {
    ({ dir, cleanup } = await tempDir('cairn-budget-'))
    const repo = path.join(dir, 'seed')
    ok(await cairn(['init', '--repo', repo]), 'init')
    ok(await cairn(['config', 'set', 'transfer.blockMemory', '4MiB', '--repo', repo]), 'config set')
    seed = await res.seed(repo)
    file = path.join(dir, 'content.bin')
    await fs.writeFile(file, pseudoRandom(16 * MIB + 5, 8))
    const add = await cairn(['add', '-Q', '--repo', repo, file])
    ok(add, 'add')
    root = add.stdout.trim()
    for await (const { cid } of new Blocks(path.join(repo, 'blocks')).list()) cids.push(cid.toString())
    cids = cids.sort()
  })
  after(async () => {
    await Promise.all(hostiles.map(async h => await h.stop()))
    await res.close()
    await cleanup()
  })

  test('bitswap: a want list four times the budget is answered in full, never holding more than the budget', async (t) => {
    const h = await startHostile({})
    hostiles.push(h)
    const answer = await h.ask({ want: seed.addrs[0], cids })
    assert.equal(answer.error, undefined, answer.error)
    assert.deepEqual([...answer.want.good].sort(), cids, `${answer.want.good.length} of ${cids.length} blocks arrived`)
    const stats = await apiCall(seed.repo, 'stats') as { blockMemory: { limit: number, held: number, peak: number, waits: number } }
    t.diagnostic(`block memory: ${JSON.stringify(stats.blockMemory)}`)
    assert.equal(stats.blockMemory.limit, BUDGET)
    assert.ok(stats.blockMemory.peak <= BUDGET, `peak ${stats.blockMemory.peak}`)
    assert.ok(stats.blockMemory.peak > 0)
  })

  test('/cairn/blocks: a peer that asks for every block and never reads holds at most the budget; an honest fetch completes meanwhile', async (t) => {
    const h = await startHostile({})
    hostiles.push(h)
    const stalling = h.ask({ stall: seed.addrs[0], repo: seed.repo })
    // the staller's stream is full by now
    await new Promise(resolve => setTimeout(resolve, 2000))
    const during = await apiCall(seed.repo, 'stats') as { blockMemory: { held: number, peak: number } }
    assert.ok(during.blockMemory.held <= BUDGET, `held ${during.blockMemory.held}`)
    const out = path.join(dir, 'out.bin')
    const got = await cairn(['get', root, '-o', out, '--repo', path.join(dir, 'fetcher'), '--peer', seed.addrs[0], '--timeout', '90'], { timeoutMs: 150_000 })
    ok(got, 'get while a peer hoards')
    assert.ok((await fs.readFile(out)).equals(await fs.readFile(file)), 'identical bytes')
    const after = await apiCall(seed.repo, 'stats') as { blockMemory: { held: number, peak: number, waits: number } }
    t.diagnostic(`block memory: ${JSON.stringify(after.blockMemory)}`)
    assert.ok(after.blockMemory.peak <= BUDGET, `peak ${after.blockMemory.peak}`)
    const stalled = await stalling
    assert.equal(stalled.error, undefined, stalled.error)
  })
})

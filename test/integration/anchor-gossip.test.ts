// Anchor gossip with real processes on 127.0.0.1 and the easy `test`
// network: three miners that hear each other end on one head; a file added
// on a node that does not mine is anchored by a peer and verified on a
// third; a hostile process publishing one forged block per broken rule
// leaves the honest node's head where it was and gets each sender banned,
// after which its valid blocks are not heard either. (No sync here: every
// node is connected before the first block is mined.)

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { ok, pseudoRandom, run } from '../helpers.ts'
import { apiCall, Resources, stopLive, waitFor, type SeedProcess } from './seeds.ts'
import type { GossipStats } from '../../core/anchor/gossip.ts'
import { FORGERIES } from './anchor-forgeries.ts'

/** a loaded 2-core box can take a while to start a seed */
const READY_MS = 120_000
/** bounded waits for blocks to be mined and heard */
const CHAIN_WAIT_MS = 120_000
/** blocks every miner should see before the miners stop */
const MIN_HEIGHT = 20

interface ChainJson { height: number, head: string }
interface StatsJson { chain: { height: number, head: string, blocksMined: number, gossip: GossipStats } | null, guard: { bans: number } | null }

const chainOf = async (repo: string): Promise<ChainJson> => {
  const r = await run(repo, 'chain', '--json')
  ok(r, 'chain')
  return JSON.parse(r.stdout) as ChainJson
}
const statsOf = async (repo: string): Promise<StatsJson> => {
  const r = await run(repo, 'stats', '--json')
  ok(r, 'stats')
  return JSON.parse(r.stdout) as StatsJson
}
const gossipOf = async (repo: string): Promise<GossipStats> => (await statsOf(repo)).chain?.gossip as GossipStats

async function testRepo (dir: string, name: string): Promise<string> {
  const repo = path.join(dir, name)
  ok(await run(repo, 'config', 'set', 'anchor.network', 'test'), 'config set')
  return repo
}

const res = new Resources()
let seeds: SeedProcess[] = []

before(async () => {
  const dir = await res.dir('cairn-gossip-')
  const repos = await Promise.all(['a', 'b', 'c'].map(async n => await testRepo(dir, n)))
  const args = ['--no-tui', '--miner-threads', '1']
  const a = await res.seed(repos[0], { args, readyTimeoutMs: READY_MS })
  const b = await res.seed(repos[1], { args, bootstrap: [a.addrs[0]], readyTimeoutMs: READY_MS })
  const c = await res.seed(repos[2], { args, bootstrap: [a.addrs[0], b.addrs[0]], readyTimeoutMs: READY_MS })
  seeds = [a, b, c]
  // every node sees the two others on the block topic before anything is mined
  for (const s of seeds) await waitFor(`${s.repo} to see 2 gossip peers`, async () => (await gossipOf(s.repo)).peers >= 2, CHAIN_WAIT_MS, 300)
})

after(async () => {
  await res.close()
  await stopLive()
})

test('three miners connected to each other converge on one head', async () => {
  for (const s of seeds) await apiCall(s.repo, 'mine', { on: true })
  try {
    await waitFor(`every node at height ${MIN_HEIGHT}`, async () => {
      const hs = await Promise.all(seeds.map(async s => (await chainOf(s.repo)).height))
      return hs.every(h => h >= MIN_HEIGHT) ? hs : undefined
    }, CHAIN_WAIT_MS, 500)
  } finally {
    for (const s of seeds.slice(1)) await apiCall(s.repo, 'mine', { on: false })
  }
  // equal-work forks keep the first seen: one miner mines on alone until its branch is strictly heaviest everywhere
  const top = Math.max(...await Promise.all(seeds.map(async s => (await chainOf(s.repo)).height)))
  try {
    await waitFor('a lone miner two blocks above every head', async () => (await chainOf(seeds[0].repo)).height >= top + 2, CHAIN_WAIT_MS, 300)
  } finally {
    await apiCall(seeds[0].repo, 'mine', { on: false })
  }
  const heads = await waitFor('one head on all three', async () => {
    const cs = await Promise.all(seeds.map(async s => await chainOf(s.repo)))
    return cs.every(c => c.head === cs[0].head && c.height === cs[0].height) ? cs : undefined
  }, CHAIN_WAIT_MS, 300)
  assert.ok(heads[0].height >= MIN_HEIGHT + 2)
  const stats = await Promise.all(seeds.map(async s => await statsOf(s.repo)))
  for (const [i, s] of stats.entries()) {
    const g = s.chain?.gossip as GossipStats
    assert.ok((s.chain?.blocksMined ?? 0) > 0, `node ${i} mined nothing`)
    assert.ok(g.published > 0 && g.accepted > 0, `node ${i}: ${JSON.stringify(g)}`)
    assert.equal(g.rejected, 0, `node ${i} rejected honest blocks: ${JSON.stringify(g.rejectedBy)}`)
  }
})

test('a file added on a node that does not mine is anchored by a peer and verified on a third node', async () => {
  const [miner, other, adder] = seeds
  const dir = await res.dir('cairn-gossip-file-')
  const file = path.join(dir, 'minutes.txt')
  await fs.writeFile(file, pseudoRandom(200_000, 11))
  const added = await run(adder.repo, 'add', '-Q', file)
  ok(added, 'add')
  const cid = added.stdout.trim()
  // the manifest crossed by gossip to the miner, which anchors it
  await waitFor('the manifest pending on the miner', async () => (await chainOf(miner.repo) as ChainJson & { pending: number }).pending >= 1, CHAIN_WAIT_MS, 200)
  await apiCall(miner.repo, 'mine', { on: true })
  try {
    // the content, fetched from the adder, then checked against the chain the third node heard by gossip
    ok(await run(other.repo, 'get', cid, '-o', path.join(dir, 'copy.txt'), '--peer', adder.addrs[0]), 'get')
    const v = await waitFor('verify on the third node', async () => {
      const r = await run(other.repo, 'verify', cid)
      return r.code === 0 ? r : undefined
    }, CHAIN_WAIT_MS, 500)
    assert.match(v.stdout, /^signature +ok: signed by 12D3Koo/m)
    assert.match(v.stdout, /^anchored +ok: at height \d+ \(block bafyrei\w+\)/m)
    const byPath = await run(other.repo, 'verify', file)
    ok(byPath, 'verify by path')
  } finally {
    await apiCall(miner.repo, 'mine', { on: false })
  }
})

test('a manifest queued while no seed ran goes out to the first peer and is anchored there', async () => {
  const dir = await res.dir('cairn-gossip-queued-')
  const repo = await testRepo(dir, 'offline')
  const file = path.join(dir, 'queued.txt')
  await fs.writeFile(file, 'added while no seed ran\n')
  ok(await run(repo, 'add', file), 'add without a seed')
  const lone = await res.seed(repo, { args: ['--no-tui'], readyTimeoutMs: READY_MS })
  const miner = await res.seed(await testRepo(dir, 'miner'), { args: ['--no-tui', '--miner-threads', '1'], bootstrap: [lone.addrs[0]], readyTimeoutMs: READY_MS })
  await waitFor('the queued manifest on the miner', async () => (await chainOf(miner.repo) as ChainJson & { pending: number }).pending >= 1, CHAIN_WAIT_MS, 200)
  await apiCall(miner.repo, 'mine', { on: true })
  try {
    const v = await waitFor('verify on the node that added it', async () => {
      const r = await run(repo, 'verify', file)
      return r.code === 0 ? r : undefined
    }, CHAIN_WAIT_MS, 500)
    assert.match(v.stdout, /^anchored +ok: at height \d+/m)
  } finally {
    await apiCall(miner.repo, 'mine', { on: false })
  }
})

interface Sent { sent: string, node: number, cid: string, recipients: number, connected: boolean }

test('a node fed forged blocks keeps its head, bans each sender and stops hearing it', async () => {
  const dir = await res.dir('cairn-gossip-hostile-')
  const honest = await res.seed(await testRepo(dir, 'honest'), { args: ['--no-tui'], readyTimeoutMs: READY_MS })
  const kinds = Object.keys(FORGERIES)
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'hostile-miner.js')
  let child: ChildProcess | null = null
  try {
    child = spawn(process.execPath, [script, honest.addrs[0], String(kinds.length + 1)], { stdio: ['pipe', 'pipe', 'inherit'] })
    const replies: Array<Record<string, unknown>> = []
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', l => { replies.push(JSON.parse(l) as Record<string, unknown>) })
    const ready = await waitFor('the hostile nodes to join', async () => {
      const r = replies.find(o => 'ready' in o || 'error' in o)
      if (r?.error != null) throw new Error(`${String(r.error)}\nseed ${honest.addrs.join(' ')}: ${honest.stderr().slice(-3000)}`)
      return r?.ready as string[] | undefined
    }, CHAIN_WAIT_MS, 200)
    let asked = 0
    const send = async (kind: string, node: number): Promise<Sent> => {
      child?.stdin?.write(JSON.stringify({ send: kind, node }) + '\n')
      const n = ++asked
      return await waitFor(`the hostile to send ${kind}`, async () => replies.filter(o => 'sent' in o)[n - 1] as unknown as Sent | undefined, CHAIN_WAIT_MS, 100)
    }

    // the channel works: a valid block from node 0 becomes the head
    const valid = await send('valid', 0)
    const head = await waitFor('the valid block to become the head', async () => {
      const c = await chainOf(honest.repo)
      return c.head === valid.cid ? c : undefined
    }, CHAIN_WAIT_MS, 200)
    assert.equal(head.height, 1)

    // one forgery per rule, each from its own identity
    const expected: Record<string, number> = {}
    for (const [i, kind] of kinds.entries()) {
      const s = await send(kind, i + 1)
      assert.equal(s.recipients, 1, `${kind} reached no one`)
      const rule = FORGERIES[kind]
      expected[rule] = (expected[rule] ?? 0) + 1
      await waitFor(`${kind} rejected as ${rule}`, async () => ((await gossipOf(honest.repo)).rejectedBy[rule] ?? 0) >= expected[rule], CHAIN_WAIT_MS, 200)
    }
    const after = await statsOf(honest.repo)
    const g = after.chain?.gossip as GossipStats
    assert.equal(g.rejected, kinds.length)
    assert.deepEqual(g.rejectedBy, expected)
    assert.equal(g.offenders, kinds.length)
    assert.equal(g.accepted, 1)
    assert.ok((after.guard?.bans ?? 0) >= kinds.length, `guard: ${JSON.stringify(after.guard)}`)
    assert.equal((await chainOf(honest.repo)).head, valid.cid, 'a forged block moved the head')

    // every banned sender now offers a valid block that would be the new head: none is heard
    for (let i = 1; i <= kinds.length; i++) {
      const s = await send('valid-child', i)
      assert.equal(s.connected, false, `banned node ${i} got back in`)
      assert.equal(s.recipients, 0)
    }
    // and node 0, never banned, still can: the same kind of block is accepted from it
    const control = await send('valid-child', 0)
    await waitFor('the control block to become the head', async () => (await chainOf(honest.repo)).head === control.cid, CHAIN_WAIT_MS, 200)
    const end = await gossipOf(honest.repo)
    assert.equal(end.received, g.received + 1, 'a banned node was heard')
    assert.equal(end.accepted, 2)
    assert.equal(ready.length, kinds.length + 1)
  } finally {
    if (child != null && child.exitCode == null) {
      const gone = new Promise(resolve => child?.once('exit', resolve))
      child.kill('SIGKILL')
      await gone
    }
  }
})

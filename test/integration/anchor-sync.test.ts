// Anchor chain sync between real seed processes over 127.0.0.1 on the easy
// `test` network: a node that starts late takes the whole chain (and verify
// works there); a partitioned pair that heals ends on the heavier branch with
// the losing branch's manifest back in pending (and anchored again once a
// miner runs); a node fed forged headers or bodies by a hostile peer keeps
// its head and bans the sender.

import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { ok, pseudoRandom, ROOT, run, withTemp } from '../helpers.ts'
import { startSeed, stopLive, waitFor, type SeedProcess } from './seeds.ts'

/** bounded waits, generous: a loaded 2-core box mines and starts seeds slowly */
const MINE_TIMEOUT_MS = 180_000
const SYNC_TIMEOUT_MS = 90_000
const READY_MS = 120_000

after(async () => { await stopLive() })

interface ChainJson { height: number, head: string, work: string, pending: number }

const chainOf = async (repo: string): Promise<ChainJson> => {
  const r = await run(repo, 'chain', '--json')
  ok(r, 'chain')
  return JSON.parse(r.stdout) as ChainJson
}

async function testRepo (dir: string, name: string): Promise<string> {
  const repo = path.join(dir, name)
  ok(await run(repo, 'config', 'set', 'anchor.network', 'test'), 'config set')
  return repo
}

const seedArgs = (mine: boolean): string[] => [...(mine ? ['--mine', '--miner-threads', '1'] : []), '--no-tui']
const start = async (repo: string, o: { mine?: boolean, bootstrap?: string[] } = {}): Promise<SeedProcess> =>
  await startSeed(repo, { args: seedArgs(o.mine === true), bootstrap: o.bootstrap, readyTimeoutMs: READY_MS })

const heightAtLeast = async (repo: string, h: number): Promise<ChainJson> =>
  await waitFor(`${repo} at height ${h}`, async () => { const c = await chainOf(repo); return c.height >= h ? c : undefined }, MINE_TIMEOUT_MS, 300)

const sameHead = async (repo: string, head: string): Promise<ChainJson> =>
  await waitFor(`${repo} on head ${head}`, async () => { const c = await chainOf(repo); return c.head === head ? c : undefined }, SYNC_TIMEOUT_MS, 300)

test('a node that starts late syncs the whole chain; chain and verify work there, and after a restart', async () => {
  await withTemp('cairn-sync-', async dir => {
    const a = await testRepo(dir, 'miner')
    const b = await testRepo(dir, 'late')
    const file = path.join(dir, 'minutes.txt')
    await fs.writeFile(file, pseudoRandom(50_000, 3))
    let miner = await start(a, { mine: true })
    let late: SeedProcess | null = null
    try {
      const added = await run(a, 'add', '-Q', file)
      ok(added, 'add')
      const cid = added.stdout.trim()
      await waitFor('anchored on the miner', async () => (await run(a, 'verify', file)).code === 0, MINE_TIMEOUT_MS, 500)
      await heightAtLeast(a, 55)
      // a still head to compare with: the miner stops mining, keeps serving
      await miner.stop()
      miner = await start(a)
      const target = await chainOf(a)
      late = await start(b, { bootstrap: [miner.addrs[0]] })
      const synced = await sameHead(b, target.head)
      assert.equal(synced.height, target.height)
      assert.equal(synced.work, target.work)
      const v = await run(b, 'verify', file)
      ok(v, 'verify on the late node')
      assert.match(v.stdout, /^anchored +ok: at height \d+/m)
      ok(await run(b, 'get', cid, '-o', path.join(dir, 'fetched.txt')), 'get on the late node')
      const byCid = await run(b, 'verify', cid, '--json')
      ok(byCid, 'verify CID on the late node')
      assert.equal((JSON.parse(byCid.stdout) as { ok: boolean }).ok, true)
      const stats = JSON.parse((await run(b, 'stats', '--json')).stdout) as { chain: { sync: { blocks: number, violations: number } } }
      assert.ok(stats.chain.sync.blocks >= target.height)
      assert.equal(stats.chain.sync.violations, 0)

      // the synced chain is the node's own: on disk, read with no seed, kept across a restart
      await late.stop()
      late = null
      assert.equal((await chainOf(b)).head, target.head)
      ok(await run(b, 'verify', file), 'verify with no seed running')
      late = await start(b)
      assert.equal((await chainOf(b)).head, target.head)
    } finally {
      await late?.stop()
      await miner.stop()
    }
  })
})

test('a partitioned pair that heals ends on the heavier branch; the losing branch\'s manifest is pending again, then anchored again', async () => {
  await withTemp('cairn-sync-', async dir => {
    const heavy = await testRepo(dir, 'heavy')
    const light = await testRepo(dir, 'light')
    const file = path.join(dir, 'only-on-the-light-side.txt')
    await fs.writeFile(file, 'anchored on the branch that loses\n')
    let h = await start(heavy, { mine: true })
    let l: SeedProcess | null = await start(light, { mine: true })
    try {
      ok(await run(light, 'add', file), 'add')
      await waitFor('anchored on the light side', async () => (await run(light, 'verify', file)).code === 0, MINE_TIMEOUT_MS, 500)
      await l.stop()
      l = null
      const lost = await chainOf(light)
      // the heavy side mines on until it has more work, then stops mining and keeps serving
      await waitFor('more work on the heavy side', async () => BigInt((await chainOf(heavy)).work) > BigInt(lost.work) * 2n, MINE_TIMEOUT_MS, 500)
      await h.stop()
      h = await start(heavy)
      const winner = await chainOf(heavy)
      assert.notEqual(winner.head, lost.head)

      l = await start(light, { bootstrap: [h.addrs[0]] })
      const healed = await sameHead(light, winner.head)
      assert.equal(healed.work, winner.work)
      // the heavy side did not move
      assert.equal((await chainOf(heavy)).head, winner.head)
      assert.ok(healed.pending >= 1, `pending ${healed.pending}`)
      const v = await run(light, 'verify', file, '--json')
      assert.notEqual(v.code, 0)
      const report = JSON.parse(v.stdout) as { checks: Array<{ check: string, ok: boolean, detail: string }> }
      const anchored = report.checks.find(c => c.check === 'anchored')
      assert.ok(anchored != null && !anchored.ok && /pending/i.test(anchored.detail), JSON.stringify(report.checks))

      // a miner on the healed side anchors it again, on top of the heavy branch
      await l.stop()
      l = await start(light, { mine: true, bootstrap: [h.addrs[0]] })
      await waitFor('anchored again', async () => (await run(light, 'verify', file)).code === 0, MINE_TIMEOUT_MS, 500)
      const after = await chainOf(light)
      assert.ok(after.height > winner.height)
      assert.equal(after.pending, 0)
    } finally {
      await l?.stop()
      await h.stop()
    }
  })
})

/**
 * Modes of hostile-chain-peer.ts (test/core/anchor/forge.ts). Header forgeries
 * go to a node with a chain of its own (they forge at the fourth header or
 * earlier: the valid ones before never outweigh it, so no body is asked for);
 * body forgeries go to a node at genesis, which asks for the first block's
 * body as soon as its header is judged.
 */
const HEADER_MODES = ['BadProofOfWork', 'WrongNetwork', 'BadTarget', 'BadHeight', 'garbage', 'more headers than asked']
const BODY_MODES = ['BadSignature at the first block', 'BodyMismatch at the first block']

interface HostileLine { listening?: string, request?: string, disconnected?: boolean, redial?: 'ok' | 'refused' }

function startHostile (mode: string, target: string): { child: ChildProcess, lines: HostileLine[], wait: (what: string, fn: (l: HostileLine) => boolean) => Promise<HostileLine> } {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'test', 'integration', 'hostile-chain-peer.js'), mode, target], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  const lines: HostileLine[] = []
  const listeners = new Set<() => void>()
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', line => {
    try { lines.push(JSON.parse(line) as HostileLine) } catch { return }
    for (const l of listeners) l()
  })
  const wait = async (what: string, fn: (l: HostileLine) => boolean): Promise<HostileLine> => await new Promise((resolve, reject) => {
    const check = (): void => {
      const found = lines.find(fn)
      if (found == null) return
      clearTimeout(timer)
      listeners.delete(check)
      resolve(found)
    }
    const timer = setTimeout(() => { listeners.delete(check); reject(new Error(`hostile ${mode}: no ${what} within ${SYNC_TIMEOUT_MS} ms (saw ${JSON.stringify(lines)})`)) }, SYNC_TIMEOUT_MS)
    listeners.add(check)
    check()
  })
  return { child, lines, wait }
}

/** Runs each mode against `repo`'s seed in turn: each hostile peer is banned, its redial refused, the head unchanged. */
async function fend (repo: string, victim: SeedProcess, modes: string[], hostiles: ChildProcess[]): Promise<void> {
  const before = await chainOf(repo)
  const violations = async (): Promise<number> => (JSON.parse((await run(repo, 'stats', '--json')).stdout) as { chain: { sync: { violations: number } } }).chain.sync.violations
  const start = await violations()
  for (const [i, mode] of modes.entries()) {
    const h = startHostile(mode, victim.addrs[0])
    hostiles.push(h.child)
    await h.wait('sync request', l => l.request === 'headers')
    await h.wait('hang-up', l => l.disconnected === true)
    const redial = await h.wait('redial', l => l.redial != null)
    assert.equal(redial.redial, 'refused', mode)
    h.child.kill('SIGTERM')
    const now = await chainOf(repo)
    assert.equal(now.head, before.head, mode)
    assert.equal(now.work, before.work, mode)
    assert.equal(await violations(), start + i + 1, mode)
  }
}

test('a node fed forged headers or bodies keeps its head and bans the sender', async () => {
  await withTemp('cairn-sync-', async dir => {
    const repo = await testRepo(dir, 'victim')
    const fresh = await testRepo(dir, 'fresh')
    let victim = await start(repo, { mine: true })
    let atGenesis: SeedProcess | null = null
    const hostiles: ChildProcess[] = []
    try {
      await heightAtLeast(repo, 5)
      await victim.stop()
      victim = await start(repo)
      await fend(repo, victim, HEADER_MODES, hostiles)
      assert.equal((victim.stderr().match(/broke the rules/g) ?? []).length, HEADER_MODES.length, victim.stderr())
      assert.match(victim.stderr(), /BadProofOfWork/)

      atGenesis = await start(fresh)
      await fend(fresh, atGenesis, BODY_MODES, hostiles)
      assert.equal((await chainOf(fresh)).height, 0)
      assert.match(atGenesis.stderr(), /BadSignature/)
      assert.match(atGenesis.stderr(), /BodyMismatch/)
    } finally {
      for (const c of hostiles) c.kill('SIGKILL')
      await atGenesis?.stop()
      await victim.stop()
    }
  })
})

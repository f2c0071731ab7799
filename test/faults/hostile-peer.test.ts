// Hostile peers (test/faults/hostile-peer.ts, a process of its own) against
// real cairn processes on 127.0.0.1. What must hold every time: nothing bad
// enters the repo (`repo verify` clean, the bytes identical), the download
// completes from an honest peer, the liar is cut off and banned (named in
// get's report, counted in the seed's metrics), and memory stays bounded.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { after, before, describe, test, type TestContext } from 'node:test'
import { ROOT, cairn, ok, pseudoRandom, tempDir } from '../helpers.ts'
import { Resources, waitFor, type SeedProcess } from '../integration/seeds.ts'
import { RSS_LIMIT_MIB, cairnMeasured, fetchReport, hwmOf, startHostile, verifyClean, type Hostile } from './peers.ts'

const MIB = 1024 * 1024
const res = new Resources()
const hostiles: Hostile[] = []
let dir = ''
let cleanup: () => Promise<void> = async () => {}
/** one honest seed with FILE, shared by the /cairn/blocks cases */
let honest: SeedProcess
let file = ''
let cid = ''

before(async () => {
  ({ dir, cleanup } = await tempDir('cairn-hostile-'))
  honest = await res.seed(path.join(dir, 'honest'), { args: ['--metrics', '127.0.0.1:0'] })
  file = path.join(dir, 'content.bin')
  await fs.writeFile(file, pseudoRandom(6 * MIB + 321, 41))
  // 256 KiB chunks: ~25 blocks, so the liar is asked more than once
  const add = await cairn(['add', '-Q', '--chunker', 'size-262144', '--repo', honest.repo, file])
  ok(add, 'add to the honest seed')
  cid = add.stdout.trim()
})
after(async () => {
  await Promise.all(hostiles.map(async h => await h.stop()))
  await res.close()
  await cleanup()
})

async function hostile (config: object): Promise<Hostile> {
  const h = await startHostile(config)
  hostiles.push(h)
  return h
}

/** get CID from the hostile peer and `others`, the hostile one named first; checks what must always hold. */
async function getPast (t: TestContext, h: Hostile, name: string, others: string[]): Promise<ReturnType<typeof fetchReport>> {
  const repo = path.join(dir, `fetch-${name}`)
  const out = path.join(dir, `out-${name}.bin`)
  const r = await cairnMeasured(['get', cid, '-o', out, '--json', '--repo', repo, '--timeout', '90', '--peer', h.addr, ...others.flatMap(o => ['--peer', o])], dir, { timeoutMs: 150_000 })
  ok(r, `get past the ${name} peer`)
  assert.ok((await fs.readFile(out)).equals(await fs.readFile(file)), 'identical bytes')
  await verifyClean(repo)
  const report = fetchReport(r.stdout)
  assert.equal(report.peers[h.id] ?? 0, 0, `the ${name} peer is credited with no bytes`)
  assert.ok(r.hwmMiB <= RSS_LIMIT_MIB, `fetcher peak RSS ${r.hwmMiB.toFixed(0)} MiB`)
  t.diagnostic(`fetcher peak RSS ${r.hwmMiB.toFixed(0)} MiB`)
  return report
}

describe('hostile peers on /cairn/blocks: the fetch completes from the honest seed', { concurrency: 3, timeout: 180_000 }, () => {
  // the fetcher sends its first want as soon as the stream is open, so an
  // answer the liar pushes unasked usually lands as the answer to that want:
  // then it is wrong bytes for it; either way the liar is banned at once
  const cases: Array<[string, object, string[]]> = [
    ['wrong bytes for the block asked', { blocks: 'wrong' }, ['wrong-block']],
    ['truncated blocks (the real block cut in half)', { blocks: 'truncated', repoFromHonest: true }, ['wrong-block']],
    ['an oversized frame (a 64 MiB length prefix)', { blocks: 'oversized' }, ['bad-frame']],
    ['an answer before any request', { blocks: 'unasked' }, ['unsolicited-answer', 'wrong-block']]
  ]
  for (const [what, config, offences] of cases) {
    test(`${what}: the liar is banned for ${offences.join(' or ')}`, async t => {
      const h = await hostile({ ...config, repo: (config as { repoFromHonest?: boolean }).repoFromHonest === true ? honest.repo : undefined })
      const report = await getPast(t, h, offences[0] + Object.values(config)[0], [honest.addrs[0]])
      assert.ok(offences.includes(report.banned[h.id]), `banned: ${JSON.stringify(report.banned)}`)
      assert.ok((report.peers[honest.id] ?? 0) > 0)
    })
  }

  test('a client that asks for blocks and never reads the answers loses its stream (the seed does not hold them forever)', { timeout: 180_000 }, async () => {
    const h = await hostile({})
    const answer = await h.ask({ stall: honest.addrs[0], repo: honest.repo })
    assert.equal(answer.error, undefined, answer.error)
    assert.ok(answer.stall.asked > 10, JSON.stringify(answer))
    assert.equal(answer.stall.open, false, `the seed still held the stream after ${answer.stall.heldMs} ms`)
    // ended by the seed's stall limit (30 s), not by anything sooner on our side
    assert.ok(answer.stall.heldMs >= 25_000, JSON.stringify(answer))
  })

  test('slow loris (answers one byte every 500 ms, or never): its requests time out and go to the honest seed', { timeout: 180_000 }, async t => {
    const [trickle, silent] = await Promise.all([hostile({ blocks: 'trickle' }), hostile({ blocks: 'silent' })])
    // both stall; the honest seed, named last, ends up serving everything
    const repo = path.join(dir, 'fetch-loris')
    const out = path.join(dir, 'out-loris.bin')
    const r = await cairnMeasured(['get', cid, '-o', out, '--json', '--repo', repo, '--timeout', '120', '--peer', trickle.addr, '--peer', silent.addr, '--peer', honest.addrs[0]], dir, { timeoutMs: 170_000 })
    ok(r, 'get past two slow peers')
    assert.ok((await fs.readFile(out)).equals(await fs.readFile(file)))
    await verifyClean(repo)
    const report = fetchReport(r.stdout)
    assert.deepEqual(Object.keys(report.peers).filter(p => (report.peers[p] ?? 0) > 0), [honest.id])
    assert.ok(r.hwmMiB <= RSS_LIMIT_MIB, `fetcher peak RSS ${r.hwmMiB.toFixed(0)} MiB`)
    t.diagnostic(`fetcher peak RSS ${r.hwmMiB.toFixed(0)} MiB`)
  })
})

describe('hostile peers on bitswap', { concurrency: 2, timeout: 180_000 }, () => {
  test('wrong bytes for wanted CIDs (bitswap 1.2: blocks nobody asked for): counted, the sender banned, the fetch completes from a stock Helia node', async t => {
    const helia = spawn(process.execPath, [path.join(ROOT, 'dist', 'test', 'integration', 'helia-peer.js')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] })
    try {
      const lines = createInterface({ input: helia.stdout })[Symbol.asyncIterator]()
      const next = async (): Promise<Record<string, string>> => JSON.parse((await lines.next()).value as string) as Record<string, string>
      const heliaAddr = (await next()).listening
      const content = pseudoRandom(3 * MIB + 5, 42)
      helia.stdin.write(JSON.stringify({ add: content.toString('base64') }) + '\n')
      const heliaCid = (await next()).cid
      const h = await hostile({ bitswap: 'wrong' })
      const repo = path.join(dir, 'fetch-bitswap-wrong')
      const out = path.join(dir, 'out-bitswap-wrong.bin')
      const r = await cairnMeasured(['get', heliaCid, '-o', out, '--json', '--repo', repo, '--timeout', '90', '--peer', h.addr, '--peer', heliaAddr], dir, { timeoutMs: 150_000 })
      ok(r, 'get past a bitswap liar')
      assert.ok((await fs.readFile(out)).equals(content))
      await verifyClean(repo)
      const report = fetchReport(r.stdout)
      assert.equal(report.banned[h.id], 'unsolicited-block', JSON.stringify(report))
      assert.equal(report.peers[h.id] ?? 0, 0)
      assert.ok(r.hwmMiB <= RSS_LIMIT_MIB, `fetcher peak RSS ${r.hwmMiB.toFixed(0)} MiB`)
      t.diagnostic(`fetcher peak RSS ${r.hwmMiB.toFixed(0)} MiB`)
    } finally {
      helia.kill('SIGKILL')
    }
  })

  test('a peer pushing blocks nobody asked for is banned; nothing it sent is stored', async t => {
    const h = await hostile({ bitswap: 'push' })
    const report = await getPast(t, h, 'push', [honest.addrs[0]])
    assert.equal(report.banned[h.id], 'unsolicited-block', JSON.stringify(report))
  })
})

describe('hostile clients against a seed', { concurrency: 1, timeout: 180_000 }, () => {
  const metric = async (name: string): Promise<number> => {
    const url = /metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(honest.stderr())?.[1]
    assert.ok(url != null, 'the seed prints its metrics address')
    return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(await (await fetch(url)).text())?.[1])
  }

  test('a want flood over bitswap: the flooder is cut off and refused; the seed keeps serving with bounded memory', async t => {
    const bansBefore = await metric('cairn_peers_banned_total')
    t.diagnostic(`seed peak RSS before the flood ${(await hwmOf(honest.pid)).toFixed(0)} MiB`)
    const h = await hostile({})
    const answer = await h.ask({ flood: honest.addrs[0] })
    assert.equal(answer.error, undefined, answer.error)
    assert.equal(answer.flood.cutOff, true, JSON.stringify(answer))
    assert.match(answer.flood.redial, /^refused/, 'a banned peer cannot come back')
    await waitFor('the ban in the metrics', async () => (await metric('cairn_peers_banned_total')) > bansBefore, 30_000)
    const r = await cairn(['get', cid, '-o', path.join(dir, 'after-flood.bin'), '--repo', path.join(dir, 'fetch-after-flood'), '--peer', honest.addrs[0], '--timeout', '60'], { timeoutMs: 90_000 })
    ok(r, 'an honest fetch after the flood')
    const seedHwm = await hwmOf(honest.pid)
    assert.ok(seedHwm <= RSS_LIMIT_MIB, `seed peak RSS ${seedHwm.toFixed(0)} MiB`)
    t.diagnostic(`seed peak RSS ${seedHwm.toFixed(0)} MiB`)
  })

  test('a request frame longer than any CID: banned', async () => {
    const h = await hostile({})
    const answer = await h.ask({ badFrame: honest.addrs[0] })
    assert.equal(answer.error, undefined, answer.error)
    assert.equal(answer.badFrame.cutOff, true, JSON.stringify(answer))
    assert.match(answer.badFrame.redial, /^refused/)
  })

  test('slow loris on the seed: at most 4 block streams and 32 bitswap streams per peer; an honest fetch still completes while they are held', async () => {
    const h = await hostile({})
    const answer = await h.ask({ loris: honest.addrs[0] })
    assert.equal(answer.error, undefined, answer.error)
    assert.ok(answer.loris.opened <= 4, JSON.stringify(answer))
    assert.ok(answer.loris.refused >= 4, JSON.stringify(answer))
    const bs = await (await hostile({})).ask({ bitswapLoris: honest.addrs[0] })
    assert.equal(bs.error, undefined, bs.error)
    assert.ok(bs.bitswapLoris.opened <= 32 && bs.bitswapLoris.refused >= 16, `bitswap streams: ${JSON.stringify(bs)}`)
    const r = await cairn(['get', cid, '-o', path.join(dir, 'during-loris.bin'), '--repo', path.join(dir, 'fetch-during-loris'), '--peer', honest.addrs[0], '--timeout', '60'], { timeoutMs: 90_000 })
    ok(r, 'an honest fetch while the loris streams are open')
    assert.ok((await fs.readFile(path.join(dir, 'during-loris.bin'))).equals(await fs.readFile(file)))
  })
})

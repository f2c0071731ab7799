// verify and anchor as a new user meets them, with real processes: verify
// CID on a node without the content fetches it (as cat does) and then
// verifies; --offline keeps to the repo. anchor on a root already anchored
// says so and queues nothing unless --force. chain and the seed's log count
// mined blocks once each and say which are stale.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { failed, ok, pseudoRandom, run } from '../helpers.ts'
import { Resources, waitFor, type SeedProcess } from './seeds.ts'

/** bounded waits: the test network anchors within seconds, a loaded box may take longer */
const ANCHOR_TIMEOUT_MS = 90_000
/** a loaded 2-core box can take a while to start a seed */
const READY_MS = 120_000
const MINING = ['--mine', '--miner-threads', '1', '--no-tui']

const res = new Resources()
let dir = ''
let repo = ''
let fetcher = ''
let cid = ''
let seed: SeedProcess

interface ChainJson { height: number, pending: number }
const chainOf = async (r: string): Promise<ChainJson> => {
  const c = await run(r, 'chain', '--json')
  ok(c, 'chain')
  return JSON.parse(c.stdout) as ChainJson
}
const anchored = async (): Promise<boolean> => { const c = await chainOf(repo); return c.pending === 0 && c.height >= 1 }

// a mining seed anchors a file; a second repo gets its chain but none of the content
before(async () => {
  dir = await res.dir('cairn-verify-ux-')
  repo = path.join(dir, 'seed')
  ok(await run(repo, 'config', 'set', 'anchor.network', 'test'), 'config set')
  const file = path.join(dir, 'report.bin')
  await fs.writeFile(file, pseudoRandom(600_000, 13))
  const added = await run(repo, 'add', '-Q', '--chunker', 'size-65536', file)
  ok(added, 'add')
  cid = added.stdout.trim()
  const first = await res.seed(repo, { args: MINING, readyTimeoutMs: READY_MS })
  await waitFor('the manifest anchored', anchored, ANCHOR_TIMEOUT_MS, 500)
  // stopped, so its chain is copied whole
  await first.stop()
  fetcher = path.join(dir, 'fetcher')
  ok(await run(fetcher, 'config', 'set', 'anchor.network', 'test'), 'config set')
  await fs.cp(path.join(repo, 'chain'), path.join(fetcher, 'chain'), { recursive: true })
  seed = await res.seed(repo, { args: MINING, readyTimeoutMs: READY_MS })
})
after(async () => { await res.close() })

describe('verify and anchor', { concurrency: 1 }, () => {
  test('verify CID on a repo without the content fetches it, then verifies; --offline does not fetch', async () => {
    const offline = await run(fetcher, 'verify', cid, '--offline')
    assert.match(failed(offline, 'verify --offline without the content'), /^Error: verify failed: content: /)
    const v = await run(fetcher, 'verify', cid, '--peer', seed.addrs[0])
    ok(v, 'verify with the content fetched')
    assert.match(v.stdout, /^content +ok: .*all \d+ block\(s\) present and matching/m)
    assert.match(v.stdout, /^anchored +ok: at height \d+/m)
    // the blocks stay: verify --offline now passes
    ok(await run(fetcher, 'verify', cid, '--offline'), 'verify --offline after the fetch')
  })

  test('anchor of an anchored root says so and queues nothing; --force queues another', async () => {
    const again = await run(repo, 'anchor', cid)
    ok(again, 'anchor of an anchored root')
    assert.match(again.stdout, new RegExp(`^${cid} is already anchored at height \\d+ \\(manifest bafyrei\\w+\\); nothing queued`, 'm'))
    assert.equal((await chainOf(repo)).pending, 0)
    const forced = await run(repo, 'anchor', cid, '--force')
    ok(forced, 'anchor --force')
    assert.match(forced.stdout, /^(queued|anchored) manifest bafyrei\w+ for /m)
    await waitFor('the forced manifest anchored', anchored, ANCHOR_TIMEOUT_MS, 500)
  })

  test('chain counts mined blocks honestly, and the log names each height mined once', async () => {
    await waitFor('a few blocks mined', async () => (await chainOf(repo)).height >= 5, ANCHOR_TIMEOUT_MS, 500)
    const chainText = await run(repo, 'chain')
    ok(chainText, 'chain')
    const m = /^mining +1 thread\(s\), \S+ \S+, (\d+) block\(s\) mined(?:, (\d+) of them stale \(not on the main chain\))?$/m.exec(chainText.stdout)
    assert.ok(m != null, chainText.stdout)
    const c = await chainOf(repo)
    assert.ok(Number(m[1]) - Number(m[2] ?? 0) <= c.height, `${m[1]} mined, ${m[2] ?? 0} stale, at height ${c.height}: blocks on the main chain cannot outnumber its height`)
    const minedLines = seed.stderr().split('\n').filter(l => /^mined block \d+ /.test(l))
    assert.ok(minedLines.length > 0)
    const perHeight = new Map<string, number>()
    for (const l of minedLines.filter(l => !l.includes('stale'))) {
      const h = l.split(' ')[2]
      perHeight.set(h, (perHeight.get(h) ?? 0) + 1)
    }
    assert.ok([...perHeight.values()].every(n => n === 1), `a height mined twice: ${minedLines.join(' | ')}`)
  })
})

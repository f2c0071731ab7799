// The sweep provider in real seed processes on loopback: `cairn provide
// stat` (text and --json) reports the round's CIDs, regions, lookups, last
// and next sweep and its failures; an announcement that reaches nobody
// fails with its reason, in `cairn provide` and in `provide stat`; fresh
// content and a round's content are found from another seed.

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, test } from 'node:test'
import { cairn, errorLine, pseudoRandom, type RunResult } from '../helpers.ts'
import { Resources, waitFor } from './seeds.ts'

async function run (repo: string, ...args: string[]): Promise<RunResult> {
  return await cairn([...args, '--repo', repo], { timeoutMs: 60_000 })
}

function ok (r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what} failed (${r.code ?? r.signal}): ${r.stderr}`)
}

interface Stat {
  cids: number
  regions: number
  depth: number
  lastRound: { lookups: number, regions: number, cids: number, ms: number, endedAt: number } | null
  lastSweepAt: number | null
  nextSweepAt: number | null
  lookups: number
  records: number
  failures: Record<string, number>
  recentFailures: Array<{ reason: string, message: string, cids: number }>
}

async function stat (repo: string): Promise<Stat> {
  const r = await run(repo, 'provide', 'stat', '--json')
  ok(r, 'provide stat --json')
  return JSON.parse(r.stdout) as Stat
}

describe('cairn provide and provide stat', { timeout: 240_000 }, () => {
  test('an announcement that reaches nobody fails with its reason, and provide stat reports it', async t => {
    const res = new Resources()
    t.after(async () => await res.close())
    const [repo, files] = await Promise.all([res.dir(), res.dir()])
    await res.seed(repo)
    await fs.writeFile(path.join(files, 'a.bin'), pseudoRandom(10_000, 3))
    const add = await run(repo, 'add', '-Q', path.join(files, 'a.bin'))
    ok(add, 'add')
    const cid = add.stdout.trim()
    const p = await run(repo, 'provide', cid, '--timeout', '10')
    assert.equal(p.code, 1, `provide with no peers: ${p.stderr}`)
    assert.match(errorLine(p), /announced to no peer: no peers found/)
    const s = await stat(repo)
    assert.ok(s.failures['no-peers'] >= 1, JSON.stringify(s.failures))
    assert.ok(s.recentFailures.some(f => f.reason === 'no-peers' && f.message.length > 0 && f.cids >= 1), JSON.stringify(s.recentFailures))
    const text = await run(repo, 'provide', 'stat')
    ok(text, 'provide stat')
    assert.match(text.stdout, /^failures +\d+ no-peers/m)
    assert.match(text.stdout, /: no-peers, region \(all\), \d+ CID\(s\): no peers: connected to nobody/)
  })

  test('provide stat: CIDs, regions, lookups of the last round, last and next sweep; the content is found from another seed', async t => {
    const res = new Resources()
    t.after(async () => await res.close())
    const [repoB, repoA, files] = await Promise.all([res.dir(), res.dir(), res.dir()])
    const b = await res.seed(repoB)
    // rounds every 5 s, so one runs over the added content during the test
    const a = await res.seed(repoA, { bootstrap: [b.addrs[0]], args: ['--reprovide-interval', '5'] })
    await fs.writeFile(path.join(files, 'a.bin'), pseudoRandom(3_000_000, 4)) // 3 blocks and a root
    const add = await run(repoA, 'add', '-Q', path.join(files, 'a.bin'))
    ok(add, 'add')
    const cid = add.stdout.trim()
    const s = await waitFor('a round over the added blocks', async () => {
      const s = await stat(repoA)
      return s.lastRound != null && s.lastRound.cids === 4 ? s : undefined
    }, 60_000, 500)
    assert.equal(s.cids, 4)
    assert.equal(s.regions, 1, 'a two-node network is one region')
    assert.equal(s.depth, 0)
    assert.equal(s.lastRound?.regions, 1)
    assert.equal(s.lastRound?.lookups, 1, 'one lookup for the round, not one per CID')
    assert.ok(s.lastSweepAt != null && s.lastSweepAt <= Date.now())
    // the next sweep is never before the last round ended (a slow round's successor starts at once)
    assert.ok(s.nextSweepAt != null && s.nextSweepAt >= (s.lastRound?.endedAt ?? 0), JSON.stringify({ next: s.nextSweepAt, ended: s.lastRound?.endedAt }))
    assert.ok(s.records >= 4)
    const text = await run(repoA, 'provide', 'stat')
    ok(text, 'provide stat')
    for (const re of [/^CIDs +4 under announcement/m, /^regions +1 \(prefix depth 0\)/m, /^last round +4 CID\(s\), 1 region\(s\), 1 lookup\(s\), took /m, /^last sweep +\d+s ago/m, /^next sweep +(in \d|now)/m]) {
      assert.match(text.stdout, re)
    }
    const found = await cairn(['findprovs', cid, '--repo', repoB, '--timeout', '20', '--json'], { timeoutMs: 60_000 })
    ok(found, 'findprovs from the other seed')
    assert.ok(found.stdout.includes(a.id))
    const p = await run(repoA, 'provide', cid, '--json')
    ok(p, 'provide')
    assert.equal((JSON.parse(p.stdout) as { peers: number }).peers, 1)
  })
})

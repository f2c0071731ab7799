// Bit flips in blocks/: a seed whose copy of a block went bad on disk.
// `repo verify` names it; it is never served (a fetcher that can only ask
// that seed fails cleanly, and nothing bad enters its repo); a fetcher with
// an honest seed too gets every byte right; and a later fetch into the
// damaged repo replaces the bad block with a good one.

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { cairn, errorLine, failed, ok, pseudoRandom, run, tempDir } from '../helpers.ts'
import { Resources, type SeedProcess } from '../integration/seeds.ts'
import { fetchReport, startHostile, verifyClean } from './peers.ts'

const MIB = 1024 * 1024
const res = new Resources()
let dir = ''
let cleanup: () => Promise<void> = async () => {}
let bad: SeedProcess
let good: SeedProcess
let file = ''
let cid = ''
/** the block file flipped in bad's repo */
let flipped = ''

/** The biggest block file in a repo: a leaf, not the root. */
async function biggestBlock (repo: string): Promise<string> {
  let best = { file: '', size: -1 }
  const blocks = path.join(repo, 'blocks')
  for (const shard of await fs.readdir(blocks)) {
    const sub = path.join(blocks, shard)
    if (!(await fs.stat(sub)).isDirectory()) continue
    for (const name of await fs.readdir(sub)) {
      if (!name.endsWith('.data')) continue
      const size = (await fs.stat(path.join(sub, name))).size
      if (size > best.size) best = { file: path.join(sub, name), size }
    }
  }
  return best.file
}

async function flipBit (f: string): Promise<void> {
  const bytes = await fs.readFile(f)
  bytes[Math.floor(bytes.length / 2)] ^= 0x10
  await fs.writeFile(f, bytes)
}

before(async () => {
  ({ dir, cleanup } = await tempDir('cairn-bitflip-'))
  file = path.join(dir, 'content.bin')
  await fs.writeFile(file, pseudoRandom(2 * MIB + 11, 61))
  ;[bad, good] = await Promise.all([res.seed(path.join(dir, 'bad')), res.seed(path.join(dir, 'good'))])
  const cids = await Promise.all([bad, good].map(async s => {
    const r = await cairn(['add', '-Q', '--chunker', 'size-262144', '--repo', s.repo, file])
    ok(r, 'add')
    return r.stdout.trim()
  }))
  assert.equal(cids[0], cids[1])
  cid = cids[0]
  flipped = await biggestBlock(bad.repo)
  await flipBit(flipped)
})
after(async () => {
  await res.close()
  await cleanup()
})

describe('a flipped bit in a seed\'s blocks/', { concurrency: 1, timeout: 180_000 }, () => {
  test('repo verify names the bad block and its file, and exits 1', async () => {
    const v = await run(bad.repo, 'repo', 'verify')
    assert.equal(v.code, 1)
    assert.ok(v.stdout.includes(flipped), `names ${flipped}: ${v.stdout}`)
    assert.match(v.stdout, /^bad \S+ .*do not match/m)
    assert.match(errorLine(v), /1 of \d+ block\(s\) are corrupt/)
  })

  test('it is never served: a fetcher that can only ask that seed fails with one Error line, writes nothing, and its repo stays clean', async () => {
    const repo = path.join(dir, 'only-bad')
    const out = path.join(dir, 'only-bad.bin')
    const r = await cairn(['get', cid, '-o', out, '--repo', repo, '--peer', bad.addrs[0], '--timeout', '30'], { timeoutMs: 60_000 })
    assert.match(failed(r, 'get from the damaged seed only'), /has block|not found|timed out/)
    await assert.rejects(fs.access(out), 'no output')
    await verifyClean(repo)
  })

  test('with an honest seed too, the fetch completes with identical bytes', async () => {
    const repo = path.join(dir, 'both')
    const out = path.join(dir, 'both.bin')
    const r = await cairn(['get', cid, '-o', out, '--json', '--repo', repo, '--peer', bad.addrs[0], '--peer', good.addrs[0], '--timeout', '60'], { timeoutMs: 90_000 })
    ok(r, 'get from the damaged and the honest seed')
    assert.ok((await fs.readFile(out)).equals(await fs.readFile(file)))
    await verifyClean(repo)
    assert.ok((fetchReport(r.stdout).peers[good.id] ?? 0) > 0, 'the honest seed served')
  })

  test('over bitswap too, the seed sends no bytes for the bad block (and sends the good ones)', async () => {
    const v = await run(bad.repo, 'repo', 'verify', '--json')
    const badCid = (v.stdout.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as { bad?: string }).find(l => l.bad != null))?.bad
    assert.ok(badCid != null, v.stdout)
    const h = await startHostile({})
    try {
      const answer = await h.ask({ want: bad.addrs[0], cids: [badCid, cid] })
      assert.equal(answer.error, undefined, answer.error)
      assert.deepEqual(answer.want.good, [cid], `only the root arrived: ${JSON.stringify(answer)}`)
      assert.equal(answer.want.wrong, 0, 'no bytes that fail their hash were sent')
    } finally {
      await h.stop()
    }
  })

  test('offline, reading the damaged content names the corrupt block', async () => {
    const r = await run(bad.repo, 'cat', cid, '--offline')
    assert.match(failed(r, 'cat --offline of damaged content'), /corrupt/)
  })

  test('a later fetch into the damaged repo replaces the bad block: then repo verify is clean', async () => {
    const out = path.join(dir, 'repaired.bin')
    const r = await run(bad.repo, 'get', cid, '-o', out, '--peer', good.addrs[0], '--timeout', '60')
    ok(r, 'get into the damaged repo, from the honest seed')
    assert.ok((await fs.readFile(out)).equals(await fs.readFile(file)))
    await verifyClean(bad.repo)
    // and the repaired seed now serves it
    const again = await cairn(['get', cid, '-o', path.join(dir, 'from-repaired.bin'), '--repo', path.join(dir, 'from-repaired'), '--peer', bad.addrs[0], '--timeout', '30'], { timeoutMs: 60_000 })
    ok(again, 'get from the repaired seed alone')
  })
})

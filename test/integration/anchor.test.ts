// The anchor chain end to end with real processes: a seed mining on the easy
// `test` network anchors a freshly added file, verify reports it, a proof
// verifies with no repo and fails once any byte is flipped, and the head
// survives a restart and a SIGKILL during mining.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { cairn, failed, ok, pseudoRandom, run, withTemp } from '../helpers.ts'
import { startSeed, waitFor, type SeedProcess } from './seeds.ts'

/** bounded waits: the test network anchors within seconds, a loaded box may take longer */
const ANCHOR_TIMEOUT_MS = 90_000

interface ChainJson { height: number, head: string, work: string, pending: number, miner: { mining: boolean, hashRate: number } | null }

const chainOf = async (repo: string): Promise<ChainJson> => {
  const r = await run(repo, 'chain', '--json')
  ok(r, 'chain')
  return JSON.parse(r.stdout) as ChainJson
}

async function testRepo (dir: string): Promise<string> {
  const repo = path.join(dir, 'repo')
  ok(await run(repo, 'config', 'set', 'anchor.network', 'test'), 'config set')
  return repo
}

/** a loaded 2-core box can take a while to start a seed */
const READY_MS = 120_000
const mine = async (repo: string): Promise<SeedProcess> => await startSeed(repo, { args: ['--mine', '--miner-threads', '1', '--no-tui'], readyTimeoutMs: READY_MS })

test('seed --mine anchors a freshly added file; verify reports it; a proof verifies offline and fails when tampered with', async () => {
  await withTemp('cairn-anchor-', async dir => {
    const repo = await testRepo(dir)
    const file = path.join(dir, 'report.pdf')
    await fs.writeFile(file, pseudoRandom(300_000, 7))
    const seed = await mine(repo)
    try {
      const added = await run(repo, 'add', '-Q', file)
      ok(added, 'add')
      const cid = added.stdout.trim()
      const v = await waitFor('verify to report the file anchored', async () => {
        const r = await run(repo, 'verify', file)
        return r.code === 0 ? r : undefined
      }, ANCHOR_TIMEOUT_MS, 500)
      assert.match(v.stdout, /^content +ok: report\.pdf hashes to /m)
      assert.match(v.stdout, /^signature +ok: signed by 12D3Koo/m)
      assert.match(v.stdout, /^anchored +ok: at height \d+ \(block bafyrei\w+\), \d+ confirmation\(s\), work \d+ on top, block time 20\d\d-/m)
      const byCid = await run(repo, 'verify', cid, '--json')
      ok(byCid, 'verify CID')
      const report = JSON.parse(byCid.stdout) as { ok: boolean, anchored: { manifest: { name: string, size: number } } }
      assert.equal(report.ok, true)
      assert.equal(report.anchored.manifest.name, 'report.pdf')
      assert.equal(report.anchored.manifest.size, 300_000)

      // --no-anchor queues nothing
      const other = path.join(dir, 'private.txt')
      await fs.writeFile(other, 'not for the chain')
      const before = (await chainOf(repo)).pending
      ok(await run(repo, 'add', '--no-anchor', other), 'add --no-anchor')
      assert.equal((await chainOf(repo)).pending, before)
      const notAnchored = await run(repo, 'verify', other)
      assert.match(failed(notAnchored, 'verify of unanchored content'), /manifest/)

      const proofFile = path.join(dir, 'report.proof')
      ok(await run(repo, 'proof', cid, '-o', proofFile), 'proof')
      const chain = await chainOf(repo)
      assert.ok(chain.miner?.mining === true && chain.height >= 1)

      // no repo: a path that does not exist stays that way
      const none = path.join(dir, 'no-repo-here')
      const checked = await cairn(['verify', '--proof', proofFile, '--repo', none])
      ok(checked, 'verify --proof')
      assert.match(checked.stdout, /^anchored +at height \d+/m)
      await assert.rejects(fs.access(none))

      const bytes = await fs.readFile(proofFile)
      const positions = [0, 1, bytes.length - 1, ...Array.from({ length: 21 }, (_, i) => Math.floor((i + 0.5) * bytes.length / 21))]
      for (const at of positions) {
        const bad = Buffer.from(bytes)
        bad[at] ^= 0x20
        const badFile = path.join(dir, `bad-${at}.proof`)
        await fs.writeFile(badFile, bad)
        const r = await cairn(['verify', '--proof', badFile, '--repo', none])
        assert.match(failed(r, `proof with byte ${at} flipped`), /^Error: /)
      }
    } finally {
      await seed.stop()
    }
  })
})

test('without a seed, add queues the manifest in the repo; the next seed --mine anchors it', async () => {
  await withTemp('cairn-anchor-', async dir => {
    const repo = await testRepo(dir)
    const file = path.join(dir, 'notes.txt')
    await fs.writeFile(file, 'queued while no seed ran\n')
    ok(await run(repo, 'add', file), 'add')
    const queued = await chainOf(repo)
    assert.equal(queued.pending, 1)
    assert.equal(queued.height, 0)
    const seed = await mine(repo)
    try {
      await waitFor('anchored', async () => (await run(repo, 'verify', file)).code === 0, ANCHOR_TIMEOUT_MS, 500)
    } finally {
      await seed.stop()
    }
  })
})

test('the head survives a restart and a SIGKILL during mining', async () => {
  await withTemp('cairn-anchor-', async dir => {
    const repo = await testRepo(dir)
    let seed = await mine(repo)
    let height = 0
    try {
      height = (await waitFor('a few blocks', async () => { const c = await chainOf(repo); return c.height >= 5 ? c.height : undefined }, ANCHOR_TIMEOUT_MS, 300))
    } finally {
      await seed.stop()
    }
    const stopped = await chainOf(repo)
    assert.ok(stopped.height >= height)
    seed = await startSeed(repo, { args: ['--no-tui'], readyTimeoutMs: READY_MS })
    try {
      const again = await chainOf(repo)
      assert.equal(again.head, stopped.head)
      assert.equal(again.work, stopped.work)
    } finally {
      await seed.stop()
    }

    // SIGKILL while blocks are being written, three times
    for (let round = 0; round < 3; round++) {
      seed = await mine(repo)
      const start = (await chainOf(repo)).height
      await waitFor('a new block', async () => (await chainOf(repo)).height > start, ANCHOR_TIMEOUT_MS, 200)
      await seed.stop('SIGKILL')
      const after = await chainOf(repo)
      assert.ok(after.height >= start, `round ${round}: height ${after.height} below ${start}`)
      // the chain reopens whole: a new seed mines on from its head
      seed = await mine(repo)
      try {
        await waitFor('mining on from the head', async () => (await chainOf(repo)).height > after.height, ANCHOR_TIMEOUT_MS, 200)
      } finally {
        await seed.stop()
      }
    }
  })
})

test('add through a seed whose pending pool is full for this key: the files are added, the extra manifest is a warning, not a failure', async () => {
  await withTemp('cairn-anchor-full-', async dir => {
    const repo = await testRepo(dir)
    // MAX_PENDING_PER_PUBLISHER (1000) manifests fill this key's share; nobody mines
    const files: string[] = []
    for (let i = 0; i < 1001; i++) {
      const f = path.join(dir, `f${i}.txt`)
      await fs.writeFile(f, `file ${i}\n`)
      files.push(f)
    }
    const seed = await startSeed(repo, { args: ['--no-tui'], readyTimeoutMs: READY_MS })
    try {
      const r = await cairn(['add', '-q', '--repo', repo, ...files], { timeoutMs: 180_000 })
      ok(r, 'add of 1001 files')
      assert.equal(r.stdout.trim().split('\n').length, 1001, 'every file was added')
      assert.match(r.stderr, /^warning: \w+ was added, but its manifest was not queued for anchoring: .*\(run cairn anchor \w+ later\)$/m)
      assert.equal(r.stderr.match(/^warning:/gm)?.length, 1)
      assert.equal((await chainOf(repo)).pending, 1000)
    } finally {
      await seed.stop()
    }
  })
})

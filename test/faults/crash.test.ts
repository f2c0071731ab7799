// SIGKILL in the middle of add, get, car import and seeding with transfers
// in flight. After each: `repo verify` clean, pins consistent (nothing
// pinned for an operation that did not finish), the lock left behind taken
// over by the next command, and a re-run that completes with identical
// bytes, fetching only what was missing.

import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { promisify } from 'node:util'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { after, before, describe, test } from 'node:test'
import { CAIRN, ROOT, cairn, ok, pseudoRandom, run, tempDir } from '../helpers.ts'
import { Resources, freePort } from '../integration/seeds.ts'
import { fetchReport, verifyClean } from './peers.ts'

const MIB = 1024 * 1024
const execFileP = promisify(execFile)
/** a command not past its kill point by then fails the test */
const KILL_WAIT_MS = 90_000
const res = new Resources()
let dir = ''
let cleanup: () => Promise<void> = async () => {}
let medium = ''

before(async () => {
  ({ dir, cleanup } = await tempDir('cairn-crash-'))
  medium = path.join(dir, 'medium.bin')
  await fs.writeFile(medium, pseudoRandom(32 * MIB, 72))
})
after(async () => {
  await res.close()
  await cleanup()
})

/**
 * Runs `cairn ...args --json` and SIGKILLs it once a JSON progress line on
 * stderr reports more than `atBytes`; resolves with the bytes it had reached.
 * With `feed`, its first half is written to the command's stdin, or to the
 * named pipe `fifo`, which then stays open: the command cannot finish before
 * the kill, however fast this machine is.
 */
async function killMidway (args: string[], atBytes: number, feed?: { bytes: Buffer, fifo?: string }): Promise<number> {
  const child = spawn(process.execPath, [CAIRN, ...args, '--json'], { cwd: ROOT, stdio: [feed != null && feed.fifo == null ? 'pipe' : 'ignore', 'ignore', 'pipe'] })
  const exited = new Promise<NodeJS.Signals | null>(resolve => child.on('exit', (_code, signal) => resolve(signal)))
  const timer = setTimeout(() => child.kill('SIGKILL'), KILL_WAIT_MS)
  let sink: NodeJS.WritableStream | null = null
  if (feed != null) {
    const half = feed.bytes.subarray(0, Math.floor(feed.bytes.length / 2))
    sink = feed.fifo != null ? createWriteStream(feed.fifo) : child.stdin
    sink?.on('error', () => {}) // EPIPE once the reader is killed
    sink?.write(half)
  }
  let reached = -1
  const lines: string[] = []
  try {
    for await (const line of createInterface({ input: child.stderr as NodeJS.ReadableStream })) {
      lines.push(line)
      let p: { bytes?: number, done?: boolean }
      try { p = JSON.parse(line) as typeof p } catch { continue }
      if ((p.bytes ?? 0) > atBytes && p.done !== true) {
        reached = p.bytes as number
        child.kill('SIGKILL')
        break
      }
    }
  } finally {
    clearTimeout(timer)
  }
  const signal = await exited
  ;(sink as { destroy?: () => void } | null)?.destroy?.()
  assert.equal(signal, 'SIGKILL', `cairn ${args.join(' ')} was not killed midway (it finished first?): ${lines.slice(-3).join(' | ')}`)
  assert.ok(reached > 0)
  return reached
}

async function pins (repo: string): Promise<string[]> {
  const r = await run(repo, 'pin', 'ls')
  ok(r, 'pin ls')
  return r.stdout.split('\n').filter(l => l !== '').map(l => l.split(' ')[0])
}

async function lockLeft (repo: string): Promise<boolean> {
  try {
    await fs.access(path.join(repo, 'repo.lock'))
    return true
  } catch {
    return false
  }
}

async function blockBytes (repo: string): Promise<number> {
  const r = await run(repo, 'repo', 'stat', '--json')
  ok(r, 'repo stat')
  return (JSON.parse(r.stdout) as { size: number }).size
}

describe('SIGKILL', { concurrency: 2, timeout: 240_000 }, () => {
  test('during add (from stdin, half written): nothing pinned, verify clean, the lock taken over; the re-run gives the same CID and bytes', async () => {
    const repo = path.join(dir, 'add')
    const bytes = await fs.readFile(medium)
    const expected = await run(repo, 'add', '-Q', '-n', '--chunker', 'size-262144', medium)
    ok(expected, 'add -n')
    await killMidway(['add', '-', '--chunker', 'size-262144', '--repo', repo], 4 * MIB, { bytes })
    assert.ok(await lockLeft(repo), 'the killed add left its lock (nothing to take over otherwise)')
    await verifyClean(repo)
    assert.deepEqual(await pins(repo), [], 'an add that did not finish pins nothing')
    const again = await cairn(['add', '-', '-Q', '--chunker', 'size-262144', '--repo', repo], { stdin: bytes })
    ok(again, 'add again (takes the lock over)')
    assert.equal(again.stdout.trim(), expected.stdout.trim())
    assert.deepEqual(await pins(repo), [again.stdout.trim()])
    const cat = await run(repo, 'cat', again.stdout.trim())
    ok(cat, 'cat')
    assert.ok(cat.stdoutBytes.equals(bytes))
    await verifyClean(repo)
  })

  test('during car import: nothing pinned, verify clean, the lock taken over; the re-import completes', async () => {
    const src = path.join(dir, 'car-src')
    const add = await run(src, 'add', '-Q', '--chunker', 'size-262144', medium)
    ok(add, 'add')
    const root = add.stdout.trim()
    const car = path.join(dir, 'big.car')
    ok(await run(src, 'car', 'export', root, '-o', car), 'car export')
    const repo = path.join(dir, 'car-dst')
    // through a named pipe that stays open at half the CAR
    const fifo = path.join(dir, 'car.fifo')
    await execFileP('mkfifo', [fifo])
    await killMidway(['car', 'import', '--repo', repo, fifo], 4 * MIB, { bytes: await fs.readFile(car), fifo })
    assert.ok(await lockLeft(repo))
    await verifyClean(repo)
    assert.deepEqual(await pins(repo), [], 'roots are pinned only once every block is in')
    const again = await run(repo, 'car', 'import', car)
    ok(again, 'car import again')
    assert.match(again.stdout, new RegExp(`^imported ${root}$`, 'm'))
    assert.deepEqual(await pins(repo), [root])
    const cat = await run(repo, 'cat', root)
    ok(cat, 'cat')
    assert.ok(cat.stdoutBytes.equals(await fs.readFile(medium)))
    await verifyClean(repo)
  })

  test('during get from a seed: verify clean, the lock taken over; the re-run fetches only the missing blocks', async () => {
    // capped, so the kill lands mid-fetch: uncapped on loopback the swarm has
    // fetched the whole file ahead of the writer before 8 MiB are written
    const s = await res.seed(path.join(dir, 'get-seed'), { args: ['--max-upload', '4MiB'] })
    const add = await cairn(['add', '-Q', '--chunker', 'size-262144', '--repo', s.repo, medium])
    ok(add, 'add to the seed')
    const cid = add.stdout.trim()
    const repo = path.join(dir, 'get-fetcher')
    const out = path.join(dir, 'get-out.bin')
    const args = ['get', cid, '-o', out, '--repo', repo, '--peer', s.addrs[0], '--timeout', '90']
    await killMidway(args, 8 * MIB)
    await assert.rejects(fs.access(out), 'no partial file at the output path')
    const temps = async (): Promise<string[]> => (await fs.readdir(dir)).filter(n => n.startsWith('.get-out.bin.cairn-'))
    assert.equal((await temps()).length, 1, 'the killed get left its hidden temp file (its partial output) beside the output')
    assert.ok(await lockLeft(repo), 'the killed fetch left its writer lock')
    await verifyClean(repo)
    const kept = await blockBytes(repo)
    assert.ok(kept > 0 && kept < 32 * MIB, `kept ${kept} bytes`)
    const again = await cairn([...args, '--json'], { timeoutMs: 150_000 })
    ok(again, 'get again')
    assert.ok((await fs.readFile(out)).equals(await fs.readFile(medium)))
    assert.deepEqual(await temps(), [], 'the next get to that path removed the killed one\'s temp file')
    const report = fetchReport(again.stdout)
    assert.equal(report.fetched + kept, await blockBytes(repo), 'every block fetched once: what the first run kept was not fetched again')
    await verifyClean(repo)
  })

  test('a seed killed with transfers in flight: the fetch stops cleanly; the seed restarted on its address takes its lock over, verifies clean, and the same get resumes to identical bytes', async () => {
    const port = await freePort()
    const listen = [`/ip4/127.0.0.1/tcp/${port}`]
    const seedRepo = path.join(dir, 'killed-seed')
    // capped, so transfers are still in flight when it dies (see above)
    const s = await res.seed(seedRepo, { listen, args: ['--max-upload', '4MiB'] })
    const add = await cairn(['add', '-Q', '--chunker', 'size-262144', '--repo', seedRepo, medium])
    ok(add, 'add to the seed')
    const cid = add.stdout.trim()
    const repo = path.join(dir, 'killed-seed-fetcher')
    const out = path.join(dir, 'killed-seed-out.bin')
    const args = [CAIRN, 'get', cid, '-o', out, '--json', '--repo', repo, '--peer', s.addrs[0], '--timeout', '30']
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    const code = new Promise<number | null>(resolve => child.on('exit', c => resolve(c)))
    try {
      for await (const line of createInterface({ input: child.stderr })) {
        const p = JSON.parse(line) as { bytes?: number }
        if ((p.bytes ?? 0) > 8 * MIB) {
          await s.stop('SIGKILL')
          break
        }
      }
      child.stderr.resume()
      assert.notEqual(await code, 0, 'the fetch cannot finish without its only seed')
      await assert.rejects(fs.access(out), 'no partial output')
    } finally {
      child.kill('SIGKILL')
    }
    await verifyClean(repo)
    const kept = await blockBytes(repo)

    assert.ok(await lockLeft(seedRepo), 'the killed seed left its lock')
    const s2 = await res.seed(seedRepo, { listen })
    assert.equal(s2.id, s.id)
    await verifyClean(seedRepo)
    assert.deepEqual(await pins(seedRepo), [cid])
    const again = await cairn(args.slice(1), { timeoutMs: 150_000 })
    ok(again, 'get again from the restarted seed')
    assert.ok((await fs.readFile(out)).equals(await fs.readFile(medium)))
    assert.equal(fetchReport(again.stdout).fetched + kept, await blockBytes(repo), 'only what was missing was fetched')
    await verifyClean(repo)
  })
})

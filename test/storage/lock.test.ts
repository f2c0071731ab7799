// repo.lock: one writer at a time; the holder's pid is named to whoever
// meets the lock, and a lock whose process is gone is taken over.

import assert from 'node:assert/strict'
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, test } from 'node:test'
import { RepoLock } from '../../storage/lock.ts'
import { RepoLockedError } from '../../storage/errors.ts'
import { cairn, errorLine, tempDir } from '../helpers.ts'

/** The built lock module, for a child process to import (tests run from dist/). */
const LOCK_MODULE = fileURLToPath(new URL('../../storage/lock.js', import.meta.url))
/** Every wait on a child process is bounded by this. */
const WAIT_MS = 15_000

interface Holder { child: ChildProcessWithoutNullStreams, pid: number, exited: Promise<void> }

/** Starts a Node process that takes the repo lock, says 'locked', and waits. */
async function startHolder (lockFile: string, repo: string): Promise<Holder> {
  const script = `
    const { RepoLock } = await import(${JSON.stringify(LOCK_MODULE)});
    await RepoLock.acquire(${JSON.stringify(lockFile)}, ${JSON.stringify(repo)});
    process.stdout.write('locked\\n');
    setInterval(() => {}, 1000);
  `
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'pipe'] })
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  let stderr = ''
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('lock holder did not take the lock in time')) }, WAIT_MS)
    let out = ''
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString()
      if (out.includes('locked\n')) { clearTimeout(timer); resolve() }
    })
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`lock holder exited (${code}) before taking the lock: ${stderr}`)) })
  })
  assert.ok(child.pid != null)
  return { child, pid: child.pid, exited }
}

/** SIGKILLs a holder we started (by its pid) and waits for it to be gone. */
async function killHolder (h: Holder): Promise<void> {
  if (h.child.exitCode == null && h.child.signalCode == null) process.kill(h.pid, 'SIGKILL')
  let timer: NodeJS.Timeout | undefined
  await Promise.race([h.exited, new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error('holder did not exit')), WAIT_MS) })])
  clearTimeout(timer)
}

/** The pid of a process that has exited. */
async function deadPid (): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  const pid = child.pid
  assert.ok(pid != null)
  await new Promise<void>(resolve => child.once('exit', () => resolve()))
  return pid
}

async function setup (): Promise<{ dir: string, repo: string, lockFile: string, file: string, cleanup: () => Promise<void> }> {
  const t = await tempDir()
  const repo = path.join(t.dir, 'repo')
  const init = await cairn(['init', '--repo', repo])
  assert.equal(init.code, 0, init.stderr)
  const file = path.join(t.dir, 'f.txt')
  await fs.writeFile(file, 'lock test\n')
  return { dir: t.dir, repo, lockFile: path.join(repo, 'repo.lock'), file, cleanup: t.cleanup }
}

async function exists (p: string): Promise<boolean> {
  try { await fs.lstat(p); return true } catch { return false }
}

describe('RepoLock in-process', () => {
  test('acquire writes our pid, release removes the file', async () => {
    const t = await tempDir()
    try {
      const file = path.join(t.dir, 'repo.lock')
      const lock = await RepoLock.acquire(file, t.dir)
      const info = JSON.parse(await fs.readFile(file, 'utf8')) as { pid: number }
      assert.equal(info.pid, process.pid)
      await lock.release()
      assert.equal(await exists(file), false)
    } finally {
      await t.cleanup()
    }
  })

  test('release does not remove a lock another process has since taken', async () => {
    const t = await tempDir()
    try {
      const file = path.join(t.dir, 'repo.lock')
      const lock = await RepoLock.acquire(file, t.dir)
      const other = JSON.stringify({ pid: process.pid + 1_000_000, start: null })
      await fs.writeFile(file, other)
      await lock.release()
      assert.equal(await fs.readFile(file, 'utf8'), other)
    } finally {
      await t.cleanup()
    }
  })

  test('a lock held by another live process is refused with RepoLockedError naming its pid', async () => {
    const t = await tempDir()
    let holder: Holder | undefined
    try {
      const file = path.join(t.dir, 'repo.lock')
      holder = await startHolder(file, t.dir)
      await assert.rejects(RepoLock.acquire(file, t.dir), (err: unknown) => {
        assert.ok(err instanceof RepoLockedError, String(err))
        assert.match(err.message, new RegExp(`\\(pid ${holder?.pid}\\)`))
        return true
      })
      // the holder's lock is untouched
      assert.equal((JSON.parse(await fs.readFile(file, 'utf8')) as { pid: number }).pid, holder.pid)
    } finally {
      if (holder != null) await killHolder(holder)
      await t.cleanup()
    }
  })
})

describe('cairn and repo.lock', { concurrency: true }, () => {
  test('a second writer meets one Error line naming the holder; after SIGKILL the next writer takes over', async () => {
    const s = await setup()
    let holder: Holder | undefined
    try {
      holder = await startHolder(s.lockFile, s.repo)
      const blocked = await cairn(['add', s.file, '--repo', s.repo])
      assert.equal(blocked.code, 1)
      const line = errorLine(blocked)
      assert.match(line, new RegExp(`pid ${holder.pid}\\b`))
      assert.ok(line.includes(s.repo), line)
      assert.equal(blocked.stdout, '')

      // readers take no lock
      const reader = await cairn(['config', 'get', 'import.profile', '--repo', s.repo])
      assert.equal(reader.code, 0, reader.stderr)

      await killHolder(holder)
      // SIGKILL leaves the file behind, naming a dead process
      assert.equal((JSON.parse(await fs.readFile(s.lockFile, 'utf8')) as { pid: number }).pid, holder.pid)

      const after = await cairn(['add', s.file, '-Q', '--repo', s.repo])
      assert.equal(after.code, 0, after.stderr)
      assert.match(after.stdout, /^bafk[a-z2-7]+\n$/)
      assert.equal(after.stderr, '')
      assert.equal(await exists(s.lockFile), false, 'the writer released the lock it took over')
    } finally {
      if (holder != null) await killHolder(holder)
      await s.cleanup()
    }
  })

  test('config set is a writer too: refused while the lock is held', async () => {
    const s = await setup()
    let holder: Holder | undefined
    try {
      const before = await fs.readFile(path.join(s.repo, 'config.json'), 'utf8')
      holder = await startHolder(s.lockFile, s.repo)
      const r = await cairn(['config', 'set', 'network.kind', 'ipfs', '--repo', s.repo])
      assert.equal(r.code, 1)
      assert.match(errorLine(r), new RegExp(`pid ${holder.pid}\\b`))
      assert.equal(await fs.readFile(path.join(s.repo, 'config.json'), 'utf8'), before)
    } finally {
      if (holder != null) await killHolder(holder)
      await s.cleanup()
    }
  })

  const stale: Array<[string, () => Promise<string>]> = [
    ['naming a dead pid', async () => JSON.stringify({ pid: await deadPid(), start: null })],
    ['naming a live pid whose start time is not the owner\'s (a reused pid)', async () => JSON.stringify({ pid: process.pid, start: '1' })],
    ['holding garbage', async () => 'not json at all \u0000\u00ff'],
    ['that is empty (writer killed mid-write)', async () => ''],
    ['with a non-integer pid', async () => JSON.stringify({ pid: 'twelve' })]
  ]
  for (const [what, content] of stale) {
    test(`a lock file ${what} is taken over`, async () => {
      const s = await setup()
      try {
        await fs.writeFile(s.lockFile, await content())
        const r = await cairn(['add', s.file, '-Q', '--repo', s.repo])
        assert.equal(r.code, 0, r.stderr)
        assert.match(r.stdout, /^bafk[a-z2-7]+\n$/)
        assert.equal(await exists(s.lockFile), false)
        // no temp file of the take-over is left in the repo
        assert.deepEqual((await fs.readdir(s.repo)).filter(n => n.startsWith('repo.lock')), [])
      } finally {
        await s.cleanup()
      }
    })
  }
})

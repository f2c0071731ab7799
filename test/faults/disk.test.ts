// Disk faults, through the built CLI: a repo (or an output path) on a full
// tmpfs, and a repo on a read-only bind mount. Needs mount(8) as root, as in
// CI; where mounting is not permitted each test is skipped with the reason.
// Every mount is unmounted in a finally block.

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { describe, it, type TestContext } from 'node:test'
import { CID } from 'multiformats/cid'
import { FIXTURES, pseudoRandom, run, ok, failed, withTemp } from '../helpers.ts'

const execFileP = promisify(execFile)
const MiB = 1024 * 1024

async function addQ (repo: string, ...args: string[]): Promise<string> {
  const r = await run(repo, 'add', '-Q', ...args)
  ok(r, `add ${args.join(' ')}`)
  return r.stdout.trim()
}

async function pins (repo: string): Promise<string[]> {
  const r = await run(repo, 'pin', 'ls', '--json')
  ok(r, 'pin ls')
  return r.stdout.split('\n').filter(l => l !== '').map(l => CID.parse((JSON.parse(l) as { cid: string }).cid).toV1().toString())
}

const MOUNT_DENIED = /permission denied|operation not permitted|EPERM|must be superuser|only root/i

/**
 * Runs `mount args`; true when mounted. Skips the test (with the reason) only
 * when mounting is not permitted here; any other failure fails the test.
 */
async function mountOrSkip (t: TestContext, args: string[]): Promise<boolean> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    t.skip(`needs root to mount (${args.join(' ')}); running as uid ${process.getuid()}`)
    return false
  }
  try {
    await execFileP('mount', args)
    return true
  } catch (err) {
    const text = `${(err as Error).message} ${(err as { stderr?: string }).stderr ?? ''}`
    if (MOUNT_DENIED.test(text)) {
      const why = ((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n')[0]
      t.skip(`mounting is not permitted here (mount ${args.join(' ')}): ${why}`)
      return false
    }
    throw err
  }
}

async function unmount (dir: string): Promise<void> {
  try {
    await execFileP('umount', [dir])
  } catch {
    await execFileP('umount', ['-l', dir])
  }
}

/** A tmpfs of `size` at a new dir under `parent`; `fn` runs with it mounted. */
async function withTmpfs (t: TestContext, parent: string, size: string, fn: (mnt: string) => Promise<void>): Promise<void> {
  const mnt = path.join(parent, 'mnt')
  await fs.mkdir(mnt)
  if (!(await mountOrSkip(t, ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt]))) return
  try {
    await fn(mnt)
  } finally {
    await unmount(mnt)
  }
}

/** `dir` made read-only by a bind mount over itself while `fn` runs. */
async function withReadOnly (t: TestContext, dir: string, fn: () => Promise<void>): Promise<boolean> {
  if (!(await mountOrSkip(t, ['--bind', dir, dir]))) return false
  try {
    await execFileP('mount', ['-o', 'remount,ro,bind', dir])
    // the mount really is read-only (root ignores file modes, not EROFS)
    await assert.rejects(fs.writeFile(path.join(dir, 'probe'), 'x'), { code: 'EROFS' })
    await fn()
  } finally {
    await unmount(dir)
  }
  return true
}

const inTemp = async (fn: (dir: string) => Promise<void>): Promise<void> => { await withTemp('cairn-disk-test-', fn) }

describe('a full disk', { concurrency: 2 }, () => {
  it('add into a repo on a full tmpfs fails with one no-space Error line, pins nothing; after freeing space the repo is clean and a re-add works', async (t) => {
    await inTemp(async dir => {
      const input = path.join(dir, 'big.bin')
      const bytes = pseudoRandom(4 * MiB, 21)
      await fs.writeFile(input, bytes)
      await withTmpfs(t, dir, '8m', async mnt => {
        const repo = path.join(mnt, 'repo')
        ok(await run(repo, 'init'), 'init')
        // leave about 1.5 MiB free: less than the file needs
        const filler = path.join(mnt, 'filler')
        await fs.writeFile(filler, Buffer.alloc(Math.round(6.5 * MiB)))

        const r = await run(repo, 'add', input)
        const line = failed(r, 'add onto a full disk')
        assert.match(line, /no space/i)
        assert.deepEqual(await pins(repo), [], 'nothing pinned')

        await fs.rm(filler)
        const v = await run(repo, 'repo', 'verify')
        ok(v, 'repo verify after the failed add')
        const cid = await addQ(repo, input)
        assert.deepEqual(await pins(repo), [CID.parse(cid).toV1().toString()])
        const c = await run(repo, 'cat', cid)
        ok(c, 'cat after the re-add')
        assert.ok(c.stdoutBytes.equals(bytes))
        ok(await run(repo, 'repo', 'verify'), 'repo verify after the re-add')
      })
    })
  })

  it('add of a file bigger than the whole tmpfs (2 MiB) fails the same way', async (t) => {
    await inTemp(async dir => {
      const input = path.join(dir, 'big.bin')
      await fs.writeFile(input, pseudoRandom(3 * MiB, 22))
      await withTmpfs(t, dir, '2m', async mnt => {
        const repo = path.join(mnt, 'repo')
        ok(await run(repo, 'init'), 'init')
        const line = failed(await run(repo, 'add', input), 'add of 3 MiB onto 2 MiB')
        assert.match(line, /no space/i)
        assert.deepEqual(await pins(repo), [], 'nothing pinned')
        ok(await run(repo, 'repo', 'verify'), 'repo verify after the failed add')
        // space freed by gc of whatever blocks the failed add left, then a small add works
        ok(await run(repo, 'repo', 'gc'), 'repo gc')
        const small = path.join(dir, 'small.txt')
        await fs.writeFile(small, 'fits\n')
        const cid = await addQ(repo, small)
        const c = await run(repo, 'cat', cid)
        ok(c, 'cat')
        assert.equal(c.stdout, 'fits\n')
      })
    })
  })

  it('get -o onto a full tmpfs fails with one Error line and leaves no partial output', async (t) => {
    await inTemp(async dir => {
      const repo = path.join(dir, 'repo')
      const tree = path.join(dir, 'tree')
      await fs.mkdir(tree)
      const bytes = pseudoRandom(3 * MiB, 23)
      await fs.writeFile(path.join(tree, 'big.bin'), bytes)
      await fs.writeFile(path.join(tree, 'small.txt'), 'small\n')
      const d = await addQ(repo, '-r', tree)
      await withTmpfs(t, dir, '1m', async mnt => {
        const file = await run(repo, 'get', `${d}/big.bin`, '-o', path.join(mnt, 'out'))
        assert.match(failed(file, 'get of a file onto a full disk'), /no space/i)
        const whole = await run(repo, 'get', d, '-o', path.join(mnt, 'outdir'))
        assert.match(failed(whole, 'get of a directory onto a full disk'), /no space/i)
        assert.deepEqual(await fs.readdir(mnt), [], 'no output and no temp files')

        // an existing file replaced with --force stays whole when the new one does not fit
        const old = path.join(mnt, 'old')
        await fs.writeFile(old, 'the old content\n')
        failed(await run(repo, 'get', `${d}/big.bin`, '-o', old, '--force'), 'get --force onto a full disk')
        assert.equal(await fs.readFile(old, 'utf8'), 'the old content\n')
        assert.deepEqual(await fs.readdir(mnt), ['old'], 'no temp files')
      })
    })
  })
})

describe('a read-only repo (read-only bind mount)', { concurrency: 2 }, () => {
  const setup = async (dir: string): Promise<{ repo: string, file: string, fileBytes: Buffer, tree: string, newFile: string }> => {
    const repo = path.join(dir, 'repo')
    const fileBytes = pseudoRandom(1.5 * MiB, 31)
    const src = path.join(dir, 'data.bin')
    await fs.writeFile(src, fileBytes)
    const file = await addQ(repo, src)
    const t = path.join(dir, 'tree')
    await fs.mkdir(t)
    await fs.writeFile(path.join(t, 'a.txt'), 'a\n')
    await fs.writeFile(path.join(t, 'b.txt'), 'b\n')
    const tree = await addQ(repo, '-r', t)
    const newFile = path.join(dir, 'new.txt')
    await fs.writeFile(newFile, 'added while read-only\n')
    return { repo, file, fileBytes, tree, newFile }
  }

  it('add fails with one clear read-only Error line; after unmounting, repo verify is clean and nothing was pinned', async (t) => {
    await inTemp(async dir => {
      const { repo, file, tree, newFile } = await setup(dir)
      const mounted = await withReadOnly(t, repo, async () => {
        const r = await run(repo, 'add', newFile)
        const line = failed(r, 'add into a read-only repo')
        assert.match(line, /read-only/i)
        const car = await run(repo, 'car', 'import', path.join(FIXTURES, 'car', 'gateway-conformance', 'path_gateway_unixfs', 'symlink.car'))
        assert.match(failed(car, 'car import into a read-only repo'), /read-only/i)
      })
      if (!mounted) return
      ok(await run(repo, 'repo', 'verify'), 'repo verify after unmounting')
      assert.deepEqual((await pins(repo)).sort(), [file, tree].map(c => CID.parse(c).toV1().toString()).sort())
    })
  })

  it('cat and ls of existing content still work', async (t) => {
    await inTemp(async dir => {
      const { repo, file, fileBytes, tree } = await setup(dir)
      await withReadOnly(t, repo, async () => {
        const c = await run(repo, 'cat', file)
        ok(c, 'cat from a read-only repo')
        assert.ok(c.stdoutBytes.equals(fileBytes))
        const a = await run(repo, 'cat', `${tree}/a.txt`)
        ok(a, 'cat CID/path from a read-only repo')
        assert.equal(a.stdout, 'a\n')
        const l = await run(repo, 'ls', tree)
        ok(l, 'ls from a read-only repo')
        assert.deepEqual(l.stdout.split('\n').filter(x => x !== '').map(x => x.split(' ').slice(1).join(' ')).sort(), ['2 a.txt', '2 b.txt'])
      })
    })
  })
})

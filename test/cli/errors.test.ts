// Bad input: exactly one `Error: …` line on stderr, a non-zero exit, and
// nothing partial left behind (no output, no temp files, no blocks).

import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { describe, test } from 'node:test'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { Blocks } from '../../storage/blocks.ts'
import { ROOT, cairn, errorLine, pseudoRandom, tempDir, type RunResult } from '../helpers.ts'

/** A well-formed CID of bytes no test ever adds. */
async function absentCid (): Promise<string> {
  return CID.createV1(0x55, await sha256.digest(Buffer.from('cairn: never added anywhere'))).toString()
}

/** Asserts a failure: non-zero exit, one Error line, no stdout; returns the line. */
function failure (r: RunResult, what: string): string {
  assert.equal(r.signal, null, `${what} was killed by ${r.signal ?? ''}`)
  assert.notEqual(r.code, 0, `${what} exited 0`)
  const line = errorLine(r)
  assert.equal(r.stdout, '', `${what} wrote to stdout`)
  return line
}

async function blockCount (repo: string): Promise<number> {
  if (!fs.existsSync(path.join(repo, 'blocks'))) return 0
  let n = 0
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- only the count matters
  for await (const _ of new Blocks(path.join(repo, 'blocks')).list()) n++
  return n
}

async function withTemp (fn: (dir: string, repo: string) => Promise<void>): Promise<void> {
  const t = await tempDir()
  try {
    await fn(t.dir, path.join(t.dir, 'repo'))
  } finally {
    await t.cleanup()
  }
}

describe('bad arguments', { concurrency: true }, () => {
  test('an invalid CID: cat, get and ls name it; get writes nothing', async () => {
    await withTemp(async (dir, repo) => {
      const out = path.join(dir, 'outdir')
      await fsp.mkdir(out)
      for (const args of [['cat', 'notacid'], ['ls', 'bafy-not-base32!'], ['get', 'Qm0OIl', '-o', path.join(out, 'x')]]) {
        const line = failure(await cairn([...args, '--repo', repo]), args.join(' '))
        assert.match(line, /invalid CID/i)
        assert.ok(line.includes(args[1]), line)
      }
      assert.deepEqual(await fsp.readdir(out), [])
    })
  })

  test('cat, get and ls without a CID are usage errors (exit 2)', async () => {
    await withTemp(async (_dir, repo) => {
      for (const cmd of ['cat', 'get', 'ls']) {
        const r = await cairn([cmd, '--repo', repo])
        failure(r, cmd)
        assert.equal(r.code, 2)
      }
    })
  })
})

describe('add of a path it cannot read', { concurrency: true }, () => {
  test('a missing path is named, and nothing is stored', async () => {
    await withTemp(async (dir, repo) => {
      const missing = path.join(dir, 'no-such-file.txt')
      const line = failure(await cairn(['add', missing, '--repo', repo]), 'add missing')
      assert.ok(line.includes(missing), line)
      assert.match(line, /no such file/)
      assert.equal(await blockCount(repo), 0)
      // the failed writer released the repo lock
      assert.equal(fs.existsSync(path.join(repo, 'repo.lock')), false)
    })
  })

  test('a dangling path (through a file, or through a dangling symlink) is named', async () => {
    await withTemp(async (dir, repo) => {
      await fsp.writeFile(path.join(dir, 'file.txt'), 'x')
      await fsp.symlink(path.join(dir, 'gone'), path.join(dir, 'dangling'))
      for (const p of [path.join(dir, 'file.txt', 'child'), path.join(dir, 'dangling', 'child')]) {
        const line = failure(await cairn(['add', p, '--repo', repo]), `add ${p}`)
        assert.ok(line.includes(p), line)
      }
      assert.equal(await blockCount(repo), 0)
    })
  })

  test('a directory without -r says to use -r', async () => {
    await withTemp(async (dir, repo) => {
      const d = path.join(dir, 'd')
      await fsp.mkdir(d)
      await fsp.writeFile(path.join(d, 'f'), 'f')
      const line = failure(await cairn(['add', d, '--repo', repo]), 'add dir')
      assert.ok(line.includes(d), line)
      assert.match(line, /-r/)
      assert.equal(await blockCount(repo), 0)
    })
  })

  test('a FIFO is refused at once (never read, so never hangs)', async () => {
    await withTemp(async (dir, repo) => {
      const fifo = path.join(dir, 'fifo')
      execFileSync('mkfifo', [fifo])
      const line = failure(await cairn(['add', fifo, '--repo', repo], { timeoutMs: 20_000 }), 'add fifo')
      assert.ok(line.includes(fifo), line)
      assert.equal(await blockCount(repo), 0)
    })
  })

  test('a socket is refused', async () => {
    await withTemp(async (dir, repo) => {
      const sock = path.join(dir, 'sock')
      const server = net.createServer()
      await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(sock, resolve) })
      try {
        const line = failure(await cairn(['add', sock, '--repo', repo]), 'add socket')
        assert.ok(line.includes(sock), line)
      } finally {
        await new Promise<void>(resolve => server.close(() => resolve()))
      }
      assert.equal(await blockCount(repo), 0)
    })
  })

  test('-r of a directory holding a FIFO fails before storing any of its files', async () => {
    await withTemp(async (dir, repo) => {
      const d = path.join(dir, 'd')
      await fsp.mkdir(d)
      await fsp.writeFile(path.join(d, 'a.txt'), pseudoRandom(50_000, 4))
      execFileSync('mkfifo', [path.join(d, 'z-fifo')])
      const line = failure(await cairn(['add', '-r', d, '--repo', repo], { timeoutMs: 20_000 }), 'add -r dir with fifo')
      assert.ok(line.includes('z-fifo'), line)
      assert.equal(await blockCount(repo), 0)
    })
  })
})

describe('content that is not there', { concurrency: true }, () => {
  test('a CID not in the repo: cat, get and ls say so; get -o leaves no output and no temp file', async () => {
    await withTemp(async (dir, repo) => {
      const cid = await absentCid()
      const outDir = path.join(dir, 'outdir')
      await fsp.mkdir(outDir)
      for (const args of [['cat', cid], ['ls', cid], ['get', cid, '-o', path.join(outDir, 'out')]]) {
        const line = failure(await cairn([...args, '--repo', repo]), args.join(' '))
        assert.ok(line.includes(cid), line)
        assert.match(line, /not in the repo/)
      }
      assert.deepEqual(await fsp.readdir(outDir), [])
      // get without -o would have written ./<cid>
      const cwd = path.join(dir, 'cwd')
      await fsp.mkdir(cwd)
      failure(await cairn(['get', cid, '--repo', repo], { cwd }), 'get cid (cwd)')
      assert.deepEqual(await fsp.readdir(cwd), [])
    })
  })

  test('a directory missing one block deep inside: get fails and leaves nothing at or beside the output', async () => {
    await withTemp(async (dir, repo) => {
      const d = path.join(dir, 'd')
      await fsp.mkdir(path.join(d, 'sub'), { recursive: true })
      await fsp.writeFile(path.join(d, 'a-first.txt'), 'written before the failure\n')
      const lost = pseudoRandom(4000, 8)
      await fsp.writeFile(path.join(d, 'sub', 'lost.bin'), lost)
      await fsp.writeFile(path.join(d, 'z-last.txt'), 'z\n')
      const added = await cairn(['add', '-r', d, '-Q', '--repo', repo])
      assert.equal(added.code, 0, added.stderr)
      const lostCid = CID.createV1(0x55, await sha256.digest(lost))
      await fsp.rm(new Blocks(path.join(repo, 'blocks')).pathOf(lostCid))

      const outDir = path.join(dir, 'outdir')
      await fsp.mkdir(outDir)
      const line = failure(await cairn(['get', added.stdout.trim(), '-o', path.join(outDir, 'out'), '--repo', repo]), 'get')
      assert.ok(line.includes(lostCid.toString()), line)
      assert.deepEqual(await fsp.readdir(outDir), [])

      // cat of the file whose block is gone: nothing on stdout
      const c = await cairn(['cat', `${added.stdout.trim()}/sub/lost.bin`, '--repo', repo])
      failure(c, 'cat lost')
    })
  })

  test('a DAG path that does not exist: cat, ls and get name it; get writes nothing', async () => {
    await withTemp(async (dir, repo) => {
      const d = path.join(dir, 'd')
      await fsp.mkdir(d)
      await fsp.writeFile(path.join(d, 'real.txt'), 'real\n')
      const added = await cairn(['add', '-r', d, '-Q', '--repo', repo])
      assert.equal(added.code, 0, added.stderr)
      const root = added.stdout.trim()
      const outDir = path.join(dir, 'outdir')
      await fsp.mkdir(outDir)
      for (const args of [['cat', `${root}/nope.txt`], ['ls', `${root}/nope/deeper`], ['get', `${root}/nope.txt`, '-o', path.join(outDir, 'out')], ['cat', `${root}/real.txt/below`]]) {
        const line = failure(await cairn([...args, '--repo', repo]), args.join(' '))
        assert.ok(line.includes(args[1]), line)
        assert.match(line, /no such path/)
      }
      assert.deepEqual(await fsp.readdir(outDir), [])
    })
  })

  test('cat of a directory or a symlink says what it is, and writes nothing', async () => {
    await withTemp(async (dir, repo) => {
      const d = path.join(dir, 'd')
      await fsp.mkdir(d)
      await fsp.writeFile(path.join(d, 'f.txt'), 'f\n')
      await fsp.symlink('f.txt', path.join(d, 'link'))
      const added = await cairn(['add', '-r', d, '-Q', '--repo', repo])
      assert.equal(added.code, 0, added.stderr)
      const root = added.stdout.trim()
      assert.match(failure(await cairn(['cat', root, '--repo', repo]), 'cat dir'), /is a directory/)
      assert.match(failure(await cairn(['cat', `${root}/link`, '--repo', repo]), 'cat symlink'), /symlink/)
    })
  })

  test('get into a directory that does not exist: one Error line, nothing created', async () => {
    await withTemp(async (dir, repo) => {
      const f = path.join(dir, 'f.txt')
      await fsp.writeFile(f, 'f\n')
      const added = await cairn(['add', f, '-Q', '--repo', repo])
      assert.equal(added.code, 0, added.stderr)
      const target = path.join(dir, 'missing-parent', 'out.txt')
      const line = failure(await cairn(['get', added.stdout.trim(), '-o', target, '--repo', repo]), 'get')
      assert.ok(line.includes('missing-parent'), line)
      assert.equal(fs.existsSync(path.join(dir, 'missing-parent')), false)
    })
  })
})

describe('the launcher on an old Node', () => {
  const SYSTEM_NODE = '/usr/bin/node'
  let skip: string | false = false
  if (!fs.existsSync(SYSTEM_NODE)) {
    skip = `${SYSTEM_NODE} is absent: no old Node to run the launcher with`
  } else {
    const version = execFileSync(SYSTEM_NODE, ['--version'], { encoding: 'utf8' }).trim()
    if (Number(version.replace(/^v/, '').split('.')[0]) >= 22) skip = `${SYSTEM_NODE} is ${version}, not older than Node 22`
  }

  test('prints one Error line naming Node 22 and exits non-zero', { skip }, async () => {
    for (const args of [['--version'], ['add', path.join(ROOT, 'package.json'), '-n']]) {
      const r = await cairn(args, { node: SYSTEM_NODE, timeoutMs: 20_000 })
      assert.equal(r.signal, null)
      assert.notEqual(r.code, 0)
      assert.equal(r.code, 1)
      const line = errorLine(r)
      assert.match(line, /Node(\.js)? 22\b/)
      assert.equal(r.stdout, '')
    }
  })
})

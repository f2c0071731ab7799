// add / cat / get / ls end to end, run as a user runs them: the built
// `cairn`, its own temp repo per test, output checked byte for byte.

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, test } from 'node:test'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { ROOT, cairn, errorLine, pseudoRandom, tempDir, type RunResult } from '../helpers.ts'

/** The CIDv1 of an empty UnixFS directory, as every IPFS implementation computes it. */
const EMPTY_DIR_V1 = 'bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354'

async function rawCid (bytes: Uint8Array): Promise<string> {
  return CID.createV1(0x55, await sha256.digest(bytes)).toString()
}

function ok (r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}`)
}

/** Lines of text, without the empty one after the last newline. */
function lines (text: string): string[] {
  return text.split('\n').filter(l => l !== '')
}

async function exists (p: string): Promise<boolean> {
  try { await fs.lstat(p); return true } catch { return false }
}

type Tree = Record<string, { type: 'file', bytes: string } | { type: 'dir' } | { type: 'symlink', target: string }>

/** Everything below `dir`, by relative path, without following symlinks. */
async function snapshot (dir: string, skipDotfiles = false): Promise<Tree> {
  const out: Tree = {}
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const name of (await fs.readdir(abs)).sort()) {
      if (skipDotfiles && name.startsWith('.')) continue
      const a = path.join(abs, name)
      const r = rel === '' ? name : `${rel}/${name}`
      const st = await fs.lstat(a)
      if (st.isSymbolicLink()) out[r] = { type: 'symlink', target: await fs.readlink(a) }
      else if (st.isDirectory()) { out[r] = { type: 'dir' }; await walk(a, r) } else out[r] = { type: 'file', bytes: (await fs.readFile(a)).toString('base64') }
    }
  }
  await walk(dir, '')
  return out
}

/**
 * A directory with nested files, an empty file, an empty subdirectory, a
 * dotfile, and three symlinks: relative, absolute (pointing outside) and
 * dangling.
 */
async function makeTree (base: string, outside: string): Promise<string> {
  const d = path.join(base, 'site')
  await fs.mkdir(path.join(d, 'docs', 'deep'), { recursive: true })
  await fs.mkdir(path.join(d, 'empty'))
  await fs.writeFile(path.join(d, 'index.html'), '<h1>hi</h1>\n')
  await fs.writeFile(path.join(d, 'docs', 'a.txt'), 'alpha\n')
  await fs.writeFile(path.join(d, 'docs', 'deep', 'big.bin'), pseudoRandom(300_000, 5))
  await fs.writeFile(path.join(d, 'zero'), '')
  await fs.writeFile(path.join(d, '.secret'), 'dotfile\n')
  await fs.symlink('docs/a.txt', path.join(d, 'rel-link'))
  await fs.symlink(outside, path.join(d, 'abs-link'))
  await fs.symlink('does/not/exist', path.join(d, 'dangling'))
  return d
}

describe('add', { concurrency: true }, () => {
  test('a file: one "added <cid> <name>" line, and cat gives its bytes back', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      const content = Buffer.from('hello, cairn\n')
      const file = path.join(t.dir, 'hello.txt')
      await fs.writeFile(file, content)
      const r = await cairn(['add', file, '--repo', repo])
      ok(r, 'add')
      const cid = await rawCid(content)
      assert.equal(r.stdout, `added ${cid} hello.txt\n`)
      const c = await cairn(['cat', cid, '--repo', repo])
      ok(c, 'cat')
      assert.deepEqual(c.stdoutBytes, content)
    } finally {
      await t.cleanup()
    }
  })

  test('a directory with -r: a line per file and directory, root last, dotfiles skipped', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      const d = await makeTree(t.dir, '/nonexistent/outside')
      const r = await cairn(['add', '-r', d, '--repo', repo])
      ok(r, 'add -r')
      const got = lines(r.stdout).map(l => {
        const m = /^added (\S+) (.+)$/.exec(l)
        assert.ok(m != null, `bad line ${JSON.stringify(l)}`)
        CID.parse(m[1])
        return m[2]
      })
      assert.deepEqual([...got].sort(), [
        'site', 'site/abs-link', 'site/dangling', 'site/docs', 'site/docs/a.txt', 'site/docs/deep',
        'site/docs/deep/big.bin', 'site/index.html', 'site/rel-link', 'site/zero'
      ].sort().concat(got.includes('site/empty') ? ['site/empty'] : []).sort())
      assert.equal(got.at(-1), 'site')
      assert.ok(!r.stdout.includes('.secret'))
      // the file's CID is the same as when added on its own
      const alone = await cairn(['add', path.join(d, 'index.html'), '-Q', '--repo', repo])
      ok(alone, 'add file')
      assert.ok(r.stdout.includes(`added ${alone.stdout.trim()} site/index.html\n`))

      const hidden = await cairn(['add', '-r', '--hidden', d, '--repo', repo])
      ok(hidden, 'add --hidden')
      assert.match(hidden.stdout, /^added \S+ site\/\.secret$/m)
      assert.notEqual(lines(hidden.stdout).at(-1), lines(r.stdout).at(-1))
    } finally {
      await t.cleanup()
    }
  })

  test('-r prints an "added" line for an empty directory too (as Kubo does)', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      const d = path.join(t.dir, 'd')
      await fs.mkdir(path.join(d, 'empty'), { recursive: true })
      await fs.writeFile(path.join(d, 'f.txt'), 'f\n')
      const r = await cairn(['add', '-r', d, '--repo', repo])
      ok(r, 'add -r')
      assert.ok(lines(r.stdout).includes(`added ${EMPTY_DIR_V1} d/empty`), `no line for d/empty in:\n${r.stdout}`)
      assert.equal(lines(r.stdout).length, 3)
    } finally {
      await t.cleanup()
    }
  })

  test('-Q prints only the root CID, the same root as the full listing', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      const d = await makeTree(t.dir, '/nonexistent')
      const full = await cairn(['add', '-r', d, '--repo', repo])
      ok(full, 'add -r')
      const q = await cairn(['add', '-r', d, '-Q', '--repo', repo])
      ok(q, 'add -Q')
      const root = /^added (\S+) site$/.exec(lines(full.stdout).at(-1) ?? '')?.[1]
      assert.equal(q.stdout, `${root}\n`)
    } finally {
      await t.cleanup()
    }
  })

  test('-w wraps the inputs in one directory, printed last without a name', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      const a = path.join(t.dir, 'a.txt')
      const b = path.join(t.dir, 'b.txt')
      await fs.writeFile(a, 'A\n')
      await fs.writeFile(b, 'B\n')
      const r = await cairn(['add', '-w', a, b, '--repo', repo])
      ok(r, 'add -w')
      const l = lines(r.stdout)
      assert.equal(l.length, 3)
      assert.equal(l[0], `added ${await rawCid(Buffer.from('A\n'))} a.txt`)
      assert.equal(l[1], `added ${await rawCid(Buffer.from('B\n'))} b.txt`)
      const wrapper = /^added (\S+)$/.exec(l[2])?.[1]
      assert.ok(wrapper != null, l[2])
      const q = await cairn(['add', '-w', a, b, '-Q', '--repo', repo])
      assert.equal(q.stdout, `${wrapper}\n`)
      const c = await cairn(['cat', `${wrapper}/b.txt`, '--repo', repo])
      ok(c, 'cat wrapper/b.txt')
      assert.equal(c.stdout, 'B\n')
    } finally {
      await t.cleanup()
    }
  })

  test('- reads stdin: the same CID as the file, and the bytes come back', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      const content = pseudoRandom(2_500_000, 9)
      const file = path.join(t.dir, 'big.bin')
      await fs.writeFile(file, content)
      const fromFile = await cairn(['add', file, '-Q', '--repo', repo])
      ok(fromFile, 'add file')
      const fromStdin = await cairn(['add', '-', '-Q', '--repo', repo], { stdin: content })
      ok(fromStdin, 'add -')
      assert.equal(fromStdin.stdout, fromFile.stdout)
      const c = await cairn(['cat', fromStdin.stdout.trim(), '--repo', repo])
      ok(c, 'cat')
      assert.ok(c.stdoutBytes.equals(content))
    } finally {
      await t.cleanup()
    }
  })

  test('--json: every stdout line is a JSON object with cid, path and size', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      const d = path.join(t.dir, 'd')
      await fs.mkdir(d)
      await fs.writeFile(path.join(d, 'x.txt'), 'x\n')
      const r = await cairn(['add', '-r', d, '--json', '--repo', repo])
      ok(r, 'add --json')
      const objs = lines(r.stdout).map(l => JSON.parse(l) as { cid: string, path: string, size: number })
      assert.deepEqual(objs.map(o => o.path), ['d/x.txt', 'd'])
      for (const o of objs) {
        CID.parse(o.cid)
        assert.equal(typeof o.size, 'number')
      }
      assert.equal(objs[0].cid, await rawCid(Buffer.from('x\n')))
      assert.equal(objs[0].size, 2)
      const q = await cairn(['--json', 'add', '-r', d, '-Q', '--repo', repo])
      ok(q, 'add --json -Q')
      assert.deepEqual(JSON.parse(q.stdout), { cid: objs[1].cid })

      const l = await cairn(['ls', objs[1].cid, '--json', '--repo', repo])
      ok(l, 'ls --json')
      assert.deepEqual(lines(l.stdout).map(x => JSON.parse(x)), [{ cid: objs[0].cid, size: 2, name: 'x.txt', type: 'raw' }])
    } finally {
      await t.cleanup()
    }
  })
})

describe('cat, ls and get', { concurrency: true }, () => {
  test('cat --offset/--length give exactly that range, across block boundaries', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      const content = pseudoRandom(10_000, 13)
      const file = path.join(t.dir, 'f.bin')
      await fs.writeFile(file, content)
      const a = await cairn(['add', file, '-Q', '--chunker', 'size-1000', '--repo', repo])
      ok(a, 'add')
      const cid = a.stdout.trim()
      const ranges: Array<[number | null, number | null]> = [[995, 10], [2500, 5000], [9990, null], [null, 1], [4321, 0], [9000, 5000]]
      for (const [offset, length] of ranges) {
        const args = ['cat', cid, '--repo', repo]
        if (offset != null) args.push('--offset', String(offset))
        if (length != null) args.push('--length', String(length))
        const r = await cairn(args)
        ok(r, args.join(' '))
        const start = offset ?? 0
        const end = length == null ? content.length : Math.min(content.length, start + length)
        assert.ok(r.stdoutBytes.equals(content.subarray(start, end)), `range ${offset}/${length}: got ${r.stdoutBytes.length} bytes`)
      }
    } finally {
      await t.cleanup()
    }
  })

  test('ls prints "<cid> <size> <name>", directories as "- name/"', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      const d = await makeTree(t.dir, '/nonexistent/outside')
      const a = await cairn(['add', '-r', d, '--repo', repo])
      ok(a, 'add')
      const cids = new Map(lines(a.stdout).map(l => { const [, cid, p] = l.split(' '); return [p, cid] }))
      const root = cids.get('site') as string
      const r = await cairn(['ls', root, '--repo', repo])
      ok(r, 'ls')
      assert.deepEqual(lines(r.stdout), [
        `${cids.get('site/abs-link')} ${'/nonexistent/outside'.length} abs-link`,
        `${cids.get('site/dangling')} ${'does/not/exist'.length} dangling`,
        `${cids.get('site/docs')} - docs/`,
        `${EMPTY_DIR_V1} - empty/`,
        `${cids.get('site/index.html')} 12 index.html`,
        `${cids.get('site/rel-link')} ${'docs/a.txt'.length} rel-link`,
        `${cids.get('site/zero')} 0 zero`
      ])
      const sub = await cairn(['ls', `${root}/docs`, '--repo', repo])
      ok(sub, 'ls docs')
      assert.deepEqual(lines(sub.stdout), [
        `${cids.get('site/docs/a.txt')} 6 a.txt`,
        `${cids.get('site/docs/deep')} - deep/`
      ])
      const empty = await cairn(['ls', `/ipfs/${root}/empty`, '--repo', repo])
      ok(empty, 'ls empty')
      assert.equal(empty.stdout, '')
    } finally {
      await t.cleanup()
    }
  })

  test('get of a file writes identical bytes', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      const content = pseudoRandom(1_500_000, 17)
      const file = path.join(t.dir, 'f.bin')
      await fs.writeFile(file, content)
      const a = await cairn(['add', file, '-Q', '--repo', repo])
      ok(a, 'add')
      const out = path.join(t.dir, 'out.bin')
      const g = await cairn(['get', a.stdout.trim(), '-o', out, '--repo', repo])
      ok(g, 'get')
      assert.equal(g.stdout, '')
      assert.ok((await fs.readFile(out)).equals(content))
      // default output name: the CID, in the working directory
      const cwd = path.join(t.dir, 'cwd')
      await fs.mkdir(cwd)
      const g2 = await cairn(['get', a.stdout.trim(), '--repo', repo], { cwd })
      ok(g2, 'get without -o')
      assert.deepEqual(await fs.readdir(cwd), [a.stdout.trim()])
      assert.ok((await fs.readFile(path.join(cwd, a.stdout.trim()))).equals(content))
    } finally {
      await t.cleanup()
    }
  })

  test('get of a directory gives the same tree; symlinks come back as symlinks, not followed', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      const outside = path.join(t.dir, 'outside')
      await fs.mkdir(outside)
      await fs.writeFile(path.join(outside, 'target.txt'), 'outside\n')
      const d = await makeTree(t.dir, path.join(outside, 'target.txt'))
      const a = await cairn(['add', '-r', d, '-Q', '--repo', repo])
      ok(a, 'add')
      const out = path.join(t.dir, 'out')
      const g = await cairn(['get', a.stdout.trim(), '-o', out, '--repo', repo])
      ok(g, 'get')
      const want = await snapshot(d, true)
      assert.deepEqual(await snapshot(out), want)
      assert.ok((await fs.lstat(path.join(out, 'abs-link'))).isSymbolicLink())
      assert.equal(await fs.readlink(path.join(out, 'abs-link')), path.join(outside, 'target.txt'))
      // the symlinked file outside was neither copied in nor touched
      assert.deepEqual(await snapshot(outside), { 'target.txt': { type: 'file', bytes: Buffer.from('outside\n').toString('base64') } })
      // nothing else appeared beside the output
      assert.deepEqual((await fs.readdir(t.dir)).sort(), ['out', 'outside', 'repo', 'site'])

      // a path inside the DAG, to its default name in the working directory
      const cwd = path.join(t.dir, 'cwd')
      await fs.mkdir(cwd)
      const sub = await cairn(['get', `${a.stdout.trim()}/docs`, '--repo', repo], { cwd })
      ok(sub, 'get root/docs')
      assert.deepEqual(await snapshot(path.join(cwd, 'docs')), await snapshot(path.join(d, 'docs')))
      assert.deepEqual(await fs.readdir(cwd), ['docs'])
    } finally {
      await t.cleanup()
    }
  })

  test('get refuses to replace an existing file or directory without --force, and replaces it with --force', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      const file = path.join(t.dir, 'new.txt')
      await fs.writeFile(file, 'new content\n')
      const dir = path.join(t.dir, 'newdir')
      await fs.mkdir(dir)
      await fs.writeFile(path.join(dir, 'inner.txt'), 'inner\n')
      const fcid = (await cairn(['add', file, '-Q', '--repo', repo])).stdout.trim()
      const dcid = (await cairn(['add', '-r', dir, '-Q', '--repo', repo])).stdout.trim()
      assert.ok(fcid !== '' && dcid !== '')

      const existingFile = path.join(t.dir, 'existing.txt')
      await fs.writeFile(existingFile, 'precious\n')
      const existingDir = path.join(t.dir, 'existing-dir')
      await fs.mkdir(existingDir)
      await fs.writeFile(path.join(existingDir, 'keep.txt'), 'keep\n')

      for (const [cid, target] of [[fcid, existingFile], [dcid, existingFile], [fcid, existingDir], [dcid, existingDir]]) {
        const before = (await fs.lstat(target)).isDirectory() ? await snapshot(target) : await fs.readFile(target, 'utf8')
        const r = await cairn(['get', cid, '-o', target, '--repo', repo])
        assert.equal(r.code, 1, `get ${cid} -o ${target} without --force`)
        assert.match(errorLine(r), /already exists.*--force/)
        const after = (await fs.lstat(target)).isDirectory() ? await snapshot(target) : await fs.readFile(target, 'utf8')
        assert.deepEqual(after, before)
      }

      ok(await cairn(['get', fcid, '-o', existingFile, '--force', '--repo', repo]), 'get --force file over file')
      assert.equal(await fs.readFile(existingFile, 'utf8'), 'new content\n')
      ok(await cairn(['get', dcid, '-o', existingDir, '-f', '--repo', repo]), 'get -f dir over dir')
      assert.deepEqual(await snapshot(existingDir), await snapshot(dir))
      ok(await cairn(['get', fcid, '-o', existingDir, '--force', '--repo', repo]), 'get --force file over dir')
      assert.equal(await fs.readFile(existingDir, 'utf8'), 'new content\n')
      // no temp or moved-aside copies are left
      assert.deepEqual((await fs.readdir(t.dir)).sort(), ['existing-dir', 'existing.txt', 'new.txt', 'newdir', 'repo'])
    } finally {
      await t.cleanup()
    }
  })

  test('get --force of a directory over an existing file replaces the file', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      const dir = path.join(t.dir, 'newdir')
      await fs.mkdir(dir)
      await fs.writeFile(path.join(dir, 'inner.txt'), 'inner\n')
      const dcid = (await cairn(['add', '-r', dir, '-Q', '--repo', repo])).stdout.trim()
      const existingFile = path.join(t.dir, 'existing.txt')
      await fs.writeFile(existingFile, 'precious\n')
      const r = await cairn(['get', dcid, '-o', existingFile, '--force', '--repo', repo])
      ok(r, 'get --force dir over file')
      assert.deepEqual(await snapshot(existingFile), await snapshot(dir))
      assert.deepEqual((await fs.readdir(t.dir)).sort(), ['existing.txt', 'newdir', 'repo'])
    } finally {
      await t.cleanup()
    }
  })

  test('get --force over a symlink replaces the link and writes nothing through it', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      const file = path.join(t.dir, 'f.txt')
      await fs.writeFile(file, 'fresh\n')
      const cid = (await cairn(['add', file, '-Q', '--repo', repo])).stdout.trim()
      const victim = path.join(t.dir, 'victim.txt')
      await fs.writeFile(victim, 'untouched\n')
      const link = path.join(t.dir, 'link')
      await fs.symlink(victim, link)
      const r = await cairn(['get', cid, '-o', link, '--force', '--repo', repo])
      ok(r, 'get --force over symlink')
      assert.equal(await fs.readFile(victim, 'utf8'), 'untouched\n')
      assert.ok((await fs.lstat(link)).isFile())
      assert.equal(await fs.readFile(link, 'utf8'), 'fresh\n')
    } finally {
      await t.cleanup()
    }
  })

  test('get --json reports the result as one JSON line on stdout', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      const file = path.join(t.dir, 'f.txt')
      await fs.writeFile(file, '12345\n')
      const cid = (await cairn(['add', file, '-Q', '--repo', repo])).stdout.trim()
      const out = path.join(t.dir, 'out.txt')
      const r = await cairn(['get', cid, '-o', out, '--json', '--repo', repo])
      ok(r, 'get --json')
      assert.deepEqual(JSON.parse(r.stdout), { cid, output: out, bytes: 6, files: 1 })
    } finally {
      await t.cleanup()
    }
  })
})

describe('the command line', { concurrency: true }, () => {
  test('global flags work before and after the command name', async () => {
    const t = await tempDir()
    try {
      const file = path.join(t.dir, 'f.txt')
      await fs.writeFile(file, 'global flags\n')
      const r1 = path.join(t.dir, 'r1')
      const r2 = path.join(t.dir, 'r2')
      const before = await cairn(['--repo', r1, 'add', file])
      const after = await cairn(['add', file, '--repo', r2])
      ok(before, 'cairn --repo R add F')
      ok(after, 'cairn add F --repo R')
      assert.equal(before.stdout, after.stdout)
      // each went to the repo it named
      const cid = await rawCid(Buffer.from('global flags\n'))
      for (const repo of [r1, r2]) {
        const c = await cairn(['cat', cid, `--repo=${repo}`])
        ok(c, `cat from ${repo}`)
        assert.equal(c.stdout, 'global flags\n')
      }
      const json = await cairn(['--json', '--repo', r1, 'ls', cid])
      ok(json, 'cairn --json --repo R ls CID')
      assert.deepEqual(JSON.parse(json.stdout), { cid, size: 13, name: cid, type: 'raw' })
    } finally {
      await t.cleanup()
    }
  })

  test('--help for a command prints its usage on stdout and exits 0, before or after the name', async () => {
    for (const args of [['add', '--help'], ['--help', 'get'], ['ls', '-h']]) {
      const r = await cairn(args)
      ok(r, args.join(' '))
      assert.match(r.stdout, /Usage/)
      assert.match(r.stdout, new RegExp(`\\$ cairn ${args.find(a => !a.startsWith('-'))} `))
      assert.match(r.stdout, /--repo DIR/)
      assert.equal(r.stderr, '')
    }
    const add = await cairn(['add', '--help'])
    for (const flag of ['--recursive', '--wrap-with-directory', '--quieter', '--only-hash', '--hidden', '--profile', '--cid-version', '--raw-leaves', '--chunker', '--no-pin']) {
      assert.ok(add.stdout.includes(flag), `add --help does not mention ${flag}`)
    }
  })

  test('an unknown flag is one Error line naming it, exit 2', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      const file = path.join(t.dir, 'f.txt')
      await fs.writeFile(file, 'x')
      for (const [args, flag] of [[['add', file, '--frobnicate'], '--frobnicate'], [['cat', '-z', 'bafkqaaa'], '-z'], [['--bogus-global', 'ls', 'bafkqaaa'], '--bogus-global']] as const) {
        const r = await cairn([...args, '--repo', repo])
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
        assert.ok(errorLine(r).includes(flag), r.stderr)
        assert.equal(r.stdout, '')
      }
      // nothing was added by the refused add
      assert.equal(await exists(path.join(repo, 'blocks')) ? (await fs.readdir(path.join(repo, 'blocks'))).length : 0, 0)
    } finally {
      await t.cleanup()
    }
  })

  test('an unknown command is one Error line naming it, exit 2', async () => {
    const r = await cairn(['frobnicate', 'x'])
    assert.equal(r.code, 2)
    assert.match(errorLine(r), /"frobnicate"/)
    assert.equal(r.stdout, '')
  })

  test('--version prints the package version', async () => {
    const pkg = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }
    for (const flag of ['--version', '-v']) {
      const r = await cairn([flag])
      ok(r, flag)
      assert.equal(r.stdout, `${pkg.version}\n`)
      assert.equal(r.stderr, '')
    }
  })
})

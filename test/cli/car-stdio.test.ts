// CAR and proof output meets the terminal: `car import -` reads stdin,
// `car export` and `proof` refuse to write binary to a terminal (a real pty,
// through script(1)), and `car export -o FILE` does not replace FILE without
// --force.

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { describe, test } from 'node:test'
import { CAIRN, NODE_FLAGS, ROOT, cairn, errorLine, ok, run, withTemp } from '../helpers.ts'

const execFileP = promisify(execFile)
/** bound on one command run under script(1) */
const PTY_TIMEOUT_MS = 60_000

const sh = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`

/** Runs cairn with stdout (and stderr) on a pseudo-terminal; its exit code and what the terminal showed. */
async function onTerminal (args: string[]): Promise<{ code: number, screen: string }> {
  const cmd = [process.execPath, ...NODE_FLAGS, CAIRN, ...args].map(sh).join(' ')
  try {
    const { stdout } = await execFileP('script', ['-qec', cmd, '/dev/null'], { cwd: ROOT, timeout: PTY_TIMEOUT_MS, encoding: 'latin1' })
    return { code: 0, screen: stdout }
  } catch (err) {
    const e = err as { code?: number, stdout?: string }
    if (typeof e.code !== 'number') throw err
    return { code: e.code, screen: e.stdout ?? '' }
  }
}

describe('CAR and proof output', { concurrency: true }, () => {
  test('car export and proof without -o refuse a terminal: one Error line, exit 1, no binary on the screen', async () => {
    await withTemp('cairn-car-tty-', async dir => {
      const repo = path.join(dir, 'repo')
      await fs.writeFile(path.join(dir, 'f.txt'), 'terminal test\n')
      const added = await run(repo, 'add', '-Q', path.join(dir, 'f.txt'))
      ok(added, 'add')
      const cid = added.stdout.trim()
      for (const args of [['car', 'export', cid], ['proof', cid]]) {
        const r = await onTerminal(['--repo', repo, ...args])
        assert.equal(r.code, 1, `${args[0]}: exit ${r.code}, screen ${JSON.stringify(r.screen)}`)
        const lines = r.screen.split(/\r?\n/).filter(l => l !== '')
        assert.equal(lines.length, 1, JSON.stringify(r.screen))
        assert.match(lines[0], /^Error: (car export|proof) writes binary data; not writing it to a terminal \(use -o FILE or redirect stdout\)$/)
      }
      // into a pipe it still writes the CAR
      const piped = await run(repo, 'car', 'export', cid)
      ok(piped, 'car export | …')
      assert.ok(piped.stdoutBytes.length > 0)
    })
  })

  test('car import - reads the CAR from stdin (not a file named -)', async () => {
    await withTemp('cairn-car-stdin-', async dir => {
      const src = path.join(dir, 'src')
      await fs.writeFile(path.join(dir, 'f.txt'), 'through stdin\n')
      const added = await run(src, 'add', '-Q', path.join(dir, 'f.txt'))
      ok(added, 'add')
      const cid = added.stdout.trim()
      const car = (await run(src, 'car', 'export', cid)).stdoutBytes
      const dst = path.join(dir, 'dst')
      const imported = await cairn(['--repo', dst, 'car', 'import', '-'], { stdin: car, cwd: dir })
      ok(imported, 'car import -')
      assert.equal(imported.stdout, `imported ${cid}\n`)
      const cat = await run(dst, 'cat', cid, '--offline')
      ok(cat, 'cat')
      assert.equal(cat.stdout, 'through stdin\n')
      const both = await cairn(['--repo', dst, 'car', 'import', '-', path.join(dir, 'x.car')], { stdin: car })
      assert.equal(both.code, 2)
      assert.match(errorLine(both), /either stdin \(-\) or files/)
    })
  })

  test('car export -o FILE refuses an existing FILE without --force (exit 1, FILE untouched); --force replaces it', async () => {
    await withTemp('cairn-car-force-', async dir => {
      const repo = path.join(dir, 'repo')
      await fs.writeFile(path.join(dir, 'f.txt'), 'force test\n')
      const added = await run(repo, 'add', '-Q', path.join(dir, 'f.txt'))
      ok(added, 'add')
      const out = path.join(dir, 'out.car')
      await fs.writeFile(out, 'precious')
      const r = await run(repo, 'car', 'export', added.stdout.trim(), '-o', out)
      assert.equal(r.code, 1)
      assert.equal(errorLine(r), `Error: ${out} already exists (use --force to replace it)`)
      assert.equal(await fs.readFile(out, 'utf8'), 'precious')
      assert.deepEqual((await fs.readdir(dir)).filter(n => n.startsWith('.')), [], 'no temp file left')
      ok(await run(repo, 'car', 'export', added.stdout.trim(), '-o', out, '--force'), 'car export --force')
      assert.notEqual(await fs.readFile(out, 'utf8'), 'precious')
    })
  })
})

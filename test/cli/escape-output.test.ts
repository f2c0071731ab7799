// Names from strangers — file names in a DAG, manifest names — reach the
// terminal escaped: a name holding ESC or a newline cannot clear the screen
// or forge a line. In add, ls, verify, error lines and a seed's log.

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { after, describe, test } from 'node:test'
import { cairn, errorLine, ok, run, withTemp } from '../helpers.ts'
import { Resources, waitFor } from '../integration/seeds.ts'

/** ESC [2J clears a terminal; the newline would forge a second output line */
const EVIL = 'evil\x1b[2Jname\nline'
const SHOWN = 'evil\\x1b[2Jname\\nline'
/** a bound on the wait for the seed's log line */
const LOG_WAIT_MS = 30_000

const res = new Resources()
after(async () => { await res.close() })

function clean (text: string, what: string): void {
  // eslint-disable-next-line no-control-regex -- a raw ESC is what must not appear
  assert.doesNotMatch(text, /\x1b/, `${what} printed a raw ESC`)
}

describe('escaped names', { concurrency: true }, () => {
  test('add and ls print a file name with ESC and a newline escaped, one line each', async () => {
    await withTemp('cairn-escape-', async dir => {
      const repo = path.join(dir, 'repo')
      await fs.mkdir(path.join(dir, 'd'))
      await fs.writeFile(path.join(dir, 'd', EVIL), 'x')
      const added = await run(repo, 'add', '-r', path.join(dir, 'd'))
      ok(added, 'add -r')
      clean(added.stdout, 'add')
      const lines = added.stdout.split('\n').filter(l => l !== '')
      assert.equal(lines.length, 2, added.stdout)
      assert.match(lines[0], new RegExp(`^added \\w+ d/${SHOWN.replace(/[\\[]/g, '\\$&')}$`))
      const root = lines[1].split(' ')[1]
      const ls = await run(repo, 'ls', root)
      ok(ls, 'ls')
      clean(ls.stdout, 'ls')
      assert.equal(ls.stdout.split('\n').filter(l => l !== '').length, 1)
      assert.ok(ls.stdout.trimEnd().endsWith(` 1 ${SHOWN}`), ls.stdout)
      // --json keeps the real name for programs
      const json = await run(repo, 'ls', root, '--json')
      assert.equal((JSON.parse(json.stdout) as { name: string }).name, EVIL)
      // an error line naming a path through it stays one line
      const missing = await run(repo, 'cat', `${root}/${EVIL}x`, '--offline')
      clean(missing.stderr, 'an error line')
      errorLine(missing)
    })
  })

  test('verify prints a manifest name with ESC and a newline escaped', async () => {
    await withTemp('cairn-escape-', async dir => {
      const repo = path.join(dir, 'repo')
      await fs.writeFile(path.join(dir, EVIL), 'named by a stranger\n')
      const added = await run(repo, 'add', '-Q', path.join(dir, EVIL))
      ok(added, 'add')
      const v = await run(repo, 'verify', added.stdout.trim())
      clean(v.stdout + v.stderr, 'verify')
      assert.ok(v.stdout.includes(`names "${SHOWN}"`), v.stdout)
      assert.equal(v.stdout.split('\n').filter(l => l !== '').length, 4, 'content, manifest, signature, anchored')
    })
  })

  test("a seed's log line quoting a name is escaped", async () => {
    const dir = await res.dir('cairn-escape-seed-')
    const src = path.join(dir, 'src')
    await fs.writeFile(path.join(dir, 'f.txt'), 'logged\n')
    const added = await run(src, 'add', '-Q', path.join(dir, 'f.txt'))
    ok(added, 'add')
    const car = path.join(dir, `${EVIL}.car`)
    ok(await run(src, 'car', 'export', added.stdout.trim(), '-o', car), 'car export')
    const s = await res.seed(path.join(dir, 'seed'))
    ok(await cairn(['--repo', s.repo, 'car', 'import', car]), 'car import through the seed')
    await waitFor('the import logged', async () => s.stderr().includes(`from ${SHOWN}.car`), LOG_WAIT_MS)
    clean(s.stderr(), 'the seed log')
  })
})

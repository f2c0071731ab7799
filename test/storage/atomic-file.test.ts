// storage/atomic-file.ts: a whole file or none at its name, a temp never
// left behind, and link mode never replacing a file that is there.

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { after, test } from 'node:test'
import { writeFileAtomic } from '../../storage/atomic-file.ts'
import { tempDir } from '../helpers.ts'

const cleanups: Array<() => Promise<void>> = []
after(async () => { for (const c of cleanups) await c() })

async function dirFor (): Promise<string> {
  const { dir, cleanup } = await tempDir()
  cleanups.push(cleanup)
  return dir
}

test('replace: the new content takes the name, the temp is gone, the mode is the one asked for', async () => {
  const dir = await dirFor()
  const file = path.join(dir, 'config.json')
  await fs.writeFile(file, 'old')
  await writeFileAtomic(file, 'new', { durability: 'fsync', mode: 0o600 })
  assert.equal(await fs.readFile(file, 'utf8'), 'new')
  assert.equal((await fs.stat(file)).mode & 0o777, 0o600)
  assert.deepEqual(await fs.readdir(dir), ['config.json'])
})

test('no replace: an existing file is kept and EEXIST thrown, with no temp left', async () => {
  const dir = await dirFor()
  const file = path.join(dir, 'identity.key')
  await fs.writeFile(file, 'first')
  await assert.rejects(writeFileAtomic(file, 'second', { durability: 'fsync', replace: false }), { code: 'EEXIST' })
  assert.equal(await fs.readFile(file, 'utf8'), 'first')
  assert.deepEqual(await fs.readdir(dir), ['identity.key'])
  await writeFileAtomic(path.join(dir, 'other.key'), 'x', { durability: 'none', replace: false })
  assert.deepEqual((await fs.readdir(dir)).sort(), ['identity.key', 'other.key'])
})

test('a fill that fails leaves the old file and no temp', async () => {
  const dir = await dirFor()
  const file = path.join(dir, 'out')
  await fs.writeFile(file, 'old')
  await assert.rejects(writeFileAtomic(file, async fh => {
    await fh.write('part')
    throw new Error('source failed')
  }, { durability: 'fsync', temp: path.join(dir, '.out.tmp'), freshTemp: true }), /source failed/)
  assert.equal(await fs.readFile(file, 'utf8'), 'old')
  assert.deepEqual(await fs.readdir(dir), ['out'])
})

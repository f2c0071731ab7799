// storage/chain-files.ts: the keys it remembers writing (so a repeat costs no
// system call) are the recent ones, and only so many (issue 22: 65,536 kept
// until full held ~7 MiB in a seed that ran for hours).

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { ChainFiles, MAX_REMEMBERED_WRITES } from '../../storage/chain-files.ts'
import { withTemp } from '../helpers.ts'

const key = (i: number): string => `bafy${String(i).padStart(10, '0')}`
const BYTES = new Uint8Array([1, 2, 3])

test('chain files: a repeat of a recent write costs no write; a key not written lately is written again', async () => {
  await withTemp('cairn-chain-files-', async dir => {
    const files = new ChainFiles(dir, true)
    await files.open()
    const fileOf = (k: string): string => path.join(dir, 'objects', k.slice(-2), k)
    const exists = async (k: string): Promise<boolean> => await fs.access(fileOf(k)).then(() => true, () => false)
    // every empty block's body: written again and again among new keys
    const repeated = key(0)
    await files.put(repeated, BYTES)
    for (let i = 1; i <= 2 * MAX_REMEMBERED_WRITES; i++) {
      await files.put(key(i), BYTES)
      if (i % 100 === 0) await files.put(repeated, BYTES)
    }
    // removed behind the store's back: a remembered key is not written again, a forgotten one is
    await fs.rm(fileOf(repeated))
    await fs.rm(fileOf(key(1)))
    await files.put(repeated, BYTES)
    await files.put(key(1), BYTES)
    assert.equal(await exists(repeated), false, 'the key written lately is remembered')
    assert.equal(await exists(key(1)), true, `a key ${2 * MAX_REMEMBERED_WRITES} writes old is forgotten`)
    assert.deepEqual(new Uint8Array(await fs.readFile(fileOf(key(1)))), BYTES)
  })
})

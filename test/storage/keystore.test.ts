import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { KeyStore, KeyExistsError, KeyNotFoundError } from '../../storage/keystore.ts'
import { UsageError } from '../../storage/errors.ts'

test('keys are files of mode 0600 in a folder of mode 0700; names are checked; no overwrite', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-keys-'))
  try {
    const ks = new KeyStore(root)
    assert.deepEqual(await ks.list(), [])
    await ks.create('blog', Uint8Array.of(1, 2, 3))
    await ks.create('a-b_c.1', Uint8Array.of(4))
    assert.deepEqual(await ks.list(), ['a-b_c.1', 'blog'])
    assert.deepEqual([...await ks.read('blog')], [1, 2, 3])
    assert.equal((await fs.stat(path.join(root, 'keys'))).mode & 0o777, 0o700)
    assert.equal((await fs.stat(path.join(root, 'keys', 'blog'))).mode & 0o777, 0o600)
    await assert.rejects(ks.create('blog', Uint8Array.of(9)), KeyExistsError)
    assert.deepEqual([...await ks.read('blog')], [1, 2, 3])
    for (const bad of ['', '.hidden', '../x', 'a/b', 'x'.repeat(65), 'sp ace', 'nul\0']) await assert.rejects(ks.create(bad, Uint8Array.of(1)), UsageError, JSON.stringify(bad))
    await ks.remove('blog')
    await assert.rejects(ks.read('blog'), KeyNotFoundError)
    await assert.rejects(ks.remove('blog'), KeyNotFoundError)
    assert.deepEqual((await fs.readdir(path.join(root, 'keys'))), ['a-b_c.1'])
  } finally {
    await fs.rm(root, { recursive: true, force: true })
  }
})

// The repo holds the node's private key, the swarm key and the API token:
// it is made 0700 (docs/faults.md), by `init` and by first use alike.

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { Repo } from '../../storage/repo.ts'
import { ok, run, withTemp } from '../helpers.ts'

const modeOf = async (p: string): Promise<number> => (await fs.stat(p)).mode & 0o777

test('cairn init makes the repo and its folders 0700, whatever the umask allows', async () => {
  await withTemp('cairn-mode-', async (dir) => {
    const repo = path.join(dir, 'nested', 'repo')
    ok(await run(repo, 'init'), 'init')
    assert.equal(await modeOf(repo), 0o700, 'repo folder')
    for (const sub of ['blocks', 'datastore']) assert.equal(await modeOf(path.join(repo, sub)), 0o700, sub)
  })
})

test('a repo made on first use, in a folder the user created 0755, ends 0700', async () => {
  await withTemp('cairn-mode-', async (dir) => {
    const root = path.join(dir, 'repo')
    await fs.mkdir(root, { mode: 0o755 })
    await fs.chmod(root, 0o755)
    const repo = await Repo.open(root, { write: true })
    await repo.close()
    assert.equal(await modeOf(root), 0o700)
  })
})

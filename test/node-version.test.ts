// The project pins Node 24 through the `node` npm package; tests that run on
// any other Node would prove nothing about what CI and users get.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { CAIRN, NODE_FLAGS, PINNED_NODE_MAJOR, tempDir } from './helpers.ts'

test(`tests run on the pinned Node ${PINNED_NODE_MAJOR}`, () => {
  const major = Number(process.versions.node.split('.')[0])
  assert.equal(major, PINNED_NODE_MAJOR,
    `FATAL: tests are running on Node ${process.versions.node}, not the pinned Node ${PINNED_NODE_MAJOR}. ` +
    'Run them with `npm test`, which puts node_modules/.bin (the pinned node) first on PATH.')
})

test('cairn run as a command goes through its #! line with the launcher\'s Node flags', async () => {
  assert.deepEqual(NODE_FLAGS, ['--max-semi-space-size=1', '--initial-old-space-size=64'])
  const { dir, cleanup } = await tempDir('cairn-launcher-')
  try {
    // a preload that reports the flags node was started with
    const probe = path.join(dir, 'probe.cjs')
    await fs.writeFile(probe, 'process.stderr.write("execArgv=" + JSON.stringify(process.execArgv) + "\\n")\n')
    // executed directly, as npm's bin link runs it; the pinned node first on PATH
    const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`, NODE_OPTIONS: `--require=${probe}` }
    const r = spawnSync(CAIRN, ['--version'], { encoding: 'utf8', env })
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /\d+\.\d+\.\d+/)
    assert.deepEqual(JSON.parse(/execArgv=(.*)/.exec(r.stderr)?.[1] ?? 'null'), NODE_FLAGS)
  } finally {
    await cleanup()
  }
})

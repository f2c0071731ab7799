// `cairn seed` runs with --expose-gc, which the launcher (cli/cairn.js)
// adds by re-executing itself once, in place, so that the seed can collect
// its garbage (core/daemon/collector.ts;
// docs/design.md, "The seed's memory"). Other commands start once, as they
// are. Loopback.

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, test } from 'node:test'
import { CAIRN, NODE_FLAGS, ROOT } from '../helpers.ts'
import { readApiFile, seedSuite } from './seeds.ts'

const suite = seedSuite('cairn-seed-gc-')

describe('the seed\'s garbage collection', { timeout: 120_000 }, () => {
  test('cairn seed runs in the process that was started, with the launcher\'s Node flags and --expose-gc', async () => {
    // a preload that records each start of Node (its main thread; the seed's block writer is a worker): its pid, its flags, whether gc is there
    const probe = path.join(suite.dir, 'starts.cjs')
    const starts = path.join(suite.dir, 'starts.txt')
    await fs.writeFile(probe, `if (require('node:worker_threads').isMainThread) require('node:fs').appendFileSync(${JSON.stringify(starts)}, JSON.stringify([process.pid, process.execArgv, typeof globalThis.gc]) + '\\n')\n`)
    const seed = await suite.seed('plain', { env: { NODE_OPTIONS: `--require=${probe}` }, args: ['--no-tui'] })
    // replaced in place, once: the pid the caller holds is the seed's (signals, `cairn shutdown`, the api file)
    assert.equal((await readApiFile(seed.repo)).pid, seed.pid)
    const lines = (await fs.readFile(starts, 'utf8')).trim().split('\n').map(l => JSON.parse(l) as [number, string[], string])
    assert.deepEqual(lines, [
      [seed.pid, NODE_FLAGS, 'undefined'],
      [seed.pid, [...NODE_FLAGS, '--expose-gc'], 'function']
    ])
  })

  test('other commands start once, without it (a --repo named seed, `help seed`)', async () => {
    const probe = path.join(suite.dir, 'probe.cjs')
    await fs.writeFile(probe, 'process.stderr.write("probe " + process.pid + " " + typeof globalThis.gc + "\\n")\n')
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: `--require=${probe}` }
    const r = spawnSync(process.execPath, [...NODE_FLAGS, CAIRN, '--repo', path.join(suite.dir, 'seed'), 'help', 'seed'], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 })
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /cairn seed/)
    const probes = r.stderr.split('\n').filter(l => l.startsWith('probe '))
    assert.deepEqual(probes, [`probe ${r.pid ?? ''} undefined`])
  })
})

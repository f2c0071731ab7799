// `cairn seed` runs with --expose-gc and, on Linux, glibc's malloc tuned,
// which the launcher (cli/cairn.js) sets by re-executing itself once, in
// place: the seed collects its garbage every half minute
// (core/daemon/daemon.ts COLLECT_EVERY_MS) and keeps no malloc high-water
// mark (docs/design.md, "The seed's memory"). A value the user set is kept;
// other commands start once, as they are. Loopback.

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, test } from 'node:test'
import { CAIRN, NODE_FLAGS, ROOT } from '../helpers.ts'
import { readApiFile, seedSuite } from './seeds.ts'

const suite = seedSuite('cairn-seed-gc-')

/** what the launcher sets for the seed on Linux */
const TUNED = process.platform === 'linux' ? { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' } : { MALLOC_ARENA_MAX: null, MALLOC_MMAP_THRESHOLD_: null }
/** the environment without them, as a user's shell has it */
const UNSET = { MALLOC_ARENA_MAX: undefined, MALLOC_MMAP_THRESHOLD_: undefined }

describe('the seed\'s garbage collection', { timeout: 120_000 }, () => {
  test('cairn seed runs in the process that was started, with the launcher\'s Node flags, --expose-gc and malloc tuned', async () => {
    // a preload that records each start of Node (its main thread; the seed's block writer is a worker): its pid, its flags, whether gc is there
    const probe = path.join(suite.dir, 'starts.cjs')
    const starts = path.join(suite.dir, 'starts.txt')
    await fs.writeFile(probe, `if (require('node:worker_threads').isMainThread) require('node:fs').appendFileSync(${JSON.stringify(starts)}, JSON.stringify([process.pid, process.execArgv, typeof globalThis.gc, process.env.MALLOC_ARENA_MAX ?? null, process.env.MALLOC_MMAP_THRESHOLD_ ?? null]) + '\\n')\n`)
    const seed = await suite.seed('plain', { env: { ...UNSET, NODE_OPTIONS: `--require=${probe}` }, args: ['--no-tui'] })
    // replaced in place, once: the pid the caller holds is the seed's (signals, `cairn shutdown`, the api file)
    assert.equal((await readApiFile(seed.repo)).pid, seed.pid)
    const lines = (await fs.readFile(starts, 'utf8')).trim().split('\n').map(l => JSON.parse(l) as [number, string[], string, string | null, string | null])
    assert.deepEqual(lines, [
      [seed.pid, NODE_FLAGS, 'undefined', null, null],
      [seed.pid, [...NODE_FLAGS, '--expose-gc'], 'function', TUNED.MALLOC_ARENA_MAX, TUNED.MALLOC_MMAP_THRESHOLD_]
    ])
  })

  test('a malloc variable the user set is kept; the one not set is added', { skip: process.platform !== 'linux' ? 'glibc tuning is Linux only' : false }, async () => {
    const seed = await suite.seed('own', { env: { ...UNSET, MALLOC_ARENA_MAX: '4' }, args: ['--no-tui'] })
    const env = Object.fromEntries((await fs.readFile(`/proc/${seed.pid}/environ`, 'utf8')).split('\0').filter(e => e.includes('=')).map(e => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
    assert.equal(env.MALLOC_ARENA_MAX, '4')
    assert.equal(env.MALLOC_MMAP_THRESHOLD_, TUNED.MALLOC_MMAP_THRESHOLD_)
  })

  test('other commands start once, without it (a --repo named seed, `help seed`)', async () => {
    const probe = path.join(suite.dir, 'probe.cjs')
    await fs.writeFile(probe, 'process.stderr.write("probe " + process.pid + " " + typeof globalThis.gc + " " + (process.env.MALLOC_ARENA_MAX ?? "unset") + "\\n")\n')
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: `--require=${probe}` }
    delete env.MALLOC_ARENA_MAX
    delete env.MALLOC_MMAP_THRESHOLD_
    const r = spawnSync(process.execPath, [...NODE_FLAGS, CAIRN, '--repo', path.join(suite.dir, 'seed'), 'help', 'seed'], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 })
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /cairn seed/)
    const probes = r.stderr.split('\n').filter(l => l.startsWith('probe '))
    assert.deepEqual(probes, [`probe ${r.pid ?? ''} undefined unset`])
  })
})

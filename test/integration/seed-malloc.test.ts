// `cairn seed` runs with glibc's malloc tuned and without the launcher's
// --initial-old-space-size (cli/cairn.js re-executes itself for it, in
// place: docs/design.md, "The seed's memory"), which held its RSS where the
// soak saw it grow (docs/faults.md); other commands run as they are, and a
// value the user set is kept. Linux only (glibc). Loopback.

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, test } from 'node:test'
import { CAIRN, NODE_FLAGS, ROOT } from '../helpers.ts'
import { readApiFile, seedSuite } from './seeds.ts'

/** the launcher's flags the seed keeps: all but the old generation's starting size */
const SEED_FLAGS = NODE_FLAGS.filter(f => !f.startsWith('--initial-old-space-size='))

/** what the launcher sets for the seed */
const TUNED = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' }
/** the environment without them, as a user's shell has it */
const UNSET = { MALLOC_ARENA_MAX: undefined, MALLOC_MMAP_THRESHOLD_: undefined }

/** /proc/PID/environ as an object */
async function environOf (pid: number): Promise<Record<string, string>> {
  const raw = await fs.readFile(`/proc/${pid}/environ`, 'utf8')
  return Object.fromEntries(raw.split('\0').filter(e => e.includes('=')).map(e => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
}

const suite = seedSuite('cairn-seed-malloc-')

describe('the seed\'s malloc', { timeout: 120_000, skip: process.platform !== 'linux' ? 'glibc tuning is Linux only' : false }, () => {
  test('cairn seed runs with MALLOC_ARENA_MAX=2 and a fixed mmap threshold, in the process that was started, with the launcher\'s Node flags but --initial-old-space-size', async () => {
    // a preload that records each start of Node (its main thread; the seed's block writer is a worker): its pid, flags and malloc variables
    const probe = path.join(suite.dir, 'starts.cjs')
    const starts = path.join(suite.dir, 'starts.txt')
    await fs.writeFile(probe, `if (require('node:worker_threads').isMainThread) require('node:fs').appendFileSync(${JSON.stringify(starts)}, JSON.stringify([process.pid, process.execArgv, process.env.MALLOC_ARENA_MAX, process.env.MALLOC_MMAP_THRESHOLD_]) + '\\n')\n`)
    const seed = await suite.seed('plain', { env: { ...UNSET, NODE_OPTIONS: `--require=${probe}` }, args: ['--no-tui'] })
    const env = await environOf(seed.pid)
    assert.equal(env.MALLOC_ARENA_MAX, TUNED.MALLOC_ARENA_MAX)
    assert.equal(env.MALLOC_MMAP_THRESHOLD_, TUNED.MALLOC_MMAP_THRESHOLD_)
    // replaced in place, once: the pid the caller holds is the seed's (signals, `cairn shutdown`, the api file)
    assert.equal((await readApiFile(seed.repo)).pid, seed.pid)
    assert.ok(SEED_FLAGS.length < NODE_FLAGS.length && SEED_FLAGS.length > 0)
    const lines = (await fs.readFile(starts, 'utf8')).trim().split('\n').map(l => JSON.parse(l) as [number, string[], string | null, string | null])
    assert.deepEqual(lines, [
      [seed.pid, NODE_FLAGS, null, null],
      [seed.pid, SEED_FLAGS, TUNED.MALLOC_ARENA_MAX, TUNED.MALLOC_MMAP_THRESHOLD_]
    ])
  })

  test('a value the user set is kept; the one not set is added', async () => {
    const seed = await suite.seed('own', { env: { ...UNSET, MALLOC_ARENA_MAX: '4' }, args: ['--no-tui'] })
    const env = await environOf(seed.pid)
    assert.equal(env.MALLOC_ARENA_MAX, '4')
    assert.equal(env.MALLOC_MMAP_THRESHOLD_, TUNED.MALLOC_MMAP_THRESHOLD_)
  })

  test('other commands start once, with malloc as it is (a --repo named seed, `help seed`)', async () => {
    const probe = path.join(suite.dir, 'probe.cjs')
    await fs.writeFile(probe, 'process.stderr.write("probe " + process.pid + " " + (process.env.MALLOC_ARENA_MAX ?? "unset") + "\\n")\n')
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: `--require=${probe}` }
    delete env.MALLOC_ARENA_MAX
    delete env.MALLOC_MMAP_THRESHOLD_
    const r = spawnSync(process.execPath, [...NODE_FLAGS, CAIRN, '--repo', path.join(suite.dir, 'seed'), 'help', 'seed'], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 })
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /cairn seed/)
    const probes = r.stderr.split('\n').filter(l => l.startsWith('probe '))
    assert.deepEqual(probes, [`probe ${r.pid ?? ''} unset`])
  })
})

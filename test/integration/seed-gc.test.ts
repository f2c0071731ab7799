// `cairn seed` runs with --expose-gc, which the launcher (cli/cairn.js)
// adds by re-executing itself once, in place, so that the seed can collect
// its garbage (core/daemon/collector.ts;
// docs/design.md, "The seed's memory"), and with jemalloc preloaded where
// the system has it. Other commands start once, as they are. Loopback.

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, test } from 'node:test'
import { CAIRN, NODE_FLAGS, ROOT } from '../helpers.ts'
import { readApiFile, seedSuite } from './seeds.ts'

const suite = seedSuite('cairn-seed-gc-')

/** where the launcher looks for jemalloc (cli/cairn.js JEMALLOC); .ci/run installs Debian's libjemalloc2 */
const JEMALLOC = [
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2',
  '/usr/lib/libjemalloc.so.2',
  '/usr/local/lib/libjemalloc.so.2'
].find(p => existsSync(p))

async function onJemalloc (pid: number): Promise<boolean> {
  return (await fs.readFile(`/proc/${pid}/maps`, 'utf8')).includes('/libjemalloc.so')
}

async function envOf (pid: number, name: string): Promise<string | undefined> {
  const line = (await fs.readFile(`/proc/${pid}/environ`, 'utf8')).split('\0').find(l => l.startsWith(`${name}=`))
  return line?.slice(name.length + 1)
}

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

  test('on Linux the seed runs on jemalloc where the system has it, with its decay; CAIRN_MALLOC=system keeps glibc\'s malloc, and a MALLOC_CONF of the user\'s is kept', async t => {
    if (process.platform !== 'linux') { t.skip('the launcher preloads jemalloc on Linux only'); return }
    const unset = { LD_PRELOAD: undefined, MALLOC_CONF: undefined, CAIRN_MALLOC: undefined }
    const [plain, system, own] = await Promise.all([
      suite.seed('malloc-default', { env: unset, args: ['--no-tui'] }),
      suite.seed('malloc-system', { env: { ...unset, CAIRN_MALLOC: 'system' }, args: ['--no-tui'] }),
      suite.seed('malloc-conf', { env: { ...unset, MALLOC_CONF: 'dirty_decay_ms:1000' }, args: ['--no-tui'] })
    ])
    assert.equal(await onJemalloc(system.pid), false, 'CAIRN_MALLOC=system: glibc\'s malloc')
    assert.equal(await envOf(system.pid, 'LD_PRELOAD'), undefined)
    if (JEMALLOC == null) {
      // nothing to preload: the seed runs on glibc's malloc, as before
      assert.equal(await onJemalloc(plain.pid), false)
      assert.equal(await envOf(plain.pid, 'MALLOC_CONF'), undefined)
      return
    }
    assert.equal(await onJemalloc(plain.pid), true, `${JEMALLOC} is mapped in the seed`)
    assert.equal(await envOf(plain.pid, 'LD_PRELOAD'), JEMALLOC)
    assert.equal(await envOf(plain.pid, 'MALLOC_CONF'), 'dirty_decay_ms:30000,muzzy_decay_ms:0')
    assert.equal(await onJemalloc(own.pid), true)
    assert.equal(await envOf(own.pid, 'MALLOC_CONF'), 'dirty_decay_ms:1000')
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

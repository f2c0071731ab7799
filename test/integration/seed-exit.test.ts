// How `cairn seed` ends when it cannot run or is interrupted: a busy port is
// one line naming the address and what to do (exit 1); Ctrl-C while it is
// still starting stops it and exits 130 (interrupted); once it runs a signal
// is a clean stop, exit 0 (test/integration/seed.test.ts). Loopback only.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { after, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { CAIRN, NODE_FLAGS, ROOT, cairn, errorLine } from '../helpers.ts'
import { Resources, stopLive } from './seeds.ts'

/** a seed that is sent SIGINT while starting has stopped by then (its relay wait alone is 15 s) */
const STOP_WITHIN_MS = 12_000
/** the CLI has loaded and installed its signal handlers by then, and is still waiting for its relay */
const SIGNAL_AFTER_MS = 3000

const res = new Resources()
after(async () => {
  await res.close()
  await stopLive()
})

describe('seed exit codes', { timeout: 120_000 }, () => {
  test('a port in use: one line with the address, that it is in use, and what to do; exit 1', async () => {
    const dir = await res.dir()
    const first = await res.seed(path.join(dir, 'first'))
    const port = /\/tcp\/(\d+)\//.exec(first.addrs[0])?.[1]
    assert.ok(port != null)
    const addr = `/ip4/127.0.0.1/tcp/${port}`
    const second = await cairn(['seed', '--no-tui', '--repo', path.join(dir, 'second'), '--listen', addr], { timeoutMs: 60_000 })
    assert.equal(second.code, 1, second.stderr)
    const line = errorLine(second)
    assert.ok(line.includes(`${addr} is already in use`), line)
    assert.match(line, /stop that seed/)
    assert.match(line, /--listen \/ip4\/127\.0\.0\.1\/tcp\/0/)
    assert.doesNotMatch(second.stderr, /faultTolerance|\n\s+at /)
    // nothing is left behind: the repo is free
    await assert.rejects(fs.access(path.join(dir, 'second', 'repo.lock')))
  })

  test('Ctrl-C while the seed is starting: it stops and exits 130 with one line', async () => {
    const dir = await res.dir()
    const repo = path.join(dir, 'repo')
    // a relay nobody answers on: the seed waits for its reservation before it says it is up
    const relay = '/ip4/127.0.0.1/tcp/9/p2p/12D3KooWR3Vq5hHjy8Wa5A3JgmUVatqNM5BdmnsJs7aVUsGZNcoE'
    const child = spawn(process.execPath, [...NODE_FLAGS, CAIRN, 'seed', '--no-tui', '--repo', repo, '--listen', '/ip4/127.0.0.1/tcp/0', '--relay', relay], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s })
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
    const exited = new Promise<[number | null, NodeJS.Signals | null]>(resolve => child.on('exit', (c, s) => resolve([c, s])))
    const killer = setTimeout(() => child.kill('SIGKILL'), SIGNAL_AFTER_MS + STOP_WITHIN_MS)
    try {
      await sleep(SIGNAL_AFTER_MS)
      assert.doesNotMatch(stdout, /^listening /m, 'still starting')
      child.kill('SIGINT')
      const [code, signal] = await exited
      assert.deepEqual({ code, signal }, { code: 130, signal: null }, `stdout: ${stdout}\nstderr: ${stderr}`)
      assert.match(errorLine({ code, signal, stdout, stderr, stdoutBytes: Buffer.from(stdout) }), /^Error: seed was interrupted while it started/)
      await assert.rejects(fs.access(path.join(repo, 'repo.lock')), 'the lock is released')
    } finally {
      clearTimeout(killer)
      child.kill('SIGKILL')
    }
  })
})

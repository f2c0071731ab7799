// What a seed serves, as its plain log says it (`seed` without a terminal):
// a line when a peer starts fetching a root and one when it is done, naming
// the root by its manifest (escaped), over /cairn/blocks (a cairn fetcher)
// and over bitswap (a stock Helia node). Separate processes, loopback only.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { after, describe, test } from 'node:test'
import { ROOT, cairn, pseudoRandom } from '../helpers.ts'
import { Resources, stopLive, waitFor } from './seeds.ts'
import { UPLOAD_IDLE_MS } from '../../core/daemon/uploads.ts'

const MIB = 1024 * 1024
/** the log lines come within this long of the fetch (a finished one after UPLOAD_IDLE_MS) */
const LOG_WAIT_MS = UPLOAD_IDLE_MS + 10_000

const res = new Resources()
after(async () => {
  await res.close()
  await stopLive()
})

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

describe('a seed logs who fetches what', { timeout: 180_000 }, () => {
  test('a cairn fetch over /cairn/blocks: started and finished lines with the name from the manifest, escaped', async () => {
    const dir = await res.dir()
    const s = await res.seed(path.join(dir, 'seed'))
    // a stranger's kind of name: ESC and a newline in it must not reach the log raw
    const name = 'evil\x1b[2J\nname.bin'
    const file = path.join(dir, name)
    await fs.writeFile(file, pseudoRandom(3 * MIB + 5, 41))
    const added = await cairn(['add', '-Q', '--repo', s.repo, file])
    assert.equal(added.code, 0, added.stderr)
    const cid = added.stdout.trim()
    const fetcher = path.join(dir, 'fetcher')
    const got = await cairn(['get', cid, '--peer', s.addrs[0], '--repo', fetcher, '-o', path.join(dir, 'copy.bin')], { timeoutMs: 60_000 })
    assert.equal(got.code, 0, got.stderr)
    const id = (JSON.parse((await cairn(['id', '--json', '--repo', fetcher])).stdout) as { id: string }).id
    const label = `${escapeRe('evil\\x1b[2J\\nname.bin')} \\(${cid}\\)`
    await waitFor('the finished line', async () => new RegExp(`^peer ${id} finished fetching ${label}: \\d+ of \\d+ bytes`, 'm').test(s.stderr()), LOG_WAIT_MS)
    assert.match(s.stderr(), new RegExp(`^peer ${id} started fetching ${label}$`, 'm'))
    assert.ok(!s.stderr().includes('\x1b'), 'no raw ESC in the log')
  })

  test('a stock Helia node over bitswap: its fetch is logged too', async () => {
    const dir = await res.dir()
    const s = await res.seed(path.join(dir, 'seed'))
    const file = path.join(dir, 'over-bitswap.bin')
    await fs.writeFile(file, pseudoRandom(2 * MIB + 3, 42))
    const added = await cairn(['add', '-Q', '--repo', s.repo, file])
    assert.equal(added.code, 0, added.stderr)
    const cid = added.stdout.trim()
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'test', 'integration', 'helia-peer.js')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] })
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    try {
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
      const next = async (): Promise<Record<string, string>> => JSON.parse((await lines.next()).value as string) as Record<string, string>
      const helia = (await next()).listening.split('/p2p/').pop() as string
      child.stdin.write(JSON.stringify({ cat: cid, peer: s.addrs[0] }) + '\n')
      const got = await next()
      assert.equal(got.error, undefined, got.error)
      await waitFor('the finished line', async () => new RegExp(`^peer ${helia} finished fetching over-bitswap\\.bin \\(${cid}\\)`, 'm').test(s.stderr()), LOG_WAIT_MS)
      assert.match(s.stderr(), new RegExp(`^peer ${helia} started fetching over-bitswap\\.bin \\(${cid}\\)$`, 'm'))
    } finally {
      clearTimeout(killer)
      child.kill('SIGTERM')
    }
  })
})

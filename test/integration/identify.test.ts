// What a seed tells about itself, to a stock Helia node (identify) and to
// its user (`cairn id --json`), and what `cairn provide` refuses. Loopback
// only: a seed and a Helia node (helia-peer.ts) on 127.0.0.1.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { after, describe, test } from 'node:test'
import { ROOT, errorLine, run } from '../helpers.ts'
import { Resources } from './seeds.ts'

/** the Helia peer's first line, and each answer, arrive within this */
const HELIA_ANSWER_MS = 30_000

const pkg = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }

describe('identify, cairn id and cairn provide', { timeout: 120_000 }, () => {
  const res = new Resources()
  after(async () => { await res.close() })

  test('a stock Helia node sees the agent cairn/<version> and the protocols cairn id --json lists', async () => {
    const s = await res.seed(await res.dir())
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'test', 'integration', 'helia-peer.js')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] })
    const timer = setTimeout(() => child.kill('SIGKILL'), 2 * HELIA_ANSWER_MS)
    try {
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
      const next = async (): Promise<Record<string, unknown>> => {
        const { value, done } = await lines.next()
        if (done === true) throw new Error('the Helia peer exited')
        return JSON.parse(value as string) as Record<string, unknown>
      }
      await next() // its address
      child.stdin.write(JSON.stringify({ agent: s.addrs[0] }) + '\n')
      const seen = await next() as { agent: string | null, protocols: string[] }
      assert.equal(seen.agent, `cairn/${pkg.version}`)

      const id = await run(s.repo, 'id', '--json')
      assert.equal(id.code, 0, id.stderr)
      const info = JSON.parse(id.stdout) as { agent: string, protocols: string[], dhtMode: string }
      assert.equal(info.agent, `cairn/${pkg.version}`)
      // a local network's node is always a DHT server
      assert.equal(info.dhtMode, 'server')
      for (const p of ['/cairn/blocks/1.1.0', '/cairn/cairn/kad/1.0.0', '/ipfs/bitswap/1.2.0', '/ipfs/id/1.0.0', '/ipfs/ping/1.0.0']) {
        assert.ok(info.protocols.includes(p), `${p} not in ${info.protocols.join(' ')}`)
      }
      // what cairn says it answers is what identify told the Helia node
      assert.deepEqual([...seen.protocols].sort(), info.protocols)
      const text = await run(s.repo, 'id')
      assert.match(text.stdout, /^dht {7}server$/m)
      assert.match(text.stdout, new RegExp(`^agent {5}cairn/${pkg.version.replace(/\./g, '\\.')}$`, 'm'))
    } finally {
      clearTimeout(timer)
      child.kill('SIGTERM')
    }
  })

  test('cairn provide refuses a CID whose block the seed does not hold: one error line, exit 1', async () => {
    const s = await res.seed(await res.dir())
    const absent = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
    const r = await run(s.repo, 'provide', absent)
    assert.equal(r.code, 1, `exit ${r.code}: ${r.stdout}${r.stderr}`)
    assert.equal(errorLine(r), `Error: not providing ${absent}: this node does not hold that block (add or fetch it first)`)
  })
})

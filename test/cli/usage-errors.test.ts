// Usage errors exit 2 everywhere, and a failed dial says why: a malformed
// --peer is a usage error, a closed port is a refused connection, and only a
// peer that drops us in the handshake (what a deny list does) gets the hint
// about deny lists.

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { after, describe, test } from 'node:test'
import { errorLine, ok, run, withTemp } from '../helpers.ts'
import { Resources, freePort } from '../integration/seeds.ts'

const ABSENT = 'bafkreibnoelefnzgwbcacyt4vh52ymxvzbjq7mmqhtcnwarfq4lzegsiqe'
const res = new Resources()
after(async () => { await res.close() })

describe('usage errors and dial failures', { concurrency: true }, () => {
  test('a malformed --peer, --listen or --bootstrap is a usage error (exit 2) naming the flag, with no word of deny lists', async () => {
    await withTemp('cairn-usage-', async dir => {
      const repo = path.join(dir, 'repo')
      const cases: Array<[string, string[]]> = [
        ['--peer', ['get', ABSENT, '--peer', '/ip4/127.0.0.1/tcp/notaport', '-o', path.join(dir, 'o')]],
        ['--peer', ['cat', ABSENT, '--peer', 'not-a-multiaddr']],
        ['--bootstrap', ['ls', ABSENT, '--bootstrap', '/bogus/1']],
        ['--listen', ['seed', '--no-tui', '--listen', 'bogus']],
        ['--bootstrap', ['seed', '--no-tui', '--bootstrap', '/ip4/127.0.0.1/tcp/1/p2p/nonsense']]
      ]
      for (const [flag, args] of cases) {
        const r = await run(repo, ...args)
        assert.equal(r.code, 2, `${args.join(' ')}: exit ${String(r.code)}: ${r.stderr}`)
        const line = errorLine(r)
        assert.match(line, new RegExp(`^Error: ${flag} \\S+ is not a valid multiaddr`))
        assert.doesNotMatch(line, /deny/)
      }
    })
  })

  test('an invalid CID argument is a usage error (exit 2) for every command that takes one', async () => {
    await withTemp('cairn-usage-', async dir => {
      const repo = path.join(dir, 'repo')
      for (const args of [['cat', 'notacid'], ['get', 'notacid'], ['ls', 'notacid'], ['pin', 'add', 'notacid'], ['anchor', 'notacid'], ['car', 'export', 'notacid']]) {
        const r = await run(repo, ...args)
        assert.equal(r.code, 2, `${args.join(' ')}: exit ${String(r.code)}: ${r.stderr}`)
        assert.match(errorLine(r), /notacid/)
      }
    })
  })

  test('a closed port: "connection refused", exit 1, no deny-list hint; a seed that denies us: the hint', async () => {
    const dir = await res.dir('cairn-dial-')
    const port = await freePort()
    const closed = await run(path.join(dir, 'a'), 'get', ABSENT, '--peer', `/ip4/127.0.0.1/tcp/${port}`, '-o', path.join(dir, 'o'), '--timeout', '10')
    assert.equal(closed.code, 1)
    const line = errorLine(closed)
    assert.match(line, /cannot connect to .*: connection refused/)
    assert.doesNotMatch(line, /deny/)

    const s = await res.seed(path.join(dir, 'denying'), { args: ['--deny', '127.0.0.0/8'] })
    await fs.writeFile(path.join(dir, 'f'), 'denied\n')
    const added = await run(s.repo, 'add', '-Q', path.join(dir, 'f'))
    ok(added, 'add')
    const denied = await run(path.join(dir, 'b'), 'get', added.stdout.trim(), '--peer', s.addrs[0], '-o', path.join(dir, 'o2'), '--timeout', '10')
    assert.equal(denied.code, 1)
    assert.match(errorLine(denied), /cannot connect to .*deny list/)
  })
})

// Sybil and eclipse defences, through real seed processes on 127.0.0.1:
// deny lists by peer ID and by address range, the trusted-peers-only mode,
// and the per-IP bound on inbound connections.

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { cairn, errorLine, failed, ok, pseudoRandom, run, tempDir } from '../helpers.ts'
import { Resources } from '../integration/seeds.ts'
import { startHostile, type Hostile } from './peers.ts'

const MIB = 1024 * 1024
const res = new Resources()
const hostiles: Hostile[] = []
let dir = ''
let cleanup: () => Promise<void> = async () => {}
let file = ''

before(async () => {
  ({ dir, cleanup } = await tempDir('cairn-admission-'))
  file = path.join(dir, 'content.bin')
  await fs.writeFile(file, pseudoRandom(1 * MIB + 3, 51))
})
after(async () => {
  await Promise.all(hostiles.map(async h => await h.stop()))
  await res.close()
  await cleanup()
})

async function hostile (): Promise<Hostile> {
  const h = await startHostile({})
  hostiles.push(h)
  return h
}

async function idOf (repo: string): Promise<string> {
  const r = await cairn(['id', '--json', '--repo', repo])
  ok(r, 'id')
  return (JSON.parse(r.stdout) as { id: string }).id
}

/** A seed on a fresh repo with the content added; its CID. */
async function seedWith (name: string, args: string[]): Promise<{ addr: string, cid: string, repo: string, id: string }> {
  const repo = path.join(dir, name)
  const s = await res.seed(repo, { args })
  const add = await cairn(['add', '-Q', '--repo', repo, file])
  ok(add, 'add')
  return { addr: s.addrs[0], cid: add.stdout.trim(), repo, id: s.id }
}

/** get from one seed; `timeoutS` short where the get is meant to fail */
async function getFrom (seedAddr: string, cid: string, repo: string, timeoutS = 30): Promise<ReturnType<typeof cairn>> {
  return await cairn(['get', cid, '-o', path.join(dir, `out-${path.basename(repo)}`), '--repo', repo, '--peer', seedAddr, '--timeout', String(timeoutS)], { timeoutMs: 60_000 })
}

describe('allow and deny lists', { concurrency: 3, timeout: 120_000 }, () => {
  test('seed --deny PEERID: that peer cannot connect; others fetch as before', async () => {
    const h = await hostile()
    const s = await seedWith('deny-id', ['--deny', h.id])
    assert.match((await h.ask({ dial: s.addr })).dial, /^refused/)
    ok(await getFrom(s.addr, s.cid, path.join(dir, 'deny-id-fetcher')), 'an allowed fetcher')
  })

  test('seed --deny 127.0.0.0/8: nothing from loopback gets in; a get fails with one Error line and writes nothing', async () => {
    const s = await seedWith('deny-range', ['--deny', '127.0.0.0/8'])
    const fetcher = path.join(dir, 'deny-range-fetcher')
    const r = await getFrom(s.addr, s.cid, fetcher, 8)
    assert.match(failed(r, 'get from a seed that denies loopback'), /cannot connect to/)
    await assert.rejects(fs.access(path.join(dir, 'out-deny-range-fetcher')))
  })

  test('a fetcher whose config denies the seed\'s peer ID never dials it', async () => {
    const s = await seedWith('denied-by-fetcher', [])
    const fetcher = path.join(dir, 'denying-fetcher')
    ok(await run(fetcher, 'config', 'set', 'security.deny', JSON.stringify([s.id])), 'config set security.deny')
    assert.match(failed(await getFrom(s.addr, s.cid, fetcher, 8), 'get from a denied seed'), /not dialling .*security settings/)
  })

  test('seed --trusted-only --allow PEERID: the allowed fetcher gets in, a stranger does not', async () => {
    const fetcher = path.join(dir, 'trusted-fetcher')
    const fetcherId = await idOf(fetcher)
    const s = await seedWith('trusted', ['--trusted-only', '--allow', fetcherId])
    const h = await hostile()
    assert.match((await h.ask({ dial: s.addr })).dial, /^refused/, 'a stranger is refused')
    ok(await getFrom(s.addr, s.cid, fetcher), 'the trusted fetcher')
    assert.match(failed(await getFrom(s.addr, s.cid, path.join(dir, 'untrusted-fetcher'), 8), 'an untrusted fetcher'), /cannot connect to|none of the 1 provider|timed out/)
    // (refused after the handshake: the dial may see the connection for a moment before the seed closes it)
  })

  test('bad allow/deny values and trusted-only without an allow list are refused with one Error line', async () => {
    const repo = path.join(dir, 'bad-flags')
    for (const args of [['--allow', 'not-a-peer'], ['--deny', '10.0.0.0/40'], ['--trusted-only']]) {
      const r = await cairn(['seed', '--repo', repo, '--listen', '/ip4/127.0.0.1/tcp/0', '--no-tui', ...args], { timeoutMs: 30_000 })
      assert.notEqual(r.code, 0, args.join(' '))
      assert.match(errorLine(r), /peer ID|allow/, args.join(' '))
    }
    const set = await run(repo, 'config', 'set', 'security.deny', '["nope"]')
    assert.match(failed(set, 'config set security.deny ["nope"]'), /security\.deny/)
  })
})

describe('per-IP bound on inbound connections', { timeout: 120_000 }, () => {
  test('with connections.maxPerIP = 2, a third peer from 127.0.0.1 is refused; after one leaves, another gets in', async () => {
    const repo = path.join(dir, 'per-ip')
    ok(await run(repo, 'config', 'set', 'connections.maxPerIP', '2'), 'config set connections.maxPerIP')
    const s = await res.seed(repo)
    const [a, b, c] = await Promise.all([hostile(), hostile(), hostile()])
    assert.equal((await a.ask({ dial: s.addrs[0] })).dial, 'accepted')
    assert.equal((await b.ask({ dial: s.addrs[0] })).dial, 'accepted')
    assert.match((await c.ask({ dial: s.addrs[0] })).dial, /^refused/)
    await a.stop()
    // the seed notices the closed connection; then there is room again
    let last = ''
    for (let i = 0; i < 20 && last !== 'accepted'; i++) {
      await new Promise(resolve => setTimeout(resolve, 500))
      last = (await c.ask({ dial: s.addrs[0] })).dial as string
    }
    assert.equal(last, 'accepted')
  })
})

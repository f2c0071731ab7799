// `cairn seed` as separate processes: start, answer commands through its
// control API, stop (shutdown, SIGINT, SIGTERM, SIGKILL), restart with the
// same identity, and refuse API requests without credentials. Loopback only.

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, test } from 'node:test'
import { cairn, errorLine, pseudoRandom, type RunResult } from '../helpers.ts'
import { Resources, apiCall, apiRequest, freePort, readApiFile, waitFor, type SeedProcess } from './seeds.ts'

const LOOPBACK_ADDR = /^\/ip4\/127\.0\.0\.1\/tcp\/(\d+)\/p2p\/(\w+)$/
/** how long two seeds may take to find each other, or a provider record to be found */
const CONNECT_WAIT_MS = 30_000
const FIND_TIMEOUT_S = 20

function ok (r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what} failed (${r.code ?? r.signal}): ${r.stderr}`)
}

function lines (text: string): string[] {
  return text.split('\n').filter(l => l !== '')
}

async function exists (p: string): Promise<boolean> {
  try { await fs.lstat(p); return true } catch { return false }
}

async function mode (p: string): Promise<number> {
  return (await fs.stat(p)).mode & 0o777
}

async function run (repo: string, ...args: string[]): Promise<RunResult> {
  return await cairn([...args, '--repo', repo], { timeoutMs: 60_000 })
}

/** Peer IDs the seed on `repo` is connected to, through `cairn peers --json`. */
async function peerIds (repo: string): Promise<string[]> {
  const r = await run(repo, 'peers', '--json')
  ok(r, 'peers')
  return lines(r.stdout).map(l => (JSON.parse(l) as { id: string }).id)
}

/** Waits until the seed on `repo` is connected to `peer`. */
async function waitConnected (repo: string, peer: string): Promise<void> {
  await waitFor(`${repo} connected to ${peer}`, async () => (await peerIds(repo)).includes(peer), CONNECT_WAIT_MS, 500)
}

/** `cairn findprovs CID --json` on `repo`: the providers it printed. */
async function findprovs (repo: string, cid: string, ...extra: string[]): Promise<{ r: RunResult, providers: Array<{ id: string, addresses: string[] }> }> {
  const r = await cairn(['findprovs', cid, '--repo', repo, '--timeout', String(FIND_TIMEOUT_S), '--json', ...extra], { timeoutMs: (FIND_TIMEOUT_S + 30) * 1000 })
  const providers = r.code === 0 ? lines(r.stdout).map(l => JSON.parse(l) as { id: string, addresses: string[] }) : []
  return { r, providers }
}

/** Waits (bounded) for the process to exit and returns how it exited. */
async function exitOf (s: SeedProcess, ms = 30_000): Promise<{ code: number | null, signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`seed ${s.pid} still running ${ms} ms later; stderr: ${s.stderr()}`)), ms) })
  try {
    return await Promise.race([s.exited, timeout])
  } finally {
    clearTimeout(timer)
  }
}

async function assertCleanExit (s: SeedProcess, how: string): Promise<void> {
  const e = await exitOf(s)
  assert.deepEqual(e, { code: 0, signal: null }, `after ${how} the seed exited ${JSON.stringify(e)}; stderr: ${s.stderr()}`)
  assert.match(s.stderr(), /^stopped$/m, `no 'stopped' line after ${how}`)
  for (const f of ['api', 'api.sock', 'repo.lock']) {
    assert.equal(await exists(path.join(s.repo, f)), false, `${f} left behind after ${how}`)
  }
}

describe('cairn seed', { timeout: 300_000 }, () => {
  test('starts, prints its addresses, answers status/id/peers, and stops on cairn shutdown', async t => {
    const res = new Resources()
    t.after(async () => await res.close())
    const repo = await res.dir()
    const s = await res.seed(repo)

    assert.ok(s.addrs.length >= 1)
    for (const a of s.addrs) {
      const m = LOOPBACK_ADDR.exec(a)
      assert.ok(m != null, `listening line not a loopback /p2p/ address: ${a}`)
      assert.equal(m[2], s.id)
    }
    assert.match(s.id, /^12D3KooW/)
    for (const f of ['api', 'api.sock', 'repo.lock']) assert.ok(await exists(path.join(repo, f)), `${f} missing while the seed runs`)

    const status = await run(repo, 'status')
    ok(status, 'status')
    assert.match(status.stdout, new RegExp(`^seed running \\(pid ${s.pid}\\) as ${s.id}$`, 'm'))
    const statusJson = await run(repo, 'status', '--json')
    ok(statusJson, 'status --json')
    const st = JSON.parse(statusJson.stdout) as { running: boolean, pid: number, id: string, addresses: string[], repo: string }
    assert.equal(st.running, true)
    assert.equal(st.pid, s.pid)
    assert.equal(st.id, s.id)
    assert.deepEqual(st.addresses, s.addrs)
    assert.equal(st.repo, await fs.realpath(repo))

    const id = await run(repo, 'id')
    ok(id, 'id')
    assert.match(id.stdout, new RegExp(`^id\\s+${s.id}$`, 'm'))
    assert.deepEqual(lines(id.stdout).filter(l => l.startsWith('address')).map(l => l.split(/\s+/)[1]), s.addrs)

    // a second seed on the same repo is refused: the first holds the repo
    const again = await cairn(['seed', '--repo', repo, '--listen', '/ip4/127.0.0.1/tcp/0'], { timeoutMs: 30_000 })
    assert.notEqual(again.code, 0, 'a second seed started on a repo in use')
    assert.match(errorLine(again), /in use/)
    assert.equal((await readApiFile(repo)).pid, s.pid, 'the refused seed touched the api file')
    ok(await run(repo, 'status'), 'status after a refused second seed')

    // alone: no peers; then a second seed bootstraps from it and both list each other
    const alone = await run(repo, 'peers')
    ok(alone, 'peers')
    assert.equal(alone.stdout, '')
    const repo2 = await res.dir()
    const s2 = await res.seed(repo2, { bootstrap: [s.addrs[0]] })
    await waitConnected(repo, s2.id)
    await waitConnected(repo2, s.id)
    // '<multiaddr>/p2p/<id> <direction> <latency>' (waited for: see the connection-stability test)
    const line = new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${s.id} (inbound|outbound) (\\d+ms|-) direct$`)
    let shown = ''
    await waitFor('a peers line for the first seed', async () => {
      const r = await run(repo2, 'peers')
      ok(r, 'peers')
      shown = r.stdout
      return lines(r.stdout).some(l => line.test(l))
    }, CONNECT_WAIT_MS, 500).catch((e: Error) => assert.fail(`${e.message}; peers printed: ${JSON.stringify(shown)}`))

    const down = await run(repo, 'shutdown')
    ok(down, 'shutdown')
    assert.match(down.stderr, /the seed is stopping/)
    await assertCleanExit(s, 'cairn shutdown')
    // no seed any more: status says so in one line
    const after = await run(repo, 'status')
    assert.notEqual(after.code, 0)
    assert.match(errorLine(after), /seed/)
  })

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`stops cleanly on ${signal}: exit 0, api file, socket and lock removed`, async t => {
      const res = new Resources()
      t.after(async () => await res.close())
      const repo = await res.dir()
      const s = await res.seed(repo)
      assert.ok(await exists(path.join(repo, 'api.sock')))
      s.child.kill(signal)
      await assertCleanExit(s, signal)
      // and the repo is free for a writer again
      const add = await cairn(['add', '-', '-Q', '--repo', repo], { stdin: 'after the seed\n' })
      ok(add, 'add after the seed stopped')
    })
  }

  test('the connection between two seeds stays up past the connection monitor\'s first pings', async t => {
    // libp2p pings every connection every 10 s and aborts it when the ping fails
    const res = new Resources()
    t.after(async () => await res.close())
    const [repoB, repoA] = await Promise.all([res.dir(), res.dir()])
    const b = await res.seed(repoB)
    const a = await res.seed(repoA, { bootstrap: [b.addrs[0]] })
    await waitConnected(repoB, a.id)
    // on b the connection from a shows a's ephemeral port: a new connection has another
    const inbound = async (): Promise<string[]> => (await apiCall(repoB, 'peers') as Array<{ id: string, address: string, direction: string }>)
      .filter(p => p.id === a.id && p.direction === 'inbound').map(p => p.address)
    const first = await waitFor('an inbound connection from a on b', async () => { const c = await inbound(); return c.length > 0 && c }, CONNECT_WAIT_MS, 200)
    // both seeds past their first heartbeat (10 s after start)
    const uptime = async (repo: string): Promise<number> => (await apiCall(repo, 'status') as { uptimeMs: number }).uptimeMs
    await waitFor('both seeds up for 15 s', async () => Math.min(await uptime(repoA), await uptime(repoB)) >= 15_000, 40_000, 500)
    const later = await inbound()
    assert.ok(first.some(addr => later.includes(addr)),
      `the connection from a (${first.join(', ')}) was closed and replaced (${later.join(', ') || 'none'}); stderr of a: ${a.stderr().slice(0, 500)}, of b: ${b.stderr().slice(0, 500)}`)
  })

  test('a restarted seed keeps its peer ID, rejoins its bootstrap peer, and its content is found again', async t => {
    const res = new Resources()
    t.after(async () => await res.close())
    const [repoB, repoA, repoF, files] = await Promise.all([res.dir(), res.dir(), res.dir(), res.dir()])
    const b = await res.seed(repoB)
    const a = await res.seed(repoA, { bootstrap: [b.addrs[0]] })
    const key = path.join(repoA, 'identity.key')
    assert.equal(await mode(key), 0o600, 'identity.key is not mode 0600')

    await fs.writeFile(path.join(files, 'before.bin'), pseudoRandom(200_000, 11))
    await fs.writeFile(path.join(files, 'during.bin'), pseudoRandom(200_000, 12))
    const add1 = await run(repoA, 'add', '-Q', path.join(files, 'before.bin'))
    ok(add1, 'add through the seed')
    const cid1 = add1.stdout.trim()
    await waitConnected(repoA, b.id)
    await waitConnected(repoB, a.id)
    const first = await findprovs(repoB, cid1)
    ok(first.r, 'findprovs through the bootstrap seed')
    assert.ok(first.providers.some(p => p.id === a.id), `${a.id} not among ${JSON.stringify(first.providers)}`)

    await a.stop('SIGTERM')
    await assertCleanExit(a, 'SIGTERM')
    // added while the seed is down: announced only when it comes back
    const add2 = await run(repoA, 'add', '-Q', path.join(files, 'during.bin'))
    ok(add2, 'add without a seed')
    const cid2 = add2.stdout.trim()

    const oldPort = Number(LOOPBACK_ADDR.exec(a.addrs[0])?.[1])
    let port = await freePort()
    while (port === oldPort) port = await freePort()
    const a2 = await res.seed(repoA, { listen: [`/ip4/127.0.0.1/tcp/${port}`], bootstrap: [b.addrs[0]] })
    assert.equal(a2.id, a.id, 'the peer ID changed across a restart')
    assert.deepEqual(a2.addrs, [`/ip4/127.0.0.1/tcp/${port}/p2p/${a.id}`])
    assert.equal(await mode(key), 0o600)

    await waitConnected(repoA, b.id)
    await waitConnected(repoB, a.id)
    for (const cid of [cid1, cid2]) {
      const found = await findprovs(repoF, cid, '--bootstrap', b.addrs[0])
      ok(found.r, `findprovs ${cid} from a fresh repo`)
      const p = found.providers.find(p => p.id === a.id)
      assert.ok(p != null, `${a.id} not among the providers of ${cid}: ${found.r.stdout}`)
      assert.ok(p.addresses.some(x => x.startsWith(`/ip4/127.0.0.1/tcp/${port}`)), `provider ${a.id} of ${cid} found without its new address /tcp/${port}: ${JSON.stringify(p.addresses)}`)
    }
  })

  test('a seed reconnects to its bootstrap peer when that one restarts on the same address', async t => {
    const res = new Resources()
    t.after(async () => await res.close())
    const [repoB, repoA] = await Promise.all([res.dir(), res.dir()])
    const port = await freePort()
    const b = await res.seed(repoB, { listen: [`/ip4/127.0.0.1/tcp/${port}`] })
    const a = await res.seed(repoA, { bootstrap: [b.addrs[0]] })
    await waitConnected(repoA, b.id)
    await b.stop('SIGTERM')
    await assertCleanExit(b, 'SIGTERM')
    await waitFor('a to notice b is gone', async () => !(await peerIds(repoA)).includes(b.id), CONNECT_WAIT_MS, 500)
    const b2 = await res.seed(repoB, { listen: [`/ip4/127.0.0.1/tcp/${port}`] })
    assert.equal(b2.id, b.id)
    // b knows nobody now: only a can restore the link
    await waitConnected(repoA, b.id)
    await waitConnected(repoB, a.id)
  })

  test('while a seed runs, add/cat/ls/get/pin/repo go through it, and what add announces is found at once', async t => {
    const res = new Resources()
    t.after(async () => await res.close())
    const [repoB, repo, repoF, work] = await Promise.all([res.dir(), res.dir(), res.dir(), res.dir()])
    const b = await res.seed(repoB)
    const s = await res.seed(repo, { bootstrap: [b.addrs[0]] })
    await waitConnected(repo, b.id)

    const site = path.join(work, 'site')
    await fs.mkdir(path.join(site, 'sub'), { recursive: true })
    const big = pseudoRandom(2_500_000, 7) // three 1 MiB chunks
    await fs.writeFile(path.join(site, 'index.html'), '<h1>seeded</h1>\n')
    await fs.writeFile(path.join(site, 'sub', 'big.bin'), big)

    const add = await run(repo, 'add', '-r', site)
    ok(add, 'add -r through the seed')
    assert.doesNotMatch(add.stderr, /lock|in use/i)
    const added = lines(add.stdout).map(l => /^added (\S+) (.+)$/.exec(l))
    assert.ok(added.every(m => m != null), add.stdout)
    assert.deepEqual(added.map(m => m?.[2]).sort(), ['site', 'site/index.html', 'site/sub', 'site/sub/big.bin'])
    assert.equal(added.at(-1)?.[2], 'site', 'the root is not the last line')
    const root = added.at(-1)?.[1] as string

    // found at once from a node that only knows the bootstrap seed
    const found = await findprovs(repoF, root, '--bootstrap', b.addrs[0])
    ok(found.r, 'findprovs from a fresh repo right after add')
    assert.ok(found.providers.some(p => p.id === s.id), `${s.id} not among ${found.r.stdout}`)

    const cat = await run(repo, 'cat', `${root}/sub/big.bin`)
    ok(cat, 'cat')
    assert.ok(cat.stdoutBytes.equals(big), 'cat returned other bytes')
    const catHtml = await run(repo, 'cat', `${root}/index.html`)
    ok(catHtml, 'cat')
    assert.equal(catHtml.stdout, '<h1>seeded</h1>\n')

    const ls = await run(repo, 'ls', root)
    ok(ls, 'ls')
    assert.deepEqual(lines(ls.stdout).map(l => l.split(' ')[2]).sort(), ['index.html', 'sub/'], 'ls marks a directory with a trailing /')
    const lsSub = await run(repo, 'ls', `${root}/sub`)
    ok(lsSub, 'ls')
    assert.match(lsSub.stdout, new RegExp(`^\\S+ ${big.length} big\\.bin$`, 'm'))

    const out = path.join(work, 'copy')
    const get = await run(repo, 'get', root, '-o', out)
    ok(get, 'get')
    assert.equal(await fs.readFile(path.join(out, 'index.html'), 'utf8'), '<h1>seeded</h1>\n')
    assert.ok((await fs.readFile(path.join(out, 'sub', 'big.bin'))).equals(big))

    const pins = await run(repo, 'pin', 'ls')
    ok(pins, 'pin ls')
    assert.ok(lines(pins.stdout).includes(`${root} recursive`), pins.stdout)
    // writes too: in process they would need the lock the seed holds
    const rm = await run(repo, 'pin', 'rm', root)
    ok(rm, 'pin rm through the seed')
    assert.ok(!lines((await run(repo, 'pin', 'ls')).stdout).includes(`${root} recursive`))
    const pinAdd = await run(repo, 'pin', 'add', root)
    ok(pinAdd, 'pin add through the seed')
    assert.ok(lines((await run(repo, 'pin', 'ls')).stdout).includes(`${root} recursive`))

    const stat = await run(repo, 'repo', 'stat', '--json')
    ok(stat, 'repo stat')
    const st = JSON.parse(stat.stdout) as { blocks: number, pins: number, size: number }
    assert.equal(st.pins, 1)
    assert.ok(st.blocks >= 7, `${st.blocks} blocks`) // the DAG: 3 chunks and the root of big.bin, index.html, sub, site
    assert.ok(st.size >= big.length)

    const verify = await run(repo, 'repo', 'verify')
    ok(verify, 'repo verify')
    assert.match(verify.stderr, new RegExp(`verified ${st.blocks} block\\(s\\)`))

    // all of it while the seed kept running and kept the repo
    assert.equal(s.child.exitCode, null)
    const status = await run(repo, 'status', '--json')
    ok(status, 'status')
    assert.equal((JSON.parse(status.stdout) as { pid: number }).pid, s.pid)
  })

  test('the control API over the Unix socket refuses requests without the right token', async t => {
    const res = new Resources()
    t.after(async () => await res.close())
    const repo = await res.dir()
    const s = await res.seed(repo)
    const socketPath = path.join(repo, 'api.sock')
    assert.ok((await fs.lstat(socketPath)).isSocket())
    assert.equal(await mode(socketPath), 0o600, 'api.sock is not mode 0600')
    assert.equal(await mode(path.join(repo, 'api')), 0o600, 'the api file is not mode 0600')
    const api = await readApiFile(repo)
    assert.equal(api.socket, socketPath)
    assert.equal(api.pid, s.pid)

    const add = await cairn(['add', '-', '-Q', '--repo', repo], { stdin: 'keep me\n' })
    ok(add, 'add')
    const cid = add.stdout.trim()
    const target = { socketPath }
    const json = { 'content-type': 'application/json' }

    // the right token works (a control for the refusals below)
    const good = await apiRequest(target, '/api/v1/status', { headers: { ...json, authorization: `Bearer ${api.token}` }, body: '{}' })
    assert.equal(good.status, 200)
    assert.equal((good.lines.find(l => 'result' in l)?.result as { id: string }).id, s.id)

    const refusals: Array<[string, Record<string, string>]> = [
      ['no token', {}],
      ['an empty token', { authorization: 'Bearer ' }],
      ['a wrong token of the same length', { authorization: `Bearer ${api.token.slice(0, -1)}${api.token.endsWith('A') ? 'B' : 'A'}` }],
      ['a wrong token of another length', { authorization: 'Bearer nope' }]
    ]
    for (const [what, headers] of refusals) {
      for (const [method, body] of [['pin.rm', JSON.stringify({ cid })], ['shutdown', '{}']]) {
        const r = await apiRequest(target, `/api/v1/${method}`, { headers: { ...json, ...headers }, body })
        assert.equal(r.status, 401, `${method} with ${what}: HTTP ${r.status} ${r.body}`)
        assert.equal(r.lines.some(l => 'result' in l), false)
      }
    }
    // a page in a browser cannot use the socket, but an Origin is refused on every transport
    const origin = await apiRequest(target, '/api/v1/shutdown', { headers: { ...json, authorization: `Bearer ${api.token}`, origin: 'http://evil.example' }, body: '{}' })
    assert.equal(origin.status, 403)

    // no effect: still pinned, still running (shutdown is deferred: give it time to act)
    await new Promise(resolve => setTimeout(resolve, 1000))
    assert.equal(s.child.exitCode, null, 'the seed stopped on a refused shutdown')
    const pins = await run(repo, 'pin', 'ls')
    ok(pins, 'pin ls')
    assert.ok(lines(pins.stdout).includes(`${cid} recursive`), 'a refused pin.rm unpinned')
    ok(await run(repo, 'status'), 'status')
  })

  test('the control API on loopback TCP (api.listen) checks the token, the Host and the Origin', async t => {
    const res = new Resources()
    t.after(async () => await res.close())
    const repo = await res.dir()
    const port = await freePort()
    ok(await run(repo, 'config', 'set', 'api.listen', `/ip4/127.0.0.1/tcp/${port}`), 'config set api.listen')
    const s = await res.seed(repo)
    const api = await readApiFile(repo)
    assert.equal(api.http, `127.0.0.1:${port}`)
    assert.equal(api.socket, null)
    assert.equal(await exists(path.join(repo, 'api.sock')), false)
    assert.equal(await mode(path.join(repo, 'api')), 0o600, 'the api file is not mode 0600')

    // the CLI finds and uses it
    const status = await run(repo, 'status')
    ok(status, 'status over TCP')
    assert.match(status.stdout, new RegExp(`as ${s.id}$`, 'm'))

    const target = { port }
    const base = { 'content-type': 'application/json', host: `127.0.0.1:${port}` }
    const auth = { authorization: `Bearer ${api.token}` }
    const good = await apiRequest(target, '/api/v1/id', { headers: { ...base, ...auth }, body: '{}' })
    assert.equal(good.status, 200, good.body)
    const viaLocalhost = await apiRequest(target, '/api/v1/id', { headers: { ...base, ...auth, host: `localhost:${port}` }, body: '{}' })
    assert.equal(viaLocalhost.status, 200, viaLocalhost.body)

    const cases: Array<[string, Record<string, string>, number]> = [
      ['no token', { ...base }, 401],
      ['a wrong token', { ...base, authorization: `Bearer ${'x'.repeat(api.token.length)}` }, 401],
      ['a foreign Host', { ...base, ...auth, host: 'evil.example' }, 403],
      ['a foreign Host with our port', { ...base, ...auth, host: `evil.example:${port}` }, 403],
      ['a loopback Host on another port', { ...base, ...auth, host: `127.0.0.1:${port === 65535 ? 1 : port + 1}` }, 403],
      ['an Origin', { ...base, ...auth, origin: 'http://evil.example' }, 403],
      ['a loopback Origin', { ...base, ...auth, origin: `http://127.0.0.1:${port}` }, 403]
    ]
    for (const [what, headers, want] of cases) {
      const r = await apiRequest(target, '/api/v1/shutdown', { headers, body: '{}' })
      assert.equal(r.status, want, `shutdown with ${what}: HTTP ${r.status} ${r.body}`)
      assert.equal(r.lines.some(l => 'result' in l), false)
    }
    await new Promise(resolve => setTimeout(resolve, 1000))
    assert.equal(s.child.exitCode, null, 'the seed stopped on a refused shutdown')
    assert.equal((await apiCall(repo, 'status')).pid, s.pid)

    const down = await run(repo, 'shutdown')
    ok(down, 'shutdown over TCP')
    await assertCleanExit(s, 'cairn shutdown over TCP')
  })

  test('a seed killed with SIGKILL leaves no dead lock: the next add takes the repo over', async t => {
    const res = new Resources()
    t.after(async () => await res.close())
    const repo = await res.dir()
    const s = await res.seed(repo)
    const before = await cairn(['add', '-', '-Q', '--repo', repo], { stdin: 'added through the seed\n' })
    ok(before, 'add through the seed')
    const cid0 = before.stdout.trim()

    s.child.kill('SIGKILL')
    const e = await exitOf(s)
    assert.equal(e.signal, 'SIGKILL')
    // what a killed seed leaves: a lock, an api file and a socket naming a dead process
    for (const f of ['api', 'api.sock', 'repo.lock']) assert.ok(await exists(path.join(repo, f)), `${f} not left behind (nothing to take over)`)

    const file = path.join(await res.dir(), 'later.txt')
    await fs.writeFile(file, 'added after the kill\n')
    const add = await run(repo, 'add', file)
    ok(add, 'add after SIGKILL')
    assert.match(add.stdout, /^added \S+ later\.txt$/m)
    assert.doesNotMatch(add.stderr, /Error|lock/)
    const cat = await run(repo, 'cat', cid0)
    ok(cat, 'cat of what the killed seed added')
    assert.equal(cat.stdout, 'added through the seed\n')
    const status = await run(repo, 'status')
    assert.notEqual(status.code, 0, 'status reports a seed that was killed')
    errorLine(status)

    // and a new seed starts on it (the stale socket is replaced)
    const s2 = await res.seed(repo)
    assert.equal(s2.id, s.id)
    const st = await run(repo, 'status', '--json')
    ok(st, 'status')
    assert.equal((JSON.parse(st.stdout) as { pid: number }).pid, s2.pid)
  })

  test('a stale api file is ignored even when its pid now belongs to another process', async t => {
    // after a crash or a reboot the pid in R/api is soon reused; repo.lock
    // guards against that with the process start time, R/api must too
    const res = new Resources()
    t.after(async () => await res.close())
    const repo = await res.dir()
    const s = await res.seed(repo)
    s.child.kill('SIGKILL')
    await exitOf(s)
    const api = await readApiFile(repo)
    // a live process that is not a seed: this test process
    await fs.writeFile(path.join(repo, 'api'), JSON.stringify({ ...api, pid: process.pid }) + '\n', { mode: 0o600 })
    const add = await cairn(['add', '-', '--repo', repo], { stdin: 'after a reboot\n' })
    ok(add, 'add with a stale api file naming a live pid')
    assert.match(add.stdout, /^added \S+/m)
    const st = await run(repo, 'repo', 'stat')
    ok(st, 'repo stat with a stale api file naming a live pid')
  })
})

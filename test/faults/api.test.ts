// The daemon's control API: reachable only locally, useless without the
// token. test/integration/seed.test.ts checks the token, Host and Origin
// refusals for two methods and the socket's mode; this adds what an attacker
// on the same machine or network would try: every method without the token,
// the TCP listener's bind address, another local user on the socket, and
// config that would expose the API.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { after, describe, test } from 'node:test'
import { validateConfig } from '../../storage/config.ts'
import { failed, ok, run } from '../helpers.ts'
import { Resources, apiRequest, freePort, readApiFile } from '../integration/seeds.ts'

/** every method the API serves (core/api/handlers.ts) */
const METHODS = ['add', 'cat', 'get', 'ls', 'pin.add', 'pin.rm', 'pin.ls', 'repo.stat', 'repo.gc', 'repo.verify', 'car.import', 'car.export', 'car.exportFile', 'id', 'peers', 'connect', 'provide', 'findprovs', 'stats', 'status', 'shutdown']

const res = new Resources()
after(async () => { await res.close() })

/** Local addresses listening on TCP `port`, from /proc/net/tcp and tcp6 (hex, as the kernel writes them). */
async function listenersOn (port: number): Promise<string[]> {
  const out: string[] = []
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = ''
    try { text = await fs.readFile(f, 'utf8') } catch { continue }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      if (cols.length < 4 || cols[3] !== '0A') continue // 0A = LISTEN
      const [addr, p] = cols[1].split(':')
      if (parseInt(p, 16) === port) out.push(addr)
    }
  }
  return out
}

describe('the control API', { concurrency: 2, timeout: 120_000 }, () => {
  test('config cannot put the API on a non-loopback address', () => {
    for (const bad of ['/ip4/0.0.0.0/tcp/5001', '/ip4/192.0.2.1/tcp/5001', '/ip6/::/tcp/5001', '/ip6/::1/tcp/5001', '/ip4/127.0.0.1/udp/5001', 'tcp']) {
      assert.throws(() => validateConfig({ api: { listen: bad } }), /api\.listen/, bad)
    }
  })

  test('over loopback TCP: the listener is bound to 127.0.0.1 only, and every method refuses a request without the token', async t => {
    const repo = await res.dir()
    const port = await freePort()
    ok(await run(repo, 'config', 'set', 'api.listen', `/ip4/127.0.0.1/tcp/${port}`), 'config set api.listen')
    await res.seed(repo)
    const listeners = await listenersOn(port)
    assert.deepEqual(listeners, ['0100007F'], `listening on ${JSON.stringify(listeners)} (0100007F is 127.0.0.1)`)
    const host = { host: `127.0.0.1:${port}`, 'content-type': 'application/json' }
    for (const method of METHODS) {
      const r = await apiRequest({ port }, `/api/v1/${method}`, { headers: host, body: '{}' })
      assert.equal(r.status, 401, `${method} without a token: HTTP ${r.status}`)
      assert.equal(r.lines.some(l => 'result' in l), false)
    }
    // an unknown path without the token learns nothing either (401, not 404)
    assert.equal((await apiRequest({ port }, '/nope', { headers: host, method: 'GET' })).status, 401)
    ok(await run(repo, 'status'), 'the seed still runs')
  })

  test('over the Unix socket: another local user cannot connect (the socket is 0600 in a private repo)', async t => {
    if (process.getuid?.() !== 0) {
      t.skip('needs root to run a probe as another user')
      return
    }
    const repo = await res.dir()
    await res.seed(repo)
    const api = await readApiFile(repo)
    assert.ok(api.socket != null)
    // a user that exists everywhere: nobody (65534)
    const probe = `require('net').connect(${JSON.stringify(api.socket)}).on('connect', () => { console.log('connected'); process.exit(0) }).on('error', e => { console.log(e.code); process.exit(0) })`
    const child = spawn(process.execPath, ['-e', probe], { uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
    await new Promise(resolve => child.on('exit', resolve))
    assert.match(out.trim(), /^(EACCES|EPERM)$/, `another user got: ${out}`)
    // and the owner can (the control for the refusal above)
    const sock = net.connect(api.socket)
    await new Promise<void>((resolve, reject) => { sock.on('connect', () => resolve()).on('error', reject) })
    sock.destroy()
  })

  test('the api file holding the token is 0600, and config set cannot expose the API', async () => {
    const repo = await res.dir()
    await res.seed(repo)
    const st = await fs.stat(path.join(repo, 'api'))
    assert.equal(st.mode & 0o077, 0, 'no access for group or others')
    assert.match(failed(await run(repo, 'config', 'set', 'api.listen', '/ip4/0.0.0.0/tcp/5001'), 'config set api.listen 0.0.0.0'), /api\.listen/)
  })
})

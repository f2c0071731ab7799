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
import http from 'node:http'
import { makeHandlers, type Services } from '../../core/api/handlers.ts'
import { MAX_PARAMS_BYTES } from '../../core/api/server.ts'
import { validateConfig } from '../../storage/config.ts'
import { failed, ok, pseudoRandom, run } from '../helpers.ts'
import { Resources, apiCall, apiRequest, freePort, readApiFile } from '../integration/seeds.ts'

/**
 * every method the API serves: the daemon's handler table itself, so a
 * method added later is tried too (building the table touches none of the
 * services; only calling a handler would)
 */
const METHODS = Object.keys(makeHandlers({} as unknown as Services))

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

/** The process's resident set, from /proc (kB). */
async function rssKb (pid: number): Promise<number> {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(await fs.readFile(`/proc/${pid}/status`, 'utf8'))
  if (m == null) throw new Error(`no VmRSS for ${pid}`)
  return Number(m[1])
}

/** Starts a `cat` of `cid` over the socket, reads its first bytes, then hangs up without reading the rest. */
async function catAndHangUp (api: { socket: string | null, token: string }, cid: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const req = http.request({
      socketPath: api.socket as string,
      method: 'POST',
      path: '/api/v1/cat',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      signal: AbortSignal.timeout(30_000)
    }, r => {
      r.once('data', () => {
        r.pause()
        // let the server fill the socket and wait for drain, then leave
        setTimeout(() => { req.destroy(); resolve() }, 20)
      })
      r.on('error', () => {})
    })
    req.on('error', (err) => { if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET' && !req.destroyed) reject(err) })
    req.end(JSON.stringify({ path: cid }))
  })
}

describe('the control API', { concurrency: 2, timeout: 180_000 }, () => {
  test('the method list is the handler table, anchor methods included', () => {
    for (const m of ['cat', 'add', 'shutdown', 'anchor']) assert.ok(METHODS.includes(m), `${m} in ${METHODS.join(', ')}`)
  })

  test(`a params body over ${MAX_PARAMS_BYTES} bytes is refused with 413, and the seed serves on`, async () => {
    const repo = await res.dir()
    await res.seed(repo)
    const api = await readApiFile(repo)
    const headers = { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' }
    // just under the limit is an ordinary call
    const fits = await apiRequest({ socketPath: api.socket as string }, '/api/v1/id', { headers, body: JSON.stringify({ pad: 'x'.repeat(MAX_PARAMS_BYTES - 100) }) })
    assert.equal(fits.status, 200)
    // over it: 413, or the connection cut while the client still writes (the server stops reading at the limit)
    const big = await apiRequest({ socketPath: api.socket as string }, '/api/v1/id', { headers, body: JSON.stringify({ pad: 'x'.repeat(4 * MAX_PARAMS_BYTES) }) })
      .catch((err: NodeJS.ErrnoException) => ({ status: err.code, lines: [] }))
    assert.ok(big.status === 413 || big.status === 'EPIPE' || big.status === 'ECONNRESET', `over the limit: ${big.status}`)
    assert.equal(big.lines.some(l => 'result' in l), false)
    ok(await run(repo, 'status'), 'the seed still runs')
  })

  test('100 clients hanging up mid-cat: no call left waiting, nothing kept in fetching (gc frees the content), RSS bounded', async () => {
    const repo = await res.dir()
    const file = path.join(repo, '..', `${path.basename(repo)}-content.bin`)
    await fs.writeFile(file, pseudoRandom(8 * 1024 * 1024, 5))
    await res.seed(repo)
    const added = await apiCall(repo, 'add', { paths: [file], pin: false, anchor: false })
    await fs.rm(file)
    const api = await readApiFile(repo)
    // warm-up, then the baseline
    for (let i = 0; i < 5; i++) await catAndHangUp(api, added.root)
    const before = await rssKb(api.pid)
    for (let i = 0; i < 100; i++) await catAndHangUp(api, added.root)
    // the server notices each hang-up; give the last ones a moment
    await new Promise(resolve => setTimeout(resolve, 500))
    const after = await rssKb(api.pid)
    // a sanity bound, not a timing: 100 stuck calls each holding read-ahead blocks and a socket's buffers would pass it
    assert.ok(after - before < 64 * 1024, `RSS ${before} -> ${after} kB`)
    // the root is in no call's fetching set any more: gc removes every block of it
    const gc = await apiCall(repo, 'repo.gc')
    assert.ok(gc.removed > 0, `gc removed nothing: ${JSON.stringify(gc)}`)
    const stat = await apiCall(repo, 'repo.stat')
    assert.equal(stat.blocks, 0, `blocks left: ${JSON.stringify(stat)}`)
  })

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

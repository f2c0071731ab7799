// libp2p's connection limits on a LAN (issue 22): a `local` network used to
// give libp2p every private and documentation range as its allow-list, which
// spares those addresses maxConnections, the cap on connections still
// opening and the per-IP inbound rate. Now only this machine and
// connections.exempt are spared. A seed in a namespace on 198.51.100.2, a
// LAN host at 198.51.100.3 that opens 100 bare TCP connections at once
// (none says a word, so each would sit in libp2p's upgrade until its
// timeout): few are let in. Loopback peers in the seed's namespace still
// connect freely and fetch meanwhile. Needs root; skips where namespaces
// cannot be made.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { CAIRN, NODE_FLAGS, ROOT, cairn, pseudoRandom } from '../helpers.ts'
import { INTERNET, netnsUnavailable, Topology } from './netns.ts'
import { Resources, apiCall, type SeedProcess } from './seeds.ts'

const PORT = 4737
/** the loopback listener, inside the seed's namespace only */
const LOOPBACK_PORT = 4738
/** bare connections the flooder opens at once */
const FLOOD = 100
/** how long the flooder holds them before counting (libp2p's inbound upgrade timeout is longer) */
const HOLD_MS = 1500
/** libp2p's cap on inbound connections still opening (10) plus its per-IP rate (5), with room */
const LET_IN_AT_MOST = 20

/** Opens FLOOD bare TCP connections to host:port from inside `ns`; how many are still open after HOLD_MS. */
async function flood (ns: string, host: string, port: number): Promise<number> {
  const script = `
    const net = require('node:net')
    let open = 0
    const socks = []
    for (let i = 0; i < ${FLOOD}; i++) {
      const s = net.connect(${port}, ${JSON.stringify(host)})
      s.on('connect', () => { open++ })
      s.on('close', () => { if (s.connected) open-- })
      s.on('error', () => {})
      s.connected = false
      s.once('connect', () => { s.connected = true })
      socks.push(s)
    }
    setTimeout(() => {
      const alive = socks.filter(s => s.connected && !s.destroyed && s.readyState === 'open').length
      console.log(JSON.stringify({ alive }))
      for (const s of socks) s.destroy()
      process.exit(0)
    }, ${HOLD_MS})
  `
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  await new Promise(resolve => child.on('close', resolve))
  clearTimeout(timer)
  return (JSON.parse(out.trim()) as { alive: number }).alive
}

const skip = await netnsUnavailable()

describe('connection limits on a LAN, in network namespaces', { skip: skip != null ? `skipped: ${skip}` : false, concurrency: false, timeout: 5 * 60_000 }, () => {
  const res = new Resources()
  let topo: Topology
  let seed: SeedProcess
  let seedNs: string
  let lanNs: string

  async function repo (config: Record<string, unknown> = {}): Promise<string> {
    const dir = path.join(await res.dir('cairn-lan-'), 'repo')
    const r = await cairn(['init', '--repo', dir])
    assert.equal(r.code, 0, r.stderr)
    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(config))
    return dir
  }

  before(async () => {
    topo = await Topology.create()
    seedNs = await topo.publicHost('seed', 2)
    lanNs = await topo.publicHost('lan', 3)
  })

  after(async () => {
    await res.close()
    await topo?.destroy()
  })

  test('a flood of bare connections from one LAN address is held to libp2p\'s limits; loopback peers connect and fetch meanwhile', async (t) => {
    seed = await res.seed(await repo(), { netns: seedNs, listen: [`/ip4/${INTERNET}.2/tcp/${PORT}`], args: ['--listen', `/ip4/127.0.0.1/tcp/${LOOPBACK_PORT}`, '--no-tui'] })
    const dir = await res.dir('cairn-lan-file-')
    const bytes = pseudoRandom(512 * 1024, 3)
    await fs.writeFile(path.join(dir, 'f.bin'), bytes)
    const added = await apiCall(seed.repo, 'add', { paths: [path.join(dir, 'f.bin')] }) as { root: string }

    const [fromLan, fromLoopback] = await Promise.all([
      flood(lanNs, `${INTERNET}.2`, PORT),
      // after the LAN flood has started: the loopback flood is spared
      new Promise(resolve => setTimeout(resolve, 200)).then(async () => await flood(seedNs, '127.0.0.1', LOOPBACK_PORT))
    ])
    t.diagnostic(`still open after ${HOLD_MS} ms: ${fromLan} of ${FLOOD} from the LAN, ${fromLoopback} of ${FLOOD} from loopback`)
    assert.ok(fromLan <= LET_IN_AT_MOST, `${fromLan} of ${FLOOD} connections from one LAN address were let in`)
    assert.ok(fromLoopback >= FLOOD * 0.9, `only ${fromLoopback} of ${FLOOD} loopback connections were let in`)

    // and a loopback peer fetches while the LAN floods again
    const getRepo = await repo()
    const out = path.join(await res.dir('cairn-lan-get-'), 'out')
    const getting = new Promise<{ code: number | null, stderr: string }>(resolve => {
      const child = spawn('ip', ['netns', 'exec', seedNs, process.execPath, ...NODE_FLAGS, CAIRN, 'get', added.root, '-o', out, '--repo', getRepo, '--peer', `/ip4/127.0.0.1/tcp/${LOOPBACK_PORT}/p2p/${seed.id}`], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
      let stderr = ''
      child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
      child.on('close', code => { clearTimeout(timer); resolve({ code, stderr }) })
    })
    const [got] = await Promise.all([getting, flood(lanNs, `${INTERNET}.2`, PORT)])
    assert.equal(got.code, 0, got.stderr)
    assert.ok((await fs.readFile(out)).equals(bytes), 'the fetched bytes differ')
    await seed.stop()
  })

  test('connections.exempt spares a range the user lists', async (t) => {
    const exempt = await res.seed(await repo({ connections: { exempt: [`${INTERNET}.3/32`] } }), { netns: seedNs, listen: [`/ip4/${INTERNET}.2/tcp/${PORT}`], args: ['--no-tui'] })
    const fromLan = await flood(lanNs, `${INTERNET}.2`, PORT)
    t.diagnostic(`exempt LAN host: ${fromLan} of ${FLOOD} still open`)
    // the peer guard's per-IP limit counts upgraded connections only; these never upgrade
    assert.ok(fromLan >= FLOOD * 0.9, `only ${fromLan} of ${FLOOD} from an exempt address were let in`)
    await exempt.stop()
  })
})

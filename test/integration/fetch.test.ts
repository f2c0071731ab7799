// Fetch by CID across real processes on 127.0.0.1: through the DHT, from
// several seeders at once, past a seeder that dies, resumed after SIGKILL,
// and to and from a stock Helia node over /ipfs/bitswap.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { describe, test } from 'node:test'
import { CAIRN, ROOT, cairn, pseudoRandom } from '../helpers.ts'
import { seedSuite, waitFor, type SeedProcess } from './seeds.ts'
import { startHelia } from './helia.ts'

const MIB = 1024 * 1024
const suite = seedSuite('cairn-fetch-')
const seed = async (name: string, bootstrap: string[] = []): Promise<SeedProcess> => await suite.seed(name, { bootstrap })

async function writeInput (name: string, size: number, seedNo: number): Promise<string> {
  const file = path.join(suite.dir, name)
  await fs.writeFile(file, pseudoRandom(size, seedNo))
  return file
}

/** `add -Q` through a running seed; the root CID. */
async function addTo (s: SeedProcess, file: string, extra: string[] = []): Promise<string> {
  const r = await cairn(['add', '-Q', '--repo', s.repo, ...extra, file])
  assert.equal(r.code, 0, r.stderr)
  return r.stdout.trim()
}

/** The {fetched, peers} report a --json get prints. */
function fetchReport (stdout: string): { fetched: number, peers: Record<string, number> } | null {
  for (const line of stdout.split('\n').filter(l => l !== '')) {
    const o = JSON.parse(line) as { fetched?: number, peers?: Record<string, number> }
    if (o.fetched != null) return o as { fetched: number, peers: Record<string, number> }
  }
  return null
}

describe('fetch by CID', { timeout: 240_000 }, () => {
  test('B fetches what A published, knowing only the bootstrap seed C', async () => {
    const c = await seed('c')
    const a = await seed('a', [c.addrs[0]])
    const file = await writeInput('a.bin', 3 * MIB + 123, 11)
    const cid = await addTo(a, file)
    const out = path.join(suite.dir, 'b-out.bin')
    const r = await cairn(['get', cid, '-o', out, '--repo', path.join(suite.dir, 'b'), '--bootstrap', c.addrs[0], '--timeout', '60'], { timeoutMs: 90_000 })
    assert.equal(r.code, 0, r.stderr)
    assert.ok((await fs.readFile(out)).equals(await fs.readFile(file)))
    assert.match(r.stderr, new RegExp(`fetched .* from 1 peer\\(s\\): ${a.id.slice(-8)} 100%`))
    const verify = await cairn(['repo', 'verify', '--repo', path.join(suite.dir, 'b')])
    assert.equal(verify.code, 0, verify.stderr)
  })

  test('a get started before the file is announced keeps looking, and fetches it once it is', async () => {
    const c = await seed('late-c')
    const a = await seed('late-a', [c.addrs[0]])
    const file = await writeInput('late.bin', 2 * MIB + 7, 17)
    const hashed = await cairn(['add', '-Q', '--only-hash', '--repo', a.repo, file])
    assert.equal(hashed.code, 0, hashed.stderr)
    const cid = hashed.stdout.trim()
    const out = path.join(suite.dir, 'late-out.bin')
    const get = cairn(['get', cid, '-o', out, '--repo', path.join(suite.dir, 'late-b'), '--bootstrap', c.addrs[0], '--timeout', '60'], { timeoutMs: 90_000 })
    // the get's first lookup finds nothing: nobody has announced the file yet
    await new Promise(resolve => setTimeout(resolve, 3000))
    assert.equal(await addTo(a, file), cid)
    const r = await get
    assert.equal(r.code, 0, r.stderr)
    assert.ok((await fs.readFile(out)).equals(await fs.readFile(file)))
  })

  test('three seeders, one fetcher: bytes come from more than one seeder', async () => {
    const file = await writeInput('three.bin', 24 * MIB, 12)
    const three = await Promise.all(['s1', 's2', 's3'].map(async n => await seed(n)))
    // 256 KiB chunks: ~100 blocks to spread
    const cids = await Promise.all(three.map(async s => await addTo(s, file, ['--chunker', 'size-262144'])))
    assert.equal(new Set(cids).size, 1)
    const out = path.join(suite.dir, 'three-out.bin')
    const r = await cairn(['get', cids[0], '-o', out, '--json', '--repo', path.join(suite.dir, 'f3'), ...three.flatMap(s => ['--peer', s.addrs[0]])], { timeoutMs: 90_000 })
    assert.equal(r.code, 0, r.stderr)
    assert.ok((await fs.readFile(out)).equals(await fs.readFile(file)))
    const report = fetchReport(r.stdout)
    assert.ok(report != null, r.stdout)
    const serving = Object.entries(report.peers).filter(([, bytes]) => bytes > 0)
    assert.ok(serving.length >= 2, `bytes came from ${serving.length} seeder(s): ${JSON.stringify(report.peers)}`)
    for (const [id] of serving) assert.ok(three.some(s => s.id === id), `${id} is one of the seeders`)
  })

  test('a seeder killed mid-download: the fetch completes from the others', async () => {
    const file = await writeInput('kill.bin', 48 * MIB, 13)
    const two = await Promise.all(['k1', 'k2'].map(async n => await seed(n)))
    const cid = (await Promise.all(two.map(async s => await addTo(s, file, ['--chunker', 'size-262144']))))[0]
    const out = path.join(suite.dir, 'kill-out.bin')
    const child = spawn(process.execPath, [CAIRN, 'get', cid, '-o', out, '--json', '--repo', path.join(suite.dir, 'fk'), '--timeout', '60', ...two.flatMap(s => ['--peer', s.addrs[0]])], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s })
    const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
    let killed = false
    const other: string[] = []
    try {
      // kill the first seeder once a tenth of the file has arrived
      for await (const line of createInterface({ input: child.stderr })) {
        let p: { progress?: string, bytes?: number }
        try {
          p = JSON.parse(line) as typeof p
        } catch {
          other.push(line) // not a progress line: shown if the fetch fails
          continue
        }
        if (!killed && p.progress === 'get' && (p.bytes ?? 0) > 4.8 * MIB) {
          await two[0].stop('SIGKILL')
          killed = true
        }
      }
      assert.ok(killed, 'the seeder was killed during the download')
      assert.equal(await exited, 0, `${stdout}\n${other.join('\n')}`)
      assert.deepEqual(other, [], 'with --json, stderr holds only JSON lines')
      assert.ok((await fs.readFile(out)).equals(await fs.readFile(file)))
    } finally {
      child.kill('SIGKILL')
    }
  })

  test('SIGKILL mid-fetch, then the same command again: only the missing blocks are fetched', async () => {
    const file = await writeInput('resume.bin', 64 * MIB, 14)
    // capped, so the kill lands mid-fetch: uncapped on loopback the swarm can
    // fetch the whole file ahead of the writer before 16 MiB are written
    const s = await suite.seed('r1', { args: ['--max-upload', '8MiB'] })
    const cid = await addTo(s, file, ['--chunker', 'size-262144'])
    const repo = path.join(suite.dir, 'fr')
    const out = path.join(suite.dir, 'resume-out.bin')
    const args = [CAIRN, 'get', cid, '-o', out, '--json', '--repo', repo, '--peer', s.addrs[0]]
    const first = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
    const firstExit = new Promise(resolve => first.on('exit', resolve))
    for await (const line of createInterface({ input: first.stderr })) {
      const p = JSON.parse(line) as { progress?: string, bytes?: number }
      if (p.progress === 'get' && (p.bytes ?? 0) > 16 * MIB) {
        first.kill('SIGKILL')
        break
      }
    }
    await firstExit
    await assert.rejects(fs.access(out), 'no partial file at the output path')
    const stat = await cairn(['repo', 'stat', '--json', '--repo', repo])
    const kept = (JSON.parse(stat.stdout) as { size: number }).size
    assert.ok(kept > 16 * MIB && kept < 64 * MIB, `the first run kept part of the file (${kept} bytes)`)

    const second = await cairn(args.slice(1), { timeoutMs: 90_000 })
    assert.equal(second.code, 0, second.stderr)
    assert.ok((await fs.readFile(out)).equals(await fs.readFile(file)))
    const report = fetchReport(second.stdout)
    assert.ok(report != null)
    // what the second run fetched and what the first kept make the DAG, with no block fetched twice
    const total = (JSON.parse((await cairn(['repo', 'stat', '--json', '--repo', repo])).stdout) as { size: number }).size
    assert.equal(report.fetched + kept, total, `fetched ${report.fetched} + kept ${kept} = ${total}`)
    assert.ok(report.fetched < 64 * MIB * 0.8)
  })
})

describe('interop with a stock Helia node over /ipfs/bitswap', { timeout: 120_000 }, () => {
  test('a stock Helia node fetches from cairn seed, and cairn fetches from it', async () => {
    const helia = await startHelia()
    try {
      assert.match(helia.addr, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
      // Helia ← cairn seed
      const s = await seed('interop')
      const file = await writeInput('interop.bin', 3 * MIB + 7, 15)
      const cid = await addTo(s, file)
      const got = await helia.ask({ cat: cid, peer: s.addrs[0] })
      assert.equal(got.error, undefined, got.error)
      assert.ok(Buffer.from(got.bytes, 'base64').equals(await fs.readFile(file)))

      // cairn ← Helia (no /cairn/blocks there: bitswap)
      const content = pseudoRandom(2 * MIB + 5, 16)
      const added = await helia.ask({ add: content.toString('base64') })
      const out = path.join(suite.dir, 'from-helia.bin')
      const r = await cairn(['get', added.cid, '-o', out, '--repo', path.join(suite.dir, 'from-helia'), '--peer', helia.addr, '--timeout', '60'], { timeoutMs: 90_000 })
      assert.equal(r.code, 0, r.stderr)
      assert.ok((await fs.readFile(out)).equals(content))
    } finally {
      helia.stop()
    }
  })
})

describe('seed --metrics', { timeout: 90_000 }, () => {
  test('serves Prometheus counters on loopback that move when blocks are served', async () => {
    const s = await suite.seed('metrics', { args: ['--metrics', '127.0.0.1:0'] })
    // printed just after the line startSeed waits for
    const url = await waitFor('the metrics line', async () => /metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(s.stderr())?.[1], 10_000, 50)
    const before = await (await fetch(url)).text()
    assert.match(before, /^cairn_served_bytes_total 0$/m)
    const file = await writeInput('metrics.bin', 2 * MIB, 17)
    const cid = await addTo(s, file)
    const r = await cairn(['get', cid, '-o', path.join(suite.dir, 'metrics-out.bin'), '--repo', path.join(suite.dir, 'metrics-fetcher'), '--peer', s.addrs[0]], { timeoutMs: 60_000 })
    assert.equal(r.code, 0, r.stderr)
    const after = await (await fetch(url)).text()
    const served = Number(/^cairn_served_bytes_total (\d+)$/m.exec(after)?.[1])
    assert.ok(served >= 2 * MIB, `served ${served} bytes`)
    assert.match(after, /^cairn_seeded_roots 1$/m)
    const stats = await cairn(['stats', '--json', '--repo', s.repo])
    assert.equal(stats.code, 0, stats.stderr)
    assert.ok((JSON.parse(stats.stdout) as { served: { bytes: number } }).served.bytes >= 2 * MIB)
    const notFound = await fetch(url.replace('/metrics', '/other'))
    assert.equal(notFound.status, 404)
  })
})

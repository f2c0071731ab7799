// The swarm engine across real processes on 127.0.0.1: blocks come from
// every provider, a provider that never answers is routed around,
// duplicate deliveries stay bounded, and capped seeders each carry a share.
// Figures (rates, memory) are measured by `npm run bench`, not here.

import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { after, describe, test } from 'node:test'
import { CarReader, CarWriter } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import { CAIRN, cairn, pseudoRandom } from '../helpers.ts'
import { blockFiles, seedSuite, type SeedProcess } from './seeds.ts'

const MIB = 1024 * 1024
/** a seed paused this long: past the stall limit (5 s, or 4 blocks' time at the peer's measured rate, which falls while it is paused) */
const PAUSE_MS = 15_000
const suite = seedSuite('cairn-swarm-')
const others: ChildProcess[] = []
after(() => { for (const c of others) c.kill('SIGKILL') })
const seed = async (name: string, args: string[] = []): Promise<SeedProcess> => await suite.seed(name, { args })

async function addTo (s: SeedProcess, file: string, extra: string[] = []): Promise<string> {
  const r = await cairn(['add', '-Q', '--repo', s.repo, ...extra, file])
  assert.equal(r.code, 0, r.stderr)
  return r.stdout.trim()
}

interface Report { fetched: number, peers: Record<string, number>, duplicates: number, duplicateBytes: number, dropped: Array<{ peer: string, reason: string }> }

function fetchReport (stdout: string): Report {
  for (const line of stdout.split('\n').filter(l => l !== '')) {
    const o = JSON.parse(line) as Partial<Report>
    if (o.fetched != null) return o as Report
  }
  throw new Error(`no fetch report in ${stdout}`)
}

/** The silent provider in a process of its own; its address once it listens. */
async function silentPeer (): Promise<{ addr: string, wants: () => number }> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'silent-peer.js')
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] })
  others.push(child)
  let wants = 0
  const lines = createInterface({ input: child.stdout })
  const addr = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('the silent peer did not start within 30 s')), 30_000)
    lines.on('line', l => {
      const o = JSON.parse(l) as { listening?: string, wants?: number }
      if (o.listening != null) { clearTimeout(t); resolve(o.listening) }
      if (o.wants != null) wants = o.wants
    })
  })
  return { addr, wants: () => wants }
}

describe('swarm', () => {
  test('three seeders and a silent provider: blocks from every seeder, the silent one routed around, duplicates bounded', async (t) => {
    const file = path.join(suite.dir, 'swarm.bin')
    const size = 40 * MIB
    await fs.writeFile(file, pseudoRandom(size, 21))
    const three = await Promise.all(['a', 'b', 'c'].map(async n => await seed(n)))
    const silent = await silentPeer()
    // 256 KiB chunks: 160 blocks to spread
    const cids = await Promise.all(three.map(async s => await addTo(s, file, ['--chunker', 'size-262144'])))
    assert.equal(new Set(cids).size, 1)
    const out = path.join(suite.dir, 'swarm-out.bin')
    const r = await cairn(['get', cids[0], '-o', out, '--json', '--repo', path.join(suite.dir, 'f'), '--peer', silent.addr, ...three.flatMap(s => ['--peer', s.addrs[0]])], { timeoutMs: 120_000 })
    assert.equal(r.code, 0, r.stderr)
    assert.ok((await fs.readFile(out)).equals(await fs.readFile(file)))
    const report = fetchReport(r.stdout)
    for (const s of three) assert.ok((report.peers[s.id] ?? 0) > 0, `seeder ${s.id} served nothing: ${JSON.stringify(report.peers)}`)
    // every block counted once: the file's leaves plus its root node
    const total = Object.values(report.peers).reduce((a, b) => a + b, 0)
    assert.ok(total >= size && total < size + 64 * 1024, `counted ${total} bytes for a ${size}-byte file`)
    const silentId = silent.addr.split('/p2p/')[1]
    assert.equal(report.peers[silentId] ?? 0, 0)
    assert.ok(silent.wants() > 0, 'the silent provider was asked')
    t.diagnostic(`shares ${JSON.stringify(report.peers)}; ${report.duplicates} duplicate block(s); dropped ${JSON.stringify(report.dropped)}`)
    assert.ok(report.duplicateBytes <= size / 10, `duplicates: ${report.duplicates} blocks, ${report.duplicateBytes} bytes`)
    const verify = await cairn(['repo', 'verify', '--repo', path.join(suite.dir, 'f')])
    assert.equal(verify.code, 0, verify.stderr)
  })

  test('a provider that only ever stalls, alone with one honest seeder: dropped after a stall, the fetch completes', async () => {
    const file = path.join(suite.dir, 'stall.bin')
    await fs.writeFile(file, pseudoRandom(8 * MIB, 22))
    const honest = await seed('h')
    const silent = await silentPeer()
    const cid = await addTo(honest, file, ['--chunker', 'size-262144'])
    const out = path.join(suite.dir, 'stall-out.bin')
    // the silent peer first: it gets the first wants, and must lose them
    const r = await cairn(['get', cid, '-o', out, '--json', '--repo', path.join(suite.dir, 'g'), '--peer', silent.addr, '--peer', honest.addrs[0]], { timeoutMs: 120_000 })
    assert.equal(r.code, 0, r.stderr)
    assert.ok((await fs.readFile(out)).equals(await fs.readFile(file)))
    const report = fetchReport(r.stdout)
    assert.ok(report.peers[honest.id] >= 8 * MIB, JSON.stringify(report))
    assert.equal(Object.keys(report.peers).length, 1, 'only the honest seeder delivered')
    assert.ok(silent.wants() > 0, 'the silent provider was asked')
  })

  test('the one provider holding the whole DAG pauses past the stall limit while the other holds half: asked again, the fetch completes', async () => {
    const file = path.join(suite.dir, 'paused.bin')
    const size = 8 * MIB
    await fs.writeFile(file, pseudoRandom(size, 24))
    // slow enough that the second half is still coming when it pauses
    const whole = await seed('w', ['--max-upload', '1MiB'])
    const half = await seed('half')
    const cid = await addTo(whole, file, ['--chunker', 'size-262144'])
    // the half holder: the root and the first half of its leaves, from a CAR of the whole
    const full = path.join(suite.dir, 'paused-full.car')
    const exported = await cairn(['car', 'export', cid, '-o', full, '--repo', whole.repo])
    assert.equal(exported.code, 0, exported.stderr)
    const reader = await CarReader.fromBytes(await fs.readFile(full))
    const root = CID.parse(cid)
    const rootBlock = await reader.get(root)
    assert.ok(rootBlock != null)
    const links = dagPb.decode(rootBlock.bytes).Links.map(l => l.Hash)
    assert.ok(links.length >= 16, `${links.length} leaves`)
    const { writer, out } = CarWriter.create([root])
    const chunks: Uint8Array[] = []
    const collected = (async () => { for await (const c of out) chunks.push(c) })()
    await writer.put(rootBlock)
    for (const l of links.slice(0, links.length / 2)) await writer.put(await reader.get(l) as { cid: CID, bytes: Uint8Array })
    await writer.close()
    await collected
    const partCar = path.join(suite.dir, 'paused-half.car')
    await fs.writeFile(partCar, Buffer.concat(chunks))
    await cairn(['car', 'import', partCar, '--repo', half.repo])

    const outFile = path.join(suite.dir, 'paused-out.bin')
    const fetchRepo = path.join(suite.dir, 'pg')
    const getting = cairn(['get', cid, '-o', outFile, '--json', '--repo', fetchRepo, '--peer', whole.addrs[0], '--peer', half.addrs[0], '--timeout', '60'], { timeoutMs: 120_000 })
    // a seed paused (a loaded machine, a laptop lid) for longer than the 5 s stall limit, once the fetch is under way
    for (let i = 0; i < 600 && await blockFiles(path.join(fetchRepo, 'blocks')) < 4; i++) await new Promise(resolve => setTimeout(resolve, 50))
    process.kill(whole.pid, 'SIGSTOP')
    try {
      await new Promise(resolve => setTimeout(resolve, PAUSE_MS))
    } finally {
      process.kill(whole.pid, 'SIGCONT')
    }
    const r = await getting
    assert.equal(r.code, 0, r.stderr)
    assert.ok((await fs.readFile(outFile)).equals(await fs.readFile(file)), 'the whole file, every byte')
    const report = fetchReport(r.stdout)
    // dropped while paused (a stall, or its requests timed out), then asked again
    assert.ok(report.dropped.some(d => d.peer === whole.id), `the paused seed was dropped first: ${JSON.stringify(report)}`)
    assert.ok(report.peers[whole.id] >= size / 2, `the paused seed served the half only it has: ${JSON.stringify(report.peers)}`)
  })

  test('two seeders capped at 4 MiB/s: each serves at least a fifth, and stats show the cap', async () => {
    const file = path.join(suite.dir, 'capped.bin')
    const size = 12 * MIB
    await fs.writeFile(file, pseudoRandom(size, 23))
    const two = await Promise.all(['c1', 'c2'].map(async n => await seed(n, ['--max-upload', '4MiB'])))
    const cid = (await Promise.all(two.map(async s => await addTo(s, file, ['--chunker', 'size-262144']))))[0]
    const stats = await cairn(['stats', '--repo', two[0].repo])
    assert.equal(stats.code, 0, stats.stderr)
    assert.match(stats.stdout, /limits +upload 4\.00 MiB\/s, download none/)
    const out = path.join(suite.dir, 'capped-out.bin')
    const r = await cairn(['get', cid, '-o', out, '--json', '--repo', path.join(suite.dir, 'h'), ...two.flatMap(s => ['--peer', s.addrs[0]])], { timeoutMs: 120_000 })
    assert.equal(r.code, 0, r.stderr)
    assert.ok((await fs.readFile(out)).equals(await fs.readFile(file)))
    const report = fetchReport(r.stdout)
    for (const s of two) assert.ok((report.peers[s.id] ?? 0) >= size / 5, `shares: ${JSON.stringify(report.peers)}`)
    // what a seeder counts as sent is what the fetcher counted as received from it
    const bw = await cairn(['stats', 'bw', '--json', '--repo', two[0].repo])
    assert.equal(bw.code, 0, bw.stderr)
    const b = JSON.parse(bw.stdout) as { totalIn: number, totalOut: number, rateIn: number, rateOut: number }
    assert.ok(b.totalOut >= report.peers[two[0].id], `stats bw: ${bw.stdout}`)
    const bad = await cairn(['stats', 'bandwidth', '--repo', two[0].repo])
    assert.equal(bad.code, 2)
  })

  test('a daemon fetches one file after another from the same provider over its kept block stream', async () => {
    const provider = await seed('p')
    const daemon = await seed('d')
    const conn = await cairn(['connect', provider.addrs[0], '--repo', daemon.repo])
    assert.equal(conn.code, 0, conn.stderr)
    for (let i = 0; i < 3; i++) {
      const bytes = pseudoRandom(3 * MIB + i, 30 + i)
      const file = path.join(suite.dir, `kept-${i}.bin`)
      await fs.writeFile(file, bytes)
      const cid = await addTo(provider, file)
      const r = await cairn(['cat', cid, '--repo', daemon.repo], { timeoutMs: 60_000 })
      assert.equal(r.code, 0, r.stderr)
      assert.ok(r.stdoutBytes.equals(bytes), `file ${i} came back whole`)
    }
  })

  test('a reader that stops reading holds the fetch near its in-flight bound; it completes once read', async () => {
    const provider = await seed('paced')
    const bytes = pseudoRandom(128 * MIB, 41)
    const file = path.join(suite.dir, 'paced.bin')
    await fs.writeFile(file, bytes)
    const cid = await addTo(provider, file)
    const repo = path.join(suite.dir, 'paced-reader')
    // nobody reads cat's stdout at first: the pipe fills and the reader stalls
    const child = spawn(process.execPath, [CAIRN, '--repo', repo, 'cat', cid, '--peer', provider.addrs[0]], { stdio: ['ignore', 'pipe', 'pipe'] })
    others.push(child)
    child.stdout.pause()
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const exited = new Promise<number | null>(resolve => child.on('exit', code => { resolve(code) }))
    // wait until the fetch stands still (bounded)
    let last = -1
    let still = 0
    for (let i = 0; i < 60 && still < 4; i++) {
      await new Promise(resolve => setTimeout(resolve, 500))
      const n = await blockFiles(path.join(repo, 'blocks'))
      still = n === last && n > 0 ? still + 1 : 0
      last = n
    }
    assert.equal(still, 4, `the fetch never stood still (${last} blocks, stderr: ${stderr})`)
    // 48 MiB in flight or held for the reader, the reader's 8 leaves, slack: far from all 128
    assert.ok(last >= 8 && last <= 72, `${last} blocks of 1 MiB fetched while the reader stood still`)
    const hash = createHash('sha256')
    child.stdout.on('data', (d: Buffer) => hash.update(d))
    child.stdout.resume()
    assert.equal(await exited, 0, stderr)
    assert.equal(hash.digest('hex'), createHash('sha256').update(bytes).digest('hex'))
  })

  test('a bad --max-upload is one clear error', async () => {
    const r = await cairn(['seed', '--repo', path.join(suite.dir, 'bad'), '--max-upload', 'fast', '--no-tui'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^Error: --max-upload needs bytes per second with an optional unit/)
  })
})

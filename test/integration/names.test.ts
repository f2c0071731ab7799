// Names with real seeds on 127.0.0.1 and the easy `test` anchor network:
// a name published on one seed resolves on another through the DHT, an
// update then reaches that seed through the name's pubsub topic, cat and get
// read /ipns/ paths, the updates are anchored in order and a proof of one
// verifies with no repo, and bad input gets one clear line.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { errorLine, failed, ok, pseudoRandom, run } from '../helpers.ts'
import { apiCall, Resources, stopLive, waitFor, type SeedProcess } from './seeds.ts'
import { gatewaySeed, get } from './gateway-http.ts'
import { parseName, validateRecord } from '../../core/names/record.ts'

/** a loaded 2-core box can take a while to start a seed */
const READY_MS = 120_000
/** bounded waits for the DHT, pubsub and mining */
const WAIT_MS = 90_000

const res = new Resources()
let dir = ''
let a: SeedProcess
let b: SeedProcess
let c: SeedProcess
const cids: string[] = []

async function testRepo (name: string): Promise<string> {
  const repo = path.join(dir, name)
  ok(await run(repo, 'config', 'set', 'anchor.network', 'test'), 'config set')
  return repo
}

const json = <T>(r: { stdout: string }): T => JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as T

before(async () => {
  dir = await res.dir('cairn-names-')
  const repos = await Promise.all(['a', 'b', 'c'].map(testRepo))
  const args = ['--no-tui', '--miner-threads', '1']
  a = await res.seed(repos[0], { args, readyTimeoutMs: READY_MS })
  b = await res.seed(repos[1], { args, bootstrap: [a.addrs[0]], readyTimeoutMs: READY_MS })
  c = await res.seed(repos[2], { args, bootstrap: [a.addrs[0], b.addrs[0]], readyTimeoutMs: READY_MS })
  for (let i = 0; i < 3; i++) {
    const file = path.join(dir, `v${i}.bin`)
    await fs.writeFile(file, pseudoRandom(300_000 + i, 50 + i))
    const r = await run(a.repo, 'add', file, '-Q', '--no-anchor')
    ok(r, 'add')
    cids.push(r.stdout.trim())
  }
  for (const s of [a, b, c]) {
    await waitFor(`${s.repo}'s routing table`, async () => {
      const r = await run(s.repo, 'stats', '--json')
      return r.code === 0 && json<{ routingTable: number }>(r).routingTable >= 1
    }, WAIT_MS, 500)
  }
})

after(async () => {
  await res.close()
  await stopLive()
})

interface Published { name: string, seq: number, value: string, dht: { peers: number, error: string | null }, pubsub: number | null, anchor: string }
interface Resolved { value: string, seq: number, source: string }

test('a name published on one seed resolves on another through the DHT; an update then arrives by pubsub', async () => {
  const p = await run(a.repo, 'name', 'publish', cids[0], '--json')
  ok(p, 'name publish')
  const pub = json<Published>(p)
  assert.match(pub.name, /^k51/)
  assert.equal(pub.seq, 0)
  assert.equal(pub.value, `/ipfs/${cids[0]}`)
  assert.ok(pub.dht.peers >= 1, JSON.stringify(pub.dht))
  assert.equal(pub.anchor, 'pending')

  const first = await run(b.repo, 'name', 'resolve', pub.name, '--json', '--timeout', '30')
  ok(first, 'name resolve on b')
  assert.equal(json<Resolved>(first).value, `/ipfs/${cids[0]}`)
  assert.equal(json<Resolved>(first).source, 'dht')

  // b has joined the name's topic by resolving it: the next update is heard there
  // without asking the DHT (b's cached answer changes while its TTL still holds)
  await waitFor('a to see b on the name topic', async () => {
    const u = await run(a.repo, 'name', 'publish', cids[1], '--json')
    ok(u, 'name publish update')
    return json<Published>(u).pubsub !== 0
  }, WAIT_MS, 1000)
  const heard = await waitFor('b to hear the update by pubsub', async () => {
    const r = await run(b.repo, 'name', 'resolve', pub.name, '--json')
    return r.code === 0 && json<Resolved>(r).value === `/ipfs/${cids[1]}` ? json<Resolved>(r) : undefined
  }, WAIT_MS, 300)
  assert.equal(heard.source, 'cache')
  assert.match(b.stdout() + b.stderr(), new RegExp(`name ${pub.name} now points at /ipfs/${cids[1]} \\(sequence \\d+, by pubsub\\)`))
})

test('cat and get take /ipns/NAME; a seed without the content fetches it', async () => {
  const name = json<Published>(await run(a.repo, 'name', 'publish', cids[2], '--json')).name
  const bytes = await fs.readFile(path.join(dir, 'v2.bin'))
  const cat = await run(c.repo, 'cat', `/ipns/${name}`, '--timeout', '60')
  ok(cat, 'cat /ipns/')
  assert.ok(cat.stdoutBytes.equals(bytes))
  const out = path.join(dir, 'got.bin')
  ok(await run(c.repo, 'get', `/ipns/${name}`, '-o', out), 'get /ipns/')
  assert.ok((await fs.readFile(out)).equals(bytes))
})

test('updates are anchored in order; history shows them on another seed; a proof of one verifies with no repo', async () => {
  const key = await run(a.repo, 'key', 'gen', 'site', '--json')
  ok(key, 'key gen')
  const name = json<{ id: string }>(key).id
  for (const cid of cids) ok(await run(a.repo, 'name', 'publish', cid, '--key', 'site'), 'publish with --key')
  await apiCall(a.repo, 'mine', { on: true })
  try {
    await waitFor('3 anchored records of the name on b', async () => {
      const h = await run(b.repo, 'name', 'history', name, '--json')
      if (h.code !== 0) return undefined
      const rows = h.stdout.trim().split('\n').filter(l => l !== '').map(l => JSON.parse(l) as { seq: number, height: number | null })
      return rows.length === 3 && rows.every(r => r.height != null) ? rows : undefined
    }, WAIT_MS, 500)
  } finally {
    await apiCall(a.repo, 'mine', { on: false })
  }
  const h = await run(b.repo, 'name', 'history', name)
  ok(h, 'history')
  const lines = h.stdout.trim().split('\n')
  assert.deepEqual(lines.map(l => l.split(' ').slice(0, 2).join(' ')), cids.map((cid, i) => `${i} /ipfs/${cid}`))
  const heights = lines.map(l => Number(/height (\d+)/.exec(l)?.[1]))
  assert.deepEqual([...heights].sort((x, y) => x - y), heights)

  const proofFile = path.join(dir, 'name.proof')
  ok(await run(b.repo, 'proof', `/ipns/${name}`, '--seq', '1', '-o', proofFile), 'proof of a name')
  const v = await run(path.join(dir, 'no-repo'), 'verify', '--proof', proofFile)
  ok(v, 'verify --proof')
  assert.match(v.stdout, new RegExp(`name {7}/ipns/${name} pointed at /ipfs/${cids[1]} \\(sequence 1\\)`))
  await assert.rejects(fs.access(path.join(dir, 'no-repo', 'config.json')))
})

test('a seed republishes its names before their records expire, and stats shows when', async () => {
  ok(await run(c.repo, 'key', 'gen', 'brief'), 'key gen')
  const p = json<Published & { expires: number }>(await run(c.repo, 'name', 'publish', cids[0], '--key', 'brief', '--lifetime', '6s', '--json'))
  const first = await waitFor('the name in stats', async () => {
    const s = json<{ names: Array<{ name: string, expires: number, nextRepublish: number, seq: number }> }>(await run(c.repo, 'stats', '--json'))
    return s.names.find(n => n.name === p.name)
  }, WAIT_MS, 300)
  assert.ok(first.nextRepublish <= first.expires - 2500, `republish at ${first.nextRepublish}, expiry ${first.expires}`)
  const later = await waitFor('a republish with a later expiry, same sequence', async () => {
    const s = json<{ names: Array<{ name: string, expires: number, seq: number }> }>(await run(c.repo, 'stats', '--json'))
    const n = s.names.find(n => n.name === p.name)
    return n != null && n.expires > first.expires ? n : undefined
  }, WAIT_MS, 500)
  assert.equal(later.seq, first.seq)
  assert.match(c.stdout() + c.stderr(), new RegExp(`republished ${p.name} \\(sequence ${first.seq}\\)`))
})

test('the gateway answers /ipns/NAME[/path] with the content and a TTL cache time, and ?format=ipns-record with the record', async () => {
  const repo = await testRepo('d')
  const { port } = await gatewaySeed(res, repo, {}, { bootstrap: [a.addrs[0]] })
  const key = json<{ id: string }>(await run(a.repo, 'key', 'gen', 'web', '--json'))
  const dirFile = path.join(dir, 'site')
  await fs.mkdir(dirFile, { recursive: true })
  await fs.writeFile(path.join(dirFile, 'index.html'), '<h1>v1</h1>')
  const site = (await run(a.repo, 'add', '-r', dirFile, '-Q', '--no-anchor')).stdout.trim()
  ok(await run(a.repo, 'name', 'publish', site, '--key', 'web', '--ttl', '90s'), 'publish')
  const page = await waitFor('the gateway to serve the name', async () => {
    const r = await get(port, `/ipns/${key.id}/index.html`)
    return r.status === 200 ? r : undefined
  }, WAIT_MS, 500)
  assert.equal(page.body.toString(), '<h1>v1</h1>')
  assert.equal(page.headers['x-ipfs-path'], `/ipns/${key.id}/index.html`)
  assert.equal(page.headers['cache-control'], 'public, max-age=90')
  const rec = await get(port, `/ipns/${key.id}?format=ipns-record`)
  assert.equal(rec.status, 200)
  assert.equal(rec.headers['content-type'], 'application/vnd.ipfs.ipns-record')
  const record = await validateRecord(parseName(key.id), rec.body)
  assert.equal(record.value, `/ipfs/${site}`)
  assert.equal((await get(port, '/ipns/not-a-name')).status, 400)
  const nobody = await get(port, '/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8', {}, 'GET', 90_000)
  assert.equal(nobody.status, 504)
  assert.match(nobody.body.toString(), /did not resolve/)
})

test('bad input gets one clear line: a bad name, a bad value, an unknown key, a name that does not resolve', async () => {
  assert.equal((await run(b.repo, 'name', 'resolve', 'example.com')).code, 2)
  assert.match(errorLine(await run(b.repo, 'name', 'resolve', 'example.com')), /not an IPNS name/)
  assert.match(failed(await run(b.repo, 'name', 'publish', 'not-a-cid'), 'bad value'), /takes a CID/)
  assert.match(failed(await run(b.repo, 'name', 'publish', cids[0], '--key', 'nokey'), 'unknown key'), /no key named "nokey"/)
  assert.match(failed(await run(b.repo, 'name', 'publish', cids[0], '--lifetime', 'soon'), 'bad duration'), /--lifetime needs a duration/)
  assert.match(failed(await run(b.repo, 'key', 'gen', 'self'), 'key gen self'), /node's own key/)
  const nobody = 'k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8'
  const r = await run(c.repo, 'name', 'resolve', nobody, '--timeout', '2')
  assert.equal(r.code, 1)
  assert.match(errorLine(r), /did not resolve within 2 s/)
})

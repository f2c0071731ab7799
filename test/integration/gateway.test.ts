// The HTTP gateway of a real `cairn seed --gateway` process, over real HTTP
// on 127.0.0.1: the path gateway, the trustless gateway, routing v1, the
// errors, the limits (429, a client that leaves frees its slot), content
// fetched from another seed, and what /metrics says about it all.

import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { CarBlockIterator } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import { cairn, errorLine, pseudoRandom } from '../helpers.ts'
import { Resources, freePort, stopLive, waitFor } from './seeds.ts'
import { gatewaySeed, get } from './gateway-http.ts'

const MIB = 1024 * 1024
const res = new Resources()
let port = 0
let root = ''
let dir = ''
let metricsPort = 0
const BIG = pseudoRandom(3 * MIB + 17, 7)
const STRANGE = '<img src=x onerror=alert(1)>&"\'.txt'
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pseudoRandom(100, 3)])

before(async () => {
  dir = await res.dir('cairn-gw-')
  const content = path.join(dir, 'content')
  await fs.mkdir(path.join(content, 'site'), { recursive: true })
  await fs.mkdir(path.join(content, 'sub'), { recursive: true })
  await fs.writeFile(path.join(content, 'hello.txt'), 'hello gateway\n')
  await fs.writeFile(path.join(content, 'big.bin'), BIG)
  await fs.writeFile(path.join(content, STRANGE), 'strange\n')
  await fs.writeFile(path.join(content, 'noext'), PNG)
  await fs.writeFile(path.join(content, 'site', 'index.html'), '<!doctype html><title>site</title><p>the site</p>\n')
  await fs.writeFile(path.join(content, 'sub', 'deep.txt'), 'deep\n')
  const repo = path.join(dir, 'a')
  const add = await cairn(['add', '-r', '-Q', content, '--repo', repo])
  assert.equal(add.code, 0, add.stderr)
  root = add.stdout.trim()
  metricsPort = await freePort()
  ;({ port } = await gatewaySeed(res, repo, { 'gateway.timeout': '5' }, { args: ['--metrics', `127.0.0.1:${metricsPort}`] }))
})

after(async () => {
  await res.close()
  await stopLive()
})

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

/** A CAR answer parsed: its roots and blocks in order, each checked against its CID. */
async function readCar (body: Buffer): Promise<{ roots: CID[], blocks: Array<{ cid: CID, bytes: Uint8Array }> }> {
  const it = await CarBlockIterator.fromBytes(body)
  const roots = await it.getRoots()
  const blocks: Array<{ cid: CID, bytes: Uint8Array }> = []
  for await (const b of it) {
    assert.equal(b.cid.multihash.code, 0x12, 'sha2-256 blocks')
    assert.equal(sha(b.bytes), Buffer.from(b.cid.multihash.digest).toString('hex'), `block ${b.cid.toString()} matches its CID`)
    blocks.push(b)
  }
  return { roots, blocks }
}

const plainLine = (body: Buffer): void => {
  const text = body.toString('utf8')
  assert.match(text, /^[^\n]+\n$/, `one plain line, got ${JSON.stringify(text.slice(0, 300))}`)
  assert.doesNotMatch(text, /\n\s+at /, 'no stack trace')
}

describe('path gateway', { timeout: 120_000 }, () => {
  test('a file: bytes, type, length, immutable cache headers, ETag, X-Ipfs-Path and X-Ipfs-Roots', async () => {
    const r = await get(port, `/ipfs/${root}/hello.txt`)
    assert.equal(r.status, 200)
    assert.equal(r.body.toString(), 'hello gateway\n')
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8')
    assert.equal(r.headers['content-length'], '14')
    assert.equal(r.headers['cache-control'], 'public, max-age=29030400, immutable')
    assert.equal(r.headers['x-ipfs-path'], `/ipfs/${root}/hello.txt`)
    const roots = (r.headers['x-ipfs-roots'] as string).split(',')
    assert.equal(roots.length, 2)
    assert.equal(roots[0], root)
    assert.equal(r.headers.etag, `"${roots[1]}"`)
    const again = await get(port, `/ipfs/${root}/hello.txt`, { 'if-none-match': r.headers.etag as string })
    assert.equal(again.status, 304)
    assert.equal(again.body.byteLength, 0)
    const head = await get(port, `/ipfs/${root}/hello.txt`, {}, 'HEAD')
    assert.equal(head.status, 200)
    assert.equal(head.headers['content-length'], '14')
    assert.equal(head.body.byteLength, 0)
  })

  test('a multi-block file whole, and single ranges as 206 with Content-Range; 416 past the end', async () => {
    const r = await get(port, `/ipfs/${root}/big.bin`)
    assert.equal(r.status, 200)
    assert.equal(sha(r.body), sha(BIG))
    assert.equal(r.headers['accept-ranges'], 'bytes')
    // across a block boundary (1 MiB chunks)
    const a = MIB - 5
    const part = await get(port, `/ipfs/${root}/big.bin`, { range: `bytes=${a}-${a + 9}` })
    assert.equal(part.status, 206)
    assert.equal(part.headers['content-range'], `bytes ${a}-${a + 9}/${BIG.length}`)
    assert.deepEqual(part.body, BIG.subarray(a, a + 10))
    const tail = await get(port, `/ipfs/${root}/big.bin`, { range: 'bytes=-100' })
    assert.equal(tail.status, 206)
    assert.deepEqual(tail.body, BIG.subarray(BIG.length - 100))
    const open = await get(port, `/ipfs/${root}/big.bin`, { range: `bytes=${BIG.length - 3}-` })
    assert.deepEqual(open.body, BIG.subarray(BIG.length - 3))
    const past = await get(port, `/ipfs/${root}/big.bin`, { range: `bytes=${BIG.length}-` })
    assert.equal(past.status, 416)
    assert.equal(past.headers['content-range'], `bytes */${BIG.length}`)
  })

  test('the type comes from the first bytes when the name has no extension; ?filename= and ?download=true', async () => {
    const r = await get(port, `/ipfs/${root}/noext`)
    assert.equal(r.headers['content-type'], 'image/png')
    assert.equal(r.headers['x-content-type-options'], 'nosniff')
    const named = await get(port, `/ipfs/${root}/hello.txt?filename=${encodeURIComponent('grüße.txt')}`)
    assert.match(named.headers['content-disposition'] as string, /^inline; filename="gr__e\.txt"; filename\*=UTF-8''gr%C3%BC%C3%9Fe\.txt$/)
    const dl = await get(port, `/ipfs/${root}/hello.txt?filename=x.txt&download=true`)
    assert.match(dl.headers['content-disposition'] as string, /^attachment; filename="x\.txt"/)
  })

  test('a directory: redirect to its slash form, index.html, else a listing whose names are escaped and linked', async () => {
    const redirect = await get(port, `/ipfs/${root}/site`)
    assert.equal(redirect.status, 301)
    assert.equal(redirect.headers.location, `/ipfs/${root}/site/`)
    const site = await get(port, `/ipfs/${root}/site/`)
    assert.equal(site.status, 200)
    assert.equal(site.headers['content-type'], 'text/html; charset=utf-8')
    assert.match(site.body.toString(), /<p>the site<\/p>/)
    const list = await get(port, `/ipfs/${root}/`)
    assert.equal(list.status, 200)
    assert.equal(list.headers['content-type'], 'text/html; charset=utf-8')
    const html = list.body.toString()
    assert.ok(!html.includes('<img'), 'the stranger name is not markup')
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;&amp;&quot;&#39;.txt'), 'the name is shown escaped')
    assert.ok(html.includes(`href="/ipfs/${root}/${encodeURIComponent(STRANGE).replace(/'/g, '&#39;')}"`), 'and linked percent-encoded')
    for (const name of ['hello.txt', 'big.bin', 'noext', 'site/', 'sub/']) assert.ok(html.includes(`>${name}</a>`), `lists ${name}`)
    assert.ok(html.includes('3.0 MiB'), 'sizes')
    // the link works
    const strange = await get(port, `/ipfs/${root}/${encodeURIComponent(STRANGE)}`)
    assert.equal(strange.body.toString(), 'strange\n')
    const sub = await get(port, `/ipfs/${root}/sub/`)
    assert.ok(sub.body.toString().includes(`href="/ipfs/${root}/">..</a>`), 'a link to the parent')
  })

  test('errors: 400 bad CID, 404 missing path or unknown route, 405 other methods, 504 content nobody serves; one plain line each', async () => {
    for (const [p, status] of [['/ipfs/not-a-cid', 400], [`/ipfs/${root}/nope.txt`, 404], ['/elsewhere', 404], ['/ipfs/', 400], [`/ipfs/${root}/%zz`, 400]] as const) {
      const r = await get(port, p)
      assert.equal(r.status, status, p)
      assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8')
      plainLine(r.body)
    }
    const post = await get(port, `/ipfs/${root}`, {}, 'POST')
    assert.equal(post.status, 405)
    plainLine(post.body)
    // a CID no one has (this seed has no peers: it says so at once)
    const nobody = await get(port, '/ipfs/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
    assert.equal(nobody.status, 504)
    plainLine(nobody.body)
  })
})

describe('trustless gateway', { timeout: 120_000 }, () => {
  test('raw block by ?format=raw and by Accept: the bytes hash to the CID', async () => {
    const list = await get(port, `/ipfs/${root}/big.bin?format=raw`)
    assert.equal(list.status, 200)
    assert.equal(list.headers['content-type'], 'application/vnd.ipld.raw')
    const node = dagPb.decode(list.body)
    assert.equal(node.Links.length, 4, 'the file root lists its 4 leaves')
    const leaf = node.Links[1].Hash.toString()
    const r = await get(port, `/ipfs/${leaf}`, { accept: 'application/vnd.ipld.raw' })
    assert.equal(r.status, 200)
    assert.deepEqual(r.body, BIG.subarray(MIB, 2 * MIB))
    assert.equal(r.headers.etag, `"${leaf}.raw"`)
  })

  test('CAR of a directory: v1, rooted at the CID, depth-first, every block once, complete', async () => {
    const r = await get(port, `/ipfs/${root}?format=car`)
    assert.equal(r.status, 200)
    assert.equal(r.headers['content-type'], 'application/vnd.ipld.car; version=1; order=dfs; dups=n')
    const car = await readCar(r.body)
    assert.equal(car.roots.length, 1)
    assert.equal(car.roots[0].toString(), root)
    assert.equal(car.blocks[0].cid.toString(), root, 'the root first')
    const keys = car.blocks.map(b => Buffer.from(b.cid.multihash.bytes).toString('hex'))
    assert.equal(new Set(keys).size, keys.length, 'no duplicates')
    // depth-first in link order: walking the DAG from the root visits the blocks in the CAR's order
    const byKey = new Map(car.blocks.map(b => [b.cid.toString(), b]))
    const order: string[] = []
    const visit = (cid: CID): void => {
      if (order.includes(cid.toString())) return
      const b = byKey.get(cid.toString())
      assert.ok(b != null, `block ${cid.toString()} is in the CAR`)
      order.push(cid.toString())
      if (cid.code === dagPb.code) for (const l of dagPb.decode(b.bytes).Links) visit(l.Hash)
    }
    visit(CID.parse(root))
    assert.deepEqual(car.blocks.map(b => b.cid.toString()), order)
    // also by Accept
    const accepted = await get(port, `/ipfs/${root}`, { accept: 'application/vnd.ipld.car' })
    assert.deepEqual(accepted.body, r.body)
  })

  test('dag-scope=block and entity, entity-bytes: only the blocks asked for, with the path blocks first', async () => {
    const blockScope = await readCar((await get(port, `/ipfs/${root}/big.bin?format=car&dag-scope=block`)).body)
    assert.equal(blockScope.roots[0].toString(), root)
    assert.equal(blockScope.blocks.length, 2, 'the directory (path) and the file root')
    assert.equal(blockScope.blocks[0].cid.toString(), root)
    const entity = await readCar((await get(port, `/ipfs/${root}/big.bin?format=car&dag-scope=entity`)).body)
    assert.equal(entity.blocks.length, 1 + 1 + 4, 'path, file root, 4 leaves')
    const dirEntity = await readCar((await get(port, `/ipfs/${root}?format=car&dag-scope=entity`)).body)
    assert.equal(dirEntity.blocks.length, 1, 'a directory as an entity is its own node')
    // bytes in the second leaf only
    const range = await readCar((await get(port, `/ipfs/${root}/big.bin?format=car&entity-bytes=${MIB + 10}:${MIB + 20}`)).body)
    assert.equal(range.blocks.length, 3, 'path, file root, the one leaf')
    assert.deepEqual(Buffer.from(range.blocks[2].bytes), BIG.subarray(MIB, 2 * MIB))
    const lastBytes = await readCar((await get(port, `/ipfs/${root}/big.bin?format=car&entity-bytes=-5:*`)).body)
    assert.deepEqual(Buffer.from(lastBytes.blocks.at(-1)?.bytes ?? []), BIG.subarray(3 * MIB))
    for (const bad of ['dag-scope=most', 'entity-bytes=a:b', 'entity-bytes=9:2', 'format=tar']) {
      const r = await get(port, `/ipfs/${root}?format=car&${bad}`.replace('format=car&format=tar', 'format=tar'))
      assert.equal(r.status, 400, bad)
      plainLine(r.body)
    }
  })

  test('the probe /ipfs/bafkqaaa; only-if-cached: 412 when the root is not held, 200 when it is', async () => {
    const probe = await get(port, '/ipfs/bafkqaaa', { accept: 'application/vnd.ipld.raw' })
    assert.equal(probe.status, 200)
    assert.equal(probe.body.byteLength, 0)
    const notHeld = await get(port, '/ipfs/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy', { 'cache-control': 'only-if-cached', accept: 'application/vnd.ipld.raw' })
    assert.equal(notHeld.status, 412)
    plainLine(notHeld.body)
    const held = await get(port, `/ipfs/${root}`, { 'cache-control': 'only-if-cached', accept: 'application/vnd.ipld.raw' })
    assert.equal(held.status, 200)
  })
})

describe('routing v1', { timeout: 120_000 }, () => {
  test('providers: the seed names itself over HTTP and libp2p, JSON or NDJSON, CORS open', async () => {
    const r = await get(port, `/routing/v1/providers/${root}`, { accept: 'application/json' })
    assert.equal(r.status, 200)
    assert.equal(r.headers['access-control-allow-origin'], '*')
    const body = JSON.parse(r.body.toString()) as { Providers: Array<{ Schema: string, ID: string, Addrs: string[], Protocols: string[] }> }
    const http = body.Providers.find(p => p.Protocols.includes('transport-ipfs-gateway-http'))
    assert.deepEqual(http?.Addrs, [`/ip4/127.0.0.1/tcp/${port}/http`])
    assert.ok(body.Providers.some(p => p.Protocols.includes('transport-bitswap')))
    const nd = await get(port, `/routing/v1/providers/${root}`, { accept: 'application/x-ndjson' })
    assert.equal(nd.headers['content-type'], 'application/x-ndjson')
    const lines = nd.body.toString().split('\n').filter(l => l !== '').map(l => JSON.parse(l) as { ID: string })
    assert.equal(lines.length, body.Providers.length)
    const none = await get(port, '/routing/v1/providers/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
    assert.equal(none.status, 200)
    assert.deepEqual(JSON.parse(none.body.toString()), { Providers: [] })
    const pre = await get(port, `/routing/v1/providers/${root}`, { origin: 'http://example.test', 'access-control-request-method': 'GET' }, 'OPTIONS')
    assert.equal(pre.status, 204)
    assert.match(pre.headers['access-control-allow-methods'] as string, /GET/)
  })

  test('peers: the seed itself; a bad peer ID is 400', async () => {
    const id = res.seeds[0].id
    const r = await get(port, `/routing/v1/peers/${id}`)
    assert.equal(r.status, 200)
    const body = JSON.parse(r.body.toString()) as { Peers: Array<{ ID: string, Addrs: string[] }> }
    assert.equal(body.Peers[0].ID, id)
    assert.ok(body.Peers[0].Addrs.some(a => a.startsWith('/ip4/127.0.0.1/tcp/')))
    const bad = await get(port, '/routing/v1/peers/nonsense')
    assert.equal(bad.status, 400)
  })
})

describe('visible', { timeout: 60_000 }, () => {
  test('/metrics counts the requests by status and the bytes sent', async () => {
    const r = await get(metricsPort, '/metrics')
    const text = r.body.toString()
    assert.match(text, /cairn_gateway_requests_total\{code="200"\} \d+/)
    assert.match(text, /cairn_gateway_requests_total\{code="404"\} \d+/)
    const sent = Number(/cairn_gateway_sent_bytes_total (\d+)/.exec(text)?.[1])
    assert.ok(sent > BIG.length, `bytes sent counted (${sent})`)
    assert.match(text, /cairn_gateway_requests_in_flight 0\n/)
  })
})

describe('the seed flag', { timeout: 120_000 }, () => {
  test('--gateway nonsense is a usage error; a port already taken is one Error line and no seed', async () => {
    const repo = path.join(dir, 'flags')
    const bad = await cairn(['seed', '--no-tui', '--listen', '/ip4/127.0.0.1/tcp/0', '--gateway', 'nonsense', '--repo', repo])
    assert.equal(bad.code, 2)
    assert.match(errorLine(bad), /^Error: --gateway needs PORT or HOST:PORT \(got "nonsense"\)$/)
    const taken = await cairn(['seed', '--no-tui', '--listen', '/ip4/127.0.0.1/tcp/0', '--gateway', `127.0.0.1:${port}`, '--repo', repo])
    assert.notEqual(taken.code, 0)
    assert.match(errorLine(taken), /^Error: cannot serve the gateway on 127\.0\.0\.1:\d+: .*EADDRINUSE/)
  })
})

describe('limits', { timeout: 180_000 }, () => {
  test('full: 429 with Retry-After; a client that leaves mid-response frees its slot for the next', async () => {
    const repo = path.join(dir, 'limits')
    const file = path.join(dir, 'huge.bin')
    await fs.writeFile(file, pseudoRandom(64 * MIB, 5))
    const add = await cairn(['add', '-Q', file, '--repo', repo])
    assert.equal(add.code, 0, add.stderr)
    const cid = add.stdout.trim()
    const mport = await freePort()
    const { port: lp } = await gatewaySeed(res, repo, { 'gateway.maxRequests': '1' }, { args: ['--metrics', `127.0.0.1:${mport}`] })
    // the one slot: a client that reads the headers and then nothing (backpressure holds the server's reader)
    const holder = http.request({ host: '127.0.0.1', port: lp, path: `/ipfs/${cid}`, agent: false })
    const held = await new Promise<http.IncomingMessage>((resolve, reject) => { holder.on('response', resolve); holder.on('error', reject); holder.end() })
    assert.equal(held.statusCode, 200)
    held.pause()
    // four wait in the queue (1 slot × 4)...
    const queued = Array.from({ length: 4 }, async () => await get(lp, '/ipfs/bafkqaaa'))
    await waitFor('the queue to fill', async () => {
      const m = (await get(mport, '/metrics')).body.toString()
      return /cairn_gateway_requests_in_flight 5\n/.test(m)
    }, 10_000, 50)
    // ... and the next is turned away at once
    const turned = await get(lp, '/ipfs/bafkqaaa')
    assert.equal(turned.status, 429)
    assert.equal(turned.headers['retry-after'], '1')
    plainLine(turned.body)
    // the holder leaves mid-response: its slot goes to the queue
    holder.destroy()
    const answers = await Promise.all(queued)
    for (const a of answers) assert.equal(a.status, 200)
    const m = await waitFor('the slot and the queue to empty', async () => {
      const text = (await get(mport, '/metrics')).body.toString()
      return /cairn_gateway_requests_in_flight 0\n/.test(text) ? text : false
    }, 10_000, 100)
    assert.match(m, /cairn_gateway_requests_total\{code="499"\} 1\n/, 'the one that left is counted as such')
    assert.match(m, /cairn_gateway_requests_total\{code="429"\} 1\n/)
    const sent = Number(/cairn_gateway_sent_bytes_total (\d+)/.exec(m)?.[1])
    assert.ok(sent < 64 * MIB, `the server stopped sending when the client left (${sent} bytes)`)
    // and the gateway still serves
    const after = await get(lp, '/ipfs/bafkqaaa')
    assert.equal(after.status, 200)
  })
})

describe('content not held', { timeout: 180_000 }, () => {
  test('a second seed\'s gateway fetches it from the swarm, verified; 504 when nobody has it within gateway.timeout', async () => {
    const a = res.seeds[0]
    const { port: bp } = await gatewaySeed(res, path.join(dir, 'b'), { 'gateway.timeout': '3' }, { bootstrap: [a.addrs[0]] })
    await waitFor('B to connect to A', async () => {
      const r = await get(bp, `/routing/v1/peers/${a.id}`)
      return (JSON.parse(r.body.toString()) as { Peers: unknown[] }).Peers.length > 0
    }, 30_000)
    const r = await get(bp, `/ipfs/${root}/big.bin`)
    assert.equal(r.status, 200)
    assert.equal(sha(r.body), sha(BIG))
    const dirList = await get(bp, `/ipfs/${root}/`)
    assert.ok(dirList.body.toString().includes('hello.txt'))
    const t0 = Date.now()
    const nobody = await get(bp, '/ipfs/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
    assert.equal(nobody.status, 504)
    plainLine(nobody.body)
    assert.ok(Date.now() - t0 < 30_000, 'within the time limit and its lookups')
    // gateway.offline: held content only
    const { port: op } = await gatewaySeed(res, path.join(dir, 'c'), { 'gateway.offline': 'true' }, { bootstrap: [a.addrs[0]] })
    const off = await get(op, `/ipfs/${root}/hello.txt`)
    assert.equal(off.status, 504)
    plainLine(off.body)
  })
})

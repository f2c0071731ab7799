// The Kubo RPC of `cairn seed --rpc`, driven by kubo-rpc-client (the
// official JS client) and by plain HTTP where the wire itself is the point
// (auth, trailers, Cluster's pin/add with progress). Seeds are separate
// processes with real repos, on 127.0.0.1 only.

import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { create, type KuboRPCClient } from 'kubo-rpc-client'
import { CID } from 'multiformats/cid'
import { multiaddr } from '@multiformats/multiaddr'
import { cairn, pseudoRandom, type RunResult } from '../helpers.ts'
import { Blocks } from '../../storage/blocks.ts'
import { Resources, waitFor, type SeedProcess } from './seeds.ts'

/** how long a seed may take to print its RPC line after it is ready */
const RPC_LINE_MS = 20_000
/** longer than Node's default keepAliveTimeout (5 s), which closed idle connections */
const IDLE_PAST_NODE_DEFAULT_MS = 6_000
/** two seeds finding each other */
const CONNECT_WAIT_MS = 30_000

interface Rpc { url: string, host: string, port: number, token: string, client: KuboRPCClient }

async function rpcOf (seed: SeedProcess): Promise<Rpc> {
  const line = await waitFor('kubo rpc line', async () => /^kubo rpc at (http:\/\/(\S+):(\d+)\/api\/v0) \(Authorization: Bearer (\S+),/m.exec(seed.stderr()) ?? undefined, RPC_LINE_MS)
  const token = line[4]
  return { url: line[1], host: line[2], port: Number(line[3]), token, client: create({ url: line[1], headers: { authorization: `Bearer ${token}` } }) }
}

function ok (r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed: ${r.stderr}`)
  return r.stdout.trim()
}

/** A raw POST to the RPC: status, headers, body and trailers. */
async function post (rpc: Rpc, call: string, o: { headers?: Record<string, string>, method?: string } = {}): Promise<{ status: number, headers: http.IncomingHttpHeaders, body: string, trailers: NodeJS.Dict<string> }> {
  return await new Promise((resolve, reject) => {
    const req = http.request({ host: rpc.host, port: rpc.port, path: `/api/v0/${call}`, method: o.method ?? 'POST', headers: { authorization: `Bearer ${rpc.token}`, ...o.headers } }, res => {
      const chunks: Buffer[] = []
      res.on('data', (b: Buffer) => chunks.push(b))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), trailers: res.trailers }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.setTimeout(60_000, () => req.destroy(new Error(`${call} timed out`)))
    req.end()
  })
}

async function collect (it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = []
  for await (const c of it) out.push(Buffer.from(c))
  return Buffer.concat(out)
}

async function all<T> (it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

const FILE = pseudoRandom(700 * 1024, 7)
const TREE: Record<string, Buffer> = { 'site/a.txt': Buffer.from('hello cairn\n'), 'site/sub/b.bin': pseudoRandom(300 * 1024, 9), 'site/sub/c.txt': Buffer.from('c') }

describe('Kubo RPC on one seed, through kubo-rpc-client', () => {
  const res = new Resources()
  let seed: SeedProcess
  let rpc: Rpc
  let work: string
  let cliRepo: string

  before(async () => {
    work = await res.dir('cairn-rpc-')
    cliRepo = path.join(work, 'cli-repo')
    seed = await res.seed(path.join(work, 'seed'), { args: ['--rpc', '0', '--no-tui'] })
    rpc = await rpcOf(seed)
    await fs.writeFile(path.join(work, 'file.bin'), FILE)
    for (const [p, bytes] of Object.entries(TREE)) {
      await fs.mkdir(path.dirname(path.join(work, p)), { recursive: true })
      await fs.writeFile(path.join(work, p), bytes)
    }
    await fs.mkdir(path.join(work, 'site', 'empty'))
  })
  after(async () => { await res.close() })

  /** the root CID `cairn add` prints for the same input and flags, in a repo of its own */
  const cliAdd = async (...args: string[]): Promise<string> => ok(await cairn(['--repo', cliRepo, 'add', '-Q', '--no-anchor', ...args], { cwd: work }), 'cairn add')

  test('binds 127.0.0.1 by default; the token is kept in the repo, mode 0600', async () => {
    assert.equal(rpc.host, '127.0.0.1')
    // the listening socket itself, from the kernel: 0100007F is 127.0.0.1, state 0A is LISTEN
    const port = rpc.port.toString(16).toUpperCase().padStart(4, '0')
    const listening = (await fs.readFile('/proc/net/tcp', 'utf8')).split('\n').filter(l => / 0A /.test(l) && l.includes(`:${port} `))
    assert.ok(listening.length > 0, `no listener on port ${rpc.port}`)
    for (const l of listening) assert.match(l.trim().split(/\s+/)[1], /^0100007F:/)
    assert.ok(!(await fs.readFile('/proc/net/tcp6', 'utf8').catch(() => '')).split('\n').some(l => / 0A /.test(l) && l.includes(`:${port} `)))
    const st = await fs.stat(path.join(seed.repo, 'rpc-token'))
    assert.equal(st.mode & 0o777, 0o600)
    assert.equal((await fs.readFile(path.join(seed.repo, 'rpc-token'), 'utf8')).trim(), rpc.token)
  })

  test('id, version, config/show', async () => {
    const id = await rpc.client.id()
    assert.equal(id.id.toString(), seed.id)
    assert.ok(id.addresses.some(a => seed.addrs.includes(a.toString())), `${id.addresses.join(' ')} vs ${seed.addrs.join(' ')}`)
    assert.match(String(id.agentVersion), /^cairn\//)
    assert.match((await rpc.client.version()).version, /^\d+\.\d+\.\d+/)
    const config = await rpc.client.config.getAll() as unknown as { Datastore: { StorageMax: string }, Identity: { PeerID: string } }
    assert.equal(config.Identity.PeerID, seed.id)
    assert.ok(Number(config.Datastore.StorageMax) > 0)
  })

  test('add: the CIDs of cairn add for the same options (Kubo defaults: CIDv0)', async () => {
    const v0 = await rpc.client.add(FILE)
    assert.equal(v0.cid.toString(), await cliAdd('file.bin', '--cid-version', '0'))
    const v1 = await rpc.client.add(FILE, { cidVersion: 1 })
    assert.equal(v1.cid.toString(), await cliAdd('file.bin', '--cid-version', '1'))
    const chunked = await rpc.client.add(FILE, { cidVersion: 1, rawLeaves: false, chunker: 'size-65536' })
    assert.equal(chunked.cid.toString(), await cliAdd('file.bin', '--cid-version', '1', '--no-raw-leaves', '--chunker', 'size-65536'))
    const rabin = await rpc.client.add(FILE, { cidVersion: 1, chunker: 'rabin-16384-65536-131072' })
    assert.equal(rabin.cid.toString(), await cliAdd('file.bin', '--cid-version', '1', '--chunker', 'rabin-16384-65536-131072'))
    // a different option, a different CID: the options reach the importer
    assert.notEqual(chunked.cid.toString(), v1.cid.toString())
    const progress: number[] = []
    await rpc.client.add({ path: 'p.bin', content: FILE }, { progress: (bytes: number) => { progress.push(bytes) } })
    assert.equal(progress.at(-1), FILE.length)
  })

  test('addAll of a directory, and wrap-with-directory: the CIDs of cairn add -r', async () => {
    const entries = [{ path: 'site' }, { path: 'site/a.txt', content: TREE['site/a.txt'] }, { path: 'site/empty' }, { path: 'site/sub' }, { path: 'site/sub/b.bin', content: TREE['site/sub/b.bin'] }, { path: 'site/sub/c.txt', content: TREE['site/sub/c.txt'] }]
    const added = await all(rpc.client.addAll(entries))
    const root = added.at(-1)
    assert.equal(root?.path, 'site')
    assert.equal(root?.cid.toString(), await cliAdd('-r', 'site', '--cid-version', '0'))
    assert.deepEqual(added.map(a => a.path).sort(), ['site', 'site/a.txt', 'site/empty', 'site/sub', 'site/sub/b.bin', 'site/sub/c.txt'])
    const wrapped = await all(rpc.client.addAll(entries, { wrapWithDirectory: true, cidVersion: 1 }))
    assert.equal(wrapped.at(-1)?.cid.toString(), await cliAdd('-r', '-w', 'site', '--cid-version', '1'))
  })

  test('cat (whole, offset/length), get (a tar), ls, refs', async () => {
    const { cid } = await rpc.client.add(FILE, { cidVersion: 1 })
    assert.ok((await collect(rpc.client.cat(cid))).equals(FILE))
    assert.ok((await collect(rpc.client.cat(cid, { offset: 300_000, length: 1000 }))).equals(FILE.subarray(300_000, 301_000)))
    const entries = Object.entries(TREE).map(([p, content]) => ({ path: p, content }))
    const root = (await all(rpc.client.addAll(entries))).at(-1)?.cid as CID
    assert.ok((await collect(rpc.client.cat(`/ipfs/${root.toString()}/sub/b.bin`))).equals(TREE['site/sub/b.bin']))
    // get: a tar, unpacked by tar(1)
    const out = path.join(work, 'got')
    await fs.mkdir(out)
    await fs.writeFile(path.join(work, 'got.tar'), await collect(rpc.client.get(root)))
    execFileSync('tar', ['-xf', path.join(work, 'got.tar'), '-C', out])
    for (const [p, bytes] of Object.entries(TREE)) assert.ok((await fs.readFile(path.join(out, root.toString(), p.slice('site/'.length)))).equals(bytes), p)
    const listed = await all(rpc.client.ls(root))
    assert.deepEqual(listed.map(e => [e.name, e.type]), [['a.txt', 'file'], ['sub', 'dir']])
    assert.equal(listed[0].size, TREE['site/a.txt'].length)
    // refs: direct links only, then every block below (unique)
    const direct = await all(rpc.client.refs(root))
    assert.deepEqual(direct.map(r => r.ref), listed.map(e => e.cid.toString()))
    const recursive = (await all(rpc.client.refs(root, { recursive: true, unique: true }))).map(r => r.ref)
    assert.equal(new Set(recursive).size, recursive.length)
    // a.txt, sub, b.bin (a node and 2 leaves), c.txt: every block but the root
    assert.equal(recursive.length, 6, `refs -r -u gave ${recursive.join(' ')}`)
  })

  test('block put/get/stat', async () => {
    const bytes = Buffer.from('a block of its own')
    const cid = await rpc.client.block.put(bytes)
    assert.equal(cid.code, 0x55)
    assert.ok(Buffer.from(await rpc.client.block.get(cid)).equals(bytes))
    assert.deepEqual(await rpc.client.block.stat(cid), { cid, size: bytes.length })
    const pb = await rpc.client.block.put(Buffer.from([0x0a, 0x02, 0x08, 0x01]), { format: 'dag-pb' })
    assert.equal(pb.version, 0)
    await assert.rejects(rpc.client.block.put(Buffer.from('not protobuf'), { format: 'dag-pb' }), /does not decode/)
  })

  test('pin add/ls/rm/update, repo stat and gc, dag export/import', async () => {
    const a = (await rpc.client.add(pseudoRandom(50_000, 21), { pin: false, cidVersion: 1 })).cid
    const b = (await rpc.client.add(pseudoRandom(50_000, 22), { pin: false, cidVersion: 1 })).cid
    const pinned = async (type?: string): Promise<string[]> => (await all(rpc.client.pin.ls(type != null ? { type: type as 'all' } : {}))).map(p => `${p.cid.toString()} ${p.type}`)
    assert.ok(!(await pinned()).some(l => l.startsWith(a.toString())))
    assert.equal((await rpc.client.pin.add(a)).toString(), a.toString())
    assert.ok((await pinned('recursive')).includes(`${a.toString()} recursive`))
    const one = await all(rpc.client.pin.ls({ paths: [a] }))
    assert.deepEqual(one.map(p => p.type), ['recursive'])
    await assert.rejects(all(rpc.client.pin.ls({ paths: [b] })), /is not pinned/)
    // update moves the pin from a to b
    const moved = await rpc.client.pin.update(a, b)
    assert.deepEqual(moved.map(c => c.toString()), [a.toString(), b.toString()])
    assert.ok((await pinned('recursive')).includes(`${b.toString()} recursive`))
    assert.ok(!(await pinned('recursive')).includes(`${a.toString()} recursive`))
    // a direct pin keeps one block through gc
    const blk = await rpc.client.block.put(Buffer.from('direct'))
    await all(rpc.client.pin.addAll([{ cid: blk, recursive: false }]))
    assert.ok((await pinned('direct')).includes(`${blk.toString()} direct`))
    // export b, unpin it, gc: its blocks go, the direct block stays
    const car = await collect(rpc.client.dag.export(b))
    assert.equal((await rpc.client.pin.rm(b)).toString(), b.toString())
    const before = await rpc.client.repo.stat()
    const removed = (await all(rpc.client.repo.gc())).map(r => r.cid?.toString())
    assert.ok(removed.includes(b.toString()), `gc removed ${removed.join(' ')}`)
    assert.ok(!removed.includes(blk.toString()))
    const afterGc = await rpc.client.repo.stat()
    assert.ok(afterGc.repoSize < before.repoSize)
    assert.ok(afterGc.storageMax >= afterGc.repoSize)
    assert.equal(afterGc.repoPath, seed.repo)
    const offline = await post(rpc, `block/stat?arg=${b.toString()}&offline=true`)
    assert.equal(offline.status, 500)
    // and back from the CAR, pinned
    const imported = await all(rpc.client.dag.import([car]))
    assert.deepEqual(imported.map(i => [i.root.cid.toString(), i.root.pinErrorMsg]), [[b.toString(), '']])
    assert.ok((await pinned('recursive')).includes(`${b.toString()} recursive`))
    const sizeOnly = await post(rpc, 'repo/stat?size-only=true')
    assert.deepEqual(Object.keys(JSON.parse(sizeOnly.body)).sort(), ['RepoSize', 'StorageMax'])
  })

  test('name/publish and name/resolve through kubo-rpc-client: the names and paths of cairn name publish/resolve; lifetime, ttl, key; Kubo\'s errors', async () => {
    const a = (await rpc.client.add(Buffer.from('named one'), { cidVersion: 1 })).cid.toString()
    const b = (await rpc.client.add(Buffer.from('named two'), { cidVersion: 1 })).cid.toString()
    const cli = async (...args: string[]): Promise<any> => JSON.parse(ok(await cairn(['--repo', seed.repo, '--json', ...args]), args.join(' ')).split('\n').at(-1) as string)
    const self = (await cli('key', 'ls')).id as string
    // this seed has no peers: Kubo's allow-offline lets the publish stand on the seed alone
    const pub = await rpc.client.name.publish(`/ipfs/${a}`, { allowOffline: true, lifetime: '24h', ttl: '1m' })
    assert.deepEqual(pub, { name: self, value: `/ipfs/${a}` })
    const viaCli = await cli('name', 'resolve', pub.name)
    assert.equal(viaCli.value, `/ipfs/${a}`)
    assert.equal(viaCli.ttlMs, 60_000)
    assert.ok(Math.abs(viaCli.expires - (Date.now() + 24 * 3_600_000)) < 600_000, `expires ${new Date(viaCli.expires).toISOString()}`)
    // published by the CLI, resolved through the RPC: the same name, the CLI's value
    const cliPub = await cli('name', 'publish', b)
    assert.equal(cliPub.name, pub.name)
    // nocache asks the DHT, which on a seed without peers answers nothing only when its wait ends: Kubo's dht-timeout bounds it (the client spreads searchParams into the query, so a plain object)
    assert.deepEqual(await all(rpc.client.name.resolve(pub.name, { nocache: true, searchParams: { 'dht-timeout': '2s' } as unknown as URLSearchParams })), [`/ipfs/${b}`])
    assert.deepEqual(await all(rpc.client.name.resolve(`/ipns/${pub.name}`)), [cliPub.value])
    const plain = await post(rpc, `name/resolve?arg=${pub.name}`)
    assert.equal(plain.status, 200)
    assert.deepEqual(JSON.parse(plain.body), { Path: `/ipfs/${b}` })
    assert.equal((await rpc.client.resolve(`/ipns/${pub.name}`)), `/ipfs/${b}`)
    // resolve of an /ipfs/ path (IPFS Cluster calls it for a pin's path): the CID the path ends at
    const wrapped = await rpc.client.add({ path: 'x/y.txt', content: Buffer.from('yy') }, { wrapWithDirectory: true })
    const leaf = await rpc.client.add(Buffer.from('yy'))
    assert.equal(await rpc.client.resolve(`/ipfs/${wrapped.cid.toString()}/x/y.txt`), `/ipfs/${leaf.cid.toString()}`)
    assert.equal(await rpc.client.resolve(`/ipfs/${a}`), `/ipfs/${a}`)
    // content calls take /ipns/ paths too
    assert.equal((await collect(rpc.client.cat(`/ipns/${pub.name}`))).toString(), 'named two')
    // a key by its name and by the name it publishes
    const blog = await cli('key', 'gen', 'rpc-blog')
    assert.deepEqual(await rpc.client.name.publish(a, { key: 'rpc-blog', allowOffline: true }), { name: blog.id, value: `/ipfs/${a}` })
    assert.equal((await rpc.client.name.publish(b, { key: blog.id, allowOffline: true })).name, blog.id)
    assert.equal((await cli('name', 'resolve', blog.id)).value, `/ipfs/${b}`)
    // Kubo's errors: a missing key, a name that does not resolve (500, Code 0, Kubo's messages)
    const noKey = await post(rpc, `name/publish?arg=${a}&key=missing&allow-offline=true`)
    assert.equal(noKey.status, 500)
    assert.equal(JSON.parse(noKey.body).Code, 0)
    assert.match(JSON.parse(noKey.body).Message, /^no key by the given name or PeerID was found/)
    await assert.rejects(rpc.client.name.publish(a, { key: 'missing', allowOffline: true }), /no key by the given name or PeerID was found/)
    const never = await cli('key', 'gen', 'rpc-never')
    const unresolved = await post(rpc, `name/resolve?arg=${never.id}&timeout=2s`)
    assert.equal(unresolved.status, 500)
    assert.equal(JSON.parse(unresolved.body).Code, 0)
    assert.match(JSON.parse(unresolved.body).Message, /^could not resolve name/)
    await assert.rejects(all(rpc.client.name.resolve(never.id, { timeout: 2000 })), /could not resolve name/)
    // without allow-offline, a publish no peer took fails as Kubo's does; a bad path is the caller's mistake
    await assert.rejects(rpc.client.name.publish(a), /allow-offline/)
    assert.equal((await post(rpc, 'name/publish?arg=not-a-cid&allow-offline=true')).status, 400)
  })

  test('wire: POST only, 404 for what is not supported, errors as {Message, Code, Type}, X-Stream-Error after the stream started', async () => {
    assert.equal((await post(rpc, 'id', { method: 'GET' })).status, 405)
    const mfs = await post(rpc, 'files/ls')
    assert.equal(mfs.status, 404)
    assert.match(JSON.parse(mfs.body).Message, /not support/)
    await assert.rejects(rpc.client.files.stat('/'), /not support/)
    const bad = await post(rpc, 'cat?arg=not-a-cid')
    assert.equal(bad.status, 400)
    assert.deepEqual(Object.keys(JSON.parse(bad.body)), ['Message', 'Code', 'Type'])
    assert.equal(JSON.parse(bad.body).Code, 1)
    const stream = await post(rpc, 'pin/ls?stream=true')
    assert.equal(stream.headers['x-chunked-output'], '1')
    // a file with a leaf gone from the repo: cat sends the first leaf, then the error goes in the trailer
    const { cid } = await rpc.client.add(FILE, { cidVersion: 1, chunker: 'size-262144' })
    const leaves = (await all(rpc.client.refs(cid))).map(r => CID.parse(r.ref))
    const blocks = new Blocks(path.join(seed.repo, 'blocks'))
    let removed = false
    for await (const { cid: c, file } of blocks.list()) {
      if (Buffer.from(c.multihash.bytes).equals(Buffer.from(leaves[1].multihash.bytes))) { await fs.rm(file); removed = true }
    }
    assert.ok(removed)
    const cat = await post(rpc, `cat?arg=${cid.toString()}&offline=true`)
    assert.equal(cat.status, 200)
    assert.equal(cat.headers['x-stream-output'], '1')
    assert.ok(Buffer.byteLength(cat.body, 'latin1') > 0)
    assert.match(cat.trailers['x-stream-error'] ?? '', /not in the repo|not found|missing/i)
  })

  test('an idle keep-alive connection stays open past Node\'s 5 s: the client closes it, no request races its closing', async () => {
    const net = await import('node:net')
    const socket = net.connect(rpc.port, rpc.host)
    let received = ''
    let closed = false
    socket.setEncoding('utf8').on('data', (s: string) => { received += s })
    socket.on('close', () => { closed = true })
    const request = `POST /api/v0/version HTTP/1.1\r\nHost: 127.0.0.1:${rpc.port}\r\nAuthorization: Bearer ${rpc.token}\r\nContent-Length: 0\r\n\r\n`
    try {
      socket.write(request)
      await waitFor('first answer', async () => (received.match(/HTTP\/1\.1 200/g)?.length ?? 0) >= 1 ? true : undefined, 10_000)
      await new Promise(resolve => setTimeout(resolve, IDLE_PAST_NODE_DEFAULT_MS))
      assert.equal(closed, false, 'the seed closed the idle connection')
      socket.write(request)
      await waitFor('second answer on the same connection', async () => (received.match(/HTTP\/1\.1 200/g)?.length ?? 0) >= 2 ? true : undefined, 10_000)
    } finally {
      socket.destroy()
    }
  })

  test('auth: 401 without or with a wrong token, basic auth taken; 403 for an Origin, a Referer or a foreign Host', async () => {
    assert.equal((await post(rpc, 'id', { headers: { authorization: '' } })).status, 401)
    assert.equal((await post(rpc, 'id', { headers: { authorization: 'Bearer wrong' } })).status, 401)
    assert.equal((await post(rpc, 'id', { headers: { authorization: `Basic ${Buffer.from(`cairn:${rpc.token}`).toString('base64')}` } })).status, 200)
    assert.equal((await post(rpc, 'id', { headers: { authorization: `Basic ${Buffer.from(`other:${rpc.token}`).toString('base64')}` } })).status, 401)
    assert.equal((await post(rpc, 'id', { headers: { origin: 'http://example.com' } })).status, 403)
    assert.equal((await post(rpc, 'id', { headers: { origin: 'http://example.com', authorization: '' } })).status, 403)
    assert.equal((await post(rpc, 'id', { headers: { referer: 'http://example.com/page' } })).status, 403)
    assert.equal((await post(rpc, 'id', { headers: { host: `rebind.example.com:${rpc.port}` } })).status, 403)
    assert.equal((await post(rpc, 'id', { headers: { host: `localhost:${rpc.port}` } })).status, 200)
    const noToken = create({ url: rpc.url })
    await assert.rejects(noToken.id(), /Unauthorized/)
  })
})

describe('Kubo RPC from config', () => {
  const res = new Resources()
  after(async () => { await res.close() })

  test('rpc.listen starts it (a port alone binds 127.0.0.1); a bad value is refused naming the key; the token survives a restart', async () => {
    const repo = path.join(await res.dir('cairn-rpc3-'), 'r')
    const bad = await cairn(['--repo', repo, 'config', 'set', 'rpc.listen', 'not a port'])
    assert.notEqual(bad.code, 0)
    assert.match(bad.stderr, /rpc\.listen/)
    ok(await cairn(['--repo', repo, 'config', 'set', 'rpc.listen', '0']), 'config set')
    let seed = await res.seed(repo, { args: ['--no-tui'] })
    const first = await rpcOf(seed)
    assert.equal(first.host, '127.0.0.1')
    assert.equal((await first.client.id()).id.toString(), seed.id)
    await seed.stop()
    seed = await res.seed(repo, { args: ['--no-tui'] })
    assert.equal((await rpcOf(seed)).token, first.token)
  })
})

/** A POST as IPFS Cluster's ipfshttp connector sends it: no credentials, over TCP or a Unix socket (Host "ipfs", as its httpunix transport names it). */
async function clusterPost (to: { socketPath: string } | { host: string, port: number }, call: string, headers: Record<string, string> = {}): Promise<{ status: number, body: string }> {
  return await new Promise((resolve, reject) => {
    const req = http.request({ ...to, path: `/api/v0/${call}`, method: 'POST', headers: { 'content-type': '', ...('socketPath' in to ? { host: 'ipfs' } : {}), ...headers } }, res => {
      const chunks: Buffer[] = []
      res.on('data', (b: Buffer) => chunks.push(b))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.setTimeout(60_000, () => req.destroy(new Error(`${call} timed out`)))
    req.end()
  })
}

describe('Kubo RPC for IPFS Cluster, whose connector sends no credentials', () => {
  const res = new Resources()
  after(async () => { await res.close() })

  test('a Unix socket (mode 0600, this user only) takes requests without a token, with any Host; an Origin is still refused; config/show names /unix/PATH', async () => {
    const work = await res.dir('cairn-rpc4-')
    const seed = await res.seed(path.join(work, 'seed'), { args: ['--rpc', 'unix', '--no-tui'] })
    const line = await waitFor('kubo rpc line', async () => /^kubo rpc at unix:(\S+) \(a Unix socket, mode 0600: no token; IPFS Cluster's ipfshttp.node_multiaddress is (\S+)\)$/m.exec(seed.stderr()) ?? undefined, RPC_LINE_MS)
    const socketPath = line[1]
    assert.equal(socketPath, path.join(seed.repo, 'rpc.sock'))
    assert.equal(line[2], `/unix${socketPath}`)
    const st = await fs.lstat(socketPath)
    assert.ok(st.isSocket())
    assert.equal(st.mode & 0o777, 0o600)
    const id = await clusterPost({ socketPath }, 'id')
    assert.equal(id.status, 200, id.body)
    assert.equal(JSON.parse(id.body).ID, seed.id)
    const config = await clusterPost({ socketPath }, 'config/show')
    assert.equal(JSON.parse(config.body).Addresses.API, `/unix${socketPath}`)
    assert.equal((await clusterPost({ socketPath }, 'pin/ls?stream=true&type=recursive')).status, 200)
    assert.equal((await clusterPost({ socketPath }, 'id', { origin: 'http://example.com' })).status, 403)
    // no token was made: nothing to leak
    await assert.rejects(fs.stat(path.join(seed.repo, 'rpc-token')))
    await seed.stop()
    await assert.rejects(fs.lstat(socketPath), 'the socket is removed when the seed stops')
  })

  test('rpc.auth none: no token on loopback; refused at start for any other address (exit 2, naming why)', async () => {
    const work = await res.dir('cairn-rpc5-')
    const seed = await res.seed(path.join(work, 'seed'), { args: ['--rpc', '0', '--rpc-auth', 'none', '--no-tui'] })
    const line = await waitFor('kubo rpc line', async () => /^kubo rpc at http:\/\/127\.0\.0\.1:(\d+)\/api\/v0 \(no token: rpc\.auth is none, loopback only\)$/m.exec(seed.stderr()) ?? undefined, RPC_LINE_MS)
    const port = Number(line[1])
    const id = await clusterPost({ host: '127.0.0.1', port }, 'id')
    assert.equal(id.status, 200, id.body)
    assert.equal(JSON.parse(id.body).ID, seed.id)
    // kubo-rpc-client without headers, as a Cluster-like tool configured with the address alone
    assert.equal((await create({ url: `http://127.0.0.1:${port}/api/v0` }).id()).id.toString(), seed.id)
    assert.equal((await clusterPost({ host: '127.0.0.1', port }, 'id', { host: `rebind.example.com:${port}` })).status, 403)
    const repo = path.join(work, 'other')
    // a documentation address: refused before anything listens on it
    const refused = await cairn(['--repo', repo, 'seed', '--listen', '/ip4/127.0.0.1/tcp/0', '--rpc', '192.0.2.1:5001', '--rpc-auth', 'none', '--no-tui'], { timeoutMs: 60_000 })
    assert.equal(refused.code, 2, refused.stderr)
    assert.match(refused.stderr, /^Error: the Kubo RPC without a token \(rpc\.auth none\) is served on loopback .* not on 192\.0\.2\.1$/m)
    const badAuth = await cairn(['--repo', repo, 'config', 'set', 'rpc.auth', 'open'])
    assert.notEqual(badAuth.code, 0)
    assert.match(badAuth.stderr, /rpc\.auth/)
  })
})

describe('Kubo RPC on two seeds, as IPFS Cluster drives them', () => {
  const res = new Resources()
  after(async () => { await res.close() })

  test('pin/add on B of content only A holds fetches it through the swarm and streams progress; pin/ls agrees', async () => {
    const work = await res.dir('cairn-rpc2-')
    const a = await res.seed(path.join(work, 'a'), { args: ['--rpc', '0', '--no-tui'] })
    const b = await res.seed(path.join(work, 'b'), { bootstrap: [a.addrs[0]], args: ['--rpc', '0', '--no-tui'] })
    const [ra, rb] = await Promise.all([rpcOf(a), rpcOf(b)])
    const content = pseudoRandom(3 * 1024 * 1024 + 123, 5)
    const { cid } = await ra.client.add(content, { cidVersion: 1, chunker: 'size-262144' })
    assert.ok(!(await post(rb, `block/stat?arg=${cid.toString()}&offline=true`)).status.toString().startsWith('2'), 'B must not hold it yet')
    await waitFor('B connected to A', async () => (await rb.client.swarm.peers()).some(p => p.peer.toString() === a.id), CONNECT_WAIT_MS, 500)
    // A dials B through the RPC (already connected by B's bootstrap: the dial reuses it)
    assert.deepEqual(await ra.client.swarm.connect(multiaddr(b.addrs[0])), [`connect ${b.id} success`])
    assert.ok((await ra.client.swarm.peers()).some(p => p.peer.toString() === b.id))
    const provs = await all(rb.client.routing.findProvs(cid))
    assert.ok(provs.some(e => e.name === 'PROVIDER' && e.providers.some(p => p.id.toString() === a.id)), JSON.stringify(provs.map(e => e.name)))
    // Cluster's call: pin/add?arg=…&recursive=true&progress=true, read line by line
    const r = await post(rb, `pin/add?arg=${cid.toString()}&recursive=true&progress=true`)
    assert.equal(r.status, 200, r.body)
    assert.equal(r.headers['x-chunked-output'], '1')
    const lines = r.body.trim().split('\n').map(l => JSON.parse(l) as { Progress?: number, Pins?: string[] })
    assert.ok(lines.length >= 2)
    assert.ok(lines.slice(0, -1).every(l => typeof l.Progress === 'number' && l.Pins == null))
    assert.deepEqual(lines.at(-1)?.Pins, [cid.toString()])
    // 3 MiB in 256 KiB leaves: 13 leaves and a root
    assert.equal(lines.at(-1)?.Progress, 14)
    assert.equal(r.trailers['x-stream-error'], undefined)
    for (const rpc of [ra, rb]) {
      const pins = await all(rpc.client.pin.ls({ paths: [cid], type: 'recursive' }))
      assert.deepEqual(pins.map(p => [p.cid.toString(), p.type]), [[cid.toString(), 'recursive']])
    }
    // B now serves it from its own repo
    assert.ok((await collect(rb.client.cat(cid, { offline: true } as never))).equals(content))
    await all(rb.client.routing.provide(cid))
  })
})

// pin add|rm|ls and repo stat|gc|verify, run through the built CLI.
//
// Block counts are derived here, not read back from cairn: a CAR fixture's
// blocks are counted with @ipld/car, and a file added with the default
// profile (1 MiB chunks, raw leaves) of 2.5 MiB is 3 raw leaves under one
// dag-pb root. A block's file under blocks/ is found by hashing the files,
// whatever the store's layout.

import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, it } from 'node:test'
import { CarBlockIterator } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import { FIXTURES, pseudoRandom, run, ok, failed, withTemp } from '../helpers.ts'

const GC = path.join(FIXTURES, 'car', 'gateway-conformance')
const DIR_WITH_FILES = path.join(GC, 'path_gateway_unixfs', 'dir-with-files.car')
const SYMLINK = path.join(GC, 'path_gateway_unixfs', 'symlink.car')
const MISSING_BLOCK = path.join(GC, 'trustless_gateway_car', 'file-3k-and-3-blocks-missing-block.car')

const MiB = 1024 * 1024
const RAW = 0x55
const SHA2_256 = 0x12

const inTemp = async (fn: (dir: string) => Promise<void>): Promise<void> => { await withTemp('cairn-pin-test-', fn) }

/** `add -Q`: the root CID, as printed. */
async function addQ (repo: string, ...args: string[]): Promise<string> {
  const r = await run(repo, 'add', '-Q', ...args)
  ok(r, `add ${args.join(' ')}`)
  const cid = r.stdout.trim()
  CID.parse(cid)
  return cid
}

async function importCar (repo: string, file: string): Promise<string> {
  const r = await run(repo, 'car', 'import', file)
  ok(r, `car import ${path.basename(file)}`)
  const m = /^imported (\S+)\n$/.exec(r.stdout)
  assert.ok(m != null, `car import output: ${r.stdout}`)
  return m[1]
}

const v1 = (cid: string): string => CID.parse(cid).toV1().toString()

async function pinned (repo: string): Promise<Array<{ cid: string, type: string }>> {
  const r = await run(repo, 'pin', 'ls', '--json')
  ok(r, 'pin ls')
  return r.stdout.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as { cid: string, type: string })
}

async function stat (repo: string): Promise<{ blocks: number, pins: number, size: number }> {
  const r = await run(repo, 'repo', 'stat', '--json')
  ok(r, 'repo stat')
  return JSON.parse(r.stdout) as { blocks: number, pins: number, size: number }
}

/** The blocks of a CAR fixture: their multihashes (hex) and the root. */
async function carBlocks (file: string): Promise<{ root: CID, keys: Set<string>, blocks: Map<string, Uint8Array> }> {
  const iter = await CarBlockIterator.fromBytes(await fs.readFile(file))
  const [root] = await iter.getRoots()
  const blocks = new Map<string, Uint8Array>()
  for await (const { cid, bytes } of iter) blocks.set(Buffer.from(cid.multihash.bytes).toString('hex'), bytes)
  return { root, keys: new Set(blocks.keys()), blocks }
}

/** CIDv1 (raw) of bytes that are one whole raw leaf. */
function rawLeafCid (bytes: Uint8Array): string {
  const digest = createHash('sha256').update(bytes).digest()
  const mh = Buffer.concat([Buffer.from([SHA2_256, 32]), digest])
  return CID.createV1(RAW, { code: SHA2_256, size: 32, digest, bytes: mh }).toString()
}

/** The file under <repo>/blocks that holds the block `cid` (found by hashing every file). */
async function blockFile (repo: string, cid: string): Promise<string> {
  const want = Buffer.from(CID.parse(cid).multihash.digest)
  const found: string[] = []
  for (const rel of await fs.readdir(path.join(repo, 'blocks'), { recursive: true })) {
    const p = path.join(repo, 'blocks', String(rel))
    if (!(await fs.stat(p)).isFile()) continue
    if (createHash('sha256').update(await fs.readFile(p)).digest().equals(want)) found.push(p)
  }
  assert.equal(found.length, 1, `one file under blocks/ holds ${cid}: ${found.join(', ')}`)
  return found[0]
}

/** Flips one bit of the byte at `offset`, in place. */
async function flipByte (file: string, offset: number): Promise<void> {
  const fh = await fs.open(file, 'r+')
  try {
    const b = Buffer.alloc(1)
    await fh.read(b, 0, 1, offset)
    b[0] ^= 0x01
    await fh.write(b, 0, 1, offset)
  } finally {
    await fh.close()
  }
}

describe('pins', { concurrency: 2 }, () => {
  it('pin ls lists what add and car import pinned, and nothing added with --no-pin', async () => {
    await inTemp(async dir => {
      const repo = path.join(dir, 'repo')
      const file = path.join(dir, 'one.txt')
      await fs.writeFile(file, 'one file\n')
      const tree = path.join(dir, 'tree')
      await fs.mkdir(path.join(tree, 'sub'), { recursive: true })
      await fs.writeFile(path.join(tree, 'sub', 'a.txt'), 'a\n')
      await fs.writeFile(path.join(tree, 'b.txt'), 'b\n')
      const unpinned = path.join(dir, 'unpinned.txt')
      await fs.writeFile(unpinned, 'not pinned\n')

      const f = await addQ(repo, file)
      const d = await addQ(repo, '-r', tree)
      const c = await importCar(repo, SYMLINK)
      const u = await addQ(repo, '--no-pin', unpinned)

      const pins = await pinned(repo)
      assert.deepEqual(pins.map(p => v1(p.cid)).sort(), [f, d, c].map(v1).sort())
      assert.ok(!pins.some(p => v1(p.cid) === v1(u)), 'add --no-pin pins nothing')
      assert.ok(pins.every(p => p.type === 'recursive'), 'pins are recursive')

      const text = await run(repo, 'pin', 'ls')
      ok(text, 'pin ls (text)')
      assert.deepEqual(text.stdout.split('\n').filter(l => l !== '').map(l => l.split(' ')).map(([cid, type]) => `${v1(cid)} ${type}`).sort(),
        [f, d, c].map(x => `${v1(x)} recursive`).sort())
      assert.equal((await stat(repo)).pins, 3)
    })
  })

  it('pin rm then repo gc removes the unpinned DAG and keeps every block of every pinned DAG', async () => {
    await inTemp(async dir => {
      const repo = path.join(dir, 'repo')
      const fixture = await carBlocks(DIR_WITH_FILES)
      const symlinkFixture = await carBlocks(SYMLINK)

      // 1. the directory from Kubo (its ascii.txt is "hello application/vnd.ipld.car\n")
      const dirRoot = await importCar(repo, DIR_WITH_FILES)
      assert.equal(dirRoot, fixture.root.toString())
      // 2. a file with the bytes of ascii.txt: one raw block, shared with the directory
      const asciiBytes = Buffer.from('hello application/vnd.ipld.car\n')
      const asciiFile = path.join(dir, 'ascii.txt')
      await fs.writeFile(asciiFile, asciiBytes)
      const ascii = await addQ(repo, asciiFile)
      assert.equal(ascii, rawLeafCid(asciiBytes))
      assert.ok(fixture.keys.has(Buffer.from(CID.parse(ascii).multihash.bytes).toString('hex')), 'the directory holds the same block')
      // 3. a 2.5 MiB file: 3 raw leaves + 1 root
      const bigBytes = pseudoRandom(2.5 * MiB, 11)
      const bigFile = path.join(dir, 'big.bin')
      await fs.writeFile(bigFile, bigBytes)
      const big = await addQ(repo, bigFile)
      // 4. a CIDv0 DAG from Kubo, with a symlink
      const sym = await importCar(repo, SYMLINK)
      // 5. a file nobody pinned
      const looseFile = path.join(dir, 'loose.txt')
      await fs.writeFile(looseFile, 'loose\n')
      const loose = await addQ(repo, '--no-pin', looseFile)

      const kept = 1 + 4 + symlinkFixture.keys.size
      const all = fixture.keys.size + 4 + symlinkFixture.keys.size + 1
      assert.deepEqual(await stat(repo).then(s => [s.blocks, s.pins]), [all, 4])

      // gc with everything pinned but the loose file removes only that
      ok(await run(repo, 'repo', 'gc'), 'repo gc')
      assert.equal((await stat(repo)).blocks, all - 1)
      failed(await run(repo, 'cat', loose), 'cat of gc-ed unpinned content')

      const rm = await run(repo, 'pin', 'rm', dirRoot)
      ok(rm, 'pin rm')
      assert.ok(!(await pinned(repo)).some(p => v1(p.cid) === v1(dirRoot)), 'pin ls no longer lists it')
      ok(await run(repo, 'repo', 'gc'), 'repo gc')
      assert.deepEqual(await stat(repo).then(s => [s.blocks, s.pins]), [kept, 3], 'only the blocks of the unpinned directory are gone')

      // every other pinned DAG is whole
      const a = await run(repo, 'cat', ascii)
      ok(a, 'cat of the shared block')
      assert.ok(a.stdoutBytes.equals(asciiBytes))
      const b = await run(repo, 'cat', big)
      ok(b, 'cat of the big file')
      assert.ok(b.stdoutBytes.equals(bigBytes))
      const out = path.join(dir, 'sym-out')
      ok(await run(repo, 'get', sym, '-o', out), 'get of the CIDv0 DAG')
      assert.equal(await fs.readFile(path.join(out, 'foo'), 'utf8'), 'content\n')
      assert.equal(await fs.readlink(path.join(out, 'bar')), 'foo')
      // and the unpinned directory is gone
      failed(await run(repo, 'cat', `${dirRoot}/hello.txt`), 'cat of the gc-ed directory')
      ok(await run(repo, 'repo', 'verify'), 'repo verify after gc')
    })
  })

  it('pin add of a complete DAG works; of a DAG with a missing block fails with one Error line', async () => {
    await inTemp(async dir => {
      const repo = path.join(dir, 'repo')
      const tree = path.join(dir, 'tree')
      await fs.mkdir(tree)
      await fs.writeFile(path.join(tree, 'x.txt'), 'x\n')
      await fs.writeFile(path.join(tree, 'y.bin'), pseudoRandom(1.5 * MiB, 3))
      const d = await addQ(repo, '--no-pin', '-r', tree)
      assert.deepEqual(await pinned(repo), [])
      const r = await run(repo, 'pin', 'add', d)
      ok(r, 'pin add of a complete DAG')
      assert.deepEqual((await pinned(repo)).map(p => v1(p.cid)), [v1(d)])
      ok(await run(repo, 'repo', 'gc'), 'repo gc')
      const y = await run(repo, 'cat', `${d}/y.bin`)
      ok(y, 'cat after gc of a DAG pinned with pin add')
      assert.ok(y.stdoutBytes.equals(pseudoRandom(1.5 * MiB, 3)))

      // the Kubo CAR whose middle block was removed
      const { root, blocks } = await carBlocks(MISSING_BLOCK)
      const links = dagPb.decode(blocks.get(Buffer.from(root.multihash.bytes).toString('hex')) as Uint8Array).Links
      const missing = links[1].Hash
      assert.ok(!blocks.has(Buffer.from(missing.multihash.bytes).toString('hex')))
      const imported = await importCar(repo, MISSING_BLOCK)
      assert.equal(imported, root.toString())
      if ((await pinned(repo)).some(p => v1(p.cid) === v1(imported))) ok(await run(repo, 'pin', 'rm', imported), 'pin rm')
      const bad = await run(repo, 'pin', 'add', imported)
      const line = failed(bad, 'pin add of an incomplete DAG')
      assert.ok(line.includes(missing.toString()) || /missing|not in the repo/i.test(line), `the error says what is missing: ${line}`)
      assert.deepEqual((await pinned(repo)).map(p => v1(p.cid)), [v1(d)], 'the incomplete DAG is not pinned')

      // a CID with no block at all
      const absent = rawLeafCid(Buffer.from('never added\n'))
      failed(await run(repo, 'pin', 'add', absent), 'pin add of an absent CID')
      failed(await run(repo, 'pin', 'rm', absent), 'pin rm of a CID that is not pinned')
    })
  })
})

describe('repo verify and corrupt blocks', { concurrency: 2 }, () => {
  it('repo verify is clean on a fresh repo and after adding content', async () => {
    await inTemp(async dir => {
      const repo = path.join(dir, 'repo')
      ok(await run(repo, 'init'), 'init')
      const fresh = await run(repo, 'repo', 'verify')
      ok(fresh, 'repo verify of a fresh repo')
      assert.equal(fresh.stdout, '', 'no bad blocks listed')
      await importCar(repo, DIR_WITH_FILES)
      ok(await run(repo, 'repo', 'verify'), 'repo verify after an import')
    })
  })

  it('after a flipped byte: verify names the file, and cat / get / ls never return the bad bytes', async () => {
    await inTemp(async dir => {
      const repo = path.join(dir, 'repo')
      const tree = path.join(dir, 'tree')
      await fs.mkdir(tree)
      const bigBytes = pseudoRandom(2.5 * MiB, 5)
      const small = Buffer.from('a small file, untouched\n')
      await fs.writeFile(path.join(tree, 'big.bin'), bigBytes)
      await fs.writeFile(path.join(tree, 'small.txt'), small)
      const d = await addQ(repo, '-r', tree)
      const big = `${d}/big.bin`

      // the second 1 MiB chunk of big.bin is a raw leaf whose CID we know
      const leaf = rawLeafCid(bigBytes.subarray(MiB, 2 * MiB))
      const file = await blockFile(repo, leaf)
      await flipByte(file, 1000)

      const v = await run(repo, 'repo', 'verify')
      failed(v, 'repo verify of a corrupt repo')
      assert.ok(v.stdout.includes(file), `verify names ${file}: ${v.stdout}`)
      assert.equal(v.stdout.split('\n').filter(l => l !== '').length, 1, 'one bad block listed')

      const c = await run(repo, 'cat', big)
      failed(c, 'cat of a file with a corrupt block')
      assert.ok(c.stdoutBytes.length <= MiB, `nothing from the corrupt block is output (${c.stdoutBytes.length} bytes)`)
      assert.ok(c.stdoutBytes.equals(bigBytes.subarray(0, c.stdoutBytes.length)), 'only good bytes are output')
      const ranged = await run(repo, 'cat', big, '--offset', String(MiB + 900), '--length', '200')
      failed(ranged, 'cat of a range in the corrupt block')
      assert.equal(ranged.stdoutBytes.length, 0)

      const out = path.join(dir, 'out')
      failed(await run(repo, 'get', big, '-o', out), 'get of the file')
      failed(await run(repo, 'get', d, '-o', path.join(dir, 'outdir')), 'get of the directory')
      assert.deepEqual((await fs.readdir(dir)).sort(), ['repo', 'tree'], 'get leaves no output path and no temp file')

      // content that does not use the block is still readable
      const s = await run(repo, 'cat', `${d}/small.txt`)
      ok(s, 'cat of an untouched file')
      assert.ok(s.stdoutBytes.equals(small))

      // a corrupt directory block: ls fails too
      const dirFile = await blockFile(repo, d)
      await flipByte(dirFile, 5)
      failed(await run(repo, 'ls', d), 'ls of a corrupt directory block')
      const v2 = await run(repo, 'repo', 'verify')
      failed(v2, 'repo verify with two corrupt blocks')
      assert.ok(v2.stdout.includes(file) && v2.stdout.includes(dirFile), `verify names both files: ${v2.stdout}`)
    })
  })

  it('a corrupt single-block file: cat outputs nothing at all', async () => {
    await inTemp(async dir => {
      const repo = path.join(dir, 'repo')
      const bytes = Buffer.from('the only block of this file\n')
      const f = path.join(dir, 'one.txt')
      await fs.writeFile(f, bytes)
      const cid = await addQ(repo, f)
      assert.equal(cid, rawLeafCid(bytes))
      await flipByte(await blockFile(repo, cid), 3)
      const c = await run(repo, 'cat', cid)
      failed(c, 'cat of a corrupt block')
      assert.equal(c.stdoutBytes.length, 0, 'the bad bytes are never output')
      const out = path.join(dir, 'out')
      failed(await run(repo, 'get', cid, '-o', out), 'get of a corrupt block')
      assert.deepEqual((await fs.readdir(dir)).sort(), ['one.txt', 'repo'], 'no output path, no temp file')
    })
  })
})

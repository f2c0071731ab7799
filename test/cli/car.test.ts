// car import / export, then get, cat and ls, run through the built CLI on the
// Kubo-made CAR fixtures of the IPFS gateway conformance suite.
//
// Expected content is derived independently of cairn: each fixture is decoded
// in this process (@ipld/car + @ipld/dag-pb + ipfs-unixfs, every block hashed
// here with node:crypto), and where the conformance suite's recipes give the
// bytes or names ("content\n", "hello\n", 1.txt … 1000.txt), those are checked
// too.

import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, it } from 'node:test'
import { CarBlockIterator, CarIndexer } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import { cairn, FIXTURES, pseudoRandom, type RunResult, run, ok, failed, withTemp } from '../helpers.ts'

const GC = path.join(FIXTURES, 'car', 'gateway-conformance')
const DIR_WITH_FILES = path.join(GC, 'path_gateway_unixfs', 'dir-with-files.car')
const HAMT = path.join(GC, 'trustless_gateway_car', 'single-layer-hamt-with-multi-block-files.car')
const SYMLINK = path.join(GC, 'path_gateway_unixfs', 'symlink.car')
const DIR_LISTING = path.join(GC, 'dir_listing', 'fixtures.car')
const PERCENT = path.join(GC, 'path_gateway_unixfs', 'dir-with-percent-encoded-filename.car')
const REDIRECTS = path.join(GC, 'redirects_file', 'redirects.car')
const SUBDOMAIN = path.join(GC, 'subdomain_gateway', 'fixtures.car')
const MISSING_BLOCK = path.join(GC, 'trustless_gateway_car', 'file-3k-and-3-blocks-missing-block.car')
const OUTSIDE_ROOT = path.join(GC, 'path_gateway_tar', 'outside-root.car')

const RAW = 0x55
const DAG_PB = 0x70

// ---------------------------------------------------------------------------
// An independent reader of the fixtures

interface Car { roots: CID[], blocks: Map<string, { cid: CID, bytes: Uint8Array }> }

type Node =
  | { type: 'file', cid: CID, bytes: Buffer }
  | { type: 'dir', cid: CID, entries: Map<string, Node> }
  | { type: 'symlink', cid: CID, target: string }

const keyOf = (cid: CID): string => Buffer.from(cid.multihash.bytes).toString('hex')

/** Hashes a block here, with node:crypto, against its CID's multihash. */
function blockMatches (cid: CID, bytes: Uint8Array): boolean {
  const { code, digest } = cid.multihash
  let actual: Uint8Array
  if (code === 0x00) actual = bytes
  else if (code === 0x12) actual = createHash('sha256').update(bytes).digest()
  else if (code === 0x13) actual = createHash('sha512').update(bytes).digest()
  else throw new Error(`test reader: unknown hash 0x${code.toString(16)}`)
  return Buffer.from(actual).equals(Buffer.from(digest))
}

async function readCar (file: string): Promise<Car> {
  const iter = await CarBlockIterator.fromBytes(await fs.readFile(file))
  const roots = await iter.getRoots()
  const blocks: Car['blocks'] = new Map()
  for await (const { cid, bytes } of iter) {
    assert.ok(blockMatches(cid, bytes), `fixture block ${cid.toString()} does not match its CID`)
    blocks.set(keyOf(cid), { cid, bytes })
  }
  return { roots, blocks }
}

/** Decodes the UnixFS tree under `cid`; `seen` collects every block it reads. */
function load (car: Car, cid: CID, seen = new Set<string>()): Node {
  const block = car.blocks.get(keyOf(cid))
  if (block == null) throw new Error(`test reader: block ${cid.toString()} missing from the fixture`)
  seen.add(keyOf(cid))
  if (cid.code === RAW) return { type: 'file', cid, bytes: Buffer.from(block.bytes) }
  assert.equal(cid.code, DAG_PB, `test reader: unexpected codec 0x${cid.code.toString(16)}`)
  const node = dagPb.decode(block.bytes)
  const fsNode = UnixFS.unmarshal(node.Data ?? new Uint8Array())
  switch (fsNode.type) {
    case 'directory': {
      const entries = new Map<string, Node>()
      for (const l of node.Links) entries.set(l.Name ?? '', load(car, l.Hash, seen))
      return { type: 'dir', cid, entries }
    }
    case 'hamt-sharded-directory': {
      const entries = new Map<string, Node>()
      const walkShard = (links: dagPb.PBLink[]): void => {
        for (const l of links) {
          const name = l.Name ?? ''
          if (name.length === 2) {
            // a sub-shard: only the bucket prefix
            const sub = car.blocks.get(keyOf(l.Hash))
            if (sub == null) throw new Error(`test reader: shard ${l.Hash.toString()} missing`)
            seen.add(keyOf(l.Hash))
            walkShard(dagPb.decode(sub.bytes).Links)
          } else {
            entries.set(name.slice(2), load(car, l.Hash, seen))
          }
        }
      }
      walkShard(node.Links)
      return { type: 'dir', cid, entries }
    }
    case 'symlink':
      return { type: 'symlink', cid, target: Buffer.from(fsNode.data ?? new Uint8Array()).toString('utf8') }
    case 'file':
    case 'raw': {
      const parts: Buffer[] = [Buffer.from(fsNode.data ?? new Uint8Array())]
      for (const l of node.Links) {
        const child = load(car, l.Hash, seen)
        assert.equal(child.type, 'file')
        parts.push((child as { bytes: Buffer }).bytes)
      }
      return { type: 'file', cid, bytes: Buffer.concat(parts) }
    }
    default:
      throw new Error(`test reader: unexpected UnixFS type ${fsNode.type}`)
  }
}

async function fixtureTree (file: string): Promise<{ car: Car, root: CID, tree: Node, reachable: Set<string> }> {
  const car = await readCar(file)
  assert.equal(car.roots.length, 1)
  const reachable = new Set<string>()
  const tree = load(car, car.roots[0], reachable)
  return { car, root: car.roots[0], tree, reachable }
}

function child (node: Node, ...names: string[]): Node {
  let n = node
  for (const name of names) {
    assert.equal(n.type, 'dir')
    const next = (n as { entries: Map<string, Node> }).entries.get(name)
    assert.ok(next != null, `fixture has no entry ${name}`)
    n = next
  }
  return n
}

function fileBytes (node: Node, ...names: string[]): Buffer {
  const n = child(node, ...names)
  assert.equal(n.type, 'file')
  return (n as { bytes: Buffer }).bytes
}

function sizeOf (n: Node): number | null {
  if (n.type === 'file') return n.bytes.length
  if (n.type === 'symlink') return Buffer.byteLength(n.target)
  return null
}

// ---------------------------------------------------------------------------
// Running cairn

const inTemp = async (fn: (dir: string) => Promise<void>): Promise<void> => { await withTemp('cairn-car-test-', fn) }

async function importCar (repo: string, file: string): Promise<RunResult> {
  const r = await run(repo, 'car', 'import', file)
  ok(r, `car import ${path.basename(file)}`)
  return r
}

function importedRoots (r: RunResult): string[] {
  return r.stdout.split('\n').filter(l => l !== '').map(l => {
    const m = /^imported (\S+)$/.exec(l)
    assert.ok(m != null, `unexpected car import line: ${l}`)
    return m[1]
  })
}

interface LsEntry { cid: string, size: number | null, name: string, type: string }

async function lsJson (repo: string, target: string): Promise<LsEntry[]> {
  const r = await run(repo, 'ls', target, '--json')
  ok(r, `ls ${target}`)
  return r.stdout.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as LsEntry)
}

/** ls of a directory node: names, CIDs, sizes and kinds as the fixture says. */
function assertListing (entries: LsEntry[], dir: Node): void {
  assert.equal(dir.type, 'dir')
  const expected = (dir as { entries: Map<string, Node> }).entries
  assert.deepEqual(entries.map(e => e.name).sort(), [...expected.keys()].sort())
  for (const e of entries) {
    const n = expected.get(e.name) as Node
    assert.equal(e.cid, n.cid.toString(), `cid of ${e.name}`)
    assert.equal(e.size, sizeOf(n), `size of ${e.name}`)
    // a raw-codec leaf is a whole file; cairn may call it 'raw'
    const kinds = n.type === 'dir' ? ['directory'] : n.type === 'file' ? (n.cid.code === RAW ? ['file', 'raw'] : ['file']) : [n.type]
    assert.ok(kinds.includes(e.type), `type of ${e.name}: ${e.type}, expected ${kinds.join(' or ')}`)
  }
}

/** What `get` wrote at `p` is exactly `node`: names, bytes, symlink targets. */
async function assertTree (p: string, node: Node): Promise<void> {
  const st = await fs.lstat(p)
  switch (node.type) {
    case 'file':
      assert.ok(st.isFile(), `${p} should be a regular file`)
      assert.ok((await fs.readFile(p)).equals(node.bytes), `bytes of ${p}`)
      return
    case 'symlink':
      assert.ok(st.isSymbolicLink(), `${p} should be a symlink`)
      assert.equal(await fs.readlink(p), node.target, `target of ${p}`)
      return
    case 'dir': {
      assert.ok(st.isDirectory(), `${p} should be a directory`)
      assert.deepEqual((await fs.readdir(p)).sort(), [...node.entries.keys()].sort(), `entries of ${p}`)
      for (const [name, n] of node.entries) await assertTree(path.join(p, name), n)
    }
  }
}

/** Every path under `dir` (relative), for "nothing else was written" checks. */
async function listAll (dir: string): Promise<string[]> {
  const out = await fs.readdir(dir, { recursive: true })
  return out.map(String).sort()
}

// ---------------------------------------------------------------------------

describe('car import, then get / cat / ls of Kubo-made fixtures', { concurrency: 2 }, () => {
  it('a plain directory of small and multi-block files (dir-with-files.car)', async () => {
    await inTemp(async dir => {
      const repo = path.join(dir, 'repo')
      const { root, tree } = await fixtureTree(DIR_WITH_FILES)
      assert.deepEqual(importedRoots(await importCar(repo, DIR_WITH_FILES)), [root.toString()])

      // names and bytes from the conformance recipe
      assert.equal(fileBytes(tree, 'ascii.txt').toString(), 'hello application/vnd.ipld.car\n')
      assert.equal(fileBytes(tree, 'hello.txt').toString(), 'hello world\n')
      const multiblock = fileBytes(tree, 'multiblock.txt')
      assert.equal(multiblock.length, 1026)
      assert.ok(multiblock.toString().startsWith('Lorem ipsum dolor sit amet'))

      // ls, as text: '<cid> <size> <name>'
      const r = await run(repo, 'ls', root.toString())
      ok(r, 'ls')
      const expectedLines = [...(tree as { entries: Map<string, Node> }).entries]
        .map(([name, n]) => `${n.cid.toString()} ${String(sizeOf(n))} ${name}`)
      assert.deepEqual(r.stdout.split('\n').filter(l => l !== '').sort(), expectedLines.sort())

      for (const name of ['hello.txt', 'multiblock.txt']) {
        const c = await run(repo, 'cat', `${root.toString()}/${name}`)
        ok(c, `cat ${name}`)
        assert.ok(c.stdoutBytes.equals(fileBytes(tree, name)), `cat ${name}`)
      }
      // a byte range, as in the conformance suite's range tests
      const range = await run(repo, 'cat', `${root.toString()}/ascii.txt`, '--offset', '6', '--length', '11')
      ok(range, 'cat range')
      assert.ok(range.stdoutBytes.equals(fileBytes(tree, 'ascii.txt').subarray(6, 17)))

      const out = path.join(dir, 'out')
      ok(await run(repo, 'get', root.toString(), '-o', out), 'get')
      await assertTree(out, tree)
      assert.deepEqual((await fs.readdir(dir)).sort(), ['out', 'repo'], 'get leaves no temp files beside the output')
    })
  })

  it('a HAMT-sharded directory of 1000 multi-block files', async () => {
    await inTemp(async dir => {
      const repo = path.join(dir, 'repo')
      const { root, tree } = await fixtureTree(HAMT)
      assert.equal(root.toString(), 'bafybeidbclfqleg2uojchspzd4bob56dqetqjsj27gy2cq3klkkgxtpn4i')
      assert.deepEqual(importedRoots(await importCar(repo, HAMT)), [root.toString()])

      const names = Array.from({ length: 1000 }, (_, i) => `${i + 1}.txt`).sort()
      const entries = await lsJson(repo, root.toString())
      assert.equal(entries.length, 1000)
      assert.deepEqual(entries.map(e => e.name).sort(), names)
      assertListing(entries, tree)

      for (const name of ['685.txt', '1000.txt']) {
        const c = await run(repo, 'cat', `${root.toString()}/${name}`)
        ok(c, `cat ${name}`)
        const expected = fileBytes(tree, name)
        assert.equal(expected.length, 1026)
        assert.ok(expected.toString().startsWith('Lorem ipsum dolor sit amet'))
        assert.ok(c.stdoutBytes.equals(expected), `cat ${name}`)
      }

      const out = path.join(dir, 'out')
      ok(await run(repo, 'get', root.toString(), '-o', out), 'get')
      assert.deepEqual((await fs.readdir(out)).sort(), names, 'get writes 1000 files')
      await assertTree(out, tree)
    })
  })

  it('a symlink: get writes a symlink with its target, not the file it points at', async () => {
    await inTemp(async dir => {
      const repo = path.join(dir, 'repo')
      const { root, tree } = await fixtureTree(SYMLINK)
      assert.deepEqual(importedRoots(await importCar(repo, SYMLINK)), [root.toString()])
      // the recipe: echo "content" > foo && ln -s foo bar
      assert.equal(fileBytes(tree, 'foo').toString(), 'content\n')
      assert.deepEqual(child(tree, 'bar'), { type: 'symlink', cid: child(tree, 'bar').cid, target: 'foo' })

      const entries = await lsJson(repo, root.toString())
      assertListing(entries, tree)
      assert.equal(entries.find(e => e.name === 'bar')?.type, 'symlink')

      const foo = await run(repo, 'cat', `${root.toString()}/foo`)
      ok(foo, 'cat foo')
      assert.equal(foo.stdout, 'content\n')

      const out = path.join(dir, 'out')
      ok(await run(repo, 'get', root.toString(), '-o', out), 'get')
      await assertTree(out, tree)
      const bar = await fs.lstat(path.join(out, 'bar'))
      assert.ok(bar.isSymbolicLink(), 'bar is written as a symlink')
      assert.equal(await fs.readlink(path.join(out, 'bar')), 'foo')
    })
  })

  it('a symlink on its own: get CID/bar writes a symlink at the output path', async () => {
    await inTemp(async dir => {
      const repo = path.join(dir, 'repo')
      const { root } = await fixtureTree(SYMLINK)
      await importCar(repo, SYMLINK)
      const out = path.join(dir, 'link')
      const r = await run(repo, 'get', `${root.toString()}/bar`, '-o', out)
      ok(r, 'get CID/bar')
      const st = await fs.lstat(out)
      assert.ok(st.isSymbolicLink(), 'the output is a symlink, not a copy of what it points at')
      assert.equal(await fs.readlink(out), 'foo')
      assert.deepEqual((await fs.readdir(dir)).sort(), ['link', 'repo'], 'no temp files left beside the output')
    })
  })

  it('unicode names (dir_listing/fixtures.car)', async () => {
    await inTemp(async dir => {
      const repo = path.join(dir, 'repo')
      const { root, tree } = await fixtureTree(DIR_LISTING)
      // from the recipe in the conformance suite
      assert.equal(root.toString(), 'bafybeig6ka5mlwkl4subqhaiatalkcleo4jgnr3hqwvpmsqfca27cijp3i')
      assert.deepEqual(importedRoots(await importCar(repo, DIR_LISTING)), [root.toString()])

      const top = await lsJson(repo, root.toString())
      assert.deepEqual(top.map(e => e.name).sort(), ['api', 'ipfs', 'ipns', 'ą'])
      assertListing(top, tree)
      const inner = await lsJson(repo, `${root.toString()}/ą/ę`)
      assert.deepEqual(inner.map(e => [e.cid, e.size, e.name]), [['bafkreialihlqnf5uwo4byh4n3cmwlntwqzxxs2fg5vanqdi3d7tb2l5xkm', 34, 'file-źł.txt']])

      const c = await run(repo, 'cat', `${root.toString()}/ą/ę/file-źł.txt`)
      ok(c, 'cat unicode path')
      assert.equal(c.stdout, 'I am a txt file on path with utf8\n')

      const out = path.join(dir, 'out')
      ok(await run(repo, 'get', root.toString(), '-o', out), 'get')
      await assertTree(out, tree)
      assert.equal(await fs.readFile(path.join(out, 'ą', 'ę', 'file-źł.txt'), 'utf8'), 'I am a txt file on path with utf8\n')
    })
  })

  it('a percent-encoded file name is a literal name, not decoded', async () => {
    await inTemp(async dir => {
      const repo = path.join(dir, 'repo')
      const { root, tree } = await fixtureTree(PERCENT)
      assert.deepEqual(importedRoots(await importCar(repo, PERCENT)), [root.toString()])
      const name = 'Portugal%2C+España=Peninsula Ibérica.txt'

      const entries = await lsJson(repo, root.toString())
      assert.deepEqual(entries.map(e => e.name), [name])
      assertListing(entries, tree)

      const c = await run(repo, 'cat', `${root.toString()}/${name}`)
      ok(c, 'cat percent-encoded name')
      assert.equal(c.stdout, 'hello from a percent encoded filename\n')
      assert.ok(c.stdoutBytes.equals(fileBytes(tree, name)))
      // the decoded spelling is another name, which the directory does not have
      failed(await run(repo, 'cat', `${root.toString()}/Portugal,+España=Peninsula Ibérica.txt`), 'cat of the decoded name')

      const out = path.join(dir, 'out')
      ok(await run(repo, 'get', root.toString(), '-o', out), 'get')
      assert.deepEqual(await fs.readdir(out), [name])
      await assertTree(out, tree)
    })
  })

  it('a CIDv0 tree (redirects_file/redirects.car)', async () => {
    await inTemp(async dir => {
      const repo = path.join(dir, 'repo')
      const { root, tree } = await fixtureTree(REDIRECTS)
      assert.equal(root.version, 0, 'the fixture root is a CIDv0')
      assert.deepEqual(importedRoots(await importCar(repo, REDIRECTS)), [root.toString()], 'the root is printed as the CAR names it (Qm…)')
      assertListing(await lsJson(repo, root.toString()), tree)
      const redirects = ['examples', '_redirects']
      const c = await run(repo, 'cat', [root.toString(), ...redirects].join('/'))
      ok(c, 'cat examples/_redirects')
      assert.ok(c.stdoutBytes.equals(fileBytes(tree, ...redirects)))
      const out = path.join(dir, 'out')
      ok(await run(repo, 'get', root.toString(), '-o', out), 'get')
      await assertTree(out, tree)
    })
  })

  it('a CIDv0 tree with CIDv1 and sha2-512 entries (subdomain_gateway/fixtures.car)', async () => {
    await inTemp(async dir => {
      const repo = path.join(dir, 'repo')
      const { root, tree } = await fixtureTree(SUBDOMAIN)
      assert.equal(root.version, 0, 'the fixture root is a CIDv0')
      assert.deepEqual(importedRoots(await importCar(repo, SUBDOMAIN)), [root.toString()])
      // from the recipe: `echo hello | ipfs add` four ways, and a testdirlisting tree
      assert.deepEqual([...(tree as { entries: Map<string, Node> }).entries.keys()].sort(),
        ['hello-CIDv0', 'hello-CIDv0to1', 'hello-CIDv1', 'hello-CIDv1_TOO_LONG', 'testdirlisting'])
      assertListing(await lsJson(repo, root.toString()), tree)
      for (const n of ['hello-CIDv0', 'hello-CIDv1_TOO_LONG']) {
        const c = await run(repo, 'cat', `${root.toString()}/${n}`)
        ok(c, `cat ${n}`)
        assert.equal(c.stdout, 'hello\n', n)
      }
      // the same DAG named by its CIDv1: the blocks are the same, whatever the CID version
      const bar = await run(repo, 'cat', `${root.toV1().toString()}/testdirlisting/ipfs/ipns/bar`)
      ok(bar, 'cat through the CIDv1 of a CIDv0 root')
      assert.equal(bar.stdout, 'text-file-content\n')
      const out = path.join(dir, 'out')
      ok(await run(repo, 'get', root.toString(), '-o', out), 'get')
      await assertTree(out, tree)
      assert.equal(await fs.readFile(path.join(out, 'hello-CIDv0to1'), 'utf8'), 'hello\n')
    })
  })
})

describe('car export', { concurrency: 2 }, () => {
  for (const [label, file] of [['dir-with-files', DIR_WITH_FILES], ['the HAMT directory', HAMT], ['symlink.car (CIDv0)', SYMLINK], ['subdomain fixtures (CIDv0, sha2-512 leaf)', SUBDOMAIN]] as const) {
    it(`round-trips ${label}: export, import into a fresh repo, same root, listing and bytes`, async () => {
      await inTemp(async dir => {
        const a = path.join(dir, 'a')
        const b = path.join(dir, 'b')
        const { root, tree, reachable } = await fixtureTree(file)
        await importCar(a, file)

        const exported = path.join(dir, 'export.car')
        ok(await run(a, 'car', 'export', root.toString(), '-o', exported), 'car export -o')
        assert.deepEqual((await fs.readdir(dir)).sort(), ['a', 'export.car'], 'no temp file left beside the CAR')
        const bytes = await fs.readFile(exported)
        if (file === SYMLINK) {
          const toStdout = await run(a, 'car', 'export', root.toString())
          ok(toStdout, 'car export to stdout')
          assert.ok(toStdout.stdoutBytes.equals(bytes), 'stdout and -o give the same CAR')
        }

        // the exported CAR: one root, every block verifies, exactly the DAG's blocks
        const iter = await CarBlockIterator.fromBytes(bytes)
        const roots = await iter.getRoots()
        assert.equal(roots.length, 1)
        assert.ok(roots[0].equals(root), `exported root ${roots[0].toString()} is ${root.toString()}`)
        const keys = new Set<string>()
        for await (const blk of iter) {
          assert.ok(blockMatches(blk.cid, blk.bytes), `exported block ${blk.cid.toString()} verifies`)
          assert.ok(!keys.has(keyOf(blk.cid)), `block ${blk.cid.toString()} written once`)
          keys.add(keyOf(blk.cid))
        }
        assert.deepEqual([...keys].sort(), [...reachable].sort(), 'the CAR holds exactly the blocks of the DAG')

        const r = await importCar(b, exported)
        assert.deepEqual(importedRoots(r), [root.toString()])
        assert.equal(r.stderr, '', 'a complete DAG imports without a warning')
        assertListing(await lsJson(b, root.toString()), tree)
        const out = path.join(dir, 'out')
        ok(await run(b, 'get', root.toString(), '-o', out), 'get from the second repo')
        await assertTree(out, tree)
        if (file === DIR_WITH_FILES) ok(await run(b, 'repo', 'verify'), 'repo verify of the second repo')
      })
    })
  }

  it('of a DAG with a missing block fails and writes no CAR file', async () => {
    await inTemp(async dir => {
      const repo = path.join(dir, 'repo')
      const { roots } = await readCar(MISSING_BLOCK)
      await importCar(repo, MISSING_BLOCK)
      const out = path.join(dir, 'x.car')
      failed(await run(repo, 'car', 'export', roots[0].toString(), '-o', out), 'car export of an incomplete DAG')
      assert.deepEqual(await fs.readdir(dir), ['repo'], 'no CAR and no temp file')
    })
  })
})

describe('a CAR with a missing block (file-3k-and-3-blocks-missing-block.car)', { concurrency: 2 }, () => {
  // The recipe: 3 KiB of random bytes in 3 blocks of 1 KiB; the middle block removed.
  const setup = async (dir: string): Promise<{ repo: string, root: CID, first: Buffer, third: Buffer, missing: CID }> => {
    const repo = path.join(dir, 'repo')
    const car = await readCar(MISSING_BLOCK)
    const root = car.roots[0]
    const links = dagPb.decode((car.blocks.get(keyOf(root)) as { bytes: Uint8Array }).bytes).Links
    assert.equal(links.length, 3)
    assert.ok(!car.blocks.has(keyOf(links[1].Hash)), 'the middle block is not in the fixture')
    const leaf = (i: number): Buffer => {
      const n = load(car, links[i].Hash)
      assert.equal(n.type, 'file')
      return (n as { bytes: Buffer }).bytes
    }
    const r = await importCar(repo, MISSING_BLOCK)
    assert.deepEqual(importedRoots(r), [root.toString()])
    assert.match(r.stderr, /warning/i, 'the import warns that the DAG is incomplete')
    return { repo, root, first: leaf(0), third: leaf(2), missing: links[1].Hash }
  }

  it('imports with a warning (exit 0); get -o then fails leaving nothing; cat fails', async () => {
    await inTemp(async dir => {
      const { repo, root, first, missing } = await setup(dir)
      const entries = await lsJson(repo, root.toString())
      assert.deepEqual(entries.map(e => e.size), [3072])

      const out = path.join(dir, 'out')
      const line = failed(await run(repo, 'get', root.toString(), '-o', out), 'get of an incomplete file')
      assert.ok(line.includes(missing.toString()), `the error names the missing block: ${line}`)
      assert.deepEqual(await fs.readdir(dir), ['repo'], 'no out, no temp file')

      const r = await run(repo, 'cat', root.toString())
      failed(r, 'cat of an incomplete file')
      assert.ok(r.stdoutBytes.length <= first.length, 'nothing past the missing block')
      assert.ok(r.stdoutBytes.equals(first.subarray(0, r.stdoutBytes.length)), 'only the file\'s own bytes')
    })
  })

  it('a byte range that avoids the missing block is readable (as the conformance suite requires)', async () => {
    await inTemp(async dir => {
      const { repo, root, first, third } = await setup(dir)
      const before = await run(repo, 'cat', root.toString(), '--offset', '997', '--length', '4')
      ok(before, 'cat a range before the missing block')
      assert.ok(before.stdoutBytes.equals(first.subarray(997, 1001)))
      const after = await run(repo, 'cat', root.toString(), '--offset', '2200', '--length', '2')
      ok(after, 'cat a range after the missing block')
      assert.ok(after.stdoutBytes.equals(third.subarray(2200 - 2048, 2202 - 2048)))
    })
  })
})

describe('an entry named ../foo (path_gateway_tar/outside-root.car)', () => {
  it('get writes nothing outside the output path and nothing at it', async () => {
    await inTemp(async dir => {
      const repo = path.join(dir, 'repo')
      const { root, tree } = await fixtureTree(OUTSIDE_ROOT)
      assert.ok((tree as { entries: Map<string, Node> }).entries.has('../foo'), 'the fixture has an entry named ../foo')
      await importCar(repo, OUTSIDE_ROOT)
      const work = path.join(dir, 'work')
      await fs.mkdir(path.join(work, 'deeper'), { recursive: true })
      const before = await listAll(dir)
      const r = await run(repo, 'get', root.toString(), '-o', path.join(work, 'deeper', 'out'))
      failed(r, 'get -o work/deeper/out')
      // also with the default output name (the CID), from inside work/deeper
      const d = await cairn(['--repo', repo, 'get', root.toString()], { cwd: path.join(work, 'deeper') })
      failed(d, 'get with the default output name')
      assert.deepEqual(await listAll(dir), before, 'nothing was written anywhere: no out, no foo, no temp files')
    })
  })
})

// ---------------------------------------------------------------------------

/** A copy of dir-with-files.car with one byte of one block's data changed. */
async function alteredCar (dest: string): Promise<CID> {
  const bytes = Buffer.from(await fs.readFile(DIR_WITH_FILES))
  const indexer = await CarIndexer.fromBytes(bytes)
  for await (const { cid, blockOffset, blockLength } of indexer) {
    if (cid.code === RAW && blockLength > 4) {
      bytes[blockOffset + 2] ^= 0x01
      await fs.writeFile(dest, bytes)
      return cid
    }
  }
  throw new Error('no raw block in dir-with-files.car')
}

describe('a broken CAR', () => {
  it('gives one Error line and non-zero exit, pins nothing from it, and leaves repo verify clean', async () => {
    await inTemp(async dir => {
      const repo = path.join(dir, 'repo')
      // something pinned before, which must stay the only pin
      const [kept] = importedRoots(await importCar(repo, SYMLINK))
      const fixture = await fs.readFile(DIR_WITH_FILES)
      const cases: Array<[string, (dest: string) => Promise<CID | null>]> = [
        ['truncated', async dest => { await fs.writeFile(dest, fixture.subarray(0, fixture.length - 10)); return null }],
        ['cut-in-header', async dest => { await fs.writeFile(dest, fixture.subarray(0, 30)); return null }],
        ['garbage', async dest => { await fs.writeFile(dest, pseudoRandom(4096, 7)); return null }],
        ['empty', async dest => { await fs.writeFile(dest, ''); return null }],
        ['altered-block', alteredCar]
      ]
      for (const [label, make] of cases) {
        const broken = path.join(dir, `${label}.car`)
        const altered = await make(broken)
        const r = await run(repo, 'car', 'import', broken)
        const line = failed(r, `car import of the ${label} CAR`)
        assert.equal(r.stdout, '', `${label}: no "imported" line`)
        if (altered != null) assert.ok(line.includes(altered.toString()), `${label}: the error names the bad block: ${line}`)
        else assert.ok(line.includes(`${label}.car`), `${label}: the error names the file: ${line}`)
      }

      const pins = await run(repo, 'pin', 'ls', '--json')
      ok(pins, 'pin ls')
      const pinned = pins.stdout.split('\n').filter(l => l !== '').map(l => CID.parse((JSON.parse(l) as { cid: string }).cid).toV1().toString())
      assert.deepEqual(pinned, [CID.parse(kept).toV1().toString()], 'nothing from the broken CARs was pinned')
      ok(await run(repo, 'repo', 'verify'), 'repo verify after the failed imports')
    })
  })
})

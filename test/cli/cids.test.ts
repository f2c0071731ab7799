// cairn's CIDs checked against encoders that are not ours, by running the
// built CLI as a user would (`cairn add -Q ...`).
//
// cairn imports with ipfs-unixfs-importer (core/unixfs/add.ts, core/unixfs/profiles.ts), so
// @helia/unixfs is NOT an independent check: it drives the same importer.
// The references used here are:
//
//   unixfs-v1-2025 (default)  ipfs-car 3's own encoder streams (the
//                             `ipfs-car` package's createFileEncoderStream /
//                             createDirectoryEncoderStream, its own settings),
//                             and for trees ipfs-car cannot express (symlinks,
//                             empty directories) @ipld/unixfs — the encoder
//                             ipfs-car is built on — configured exactly as
//                             node_modules/ipfs-car/unixfs.js configures it.
//   kubo-v0 (--cid-version 0) files: Debian's `ipfs_cid` (Rust, computes
//                             Kubo's default `ipfs add` DAG). Directories:
//                             @ipld/unixfs with Kubo's legacy settings (CIDv0,
//                             dag-pb leaves, 256 KiB, 174 links), since
//                             ipfs_cid only reads files.
//   kubo-v1 (--cid-version 1) no external tool here: @ipld/unixfs configured
//                             as Kubo's `ipfs add --cid-version=1` (raw leaves,
//                             256 KiB, 174 links) — a different code path from
//                             cairn's importer (own chunker, balanced layout
//                             and UnixFS Data encoding; only the dag-pb
//                             framing, @ipld/dag-pb, is shared).
//   all profiles              known CIDs, as `ipfs add` gives them
//                             (`hello world\n`, the empty file) and Kubo's
//                             well-known empty directory.
//
// So: kubo-v1 files of more than one chunk, and kubo-v0 / kubo-v1 directories,
// are checked against @ipld/unixfs only (no Kubo binary here); kubo-v0 files
// against ipfs_cid, which shares nothing with cairn. No case rests on a known
// CID alone. Symlinks and empty directories are beyond ipfs-car's encoder
// streams (it packs files only), so there they are checked against
// @ipld/unixfs's own codec. HAMT-sharded directories are not covered here
// (ipfs-car shards by entry count, not as unixfs-v1-2025 does).
//
// Every reference is itself checked against the known CIDs first, so a
// misconfigured reference fails loudly instead of agreeing with a bug.

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, test } from 'node:test'
import * as UnixFS from '@ipld/unixfs'
import { withMaxChunkSize } from '@ipld/unixfs/file/chunker/fixed'
import { withWidth } from '@ipld/unixfs/file/layout/balanced'
import { createDirectoryEncoderStream, createFileEncoderStream } from 'ipfs-car'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { cairn, pseudoRandom, tempDir, type RunResult } from '../helpers.ts'

const KIB = 1024
const MIB = 1024 * KIB

// Known CIDs: what Kubo's `ipfs add` (and --cid-version=1) gives for these bytes
const HELLO = Buffer.from('hello world\n')
const HELLO_V0 = 'QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o'
const HELLO_V1 = 'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4'
const EMPTY_FILE_V0 = 'QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH'
// Kubo's empty UnixFS directory (`ipfs object new unixfs-dir`, created by every
// `ipfs init`), as CIDv0 and as CIDv1
const EMPTY_DIR_V0 = 'QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn'
const EMPTY_DIR_V1 = 'bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354'

/** Every cairn call in this file; generous, but bounded. */
const CLI_TIMEOUT = 60_000

// ---------------------------------------------------------------------------
// running cairn

/** `cairn args`, asserting exit 0. */
async function run (args: string[]): Promise<RunResult> {
  const r = await cairn(args, { timeoutMs: CLI_TIMEOUT })
  assert.equal(r.code, 0, `cairn ${args.join(' ')} exited ${String(r.code)} (signal ${String(r.signal)}): ${r.stderr}`)
  return r
}

/** The root CID `cairn add -Q ...` prints (exactly one line). */
async function addQ (args: string[]): Promise<string> {
  const r = await run(['add', '-Q', ...args])
  const lines = r.stdout.split('\n').filter(l => l !== '')
  assert.equal(lines.length, 1, `add -Q printed ${JSON.stringify(r.stdout)}`)
  assert.doesNotThrow(() => CID.parse(lines[0]), `add -Q printed a non-CID: ${lines[0]}`)
  return lines[0]
}

/** Files under a repo's blocks/ directory (0 if there is no repo). */
async function countBlockFiles (repo: string): Promise<number> {
  let n = 0
  const walk = async (d: string): Promise<void> => {
    let ents
    try {
      ents = await fs.readdir(d, { withFileTypes: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    for (const e of ents) {
      if (e.isDirectory()) await walk(path.join(d, e.name))
      else n++
    }
  }
  await walk(path.join(repo, 'blocks'))
  return n
}

// ---------------------------------------------------------------------------
// profiles as cairn's CLI selects them, with their references

interface Profile {
  name: 'unixfs-v1-2025' | 'kubo-v0' | 'kubo-v1'
  /** how a user picks it (Kubo-style flags) */
  flags: string[]
  chunkSize: number
  width: number
  cidVersion: 0 | 1
  rawLeaves: boolean
}

const DEFAULT: Profile = { name: 'unixfs-v1-2025', flags: [], chunkSize: MIB, width: 1024, cidVersion: 1, rawLeaves: true }
const KUBO_V0: Profile = { name: 'kubo-v0', flags: ['--cid-version', '0'], chunkSize: 256 * KIB, width: 174, cidVersion: 0, rawLeaves: false }
const KUBO_V1: Profile = { name: 'kubo-v1', flags: ['--cid-version', '1'], chunkSize: 256 * KIB, width: 174, cidVersion: 1, rawLeaves: true }
const PROFILES = [DEFAULT, KUBO_V0, KUBO_V1]

/** The sizes, relative to a profile's chunk size. */
function sizes (p: Profile): Array<[string, number]> {
  return [
    ['0 B', 0],
    ['1 B', 1],
    ['exactly one chunk', p.chunkSize],
    ['one chunk + 1 B', p.chunkSize + 1],
    // default: 6 leaves; kubo: 21 leaves, the last one short
    ['many chunks', 5 * MIB + 12_345]
  ]
}

// ---------------------------------------------------------------------------
// reference 1: ipfs-car 3 (its own encoder streams and settings)

async function lastBlockCid (stream: ReadableStream<UnixFS.Block>): Promise<string> {
  let last: UnixFS.Block | undefined
  for await (const block of stream as unknown as AsyncIterable<UnixFS.Block>) last = block
  assert.ok(last != null, 'the reference encoder produced no blocks')
  // like `ipfs-car pack`, the root is the last block written
  return last.cid.toString()
}

const blobLike = (bytes: Uint8Array): { stream: () => ReadableStream } => ({ stream: () => new Blob([bytes]).stream() })

/** The CID `ipfs-car pack FILE` gives. */
async function ipfsCarFile (bytes: Uint8Array): Promise<string> {
  return await lastBlockCid(createFileEncoderStream(blobLike(bytes)))
}

/** The root CID ipfs-car's directory encoder gives for files named by path. */
async function ipfsCarDirectory (files: Array<[string, Uint8Array]>): Promise<string> {
  return await lastBlockCid(createDirectoryEncoderStream(files.map(([name, bytes]) => ({ name, ...blobLike(bytes) }))))
}

// ---------------------------------------------------------------------------
// reference 2: @ipld/unixfs configured per profile

/** CIDv0 for every block (kubo-v0 stores only dag-pb blocks: its leaves are UnixFS `file` nodes). */
const CIDV0_LINKER = {
  createLink: (code: number, digest: any): any => {
    assert.equal(code, 0x70, 'CIDv0 can only name dag-pb blocks')
    return CID.createV0(digest)
  }
}

/**
 * Settings for @ipld/unixfs. For the default profile they are copied from
 * node_modules/ipfs-car/unixfs.js (`defaultSettings`): raw leaves and raw
 * small files, 1 MiB fixed chunks, balanced layout 1024 wide, CIDv1 sha2-256.
 */
function ipldSettings (p: Profile, chunkSize = p.chunkSize): UnixFS.EncoderSettings {
  return UnixFS.configure({
    fileChunkEncoder: p.rawLeaves ? raw : UnixFS.UnixFSLeaf,
    smallFileEncoder: p.rawLeaves ? raw : UnixFS.UnixFSLeaf,
    chunker: withMaxChunkSize(chunkSize),
    fileLayout: withWidth(p.width),
    ...(p.cidVersion === 0 ? { linker: CIDV0_LINKER } : {})
  } as any)
}

type Node =
  | { kind: 'file', bytes: Uint8Array }
  | { kind: 'symlink', target: string }
  | { kind: 'dir', entries: Record<string, Node> }

const file = (bytes: Uint8Array | string): Node => ({ kind: 'file', bytes: typeof bytes === 'string' ? Buffer.from(bytes) : bytes })
const symlink = (target: string): Node => ({ kind: 'symlink', target })
const dir = (entries: Record<string, Node>): Node => ({ kind: 'dir', entries })

/** The root CID @ipld/unixfs gives for a file or tree. */
async function ipldUnixfs (node: Node, settings: UnixFS.EncoderSettings): Promise<string> {
  const { readable, writable } = new TransformStream<UnixFS.Block, UnixFS.Block>({}, UnixFS.withCapacity())
  const writer = UnixFS.createWriter({ writable, settings })
  // drain concurrently so the writer never waits on back-pressure
  const drained = (async () => { for await (const _ of readable as unknown as AsyncIterable<UnixFS.Block>) void _ })()
  const encode = async (n: Node): Promise<{ cid: any, dagByteLength: number }> => {
    switch (n.kind) {
      case 'file': {
        const f = writer.createFileWriter()
        // in pieces, as a stream would deliver them
        for (let i = 0; i < n.bytes.byteLength; i += 100_000) await f.write(n.bytes.subarray(i, i + 100_000))
        return await f.close() as any
      }
      case 'symlink': {
        // ipfs-car's encoder streams have no symlinks (it reads files only),
        // so this uses @ipld/unixfs's own UnixFS codec, which encodes a
        // symlink as go-ipfs does (Type Symlink, Data = target, no filesize).
        const bytes = UnixFS.encode({ type: UnixFS.NodeType.Symlink, content: Buffer.from(n.target), metadata: {} } as any)
        const digest = await settings.hasher.digest(bytes)
        return { cid: settings.linker.createLink(UnixFS.code, digest), dagByteLength: bytes.byteLength }
      }
      case 'dir': {
        const d = writer.createDirectoryWriter()
        for (const [name, child] of Object.entries(n.entries)) d.set(name, await encode(child) as any)
        return await d.close() as any
      }
    }
  }
  const root = await encode(node)
  await writer.close()
  await drained
  return String(root.cid)
}

// ---------------------------------------------------------------------------
// reference 3: Debian's ipfs_cid (Kubo's default `ipfs add`, CIDv0)

const IPFS_CID = 'ipfs_cid'

async function ipfsCidV0 (filePath: string): Promise<string> {
  const out = await new Promise<string>((resolve, reject) => {
    execFile(IPFS_CID, [filePath], { timeout: 30_000, maxBuffer: MIB }, (err, stdout) => {
      if (err != null) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new Error(`${IPFS_CID} is not installed (not on PATH): the kubo-v0 CID checks need Debian's ipfs-cid package ` +
            '(apt-get install ipfs-cid; .ci/run installs it). These checks fail rather than skip.'))
        } else {
          reject(new Error(`${IPFS_CID} ${filePath} failed: ${err.message}`))
        }
        return
      }
      resolve(stdout)
    })
  })
  let parsed: { CIDv0?: unknown }
  try {
    parsed = JSON.parse(out)
  } catch {
    throw new Error(`${IPFS_CID} printed something that is not JSON: ${JSON.stringify(out)}`)
  }
  assert.equal(typeof parsed.CIDv0, 'string', `${IPFS_CID} printed no CIDv0: ${out}`)
  return parsed.CIDv0 as string
}

// ---------------------------------------------------------------------------
// fixtures on disk

async function writeTree (at: string, n: Node): Promise<void> {
  switch (n.kind) {
    case 'file': await fs.writeFile(at, n.bytes); break
    case 'symlink': await fs.symlink(n.target, at); break
    case 'dir':
      await fs.mkdir(at)
      for (const [name, child] of Object.entries(n.entries)) await writeTree(path.join(at, name), child)
  }
}

/** The same tree with every name starting with a dot removed, as Kubo skips them without --hidden. */
function withoutHidden (n: Node): Node {
  if (n.kind !== 'dir') return n
  return dir(Object.fromEntries(Object.entries(n.entries).filter(([name]) => !name.startsWith('.')).map(([name, c]) => [name, withoutHidden(c)])))
}

/**
 * The nested directory: dotfiles at two depths, a dot-directory, a
 * symlink (and a dangling one: symlinks are stored, not followed), an empty
 * file, an empty directory, and files of one and several chunks.
 */
function nestedTree ({ links = true, emptyDir = true } = {}): Node {
  const entries: Record<string, Node> = {
    'a.txt': file(HELLO),
    '.hidden': file('a dotfile\n'),
    'empty.txt': file(''),
    'big.bin': file(pseudoRandom(MIB + 1, 11)),
    '.dotdir': dir({ 'inner.txt': file('inside a dot-directory\n') }),
    sub: dir({
      'b.txt': file('b\n'),
      '.secret': file('nested dotfile\n'),
      deeper: dir({ 'c.bin': file(pseudoRandom(300 * KIB, 12)) })
    })
  }
  if (links) {
    entries.link = symlink('sub/b.txt')
    entries.dangling = symlink('../nowhere/at/all')
  }
  if (emptyDir) entries.empty = dir({})
  return dir(entries)
}

/** [path relative to the tree, bytes] for every file, as ipfs-car lists them. */
function filesOf (n: Node, prefix = ''): Array<[string, Uint8Array]> {
  if (n.kind === 'file') return [[prefix, n.bytes]]
  if (n.kind === 'symlink') throw new Error('ipfs-car cannot encode symlinks')
  return Object.entries(n.entries).flatMap(([name, c]) => filesOf(c, prefix === '' ? name : `${prefix}/${name}`))
}

// The suites below run two at a time (each also runs two tests at a time):
// nearly all the time goes into starting cairn processes.
describe('cairn CIDs against encoders that are not ours', { concurrency: 2 }, () => {
  // ---------------------------------------------------------------------------
  // the references agree with the known CIDs (else they prove nothing)

  describe('reference encoders reproduce the known CIDs', { concurrency: 2 }, () => {
    test(`${IPFS_CID} (Debian ipfs-cid) is installed and gives Kubo's CIDv0 for hello world and the empty file`, async () => {
      const { dir: d, cleanup } = await tempDir('cairn-cids-')
      try {
        await fs.writeFile(path.join(d, 'hello.txt'), HELLO)
        await fs.writeFile(path.join(d, 'empty'), '')
        assert.equal(await ipfsCidV0(path.join(d, 'hello.txt')), HELLO_V0)
        assert.equal(await ipfsCidV0(path.join(d, 'empty')), EMPTY_FILE_V0)
      } finally {
        await cleanup()
      }
    })

    test('ipfs-car 3 gives the raw-leaf CID for hello world', async () => {
      assert.equal(await ipfsCarFile(HELLO), HELLO_V1)
    })

    test('@ipld/unixfs as kubo-v0 / kubo-v1 gives the known file and empty-directory CIDs', async () => {
      assert.equal(await ipldUnixfs(file(HELLO), ipldSettings(KUBO_V0)), HELLO_V0)
      assert.equal(await ipldUnixfs(file(''), ipldSettings(KUBO_V0)), EMPTY_FILE_V0)
      assert.equal(await ipldUnixfs(file(HELLO), ipldSettings(KUBO_V1)), HELLO_V1)
      assert.equal(await ipldUnixfs(dir({}), ipldSettings(KUBO_V0)), EMPTY_DIR_V0)
      assert.equal(await ipldUnixfs(dir({}), ipldSettings(KUBO_V1)), EMPTY_DIR_V1)
    })

    test(`@ipld/unixfs as kubo-v0 equals ${IPFS_CID} on a file of several chunks (as in the directory fixture)`, async () => {
      const { dir: d, cleanup } = await tempDir('cairn-cids-')
      try {
        const bytes = pseudoRandom(MIB + 1, 11)
        const f = path.join(d, 'big.bin')
        await fs.writeFile(f, bytes)
        assert.equal(await ipldUnixfs(file(bytes), ipldSettings(KUBO_V0)), await ipfsCidV0(f))
      } finally {
        await cleanup()
      }
    })

    test('@ipld/unixfs with the settings copied from ipfs-car equals ipfs-car itself (files and a tree)', async () => {
      for (const size of [0, 1, MIB, MIB + 1, 3 * MIB + 7]) {
        const bytes = pseudoRandom(size, 3)
        assert.equal(await ipldUnixfs(file(bytes), ipldSettings(DEFAULT)), await ipfsCarFile(bytes), `${size} B`)
      }
      const tree = nestedTree({ links: false, emptyDir: false })
      assert.equal(await ipldUnixfs(tree, ipldSettings(DEFAULT)), await ipfsCarDirectory(filesOf(tree)))
    })
  })

  // ---------------------------------------------------------------------------
  // known CIDs, as Kubo gives them

  describe('known CIDs', { concurrency: 2 }, () => {
    const cases: Array<[string, string[], Buffer, string]> = [
      ['kubo-v0: hello world', KUBO_V0.flags, HELLO, HELLO_V0],
      ['kubo-v0: the empty file', KUBO_V0.flags, Buffer.alloc(0), EMPTY_FILE_V0],
      ['kubo-v1: hello world', KUBO_V1.flags, HELLO, HELLO_V1],
      // one chunk with raw leaves is one raw block in every CIDv1 profile
      ['unixfs-v1-2025 (default): hello world', [], HELLO, HELLO_V1]
    ]
    for (const [name, flags, bytes, expected] of cases) {
      test(name, async () => {
        const { dir: d, cleanup } = await tempDir('cairn-cids-')
        try {
          const f = path.join(d, 'hello.txt')
          await fs.writeFile(f, bytes)
          assert.equal(await addQ(['-n', ...flags, f]), expected)
        } finally {
          await cleanup()
        }
      })
    }

    test('kubo-v0: hello world from stdin', async () => {
      const r = await cairn(['add', '-Q', '-n', ...KUBO_V0.flags, '-'], { stdin: HELLO, timeoutMs: CLI_TIMEOUT })
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout.trim(), HELLO_V0)
    })

    for (const [p, expected] of [[DEFAULT, EMPTY_DIR_V1], [KUBO_V0, EMPTY_DIR_V0], [KUBO_V1, EMPTY_DIR_V1]] as const) {
      test(`${p.name}: add -r of a directory holding only a dotfile is Kubo's empty directory (the dotfile is skipped)`, async () => {
        const { dir: d, cleanup } = await tempDir('cairn-cids-')
        try {
          await fs.mkdir(path.join(d, 'dotonly'))
          await fs.writeFile(path.join(d, 'dotonly', '.keep'), 'x')
          assert.equal(await addQ(['-n', '-r', ...p.flags, path.join(d, 'dotonly')]), expected)
        } finally {
          await cleanup()
        }
      })
    }
  })

  // ---------------------------------------------------------------------------
  // files of the sizes, per profile: -n against the reference, stored
  // against -n, and cat of the stored CID against the bytes

  function referenceFileSource (p: Profile): string {
    switch (p.name) {
      case 'unixfs-v1-2025': return 'ipfs-car 3 (createFileEncoderStream)'
      case 'kubo-v0': return `${IPFS_CID} (Kubo's ipfs add)`
      case 'kubo-v1': return '@ipld/unixfs as ipfs add --cid-version=1'
    }
  }

  async function referenceFileCid (p: Profile, filePath: string, bytes: Uint8Array): Promise<string> {
    switch (p.name) {
      case 'unixfs-v1-2025': return await ipfsCarFile(bytes)
      case 'kubo-v0': return await ipfsCidV0(filePath)
      case 'kubo-v1': return await ipldUnixfs(file(bytes), ipldSettings(p))
    }
  }

  /** The files for a profile, written into dir: [label, path, bytes]. */
  async function writeSizes (p: Profile, d: string): Promise<Array<[string, string, Buffer]>> {
    const out: Array<[string, string, Buffer]> = []
    for (const [label, size] of sizes(p)) {
      const bytes = pseudoRandom(size, size + 1)
      const f = path.join(d, `size-${size}.bin`)
      await fs.writeFile(f, bytes)
      out.push([`${label} (${size} B)`, f, bytes])
    }
    return out
  }

  /** `cairn add` of several files (no -Q): path (the basename) → CID. */
  async function addMany (args: string[]): Promise<Map<string, string>> {
    const r = await run(['add', ...args])
    const m = new Map<string, string>()
    for (const line of r.stdout.split('\n').filter(l => l !== '')) {
      const parts = /^added (\S+) (.+)$/.exec(line)
      assert.ok(parts != null, `unexpected add output line ${JSON.stringify(line)}`)
      m.set(parts[2], parts[1])
    }
    return m
  }

  const profileLabel = (p: Profile): string => p.flags.length === 0 ? 'default' : p.flags.join(' ')

  for (const p of PROFILES) {
    describe(`${p.name} (${profileLabel(p)}): files`, { concurrency: 2 }, () => {
      // one `add -n` of all five files (a root per file, as in Kubo) keeps
      // the process count down; single-file `add -Q` is checked on the
      // many-chunks file with --profile, and throughout the other suites
      test(`${sizes(p).map(([l]) => l).join(', ')}: add -n equals ${referenceFileSource(p)}`, async () => {
        const { dir: d, cleanup } = await tempDir('cairn-cids-')
        try {
          const files = await writeSizes(p, d)
          const repo = path.join(d, 'repo')
          const hashed = await addMany(['--repo', repo, '-n', ...p.flags, ...files.map(([, f]) => f)])
          assert.equal(await countBlockFiles(repo), 0, '-n stored blocks')
          const expected: Record<string, string> = {}
          const actual: Record<string, string | undefined> = {}
          for (const [label, f, bytes] of files) {
            expected[label] = await referenceFileCid(p, f, bytes)
            actual[label] = hashed.get(path.basename(f))
          }
          // every size at once, so one mismatch does not hide the others
          assert.deepEqual(actual, expected, `${p.name}: cairn add -n (actual) against ${referenceFileSource(p)} (expected)`)
          if (p.cidVersion === 0) for (const cid of Object.values(actual)) assert.match(cid ?? '', /^Qm/, 'kubo-v0 gives CIDv0')

          const [label, many] = files[files.length - 1]
          assert.equal(await addQ(['-n', '--profile', p.name, many]), expected[label],
            `add -Q -n --profile ${p.name} of the ${label} file differs from ${referenceFileSource(p)}`)
        } finally {
          await cleanup()
        }
      })

      test('every size: stored CID equals the -n CID and the reference; cat returns the bytes', async () => {
        const { dir: d, cleanup } = await tempDir('cairn-cids-')
        try {
          const files = await writeSizes(p, d)
          const repo = path.join(d, 'repo')
          const paths = files.map(([, f]) => f)
          const hashed = await addMany(['--repo', repo, '-n', ...p.flags, ...paths])
          assert.equal(await countBlockFiles(repo), 0, '-n stored blocks')
          const stored = await addMany(['--repo', repo, ...p.flags, ...paths])
          assert.ok(await countBlockFiles(repo) > 0, 'add without -n stored nothing')
          for (const [label, f, bytes] of files) {
            const name = path.basename(f)
            const cid = stored.get(name)
            assert.ok(cid != null, `add printed no line for ${name}`)
            assert.equal(cid, hashed.get(name), `${label}: the stored CID differs from the -n CID`)
            const ref = await referenceFileCid(p, f, bytes)
            assert.equal(cid, ref, `${label}: stored CID ${cid}, ${referenceFileSource(p)} gives ${ref}`)
            const cat = await run(['--repo', repo, 'cat', cid])
            assert.equal(cat.stdoutBytes.byteLength, bytes.byteLength, `${label}: cat returned the wrong number of bytes`)
            assert.ok(cat.stdoutBytes.equals(bytes), `${label}: cat returned different bytes`)
          }
        } finally {
          await cleanup()
        }
      })
    })
  }

  // ---------------------------------------------------------------------------
  // more leaves than one node holds: the balanced layout grows a level

  describe('files wider than one node (a second layer of the balanced tree)', { concurrency: 2 }, () => {
    test(`kubo-v0: ${KUBO_V0.width} × 256 KiB + 1 B (${KUBO_V0.width + 1} leaves) equals ${IPFS_CID}`, async () => {
      const { dir: d, cleanup } = await tempDir('cairn-cids-')
      try {
        const f = path.join(d, 'wide.bin')
        await fs.writeFile(f, pseudoRandom(KUBO_V0.width * KUBO_V0.chunkSize + 1, 5))
        assert.equal(await addQ(['-n', ...KUBO_V0.flags, f]), await ipfsCidV0(f))
      } finally {
        await cleanup()
      }
    })

    test(`kubo-v1: ${KUBO_V1.width} × 256 KiB + 1 B equals @ipld/unixfs as ipfs add --cid-version=1`, async () => {
      const { dir: d, cleanup } = await tempDir('cairn-cids-')
      try {
        const bytes = pseudoRandom(KUBO_V1.width * KUBO_V1.chunkSize + 1, 6)
        const f = path.join(d, 'wide.bin')
        await fs.writeFile(f, bytes)
        assert.equal(await addQ(['-n', ...KUBO_V1.flags, f]), await ipldUnixfs(file(bytes), ipldSettings(KUBO_V1)))
      } finally {
        await cleanup()
      }
    })

    // 1024 leaves of 1 MiB would be a 1 GiB file: --chunker size-1024 reaches
    // the same layout (1025 leaves of 1 KiB) in 1 MiB + 1 B
    test('unixfs-v1-2025 with --chunker size-1024: 1 MiB + 1 B (1025 leaves) equals ipfs-car\'s settings with 1 KiB chunks', async () => {
      const { dir: d, cleanup } = await tempDir('cairn-cids-')
      try {
        const bytes = pseudoRandom(MIB + 1, 8)
        const f = path.join(d, 'wide.bin')
        await fs.writeFile(f, bytes)
        assert.equal(await addQ(['-n', '--chunker', 'size-1024', f]), await ipldUnixfs(file(bytes), ipldSettings(DEFAULT, 1024)))
      } finally {
        await cleanup()
      }
    })
  })

  // ---------------------------------------------------------------------------
  // a nested directory with dotfiles and symlinks, `add -r` and `add -r --hidden`

  function referenceTreeSource (p: Profile): string {
    return p.name === 'unixfs-v1-2025'
      ? '@ipld/unixfs with ipfs-car 3\'s settings'
      : `@ipld/unixfs as Kubo ${p.name}`
  }

  for (const p of PROFILES) {
    describe(`${p.name}: a nested directory with dotfiles and symlinks`, { concurrency: 2 }, () => {
      for (const hidden of [false, true]) {
        const flags = hidden ? ['-r', '--hidden'] : ['-r']
        const title = `add ${flags.join(' ')}: ${hidden ? 'dotfiles included' : 'dotfiles skipped'}, CID equals ${referenceTreeSource(p)}` +
          (hidden ? '; stored equals -n; cat of paths inside returns the bytes' : '')
        test(title, async () => {
          const { dir: d, cleanup } = await tempDir('cairn-cids-')
          try {
            const tree = nestedTree()
            const root = path.join(d, 'site')
            await writeTree(root, tree)
            const expected = await ipldUnixfs(hidden ? tree : withoutHidden(tree), ipldSettings(p))
            const other = await ipldUnixfs(hidden ? withoutHidden(tree) : tree, ipldSettings(p))
            assert.notEqual(expected, other, 'the fixture must differ with and without dotfiles')
            const repo = path.join(d, 'repo')
            const got = await addQ(['--repo', repo, '-n', ...flags, ...p.flags, root])
            assert.equal(got, expected, `${p.name}, add ${flags.join(' ')}: cairn gave ${got}, ${referenceTreeSource(p)} gives ${expected}` +
              (got === other ? ` (that is the CID ${hidden ? 'without' : 'with'} the dotfiles)` : ''))
            if (!hidden) return
            assert.equal(await countBlockFiles(repo), 0, '-n stored blocks')

            const stored = await addQ(['--repo', repo, ...flags, ...p.flags, root])
            assert.equal(stored, got, 'the stored CID differs from the -n CID')
            const c = tree.kind === 'dir' && tree.entries.sub.kind === 'dir' && tree.entries.sub.entries.deeper.kind === 'dir'
              ? tree.entries.sub.entries.deeper.entries['c.bin']
              : undefined
            assert.ok(c?.kind === 'file')
            const cat = await run(['--repo', repo, 'cat', `${stored}/sub/deeper/c.bin`])
            assert.ok(cat.stdoutBytes.equals(c.bytes), 'cat CID/sub/deeper/c.bin returned different bytes')
          } finally {
            await cleanup()
          }
        })
      }

      if (p.name === 'unixfs-v1-2025') {
        // ipfs-car's own directory encoder, on a tree it can express (files only)
        for (const hidden of [false, true]) {
          const flags = hidden ? ['-r', '--hidden'] : ['-r']
          test(`add ${flags.join(' ')} without symlinks or empty directories equals ipfs-car's createDirectoryEncoderStream`, async () => {
            const { dir: d, cleanup } = await tempDir('cairn-cids-')
            try {
              const tree = nestedTree({ links: false, emptyDir: false })
              const root = path.join(d, 'site')
              await writeTree(root, tree)
              const expected = await ipfsCarDirectory(filesOf(hidden ? tree : withoutHidden(tree)))
              assert.equal(await addQ(['-n', ...flags, root]), expected)
            } finally {
              await cleanup()
            }
          })
        }
      }
    })
  }
})

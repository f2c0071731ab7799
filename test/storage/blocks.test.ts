// The block store: every read is hashed against its CID, so a block
// corrupted on disk is reported and never returned.

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, test } from 'node:test'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import { identity } from 'multiformats/hashes/identity'
import { sha1 } from 'multiformats/hashes/sha1'
import { sha256, sha512 } from 'multiformats/hashes/sha2'
import { Blocks } from '../../storage/blocks.ts'
import { BlockNotFoundError, CorruptBlockError, UnsupportedError } from '../../storage/errors.ts'
import { cairn, errorLine, pseudoRandom, tempDir } from '../helpers.ts'

const RAW = 0x55

async function rawCid (bytes: Uint8Array): Promise<CID> {
  return CID.createV1(RAW, await sha256.digest(bytes))
}

async function withStore (fn: (blocks: Blocks, dir: string) => Promise<void>): Promise<void> {
  const t = await tempDir()
  const blocks = new Blocks(path.join(t.dir, 'blocks'))
  try {
    await blocks.open()
    await fn(blocks, path.join(t.dir, 'blocks'))
  } finally {
    await blocks.close()
    await t.cleanup()
  }
}

async function collect (it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const c of it) parts.push(c)
  return Buffer.concat(parts)
}

async function listAll (blocks: Blocks): Promise<Array<{ cid: CID, file: string }>> {
  const out: Array<{ cid: CID, file: string }> = []
  for await (const e of blocks.list()) out.push(e)
  return out
}

/** Flips every bit of the byte at `index` of a file. */
async function flipByte (file: string, index: number): Promise<void> {
  const bytes = await fs.readFile(file)
  bytes[index] ^= 0xff
  await fs.writeFile(file, bytes)
}

async function assertCorrupt (p: Promise<unknown>, cid: CID): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof CorruptBlockError, `expected CorruptBlockError, got ${String(err)}`)
    assert.equal(err.cid, cid.toString())
    assert.ok(err.message.includes(cid.toString()), err.message)
    return true
  })
}

describe('Blocks', () => {
  test('put then get returns the same bytes, for raw and dag-pb blocks and both sha2 sizes', async () => {
    await withStore(async blocks => {
      const leaf = pseudoRandom(5000, 7)
      const leafCid = await rawCid(leaf)
      const node = dagPb.encode(dagPb.prepare({ Data: new UnixFS({ type: 'directory' }).marshal(), Links: [{ Name: 'x', Hash: leafCid, Tsize: leaf.byteLength }] }))
      const nodeCid = CID.createV1(dagPb.code, await sha512.digest(node))
      assert.equal(await blocks.has(leafCid), false)
      assert.deepEqual(await blocks.put(leafCid, leaf), leafCid)
      await blocks.put(nodeCid, node)
      assert.equal(await blocks.has(leafCid), true)
      assert.equal(await blocks.has(nodeCid), true)
      assert.deepEqual(Buffer.from(await blocks.getBytes(leafCid)), leaf)
      assert.deepEqual(Buffer.from(await blocks.getBytes(nodeCid)), Buffer.from(node))
      assert.deepEqual(await collect(blocks.get(leafCid)), leaf)
      // one file per block, holding exactly the block's bytes
      assert.deepEqual(await fs.readFile(blocks.pathOf(leafCid)), leaf)
      // keyed by multihash: a CIDv0 and CIDv1 of one dag-pb block share it
      const v0 = CID.createV0(await sha256.digest(node))
      await blocks.put(v0, node)
      assert.deepEqual(Buffer.from(await blocks.getBytes(v0.toV1())), Buffer.from(node))
    })
  })

  test('a block that is not there is BlockNotFoundError', async () => {
    await withStore(async blocks => {
      const cid = await rawCid(Buffer.from('never put'))
      assert.equal(await blocks.has(cid), false)
      await assert.rejects(blocks.getBytes(cid), (err: unknown) => {
        assert.ok(err instanceof BlockNotFoundError, String(err))
        assert.equal(err.cid, cid.toString())
        return true
      })
    })
  })

  test('a block whose bytes were flipped on disk is CorruptBlockError, never its bytes', async () => {
    await withStore(async blocks => {
      const bytes = pseudoRandom(4096, 3)
      const cid = await rawCid(bytes)
      await blocks.put(cid, bytes)
      await flipByte(blocks.pathOf(cid), 1234)
      await assertCorrupt(blocks.getBytes(cid), cid)
      await assertCorrupt(collect(blocks.get(cid)), cid)
    })
  })

  test('readInto: the block as a view of the given buffer, verified; a fresh buffer when it does not fit; missing and corrupt as getBytes', async () => {
    await withStore(async blocks => {
      const bytes = pseudoRandom(5000, 9)
      const cid = await rawCid(bytes)
      await blocks.put(cid, bytes)
      const into = new Uint8Array(8192)
      const got = await blocks.readInto(cid, into)
      assert.equal(got.buffer, into.buffer, 'read into the buffer given')
      assert.deepEqual(Buffer.from(got), bytes)
      const small = new Uint8Array(100)
      const fresh = await blocks.readInto(cid, small)
      assert.notEqual(fresh.buffer, small.buffer)
      assert.deepEqual(Buffer.from(fresh), bytes)
      await assert.rejects(blocks.readInto(await rawCid(pseudoRandom(10, 1)), into), BlockNotFoundError)
      await flipByte(blocks.pathOf(cid), 10)
      await assertCorrupt(blocks.readInto(cid, into), cid)
    })
  })

  test('a truncated block file, or one with bytes appended, is CorruptBlockError', async () => {
    await withStore(async blocks => {
      const a = pseudoRandom(1000, 11)
      const b = pseudoRandom(1000, 12)
      const ca = await rawCid(a)
      const cb = await rawCid(b)
      await blocks.put(ca, a)
      await blocks.put(cb, b)
      await fs.truncate(blocks.pathOf(ca), 999)
      await fs.appendFile(blocks.pathOf(cb), Buffer.from([0]))
      await assertCorrupt(blocks.getBytes(ca), ca)
      await assertCorrupt(blocks.getBytes(cb), cb)
    })
  })

  test('a block stored under a hash cairn cannot verify is refused, not returned', async () => {
    await withStore(async blocks => {
      const bytes = Buffer.from('sha1 block')
      const cid = CID.createV1(RAW, await sha1.digest(bytes))
      await blocks.put(cid, bytes)
      await assert.rejects(blocks.getBytes(cid), UnsupportedError)
    })
  })

  test('identity CIDs are their own data: nothing is written, reads give the digest', async () => {
    await withStore(async (blocks, dir) => {
      const data = Buffer.from('tiny inline data')
      const cid = CID.createV1(RAW, identity.digest(data))
      assert.deepEqual(await blocks.put(cid, data), cid)
      assert.equal(await blocks.has(cid), true)
      assert.deepEqual(Buffer.from(await blocks.getBytes(cid)), data)
      assert.deepEqual(await collect(blocks.get(cid)), data)
      assert.deepEqual(await listAll(blocks), [])
      const files = await fs.readdir(dir, { recursive: true })
      assert.deepEqual(files.filter(f => f.endsWith('.data')), [])
    })
  })

  test('list() gives every block put, by multihash, with its file', async () => {
    await withStore(async (blocks, dir) => {
      const put: CID[] = []
      for (let i = 0; i < 20; i++) {
        const bytes = pseudoRandom(100 + i, i + 1)
        const cid = await rawCid(bytes)
        await blocks.put(cid, bytes)
        put.push(cid)
      }
      const node = dagPb.encode(dagPb.prepare({ Data: new UnixFS({ type: 'directory' }).marshal(), Links: [] }))
      const nodeCid = CID.createV1(dagPb.code, await sha256.digest(node))
      await blocks.put(nodeCid, node)
      put.push(nodeCid)
      // a stray file that is not a block is not listed
      await fs.writeFile(path.join(dir, 'NOT-A-BLOCK.txt'), 'x')

      const listed = await listAll(blocks)
      assert.equal(listed.length, put.length)
      const byHash = new Map(listed.map(e => [Buffer.from(e.cid.multihash.bytes).toString('hex'), e]))
      for (const cid of put) {
        const e = byHash.get(Buffer.from(cid.multihash.bytes).toString('hex'))
        assert.ok(e != null, `${cid.toString()} not listed`)
        assert.equal(e.file, blocks.pathOf(cid))
        // a listed CID reads back (raw codec, same multihash)
        assert.deepEqual(Buffer.from(await blocks.getBytes(e.cid)), await fs.readFile(blocks.pathOf(cid)))
      }
    })
  })
})

describe('cairn and a corrupted block', { concurrency: true }, () => {
  test('cat of a file whose only block is corrupt: one Error line, exit 1, no bytes on stdout', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      const content = pseudoRandom(2000, 21)
      const file = path.join(t.dir, 'f.bin')
      await fs.writeFile(file, content)
      const added = await cairn(['add', file, '-Q', '--repo', repo])
      assert.equal(added.code, 0, added.stderr)
      const cid = CID.parse(added.stdout.trim())
      assert.equal(cid.toString(), (await rawCid(content)).toString())
      await flipByte(new Blocks(path.join(repo, 'blocks')).pathOf(cid), 0)

      const r = await cairn(['cat', cid.toString(), '--repo', repo])
      assert.equal(r.code, 1)
      const line = errorLine(r)
      assert.match(line, /corrupt/)
      assert.ok(line.includes(cid.toString()), line)
      assert.equal(r.stdoutBytes.byteLength, 0)

      const out = path.join(t.dir, 'out')
      const g = await cairn(['get', cid.toString(), '-o', out, '--repo', repo])
      assert.equal(g.code, 1)
      assert.match(errorLine(g), /corrupt/)
      assert.deepEqual((await fs.readdir(t.dir)).sort(), ['f.bin', 'repo'])
    } finally {
      await t.cleanup()
    }
  })

  test('cat of a multi-block file with a corrupt middle block never writes that block\'s bytes', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      const chunk = 1024
      const content = pseudoRandom(3 * chunk, 22)
      const file = path.join(t.dir, 'f.bin')
      await fs.writeFile(file, content)
      const added = await cairn(['add', file, '-Q', '--chunker', `size-${chunk}`, '--repo', repo])
      assert.equal(added.code, 0, added.stderr)
      const root = added.stdout.trim()
      const middle = await rawCid(content.subarray(chunk, 2 * chunk))
      const blocks = new Blocks(path.join(repo, 'blocks'))
      await flipByte(blocks.pathOf(middle), 10)

      const r = await cairn(['cat', root, '--repo', repo])
      assert.equal(r.code, 1)
      const line = errorLine(r)
      assert.match(line, /corrupt/)
      assert.ok(line.includes(middle.toString()), line)
      // at most the first chunk, and only its true bytes
      assert.ok(r.stdoutBytes.byteLength <= chunk, `stdout has ${r.stdoutBytes.byteLength} bytes`)
      assert.deepEqual(r.stdoutBytes, content.subarray(0, r.stdoutBytes.byteLength))

      // a range inside the good first block still reads
      const ok = await cairn(['cat', root, '--offset', '10', '--length', '100', '--repo', repo])
      assert.equal(ok.code, 0, ok.stderr)
      assert.deepEqual(ok.stdoutBytes, content.subarray(10, 110))
    } finally {
      await t.cleanup()
    }
  })

  test('ls of a directory whose root block is corrupt: one Error line, nothing listed', async () => {
    const t = await tempDir()
    try {
      const repo = path.join(t.dir, 'repo')
      const dir = path.join(t.dir, 'd')
      await fs.mkdir(dir)
      await fs.writeFile(path.join(dir, 'a.txt'), 'a\n')
      const added = await cairn(['add', '-r', dir, '-Q', '--repo', repo])
      assert.equal(added.code, 0, added.stderr)
      const root = CID.parse(added.stdout.trim())
      await flipByte(new Blocks(path.join(repo, 'blocks')).pathOf(root), 3)
      const r = await cairn(['ls', root.toString(), '--repo', repo])
      assert.equal(r.code, 1)
      assert.match(errorLine(r), /corrupt/)
      assert.equal(r.stdout, '')
    } finally {
      await t.cleanup()
    }
  })
})

// get never writes outside its output path. Hostile DAGs are built here by
// hand (dag-pb + UnixFS), since no honest importer makes them: entries named
// '..', '.', '', 'a/b' or 'a\0b', and a symlink sharing its name with a file
// or directory so that a naive writer would follow it out of the tree.

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, test } from 'node:test'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { get } from '../../../core/unixfs/get.ts'
import { CairnError, UnsafeContentError } from '../../../core/util/errors.ts'
import { Blocks } from '../../../storage/blocks.ts'
import { tempDir } from '../../helpers.ts'

const RAW = 0x55

interface Link { name: string, cid: CID }

/** A test's world: a repo, an empty dir for the output, and a dir outside it. */
interface World {
  base: string
  blocks: Blocks
  outDir: string
  output: string
  outside: string
}

async function withWorld (fn: (w: World) => Promise<void>): Promise<void> {
  const t = await tempDir('cairn-get-')
  const blocks = new Blocks(path.join(t.dir, 'repo', 'blocks'))
  await fs.mkdir(blocks.dir, { recursive: true })
  await blocks.open()
  const outDir = path.join(t.dir, 'outdir')
  const outside = path.join(t.dir, 'outside')
  await fs.mkdir(outDir)
  await fs.mkdir(outside)
  try {
    await fn({ base: t.dir, blocks, outDir, output: path.join(outDir, 'out'), outside })
  } finally {
    await blocks.close()
    await t.cleanup()
  }
}

async function putRaw (blocks: Blocks, bytes: Uint8Array): Promise<CID> {
  const cid = CID.createV1(RAW, await sha256.digest(bytes))
  await blocks.put(cid, bytes)
  return cid
}

async function putNode (blocks: Blocks, unixfs: UnixFS, links: Link[]): Promise<CID> {
  // links are kept in the order given (prepare's sort is stable for equal names)
  const bytes = dagPb.encode(dagPb.prepare({
    Data: unixfs.marshal(),
    Links: links.map(l => ({ Name: l.name, Hash: l.cid, Tsize: 0 }))
  }))
  const cid = CID.createV1(dagPb.code, await sha256.digest(bytes))
  await blocks.put(cid, bytes)
  return cid
}

async function putDir (blocks: Blocks, links: Link[]): Promise<CID> {
  return await putNode(blocks, new UnixFS({ type: 'directory' }), links)
}

async function putSymlink (blocks: Blocks, target: string): Promise<CID> {
  return await putNode(blocks, new UnixFS({ type: 'symlink', data: new TextEncoder().encode(target) }), [])
}

/** Every path below `dir`, relative, without following symlinks. */
async function listing (dir: string): Promise<string[]> {
  return (await fs.readdir(dir, { recursive: true })).map(String).sort()
}

/** Runs get on `root` and asserts it refused, leaving no trace anywhere. */
async function assertRefused (w: World, root: CID, what: string): Promise<void> {
  const before = await listing(w.base)
  await assert.rejects(get(w.blocks, { cid: root, segments: [] }, { output: w.output }), (err: unknown) => {
    assert.ok(err instanceof CairnError, `${what}: expected a CairnError, got ${String(err)}`)
    assert.ok(err instanceof UnsafeContentError, `${what}: expected UnsafeContentError, got ${err.name}: ${err.message}`)
    return true
  }, what)
  // nothing at the output path, no temp file beside it, nothing outside
  assert.deepEqual(await fs.readdir(w.outDir), [], `${what}: left something in the output's directory`)
  assert.deepEqual(await fs.readdir(w.outside), [], `${what}: wrote outside`)
  assert.deepEqual(await listing(w.base), before, `${what}: changed the tree around the output`)
}

describe('get refuses entry names that could leave the output path', { concurrency: true }, () => {
  for (const name of ['..', '.', '', 'a/b', 'a\0b', '../outside/escaped', '/abs']) {
    test(`a directory entry named ${JSON.stringify(name)}`, async () => {
      await withWorld(async w => {
        const file = await putRaw(w.blocks, new TextEncoder().encode('payload\n'))
        // a harmless entry first, so the refusal comes after something was written
        const root = await putDir(w.blocks, [{ name: '+ok', cid: file }, { name, cid: file }])
        await assertRefused(w, root, `entry ${JSON.stringify(name)}`)
      })
    })
  }

  test('a hostile name deep inside a subdirectory', async () => {
    await withWorld(async w => {
      const file = await putRaw(w.blocks, new TextEncoder().encode('payload\n'))
      const sub = await putDir(w.blocks, [{ name: 'fine.txt', cid: file }, { name: '..', cid: file }])
      const inner = await putDir(w.blocks, [{ name: 'inner', cid: sub }])
      const root = await putDir(w.blocks, [{ name: 'a.txt', cid: file }, { name: 'sub', cid: inner }])
      await assertRefused(w, root, 'nested ..')
    })
  })

  test('a directory entry named ".." that is itself a directory', async () => {
    await withWorld(async w => {
      const file = await putRaw(w.blocks, new TextEncoder().encode('payload\n'))
      const escape = await putDir(w.blocks, [{ name: 'escaped.txt', cid: file }])
      const root = await putDir(w.blocks, [{ name: '..', cid: escape }])
      await assertRefused(w, root, '.. directory')
      await assert.rejects(fs.lstat(path.join(w.outDir, 'escaped.txt')))
    })
  })

  test('a HAMT-sharded directory whose entry name (after the 2-char prefix) is ".."', async () => {
    await withWorld(async w => {
      const file = await putRaw(w.blocks, new TextEncoder().encode('payload\n'))
      const bitfield = new Uint8Array(32)
      bitfield[31] = 0b11 // buckets 00 and 01 (bitfield is big-endian)
      const shard = new UnixFS({ type: 'hamt-sharded-directory', fanout: 256n, hashType: 0x22n, data: bitfield })
      const root = await putNode(w.blocks, shard, [{ name: '00ok', cid: file }, { name: '01..', cid: file }])
      await assertRefused(w, root, 'hamt ..')
    })
  })
})

describe('get writes nothing through a symlink', { concurrency: true }, () => {
  test('a symlink "link" to an outside path, then a file also named "link"', async () => {
    await withWorld(async w => {
      const target = path.join(w.outside, 'somewhere')
      const link = await putSymlink(w.blocks, target)
      const file = await putRaw(w.blocks, new TextEncoder().encode('written through the link?\n'))
      const root = await putDir(w.blocks, [{ name: 'link', cid: link }, { name: 'link', cid: file }])
      await assertRefused(w, root, 'symlink then file')
      await assert.rejects(fs.lstat(target), 'the symlink target was created')
    })
  })

  test('a file "link", then a symlink also named "link"', async () => {
    await withWorld(async w => {
      const link = await putSymlink(w.blocks, path.join(w.outside, 'somewhere'))
      const file = await putRaw(w.blocks, new TextEncoder().encode('file\n'))
      const root = await putDir(w.blocks, [{ name: 'link', cid: file }, { name: 'link', cid: link }])
      await assertRefused(w, root, 'file then symlink')
    })
  })

  test('the literal /tmp/somewhere target from the issue is not written', async () => {
    await withWorld(async w => {
      let existed = true
      try { await fs.lstat('/tmp/somewhere') } catch { existed = false }
      const link = await putSymlink(w.blocks, '/tmp/somewhere')
      const file = await putRaw(w.blocks, new TextEncoder().encode('escape\n'))
      const root = await putDir(w.blocks, [{ name: 'link', cid: link }, { name: 'link', cid: file }])
      await assertRefused(w, root, '/tmp/somewhere')
      if (!existed) await assert.rejects(fs.lstat('/tmp/somewhere'), '/tmp/somewhere was created')
    })
  })

  test('a symlink "sub" to an outside directory, then a directory also named "sub"', async () => {
    await withWorld(async w => {
      const link = await putSymlink(w.blocks, w.outside)
      const file = await putRaw(w.blocks, new TextEncoder().encode('escaped into outside\n'))
      const dir = await putDir(w.blocks, [{ name: 'escaped.txt', cid: file }])
      const root = await putDir(w.blocks, [{ name: 'sub', cid: link }, { name: 'sub', cid: dir }])
      await assertRefused(w, root, 'symlink then directory')
    })
  })

  test('a lone symlink pointing outside is written as a symlink, its target untouched', async () => {
    await withWorld(async w => {
      const target = path.join(w.outside, 'somewhere')
      const link = await putSymlink(w.blocks, target)
      const file = await putRaw(w.blocks, new TextEncoder().encode('inside\n'))
      const root = await putDir(w.blocks, [{ name: 'file.txt', cid: file }, { name: 'link', cid: link }])
      const result = await get(w.blocks, { cid: root, segments: [] }, { output: w.output })
      assert.equal(result.output, w.output)
      assert.deepEqual(await fs.readdir(w.outDir), ['out'])
      assert.equal(await fs.readlink(path.join(w.output, 'link')), target)
      assert.equal(await fs.readFile(path.join(w.output, 'file.txt'), 'utf8'), 'inside\n')
      assert.deepEqual(await fs.readdir(w.outside), [])
    })
  })

  test('a symlink whose target holds NUL is refused', async () => {
    await withWorld(async w => {
      const link = await putSymlink(w.blocks, `${w.outside}/a\0b`)
      const root = await putDir(w.blocks, [{ name: 'link', cid: link }])
      await assertRefused(w, root, 'NUL target')
    })
  })
})

describe('get of a hostile path argument', () => {
  test('a path whose last segment is ".." (default output name) is refused before anything is written', async () => {
    await withWorld(async w => {
      const file = await putRaw(w.blocks, new TextEncoder().encode('payload\n'))
      const root = await putDir(w.blocks, [{ name: '..', cid: file }])
      const before = await listing(w.base)
      await assert.rejects(get(w.blocks, { cid: root, segments: ['..'] }, {}), UnsafeContentError)
      assert.deepEqual(await listing(w.base), before)
    })
  })
})

// Hostile DAGs and CARs (issue 22): a file's DAG deeper than any importer
// makes is refused with a clear error (the reader keeps one small frame per
// level, never one generator per level); a DAG deeper than MAX_DAG_DEPTH is
// refused by the repo's walks (car import, pin, gc, car export) as by a
// fetch; a CAR block over 2 MiB (bitswap's limit) is refused before it is
// read into memory, and nothing is pinned.

import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { CarWriter } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { MAX_DAG_DEPTH } from '../../core/repo/dag.ts'
import { MAX_FILE_DEPTH } from '../../core/unixfs/file-reader.ts'
import { Repo } from '../../storage/repo.ts'
import { errorLine, ok, pseudoRandom, run, withTemp } from '../helpers.ts'

const RAW = 0x55
const SHA256 = 0x12

const cidOf = (code: number, bytes: Uint8Array): CID => CID.createV1(code, Digest.create(SHA256, createHash('sha256').update(bytes).digest()))

async function writeCar (file: string, root: CID, blocks: Array<{ cid: CID, bytes: Uint8Array }>): Promise<void> {
  const { writer, out } = CarWriter.create([root])
  const chunks: Uint8Array[] = []
  const collecting = (async () => { for await (const c of out) chunks.push(c) })()
  for (const b of blocks) await writer.put(b)
  await writer.close()
  await collecting
  await fs.writeFile(file, Buffer.concat(chunks))
}

/** A file of `leaf`'s bytes under a chain of `depth` dag-pb file nodes of one link each. */
function chain (leaf: Uint8Array, depth: number): { root: CID, blocks: Array<{ cid: CID, bytes: Uint8Array }> } {
  let cid = cidOf(RAW, leaf)
  const blocks = [{ cid, bytes: leaf }]
  for (let i = 0; i < depth; i++) {
    const data = new UnixFS({ type: 'file', blockSizes: [BigInt(leaf.byteLength)] }).marshal()
    const bytes = dagPb.encode(dagPb.prepare({ Data: data, Links: [{ Hash: cid, Tsize: leaf.byteLength }] }))
    cid = cidOf(dagPb.code, bytes)
    blocks.push({ cid, bytes })
  }
  return { root: cid, blocks }
}

test(`a file DAG ${MAX_FILE_DEPTH} levels deep reads; one level more is refused with a clear error`, async () => {
  await withTemp('cairn-deep-', async (dir) => {
    const repo = path.join(dir, 'repo')
    const leaf = pseudoRandom(1000, 7)
    for (const [depth, readable] of [[MAX_FILE_DEPTH, true], [MAX_FILE_DEPTH + 1, false], [MAX_DAG_DEPTH, false]] as const) {
      const { root, blocks } = chain(leaf, depth)
      const car = path.join(dir, `chain-${depth}.car`)
      await writeCar(car, root, blocks)
      ok(await run(repo, 'car', 'import', car), `import ${depth}`)
      const r = await run(repo, 'cat', root.toString())
      if (readable) {
        ok(r, `cat ${depth}`)
        assert.ok(r.stdoutBytes.equals(leaf), `depth ${depth}: the leaf's bytes`)
      } else {
        assert.equal(r.code, 1, `depth ${depth}: exit 1 (${r.stderr})`)
        assert.match(errorLine(r), new RegExp(`^Error: file ${root.toString()} is more than ${MAX_FILE_DEPTH} levels deep`))
        assert.equal(r.stdout, '', 'nothing written')
      }
    }
  })
})

test(`a DAG ${MAX_DAG_DEPTH} links deep imports, pins, exports and survives gc; one link more is refused by each of them`, async () => {
  await withTemp('cairn-deepdag-', async (dir) => {
    const repo = path.join(dir, 'repo')
    const leaf = pseudoRandom(100, 9)
    const blocksIn = async (r: string): Promise<number> => {
      const st = await run(r, 'repo', 'stat', '--json')
      ok(st, 'repo stat')
      return (JSON.parse(st.stdout) as { blocks: number }).blocks
    }

    // at the limit: every walk goes to the bottom
    const edge = chain(leaf, MAX_DAG_DEPTH)
    const edgeCar = path.join(dir, 'edge.car')
    await writeCar(edgeCar, edge.root, edge.blocks)
    ok(await run(repo, 'car', 'import', edgeCar), 'import at the limit')
    ok(await run(repo, 'pin', 'add', edge.root.toString()), 'pin add at the limit')
    ok(await run(repo, 'repo', 'gc'), 'gc')
    assert.equal(await blocksIn(repo), MAX_DAG_DEPTH + 1, 'gc kept the whole chain')
    const out = path.join(dir, 'edge-out.car')
    const exportedEdge = await run(repo, 'car', 'export', edge.root.toString(), '-o', out)
    ok(exportedEdge, 'export at the limit')
    assert.match(exportedEdge.stdout + exportedEdge.stderr, new RegExp(`\\(${MAX_DAG_DEPTH + 1} blocks, `), 'every block exported')
    assert.equal((await fs.stat(out)).size, (await fs.stat(edgeCar)).size, 'the same blocks as imported')

    // one link more (over another leaf: no block shared with the first chain): car import stores the blocks but pins nothing
    const deep = chain(pseudoRandom(100, 10), MAX_DAG_DEPTH + 1)
    const deepCar = path.join(dir, 'deep.car')
    await writeCar(deepCar, deep.root, deep.blocks)
    const imported = await run(repo, 'car', 'import', deepCar)
    assert.equal(imported.code, 1, imported.stderr)
    assert.match(errorLine(imported), new RegExp(`^Error: .*deep\\.car: ${deep.root.toString()} is more than ${MAX_DAG_DEPTH} links deep .*nothing from it was pinned`))
    const pinned = await run(repo, 'pin', 'add', deep.root.toString())
    assert.equal(pinned.code, 1, pinned.stderr)
    assert.match(errorLine(pinned), new RegExp(`^Error: ${deep.root.toString()} is more than ${MAX_DAG_DEPTH} links deep`))
    const pins = await run(repo, 'pin', 'ls', '--json')
    ok(pins, 'pin ls')
    assert.doesNotMatch(pins.stdout, new RegExp(deep.root.toString()), 'the deep root is not pinned')

    // a repo where it is pinned anyway (an older cairn pinned it): gc removes nothing, export writes nothing
    const r = await Repo.open(repo, { write: true })
    try { await r.pinDurably([deep.root]) } finally { await r.close() }
    const before = await blocksIn(repo)
    const gc = await run(repo, 'repo', 'gc')
    assert.equal(gc.code, 1, gc.stderr)
    assert.match(errorLine(gc), new RegExp(`^Error: gc removed nothing: the pinned ${deep.root.toString()} is more than ${MAX_DAG_DEPTH} links deep`))
    assert.equal(await blocksIn(repo), before, 'no block removed')
    const deepOut = path.join(dir, 'deep-out.car')
    const exported = await run(repo, 'car', 'export', deep.root.toString(), '-o', deepOut)
    assert.equal(exported.code, 1, exported.stderr)
    assert.match(errorLine(exported), new RegExp(`^Error: ${deep.root.toString()} is more than ${MAX_DAG_DEPTH} links deep`))
    await assert.rejects(fs.access(deepOut), 'no CAR left behind')
  })
})

test('a CAR block over 2 MiB is refused, named, and nothing from the CAR is pinned', async () => {
  await withTemp('cairn-bigblock-', async (dir) => {
    const repo = path.join(dir, 'repo')
    const small = pseudoRandom(100, 1)
    const big = pseudoRandom(2 * 1024 * 1024 + 1, 2)
    const car = path.join(dir, 'big.car')
    await writeCar(car, cidOf(RAW, small), [{ cid: cidOf(RAW, small), bytes: small }, { cid: cidOf(RAW, big), bytes: big }])
    const r = await run(repo, 'car', 'import', car)
    assert.equal(r.code, 1, r.stderr)
    assert.match(errorLine(r), /^Error: .*big\.car: section 2 holds \d+ bytes, over the 2 MiB block limit/)
    const pins = await run(repo, 'pin', 'ls', '--json')
    ok(pins, 'pin ls')
    assert.equal(pins.stdout.trim(), '', 'no pins')
    // exactly 2 MiB is a block like any other
    const edge = pseudoRandom(2 * 1024 * 1024, 3)
    const okCar = path.join(dir, 'edge.car')
    await writeCar(okCar, cidOf(RAW, edge), [{ cid: cidOf(RAW, edge), bytes: edge }])
    ok(await run(repo, 'car', 'import', okCar), 'a 2 MiB block')
  })
})

test('a CAR announcing a 4 GiB section fails at once with the block limit, not out of memory', async () => {
  await withTemp('cairn-hugesection-', async (dir) => {
    const repo = path.join(dir, 'repo')
    const small = pseudoRandom(100, 1)
    const car = path.join(dir, 'huge.car')
    await writeCar(car, cidOf(RAW, small), [{ cid: cidOf(RAW, small), bytes: small }])
    // a section header saying 4 GiB follows, then a little data
    const varint = [0x80, 0x80, 0x80, 0x80, 0x10] // 2^32
    await fs.appendFile(car, Buffer.concat([Buffer.from(varint), Buffer.from(cidOf(RAW, small).bytes), Buffer.alloc(64)]))
    const r = await run(repo, 'car', 'import', car)
    assert.equal(r.code, 1, r.stderr)
    assert.match(errorLine(r), /over the 2 MiB block limit/)
  })
})

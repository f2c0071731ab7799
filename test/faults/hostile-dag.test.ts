// Hostile DAGs and CARs (issue 22): a file's DAG deeper than any importer
// makes is refused with a clear error (the reader keeps one small frame per
// level, never one generator per level); a CAR block over 2 MiB (bitswap's
// limit) is refused before it is read into memory, and nothing is pinned.

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
import { MAX_FILE_DEPTH } from '../../core/unixfs/file-reader.ts'
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
    for (const [depth, readable] of [[MAX_FILE_DEPTH, true], [MAX_FILE_DEPTH + 1, false], [5000, false]] as const) {
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

// UnixFS sizes of 2-4 GiB are encoded right (core/unixfs/unixfs-varint.ts works
// around protons-runtime writing them as one byte and four left over from
// its buffer pool). Fails without the fix: the bytes differ from the
// protobuf encoding, and from one run to the next.

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { importer } from 'ipfs-unixfs-importer'
import { reader } from 'protons-runtime'
import { CID } from 'multiformats/cid'
import { importerOptions, resolveProfile, MIB } from '../../../core/unixfs/profiles.ts'
import '../../../core/unixfs/unixfs-varint.ts'

/** The protobuf varint of `v`, written the plain way. */
function varint (v: bigint): number[] {
  const out: number[] = []
  while (v > 127n) {
    out.push(Number(v & 127n) | 128)
    v >>= 7n
  }
  out.push(Number(v))
  return out
}

/** The Data of a file node whose one child is `size` bytes, by the protobuf rules. */
function expectedData (size: bigint): Buffer {
  return Buffer.from([0x08, 0x02, 0x18, ...varint(size), 0x20, ...varint(size)])
}

/** Leaves Node's small-buffer pool full of 0xff, as a busy process leaves it. */
function dirtyPool (): void {
  for (let i = 0; i < 64; i++) Buffer.allocUnsafe(64).fill(0xff)
}

describe('UnixFS sizes past 2 GiB', () => {
  const sizes = [2n ** 31n - 1n, 2n ** 31n, 3_000_000_000n, 2n ** 32n - 1n, 2n ** 32n, 5n * 2n ** 30n]

  for (const size of sizes) {
    test(`a file node of ${size} bytes encodes its sizes as protobuf varints`, () => {
      dirtyPool()
      const node = new UnixFS({ type: 'file' })
      node.addBlockSize(size)
      const data = Buffer.from(node.marshal())
      assert.equal(data.toString('hex'), expectedData(size).toString('hex'))
      // and it reads back: filesize is field 3, a varint
      const r = reader(data)
      let fileSize: bigint | null = null
      while (r.pos < r.len) {
        const tag = r.uint32()
        if (tag >>> 3 === 3) fileSize = r.uint64()
        else r.skipType(tag & 7)
      }
      assert.equal(fileSize, size)
    })
  }

  test('the same node encodes to the same bytes every time', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 50; i++) {
      dirtyPool()
      const node = new UnixFS({ type: 'file' })
      node.addBlockSize(3n * 2n ** 30n)
      seen.add(Buffer.from(node.marshal()).toString('hex'))
    }
    assert.equal(seen.size, 1)
  })

  test('importing a 2 GiB + 1 MiB file writes its size into the root', async () => {
    const size = 2 * 1024 * MIB + MIB
    const zeros = new Uint8Array(MIB)
    const blocks = new Map<string, Uint8Array>()
    const store = {
      put: async (cid: CID, bytes: Uint8Array) => { blocks.set(cid.toString(), bytes); return cid },
      get: async function * (cid: CID) { yield blocks.get(cid.toString()) as Uint8Array },
      has: async (cid: CID) => blocks.has(cid.toString())
    }
    async function * content (): AsyncGenerator<Uint8Array> {
      for (let sent = 0; sent < size; sent += MIB) yield zeros
    }
    let root: CID | null = null
    for await (const e of importer([{ path: 'big', content: content() }], store, importerOptions(resolveProfile({})))) root = e.cid
    assert.ok(root != null)
    const node = dagPb.decode(blocks.get(root.toString()) as Uint8Array)
    const fs = UnixFS.unmarshal(node.Data as Uint8Array)
    assert.equal(fs.fileSize(), BigInt(size))
    // the encoded field itself, not only the sum of the children
    assert.ok(Buffer.from(node.Data as Uint8Array).includes(Buffer.from([0x18, ...varint(BigInt(size))])))
  })
})

test('the patch checks what it patches: a writer without its methods, or one whose uint64 is already right, fails loudly', async () => {
  const { checkProtonsWriter } = await import('../../../core/unixfs/unixfs-varint.ts')
  const { UpstreamPatchError } = await import('../../../core/util/errors.ts')
  const fs = await import('node:fs/promises')
  const path = await import('node:path')
  const { ROOT } = await import('../../helpers.ts')
  // pinned exactly, and the installed copy is that version
  const declared = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
  assert.equal(declared.dependencies['protons-runtime'], '7.1.2')
  const installed = JSON.parse(await fs.readFile(path.join(ROOT, 'node_modules', 'protons-runtime', 'package.json'), 'utf8')) as { version: string }
  assert.equal(installed.version, '7.1.2')
  assert.throws(() => { checkProtonsWriter({ uint64Number: () => {}, finish: () => new Uint8Array() }, undefined) }, UpstreamPatchError)
  assert.throws(() => { checkProtonsWriter({ finish: () => new Uint8Array() }, () => {}) }, UpstreamPatchError)
  // an upstream that fixed its writer: the right varint for 2^31 + 5 starts 0x85
  const fixed = function (this: { uint64Number: (n: number) => unknown }, v: bigint): unknown { return this.uint64Number(Number(v)) }
  assert.throws(() => { checkProtonsWriter({ uint64Number: () => {}, finish: () => new Uint8Array() }, fixed) }, /no longer has the bug/)
})

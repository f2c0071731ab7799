import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { UploadTracker, UPLOAD_IDLE_MS } from '../../../core/daemon/uploads.ts'
import { blockKey } from '../../../core/repo/dag.ts'
import type { BlockReader } from '../../../storage/blocks.ts'

const MIB = 1024 * 1024
const PEER_A = '12D3KooWPLh6cnApNemzAN7YFicTcHo9GjrMjiv6umCxwX5s5DuR'
const PEER_B = '12D3KooWR3Vq5hHjy8Wa5A3JgmUVatqNM5BdmnsJs7aVUsGZNcoE'

async function rawLeaf (text: string): Promise<CID> {
  return CID.create(1, raw.code, await sha256.digest(new TextEncoder().encode(text)))
}

/** A two-level file: root → two interior nodes (Tsize past a leaf's) → raw leaves; a store that counts its reads. */
async function dag (name: string, blocks: Map<string, Uint8Array>): Promise<{ root: CID, leaves: CID[] }> {
  const leaves: CID[] = []
  const interior: CID[] = []
  for (let i = 0; i < 2; i++) {
    const mine = await Promise.all([0, 1, 2].map(async j => await rawLeaf(`${name} ${i} ${j}`)))
    leaves.push(...mine)
    const bytes = dagPb.encode(dagPb.prepare({ Links: mine.map(c => ({ Hash: c, Tsize: MIB })) }))
    const cid = CID.create(1, dagPb.code, await sha256.digest(bytes))
    blocks.set(cid.toString(), bytes)
    interior.push(cid)
  }
  const bytes = dagPb.encode(dagPb.prepare({ Links: interior.map(c => ({ Hash: c, Tsize: 3 * MIB })) }))
  const root = CID.create(1, dagPb.code, await sha256.digest(bytes))
  blocks.set(root.toString(), bytes)
  return { root, leaves }
}

function store (blocks: Map<string, Uint8Array>, reads: string[]): BlockReader {
  return {
    getBytes: async (cid: CID) => {
      reads.push(cid.toString())
      const b = blocks.get(cid.toString())
      if (b == null) throw new Error('not found')
      return b
    }
  } as unknown as BlockReader
}

test('uploads: blocks map to their root by the index, per peer; a line when a peer starts and when it is done', async () => {
  const blocks = new Map<string, Uint8Array>()
  const movie = await dag('movie', blocks)
  const song = await dag('song', blocks)
  const reads: string[] = []
  const lines: string[] = []
  const t = new UploadTracker({ log: l => lines.push(l), label: r => r === movie.root.toString() ? `movie.mkv (${r})` : r })
  await t.setRoots(store(blocks, reads), [{ cid: movie.root, size: 6 * MIB }, { cid: song.root, size: null }])
  // only the interior nodes were read: the leaves are known from their parents
  assert.equal(reads.length, 6)

  // peer A fetches a leaf of the movie first (another seed served it the root), peer B the song from its root
  t.served(PEER_A, blockKey(movie.leaves[4]), MIB, 1000)
  t.served(PEER_B, blockKey(song.root), 100, 1000)
  t.served(PEER_B, blockKey(song.leaves[0]), MIB, 1100)
  t.served(PEER_A, blockKey(movie.leaves[0]), MIB, 1200)
  let rows = t.rows(1300)
  assert.equal(rows.length, 2)
  const a = rows.find(r => r.peer === PEER_A)
  assert.deepEqual({ root: a?.root, bytes: a?.bytes, blocks: a?.blocks, size: a?.size, done: a?.done }, { root: movie.root.toString(), bytes: 2 * MIB, blocks: 2, size: 6 * MIB, done: false })
  assert.ok((a?.rate ?? 0) > 0)
  assert.equal(rows.find(r => r.peer === PEER_B)?.root, song.root.toString())
  assert.deepEqual(lines, [
    `peer ${PEER_A} started fetching movie.mkv (${movie.root.toString()})`,
    `peer ${PEER_B} started fetching ${song.root.toString()}`
  ])

  // a block the index does not hold goes to the root that peer was fetching
  t.served(PEER_A, blockKey(await rawLeaf('not indexed')), 10, 1400)
  assert.equal(t.rows(1400).find(r => r.peer === PEER_A)?.bytes, 2 * MIB + 10)

  // idle: done, with a line; then off the list after a while
  rows = t.rows(1400 + UPLOAD_IDLE_MS + 1)
  assert.ok(rows.every(r => r.done && r.rate === 0))
  const ends = lines.slice(2).sort((x, y) => Number(x.includes(PEER_A)) - Number(y.includes(PEER_A)))
  assert.equal(ends.length, 2)
  assert.match(ends[0], new RegExp(`^peer ${PEER_B} finished fetching ${song.root.toString()}: ${MIB + 100} bytes in 2 block\\(s\\)`))
  assert.match(ends[1], new RegExp(`^peer ${PEER_A} finished fetching movie\\.mkv .*: ${2 * MIB + 10} of ${6 * MIB} bytes`))
  assert.equal(t.rows(1400 + UPLOAD_IDLE_MS + 10_000).length, 0)
})

test('uploads: a peer that leaves is done at once; blocks of no seeded root are listed as such', async () => {
  const lines: string[] = []
  const t = new UploadTracker({ log: l => lines.push(l), label: r => r })
  const stray = blockKey(await rawLeaf('stray'))
  t.served(PEER_A, stray, 5, 0)
  assert.equal(t.rows(1)[0].root, null)
  t.peerLeft(PEER_A, 2)
  assert.equal(t.rows(3)[0].done, true)
  assert.deepEqual(lines.map(l => l.replace(/:.*/, '')), [`peer ${PEER_A} started fetching blocks of no seeded root`, `peer ${PEER_A} finished fetching blocks of no seeded root`])
})

test('uploads: a removed root leaves the index', async () => {
  const blocks = new Map<string, Uint8Array>()
  const movie = await dag('movie', blocks)
  const t = new UploadTracker({ log: () => {}, label: r => r })
  await t.setRoots(store(blocks, []), [{ cid: movie.root, size: null }])
  assert.equal(t.rootOf(PEER_A, blockKey(movie.leaves[0])), movie.root.toString())
  await t.setRoots(store(blocks, []), [])
  assert.equal(t.rootOf(PEER_A, blockKey(movie.leaves[0])), null)
})

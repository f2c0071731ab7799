// A DAG deeper than any honest one, offered by a seed: the fetcher refuses
// it with one clear error line (DagTooDeepError, exit 1) and pins nothing.
// Real processes on 127.0.0.1; the chain is built with @ipld/dag-pb.

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, test } from 'node:test'
import { CarWriter } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { cairn, errorLine } from '../helpers.ts'
import { seedSuite } from './seeds.ts'
import { MAX_DAG_DEPTH } from '../../core/swarm/walker.ts'

const suite = seedSuite('cairn-deep-')

/** A CAR of a chain of `depth` dag-pb nodes over one raw leaf; its root. */
async function chainCar (depth: number, file: string): Promise<CID> {
  const blocks: Array<{ cid: CID, bytes: Uint8Array }> = []
  const leaf = new TextEncoder().encode('the bottom of a deep chain')
  let cid: CID = CID.createV1(raw.code, await sha256.digest(leaf))
  blocks.push({ cid, bytes: leaf })
  for (let i = 0; i < depth; i++) {
    const bytes = dagPb.encode(dagPb.prepare({ Links: [{ Hash: cid, Name: '', Tsize: 1 }] }))
    cid = CID.createV1(dagPb.code, await sha256.digest(bytes))
    blocks.push({ cid, bytes })
  }
  const { writer, out } = CarWriter.create([cid])
  const chunks: Uint8Array[] = []
  const collected = (async () => { for await (const c of out) chunks.push(c) })()
  for (const b of blocks.reverse()) await writer.put(b)
  await writer.close()
  await collected
  await fs.writeFile(file, Buffer.concat(chunks))
  return cid
}

describe('a DAG too deep', { timeout: 120_000 }, () => {
  test(`a chain ${MAX_DAG_DEPTH + 6} links deep: pin add through the network fails with one Error line, nothing pinned`, async () => {
    const s = await suite.seed('s')
    const car = path.join(suite.dir, 'deep.car')
    const root = await chainCar(MAX_DAG_DEPTH + 6, car)
    // the seed refuses to pin it too (core/repo/dag.ts) but keeps the blocks
    // it read: it serves them, as a hostile seed would
    const imported = await cairn(['car', 'import', car, '--repo', s.repo])
    assert.equal(imported.code, 1, imported.stderr)
    assert.match(errorLine(imported), new RegExp(`${root.toString()} is more than ${MAX_DAG_DEPTH} links deep`))
    const repo = path.join(suite.dir, 'fetcher')
    const r = await cairn(['pin', 'add', root.toString(), '--repo', repo, '--peer', s.addrs[0], '--timeout', '60'], { timeoutMs: 90_000 })
    assert.equal(r.code, 1, r.stderr)
    assert.match(errorLine(r), new RegExp(`^Error: ${root.toString()} is more than ${MAX_DAG_DEPTH} links deep`))
    const pins = await cairn(['pin', 'ls', '--repo', repo])
    assert.equal(pins.code, 0, pins.stderr)
    assert.equal(pins.stdout.trim(), '', 'nothing pinned')
  })
})

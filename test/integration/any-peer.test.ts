// A fetch asks every peer that is connected or connects while it runs
// (issue 18), across real processes on 127.0.0.1: a provider that dials in
// after the fetch has started, and a stock Helia node known only as a
// bootstrap peer, which speaks bitswap and no DHT.

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, test } from 'node:test'
import { CarBlockIterator, CarWriter } from '@ipld/car'
import { CID } from 'multiformats/cid'
import { cairn, pseudoRandom } from '../helpers.ts'
import { blockFiles, seedSuite, waitFor, type SeedProcess } from './seeds.ts'
import { startHelia } from './helia.ts'

const MIB = 1024 * 1024
/** F's first lookup (through C, on loopback) is over well within this */
const SETTLE_MS = 3000
const suite = seedSuite('cairn-any-peer-')
const seed = async (name: string, bootstrap: string[] = []): Promise<SeedProcess> => await suite.seed(name, { bootstrap })

/** The {fetched, peers} report a --json get prints. */
function fetchReport (stdout: string): { fetched: number, peers: Record<string, number> } {
  for (const line of stdout.split('\n').filter(l => l !== '')) {
    const o = JSON.parse(line) as { fetched?: number, peers?: Record<string, number> }
    if (o.fetched != null) return o as { fetched: number, peers: Record<string, number> }
  }
  throw new Error(`no fetch report in ${stdout}`)
}

/** A CAR of `root`'s own block only, cut from the full CAR `from`. */
async function rootOnlyCar (from: string, root: CID, to: string): Promise<void> {
  const { writer, out } = CarWriter.create([root])
  const chunks: Uint8Array[] = []
  const collected = (async () => { for await (const c of out) chunks.push(c) })()
  for await (const block of await CarBlockIterator.fromBytes(await fs.readFile(from))) {
    if (block.cid.equals(root)) await writer.put(block)
  }
  await writer.close()
  await collected
  await fs.writeFile(to, Buffer.concat(chunks))
}

describe('a fetch asks every connected peer', { timeout: 180_000 }, () => {
  test('a fetch started before the provider connects finishes once it dials in', async () => {
    // P has the file and is known to nobody; C has its root block only and is
    // F's bootstrap peer; F fetches through its daemon
    const p = await seed('p')
    const c = await seed('c')
    const f = await seed('f', [c.addrs[0]])
    const file = path.join(suite.dir, 'late.bin')
    await fs.writeFile(file, pseudoRandom(4 * MIB + 77, 31))
    const added = await cairn(['add', '-Q', '--repo', p.repo, file])
    assert.equal(added.code, 0, added.stderr)
    const cid = added.stdout.trim()
    const full = path.join(suite.dir, 'full.car')
    const exported = await cairn(['car', 'export', cid, '-o', full, '--repo', p.repo])
    assert.equal(exported.code, 0, exported.stderr)
    const partial = path.join(suite.dir, 'root.car')
    await rootOnlyCar(full, CID.parse(cid), partial)
    const imported = await cairn(['car', 'import', partial, '--repo', c.repo])
    assert.equal(imported.code, 0, imported.stderr)

    const out = path.join(suite.dir, 'late-out.bin')
    let ended = false
    const get = cairn(['get', cid, '-o', out, '--json', '--repo', f.repo, '--timeout', '60'], { timeoutMs: 120_000 }).finally(() => { ended = true })
    // C has served the root, and refused every leaf: nobody connected has the rest
    await waitFor('the root block in the fetcher\'s repo', async () => await blockFiles(path.join(f.repo, 'blocks')) >= 1 ? true : undefined, 30_000, 50)
    // past F's first DHT lookup through C (which could find P had it already
    // connected): the fetch knows only C, which refused the leaves
    await new Promise(resolve => setTimeout(resolve, SETTLE_MS))
    if (ended) assert.fail(`the fetch gave up before the provider connected: ${(await get).stderr}`)
    // P dials F: an inbound connection, not a provider F looked for
    const conn = await cairn(['connect', f.addrs[0], '--repo', p.repo])
    assert.equal(conn.code, 0, conn.stderr)
    const r = await get
    assert.equal(r.code, 0, r.stderr)
    assert.ok((await fs.readFile(out)).equals(await fs.readFile(file)))
    const report = fetchReport(r.stdout)
    assert.ok((report.peers[p.id] ?? 0) >= 4 * MIB, `the late provider served the leaves: ${JSON.stringify(report.peers)}`)
  })

  test('a stock Helia node given only as --bootstrap (network kind local): fetched over bitswap', async () => {
    const helia = await startHelia()
    try {
      const content = pseudoRandom(3 * MIB + 9, 32)
      const added = await helia.ask({ add: content.toString('base64') })
      assert.equal(added.error, undefined, added.error)
      const out = path.join(suite.dir, 'from-helia-bootstrap.bin')
      const repo = path.join(suite.dir, 'helia-bootstrap')
      const r = await cairn(['get', added.cid, '-o', out, '--json', '--repo', repo, '--bootstrap', helia.addr, '--timeout', '30'], { timeoutMs: 90_000 })
      assert.equal(r.code, 0, r.stderr)
      assert.ok((await fs.readFile(out)).equals(content))
      // the per-peer bitswap lane names the peer that served
      assert.deepEqual(Object.keys(fetchReport(r.stdout).peers), [helia.id])
      const verify = await cairn(['repo', 'verify', '--repo', repo])
      assert.equal(verify.code, 0, verify.stderr)
    } finally {
      helia.stop()
    }
  })
})

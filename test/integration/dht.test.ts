// A local DHT of 10 `cairn seed` processes on loopback, all bootstrapped from
// the first. STACK.md: libp2p refuses more than 5 inbound connections a second
// from one IP and @libp2p/bootstrap dials once, so on one host most nodes used
// to stay alone with the bootstrap node, and lookups missed. Here every seed
// must reach peers beyond the bootstrap node, and every CID added on one seed
// must be found from another seed and from a fresh node.
//
// Ten, not the twenty this test started with. On this 2-core box twenty
// seeds started together kept both cores full for ~80 s (~150 s of CPU): the
// test took 150 s and 284 s of CPU alone, 185 s inside `npm test`, starving
// the tests beside it. Most of that was the routing-table filler
// (core/net/table-filler.ts): while the tables grew, each seed ran 7-9
// self-queries, each answered by every other seed, and on the saturated box
// each took 1-11 s; with the filler switched off the twenty settled on ~58 s
// of CPU (docs/bench.md, "The filler in a swarm that starts together"). Ten
// settle in ~20 s on ~27 s of CPU. Both sizes fit in one K = 20 bucket, so
// the routing is the same; swarms of 20 and 50 are measured by the DHT bench
// (test/bench/dht.ts).

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { cairn, pseudoRandom, type RunResult } from '../helpers.ts'
import { Resources, apiCall, mapLimit, waitFor, type SeedProcess } from './seeds.ts'

const SEEDS = 10
/** seeds starting at once: each loads libp2p and Helia (~1-2 s of CPU) on a 2-core box */
const START_CONCURRENCY = 4
/** `cairn` commands run at once */
const CLI_CONCURRENCY = 4
const MESH_WAIT_MS = 60_000
/**
 * a lookup's bound: ~5 s alone, but one from a fresh node took over 20 s
 * while the rest of the suite ran beside twenty seed processes
 */
const FIND_TIMEOUT_S = 40
/** [seed that adds, seed that looks it up, seed the fresh node bootstraps from] */
const LOOKUPS: Array<[number, number, number]> = [[7, 3, 0], [3, 8, 0], [5, 2, 4], [8, 9, 6], [9, 1, 7]]

function ok (r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what} failed (${r.code ?? r.signal}): ${r.stderr}`)
}

function jsonLines<T> (text: string): T[] {
  return text.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as T)
}

describe(`a DHT of ${SEEDS} seed processes on loopback`, { timeout: 480_000 }, () => {
  const res = new Resources()
  const seeds: SeedProcess[] = []
  let files = ''

  before(async () => {
    files = await res.dir()
    const repos = await Promise.all(Array.from({ length: SEEDS }, async () => await res.dir()))
    seeds.push(await res.seed(repos[0]))
    const rest = await mapLimit(repos.slice(1), START_CONCURRENCY, async repo => await res.seed(repo, { bootstrap: [seeds[0].addrs[0]] }))
    seeds.push(...rest)
  }, { timeout: 120_000 })

  after(async () => { await res.close() }, { timeout: 60_000 })

  test('every seed started with its own peer ID', () => {
    assert.equal(seeds.length, SEEDS)
    assert.equal(new Set(seeds.map(s => s.id)).size, SEEDS)
  })

  test('every seed ends up connected to peers beyond the bootstrap node', async () => {
    const bootstrapId = seeds[0].id
    // poll the API directly (cheap), then confirm with `cairn stats`
    let alone: number[] = []
    try {
      await waitFor('every seed connected to a peer other than the bootstrap node', async () => {
        const counts = await Promise.all(seeds.map(async s => (await apiCall(s.repo, 'peers') as Array<{ id: string }>).filter(p => p.id !== bootstrapId && p.id !== s.id).length))
        alone = counts.flatMap((n, i) => n === 0 ? [i] : [])
        return alone.length === 0
      }, MESH_WAIT_MS, 500)
    } catch (e) {
      assert.fail(`${(e as Error).message}; seeds connected to the bootstrap node only: ${alone.join(', ')}`)
    }
    await mapLimit(seeds, CLI_CONCURRENCY, async (s, i) => {
      const st = await cairn(['stats', '--json', '--repo', s.repo])
      ok(st, `stats on seed ${i}`)
      const stats = JSON.parse(st.stdout) as { peers: number, routingTable: number }
      // the poll above is the goal's check; `stats` must report a connected
      // node with a routing table. Not "more than one peer": the bootstrap
      // node itself (seed 0) met the poll with one, and once the others
      // had their own peers a CI run found it down to one connection
      assert.ok(stats.peers >= 1, `seed ${i} has ${stats.peers} peer(s)`)
      assert.ok(stats.routingTable >= 1, `seed ${i} has ${stats.routingTable} peer(s) in its routing table`)
    })
  })

  test('a CID added on one seed is found at once from another seed and from a fresh node', async () => {
    // every lookup runs, so a failure lists all the misses
    const misses: string[] = []
    const look = async (what: string, args: string[], want: SeedProcess): Promise<void> => {
      const r = await cairn(['findprovs', ...args, '--timeout', String(FIND_TIMEOUT_S), '--json'], { timeoutMs: (FIND_TIMEOUT_S + 30) * 1000 })
      const seen = r.code === 0 ? jsonLines<{ id: string }>(r.stdout).map(p => p.id) : []
      if (!seen.includes(want.id)) misses.push(`${what}: exit ${r.code ?? r.signal}, found ${JSON.stringify(seen)} ${r.stderr.trim()}`)
    }
    for (const [k, [adder, finder, via]] of LOOKUPS.entries()) {
      const file = path.join(files, `content-${k}.bin`)
      await fs.writeFile(file, pseudoRandom(300_000 + k, 100 + k))
      const add = await cairn(['add', '-Q', file, '--repo', seeds[adder].repo])
      ok(add, `add on seed ${adder}`)
      const cid = add.stdout.trim()
      await look(`${cid} added on seed ${adder}, looked up on seed ${finder}`, [cid, '--repo', seeds[finder].repo], seeds[adder])
      await look(`${cid} added on seed ${adder}, looked up from a fresh repo bootstrapped from seed ${via}`, [cid, '--repo', await res.dir(), '--bootstrap', seeds[via].addrs[0]], seeds[adder])
    }
    assert.deepEqual(misses, [])
  })
})

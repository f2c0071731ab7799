// Kubo RPC figures for `npm run bench` (issue 26): `add` of one big file
// through the Kubo RPC of a running seed (kubo-rpc-client, the file streamed
// as multipart) beside `cairn add` of the same file through the same seed's
// control API (the seed reads the file from disk), same profile (CIDv1, 256
// KiB chunks, raw leaves), same repo. Between runs the pin is removed and
// the repo collected, so every add writes every block. Runs alternate which
// side goes first.
//
//   BENCH_ONLY=rpc           runs this part alone
//   BENCH_RPC_MIB=512        the file
//   BENCH_RUNS=3             runs per figure (medians)

import { randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { create } from 'kubo-rpc-client'
import { cairn } from '../helpers.ts'
import { Resources, waitFor } from '../integration/seeds.ts'
import type { Row } from './table.ts'

const MIB = 1024 * 1024
const env = (k: string, d: number): number => process.env[k] != null && process.env[k] !== '' ? Number(process.env[k]) : d
const FILE_MIB = env('BENCH_RPC_MIB', 512)
const RUNS = env('BENCH_RUNS', 3)
/** the goal from issue 26: the RPC's add at least this fraction of cairn add's rate */
const GOAL = 0.8
/** one add may take this long per MiB (plus a minute) */
const ADD_TIMEOUT_MS = 60_000 + FILE_MIB * 1000

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

export async function rpcFigures (tmp: string): Promise<Row[]> {
  const res = new Resources()
  try {
    const file = path.join(tmp, 'rpc-bench.bin')
    // random bytes, written once: no chunk repeats, so every block is stored
    const fd = fs.openSync(file, 'w')
    for (let i = 0; i < FILE_MIB; i++) fs.writeSync(fd, randomBytes(MIB))
    fs.closeSync(fd)
    const repo = path.join(tmp, 'rpc-seed')
    const seed = await res.seed(repo, { args: ['--rpc', '0', '--no-tui'] })
    const line = await waitFor('kubo rpc line', async () => /^kubo rpc at (\S+) \(Authorization: Bearer (\S+),/m.exec(seed.stderr()) ?? undefined, 20_000)
    const client = create({ url: line[1], headers: { authorization: `Bearer ${line[2]}` }, timeout: ADD_TIMEOUT_MS })
    const reset = async (cid: string): Promise<void> => {
      for await (const _ of client.pin.rmAll([{ cid: cid as never }])) {}
      for await (const _ of client.repo.gc()) {}
      execFileSync('sync')
    }
    const viaRpc = async (): Promise<{ s: number, cid: string }> => {
      const t0 = performance.now()
      const r = await client.add(fs.createReadStream(file, { highWaterMark: MIB }), { cidVersion: 1, rawLeaves: true, chunker: 'size-262144' })
      return { s: (performance.now() - t0) / 1000, cid: r.cid.toString() }
    }
    const viaCli = async (): Promise<{ s: number, cid: string }> => {
      const t0 = performance.now()
      const r = await cairn(['--repo', repo, 'add', file, '-Q', '--no-anchor', '--cid-version', '1', '--raw-leaves', '--chunker', 'size-262144'], { timeoutMs: ADD_TIMEOUT_MS })
      if (r.code !== 0) throw new Error(`cairn add failed: ${r.stderr}`)
      return { s: (performance.now() - t0) / 1000, cid: r.stdout.trim() }
    }
    const rpcS: number[] = []
    const cliS: number[] = []
    for (let i = 0; i < RUNS; i++) {
      const order = i % 2 === 0 ? [viaRpc, viaCli] : [viaCli, viaRpc]
      const cids: string[] = []
      for (const run of order) {
        execFileSync('sync')
        const r = await run()
        ;(run === viaRpc ? rpcS : cliS).push(r.s)
        cids.push(r.cid)
        await reset(r.cid)
      }
      if (cids[0] !== cids[1]) throw new Error(`the RPC and cairn add gave different CIDs: ${cids.join(' ')}`)
      console.error(`rpc bench run ${i + 1}/${RUNS}: rpc ${rpcS.at(-1)?.toFixed(2)} s, cairn add ${cliS.at(-1)?.toFixed(2)} s (${cids[0]})`)
    }
    const rpcRate = FILE_MIB / median(rpcS)
    const cliRate = FILE_MIB / median(cliS)
    const ratio = rpcRate / cliRate
    return [{
      what: `kubo rpc add ${FILE_MIB} MiB (kubo-rpc-client, multipart)`,
      figure: `${rpcRate.toFixed(0)} MiB/s (${median(rpcS).toFixed(2)} s)`,
      baseline: `cairn add via the seed ${cliRate.toFixed(0)} MiB/s (${median(cliS).toFixed(2)} s)`,
      ratio: `${ratio.toFixed(2)}x`,
      note: `goal >= ${GOAL}x: ${ratio >= GOAL ? 'met' : 'NOT met'}; median of ${RUNS}`
    }]
  } finally {
    await res.close()
  }
}

// Name updates for `npm run bench`: N `cairn seed` processes (10 by default)
// on 127.0.0.1, all bootstrapped to seed 0, which publishes.
//  - pubsub: every other seed resolves the name once (joining its topic);
//    then seed 0 publishes UPDATES updates, one at a time, and each seed's
//    log line "name … now points at …" is timed as it arrives here. Latency
//    of an update at a seed = that line's arrival minus the publish call's
//    start; the figure is the median over all seeds and updates.
//  - DHT alone: seed 0 publishes a fresh name no other seed has seen (so no
//    topic and no cache), then each other seed resolves it; latency = the
//    resolve's end minus the publish call's start, median over seeds.
//
//   node dist/test/bench/names.js      runs this part alone
//   BENCH_NAMES_SEEDS=10  BENCH_NAMES_UPDATES=10

import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { pseudoRandom, run, tempDir } from '../helpers.ts'
import { apiCall, mapLimit, startSeed, stopAll, waitFor, type SeedProcess } from '../integration/seeds.ts'
import { printTable, type Row } from './table.ts'
import fs from 'node:fs/promises'

const SEEDS = Number(process.env.BENCH_NAMES_SEEDS ?? 10)
const UPDATES = Number(process.env.BENCH_NAMES_UPDATES ?? 10)
/** a seed starting on a busy 2-core box */
const READY_MS = 120_000
/** an update not heard everywhere by then counts as lost */
const UPDATE_TIMEOUT_MS = 15_000
/** the DHT resolve of one seed */
const RESOLVE_TIMEOUT_MS = 30_000

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN
const p90 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)] ?? NaN

/** Times the log lines of a seed that match `re`, as they arrive. */
function watchLines (s: SeedProcess, re: RegExp, onLine: (m: RegExpExecArray, t: number) => void): void {
  let buf = ''
  const feed = (b: Buffer): void => {
    const t = performance.now()
    buf += b.toString()
    const lines = buf.split('\n')
    buf = lines.pop() ?? ''
    for (const l of lines) {
      const m = re.exec(l)
      if (m != null) onLine(m, t)
    }
  }
  s.child.stdout?.on('data', feed)
  s.child.stderr?.on('data', feed)
}

export async function nameFigures (): Promise<Row[]> {
  const { dir, cleanup } = await tempDir('cairn-bench-names-')
  const seeds: SeedProcess[] = []
  try {
    const first = await startSeed(path.join(dir, 's0'), { args: ['--no-tui'], readyTimeoutMs: READY_MS })
    seeds.push(first)
    seeds.push(...await mapLimit(Array.from({ length: SEEDS - 1 }, (_, i) => i + 1), 3, async i => await startSeed(path.join(dir, `s${i}`), { args: ['--no-tui'], bootstrap: [first.addrs[0]], readyTimeoutMs: READY_MS })))
    const others = seeds.slice(1)
    for (const s of seeds) await waitFor(`${s.repo}'s routing table`, async () => ((await apiCall(s.repo, 'stats')) as { routingTable: number }).routingTable >= 1, READY_MS, 500)

    const files = await Promise.all(Array.from({ length: UPDATES + 2 }, async (_, i) => {
      const f = path.join(dir, `v${i}`)
      await fs.writeFile(f, pseudoRandom(1000, 900 + i))
      return f
    }))
    const cids: string[] = []
    for (const f of files) cids.push(((await apiCall(first.repo, 'add', { paths: [f], anchor: false })) as { root: string }).root)

    // pubsub: everyone joins the topic by resolving once
    const p0 = (await apiCall(first.repo, 'name.publish', { value: cids[0] })) as { name: string }
    await mapLimit(others, 3, async s => await apiCall(s.repo, 'name.resolve', { name: p0.name, timeoutMs: RESOLVE_TIMEOUT_MS }, RESOLVE_TIMEOUT_MS + 5000))
    const heard = new Map<string, Map<number, number>>() // value → seed index → time
    others.forEach((s, i) => {
      watchLines(s, /now points at (\S+) \(sequence \d+, by pubsub\)/, (m, t) => {
        const by = heard.get(m[1]) ?? new Map<number, number>()
        if (!by.has(i)) by.set(i, t)
        heard.set(m[1], by)
      })
    })
    // the topic's mesh forms over a heartbeat or two
    await new Promise(resolve => setTimeout(resolve, 3000))
    const latencies: number[] = []
    let lost = 0
    for (let u = 1; u <= UPDATES; u++) {
      const value = `/ipfs/${cids[u]}`
      const t0 = performance.now()
      await apiCall(first.repo, 'name.publish', { value: cids[u] })
      try {
        await waitFor(`update ${u} everywhere`, async () => (heard.get(value)?.size ?? 0) >= others.length, UPDATE_TIMEOUT_MS, 20)
      } catch {}
      const by = heard.get(value) ?? new Map<number, number>()
      lost += others.length - by.size
      for (const t of by.values()) latencies.push(t - t0)
    }

    // the DHT alone: a name nobody has seen
    const fresh = (await run(first.repo, 'key', 'gen', 'bench-fresh', '--json'))
    const freshName = (JSON.parse(fresh.stdout) as { id: string }).id
    const t0 = performance.now()
    await apiCall(first.repo, 'name.publish', { value: cids[UPDATES + 1], key: 'bench-fresh' })
    const dht = await mapLimit(others, others.length, async s => {
      const r = (await apiCall(s.repo, 'name.resolve', { name: freshName, nocache: true, timeoutMs: RESOLVE_TIMEOUT_MS }, RESOLVE_TIMEOUT_MS + 5000)) as { value: string }
      return { ms: performance.now() - t0, ok: r.value === `/ipfs/${cids[UPDATES + 1]}` }
    })
    return [
      { what: `name update by pubsub, ${SEEDS} seeds, median (p90)`, figure: `${median(latencies).toFixed(0)} ms (${p90(latencies).toFixed(0)})`, baseline: 'goal ≤ 1000 ms', ratio: '', note: `${UPDATES} updates, ${latencies.length} arrivals, ${lost} not heard within ${UPDATE_TIMEOUT_MS / 1000} s` },
      { what: `name update by the DHT alone, ${SEEDS} seeds, median (max)`, figure: `${median(dht.map(d => d.ms)).toFixed(0)} ms (${Math.max(...dht.map(d => d.ms)).toFixed(0)})`, baseline: 'goal ≤ 5000 ms', ratio: '', note: `publish start to resolve end; ${dht.filter(d => d.ok).length}/${dht.length} resolved the new value` }
    ]
  } finally {
    await stopAll(seeds)
    await cleanup()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  printTable(await nameFigures())
}

// npm run bench: figures beside baselines measured in the same run on this
// machine. Medians of RUNS runs. Each import runs in a process of its own.
// Then the DHT figures of loopback swarms (dht.ts), then the transfer
// figures (transfer.ts: raw TCP, raw libp2p stream, plain Helia bitswap and
// cairn get from 1, 3 and N capped seeds, TTFB of cat, peak RSS), each
// process separate, over 127.0.0.1, output on disk; then the anchor chain's
// (anchor.ts: hash rates beside plain sha256, chain validation), its sync
// between two seeds (sync.ts: 10,000 blocks from scratch) and the latency of
// a new head across 10 nodes by gossip (gossip.ts), a name update across
// 10 seeds by pubsub and by the DHT alone (names.ts); then the HTTP gateway
// (gateway.ts: curl beside cat and get, TTFB, 100 clients, RSS), the Kubo
// RPC's add (kubo-rpc.ts), and the realistic transfer path (realistic.ts:
// gets through a running seed, providers from the DHT, beside WebTorrent 3;
// the bare transports, Noise against TLS); then the simulation (sim.ts:
// whole kad-dht instances in one process, 50 to 2,000 nodes, hops and sweep
// lookups per round, a model to 10,000, the plot docs/sim.svg).
//
//   BENCH_ONLY=import | dht | sweep | addfetch | transfer | anchor | sync | gossip | names | gateway | rpc | realistic | sim   runs one part
//   BENCH_ONLY=relay          a fetch through a relay in network namespaces (root only; not in the default run)
//   BENCH_RUNS=3              runs per figure (all parts)
//   BENCH_FILE_MIB=256        the import part's file
//   BENCH_DHT_*               see dht.ts
//   BENCH_SWEEP_CIDS=100000, BENCH_SWEEP_PROCS=20, BENCH_SWEEP_BATCH=500, BENCH_SWEEP_FINDS=200   see sweep.ts
//   BENCH_ADDFETCH_MIB=512    see add-fetch.ts
//   BENCH_TRANSFER_MIB=512    the transfer part's main file
//   BENCH_BIG_MIB=2048        the second file of the peak RSS comparison (0 skips it)
//   BENCH_STALL_RUNS=10       consecutive 1→1 runs of the stall check
//   BENCH_TRANSFER_SMALL_MIB=128, BENCH_HELIA_TIMEOUT_S=120, BENCH_STALL_TIMEOUT_S=60,
//   BENCH_TTFB_RUNS=5, BENCH_CAPPED_N=1,2,3,4   see transfer.ts
//   BENCH_GOSSIP_NODES=10, BENCH_GOSSIP_BLOCKS=20   see gossip.ts
//   BENCH_NAMES_SEEDS=10, BENCH_NAMES_UPDATES=10    see names.ts
//   BENCH_GATEWAY_MIB=512, BENCH_GATEWAY_REMOTE_MIB=256, BENCH_GATEWAY_CLIENTS=100   see gateway.ts
//   BENCH_RPC_MIB=512         the Kubo RPC part's file (kubo-rpc.ts)
//   BENCH_SIM_NODES=50,100,200,500,1000,1500,2000, BENCH_SIM_CIDS=1000,10000,100000, BENCH_SIM_LOOKUPS=30, BENCH_SIM_FINDS=30, BENCH_SIM_SVG=docs/sim.svg   see sim.ts
//   BENCH_REALISTIC_MIB=512, BENCH_REALISTIC_CAPPED_MIB=384, BENCH_STREAM_MIB=512, BENCH_SETTLE_S=180   see realistic.ts

import { execFileSync, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { dhtFigures } from './dht.ts'
import { sweepFigures } from './sweep.ts'
import { addFetchFigures } from './add-fetch.ts'
import { transferConditions, transferFigures } from './transfer.ts'
import { relayFigures } from './relay.ts'
import { anchorFigures } from './anchor.ts'
import { syncFigures } from './sync.ts'
import { gossipFigures } from './gossip.ts'
import { nameFigures } from './names.ts'
import { gatewayFigures } from './gateway.ts'
import { rpcFigures } from './kubo-rpc.ts'
import { realisticConditions, realisticFigures } from './realistic.ts'
import { simFigures } from './sim.ts'
import { printTable, type Row } from './table.ts'

const MIB = 1024 * 1024
/** size of the test file: big enough that start-up costs vanish */
const FILE_MIB = Number(process.env.BENCH_FILE_MIB ?? 256)
/** runs per figure; the median is reported */
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const HERE = path.dirname(fileURLToPath(import.meta.url))
const ONLY = process.env.BENCH_ONLY ?? ''
const PARTS = ['import', 'dht', 'sweep', 'addfetch', 'transfer', 'anchor', 'sync', 'gossip', 'names', 'gateway', 'rpc', 'realistic', 'sim', 'relay']
if (ONLY !== '' && !PARTS.includes(ONLY)) throw new Error(`BENCH_ONLY must be one of ${PARTS.join(', ')} (got "${ONLY}")`)
const want = (part: string): boolean => (ONLY === '' && part !== 'relay') || ONLY === part

const rows: Row[] = []

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const mibs = (bytes: number, s: number): number => bytes / MIB / s

async function runWorker (args: string[]): Promise<{ seconds: number, maxRssMiB: number, cid: string }> {
  // start each run with no dirty pages left by the one before
  execFileSync('sync')
  const child = spawn(process.execPath, [path.join(HERE, 'import-worker.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (b: Buffer) => { out += b.toString() })
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  if (code !== 0) throw new Error(`bench worker ${args.join(' ')} exited ${code}`)
  return JSON.parse(out.trim().split('\n').at(-1) as string)
}

async function makeFile (file: string): Promise<void> {
  const fd = fs.openSync(file, 'w')
  for (let i = 0; i < FILE_MIB; i++) fs.writeSync(fd, randomBytes(MIB))
  fs.closeSync(fd)
}

/** sha256 of 256 KiB chunks (hashing only: the chunks are made beforehand). */
function sha256Rate (): number {
  const chunk = randomBytes(256 * 1024)
  const count = FILE_MIB * 4
  const times: number[] = []
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now()
    for (let i = 0; i < count; i++) createHash('sha256').update(chunk).digest()
    times.push((performance.now() - t0) / 1000)
  }
  return mibs(count * chunk.byteLength, median(times))
}

function diskRate (dir: string): number {
  const buf = randomBytes(MIB)
  const times: number[] = []
  for (let r = 0; r < RUNS; r++) {
    const f = path.join(dir, `disk-${r}`)
    const t0 = performance.now()
    const fd = fs.openSync(f, 'w')
    for (let i = 0; i < FILE_MIB; i++) fs.writeSync(fd, buf)
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    times.push((performance.now() - t0) / 1000)
    fs.rmSync(f)
  }
  return mibs(FILE_MIB * MIB, median(times))
}

async function importFigures (file: string, tmp: string, chunk: number, label: string): Promise<void> {
  const results: Record<'helia' | 'cairn', Array<{ seconds: number, maxRssMiB: number, cid: string }>> = { helia: [], cairn: [] }
  for (let r = 0; r < RUNS; r++) {
    for (const mode of ['helia', 'cairn'] as const) {
      const dir = fs.mkdtempSync(path.join(tmp, `${mode}-`))
      results[mode].push(await runWorker([mode, String(chunk), file, dir]))
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
  const h = mibs(FILE_MIB * MIB, median(results.helia.map(x => x.seconds)))
  const c = mibs(FILE_MIB * MIB, median(results.cairn.map(x => x.seconds)))
  const same = results.helia[0].cid === results.cairn[0].cid
  rows.push({ what: `import ${FILE_MIB} MiB, ${label}`, figure: `${c.toFixed(0)} MiB/s`, baseline: `${h.toFixed(0)} MiB/s plain Helia`, ratio: `${(c / h).toFixed(2)}×`, note: same ? 'same root CID' : 'ROOT CIDs DIFFER' })
  const rc = Math.max(...results.cairn.map(x => x.maxRssMiB))
  const rh = Math.max(...results.helia.map(x => x.maxRssMiB))
  rows.push({ what: `  peak RSS, ${label}`, figure: `${rc.toFixed(0)} MiB`, baseline: `${rh.toFixed(0)} MiB plain Helia`, ratio: `${(rc / rh).toFixed(2)}×`, note: 'goal ≤ 150 MiB' })
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-'))
try {
  console.log(`cairn bench: Node ${process.versions.node}, ${os.cpus().length} cores, tmp ${tmp}${ONLY !== '' ? `, only ${ONLY}` : ''}`)
  if (want('relay')) rows.push(...await relayFigures(tmp))
  if (want('import')) {
    console.log(`import: ${FILE_MIB} MiB random file, median of ${RUNS}`)
    console.log('durability: cairn flushes blocks with one syncfs before pinning; plain Helia/blockstore-fs never fsyncs')
    const file = path.join(tmp, 'input.bin')
    await makeFile(file)
    const sha = sha256Rate()
    rows.push({ what: 'sha256 (node:crypto, 256 KiB chunks)', figure: `${sha.toFixed(0)} MiB/s`, baseline: '-', ratio: '-', note: 'raw limit' })
    const disk = diskRate(tmp)
    rows.push({ what: `write + fsync ${FILE_MIB} MiB`, figure: `${disk.toFixed(0)} MiB/s`, baseline: '-', ratio: '-', note: 'raw limit' })
    await importFigures(file, tmp, MIB, 'default profile (1 MiB chunks)')
    await importFigures(file, tmp, 256 * 1024, '256 KiB chunks')
    fs.rmSync(file, { force: true })
  }
  if (want('dht')) {
    const t0 = performance.now()
    rows.push(...await dhtFigures(tmp))
    console.log(`DHT part: ${((performance.now() - t0) / 1000).toFixed(0)} s`)
  }
  if (want('sweep')) rows.push(...await sweepFigures(tmp))
  if (want('addfetch')) rows.push(...await addFetchFigures(tmp))
  if (want('transfer')) {
    for (const line of transferConditions()) console.log(line)
    rows.push(...await transferFigures(tmp))
  }
  if (want('anchor')) rows.push(...await anchorFigures())
  if (want('sync')) rows.push(...await syncFigures())
  if (want('gossip')) rows.push(...await gossipFigures(tmp))
  if (want('names')) rows.push(...await nameFigures())
  if (want('gateway')) rows.push(...await gatewayFigures(tmp))
  if (want('rpc')) rows.push(...await rpcFigures(tmp))
  if (want('realistic')) {
    for (const line of realisticConditions()) console.log(line)
    rows.push(...await realisticFigures(tmp))
  }
  if (want('sim')) rows.push(...await simFigures())
  printTable(rows)
} finally {
  fs.rmSync(tmp, { recursive: true, force: true })
}

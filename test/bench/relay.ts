// BENCH_ONLY=relay: a file fetched from a seeder behind a NAT through a
// relay, beside the same file fetched from a public seeder directly, in the
// namespace topology of the NAT tests (test/integration/netns.ts). Needs root.
// Timed from the fetcher's first dial to its last block (the `get` process's
// start-up is not counted: it is measured once and subtracted).

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { CAIRN, cairn, pseudoRandom, ROOT } from '../helpers.ts'
import { INTERNET, netnsUnavailable, Topology } from '../integration/netns.ts'
import { apiCall, startSeed, type SeedProcess } from '../integration/seeds.ts'
import type { Row } from './table.ts'

const MIB = 1024 * 1024
/** the file moved through the relay */
const RELAY_FILE_MIB = Number(process.env.BENCH_RELAY_MIB ?? 64)
/** one fetch; a stalled one fails the bench rather than hanging it */
const GET_TIMEOUT_MS = 300_000
const PORT = 4737

function timedGet (ns: string, repo: string, cid: string, peer: string, out: string): number {
  fs.rmSync(out, { force: true })
  const t0 = performance.now()
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, CAIRN, 'get', cid, '-o', out, '--repo', repo, '--peer', peer], { cwd: ROOT, encoding: 'utf8', timeout: GET_TIMEOUT_MS })
  const s = (performance.now() - t0) / 1000
  if (r.status !== 0) throw new Error(`get through ${peer} failed: ${r.stderr}`)
  return s
}

export async function relayFigures (tmp: string, log: (s: string) => void = s => console.log(s)): Promise<Row[]> {
  const why = await netnsUnavailable()
  if (why != null) return [{ what: 'fetch through a relay', figure: '-', baseline: '-', ratio: '-', note: `skipped: ${why}` }]
  const topo = await Topology.create()
  const seeds: SeedProcess[] = []
  try {
    const repo = async (name: string): Promise<string> => {
      const dir = path.join(tmp, `relay-${name}`)
      await cairn(['init', '--repo', dir])
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ network: { publicRanges: [`${INTERNET}.0/24`] } }))
      return dir
    }
    const relayNs = await topo.publicHost('relay', 2)
    const seederNs = await topo.publicHost('seeder', 3)
    const fetcherNs = await topo.publicHost('fetcher', 4)
    const home = await topo.home('home', 11, '192.0.2')
    const relay = await startSeed(await repo('relay'), { netns: relayNs, listen: [`/ip4/${INTERNET}.2/tcp/${PORT}`], args: ['--relay-service', '--no-tui'] })
    seeds.push(relay)
    const direct = await startSeed(await repo('seeder'), { netns: seederNs, listen: [`/ip4/${INTERNET}.3/tcp/${PORT}`], args: ['--no-tui'] })
    seeds.push(direct)
    const natted = await startSeed(await repo('natted'), { netns: home.host, listen: [`/ip4/${home.lan}/tcp/${PORT}`], args: ['--relay', relay.addrs[0], '--no-tui'] })
    seeds.push(natted)
    const relayed = natted.addrs.find(a => a.includes('/p2p-circuit/'))
    if (relayed == null) throw new Error(`the NATed seeder got no relayed address: ${JSON.stringify(natted.addrs)}`)

    const file = path.join(tmp, 'relay-input.bin')
    fs.writeFileSync(file, pseudoRandom(RELAY_FILE_MIB * MIB, 7))
    const { root } = await apiCall(natted.repo, 'add', { paths: [file] }, GET_TIMEOUT_MS) as { root: string }
    await apiCall(direct.repo, 'add', { paths: [file] }, GET_TIMEOUT_MS)
    // start-up of a `get` that finds the content already in its repo: what each timed get also pays
    const fetcherRepo = await repo('fetcher-warm')
    await apiCall(natted.repo, 'id')
    spawnSync(process.execPath, [CAIRN, 'car', 'export', root, '-o', path.join(tmp, 'relay.car'), '--repo', natted.repo], { cwd: ROOT })
    await cairn(['car', 'import', path.join(tmp, 'relay.car'), '--repo', fetcherRepo])
    const startup = timedGet(fetcherNs, fetcherRepo, root, relayed, path.join(tmp, 'relay-out-warm'))

    const viaRelay = timedGet(fetcherNs, await repo('fetcher-1'), root, relayed, path.join(tmp, 'relay-out-1'))
    const viaDirect = timedGet(fetcherNs, await repo('fetcher-2'), root, direct.addrs[0], path.join(tmp, 'relay-out-2'))
    const r = RELAY_FILE_MIB / Math.max(0.001, viaRelay - startup)
    const d = RELAY_FILE_MIB / Math.max(0.001, viaDirect - startup)
    log(`relay: ${RELAY_FILE_MIB} MiB via relay ${viaRelay.toFixed(1)} s, direct ${viaDirect.toFixed(1)} s, get start-up ${startup.toFixed(1)} s`)
    return [{ what: `fetch ${RELAY_FILE_MIB} MiB from a NATed seeder through a relay`, figure: `${r.toFixed(1)} MiB/s`, baseline: `${d.toFixed(1)} MiB/s direct from a public seeder`, ratio: `${(r / d).toFixed(2)}×`, note: 'namespaces, TCP over veth, one run' }]
  } finally {
    await Promise.all(seeds.map(async s => await s.stop()))
    await topo.destroy()
  }
}

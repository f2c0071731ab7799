// demo: what `npm start` runs. A small swarm on 127.0.0.1: three seeds in
// temporary repos (separate processes), a file from fixtures/ published on
// one, fetched by CID on a fourth repo that knows only the first seed's
// address (so it is found through the DHT), the bytes compared, then
// everything it started stopped and removed.

import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { CairnError } from '../../core/util/errors.ts'
import { PACKAGE_ROOT } from '../../core/util/version.ts'
import { emit, type Command, type Context } from '../command.ts'

/** The embedded default input: fixtures/demo beside the package. */
const DEMO_DIR = path.join(PACKAGE_ROOT, 'fixtures', 'demo')
const CAIRN = path.join(PACKAGE_ROOT, 'cli', 'cairn.js')
/** every wait in the demo is bounded by this */
const STEP_TIMEOUT_MS = 60_000
const SEEDS = 3

export class DemoError extends CairnError {}

interface Seed { repo: string, child: ChildProcess, addr: string, id: string }

async function startSeed (repo: string, bootstrap: string[], signal: AbortSignal): Promise<Seed> {
  const args = [...process.execArgv, CAIRN, 'seed', '--repo', repo, '--listen', '/ip4/127.0.0.1/tcp/0', ...bootstrap.flatMap(b => ['--bootstrap', b])]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stderr?.setEncoding('utf8').on('data', (s: string) => { err += s })
  const addr = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new DemoError(`a seed did not start within ${STEP_TIMEOUT_MS / 1000} s: ${err.trim()}`)), STEP_TIMEOUT_MS)
    signal.addEventListener('abort', () => { clearTimeout(timer); reject(new DemoError('interrupted')) }, { once: true })
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      out += s
      const m = /^listening (\S+)$/m.exec(out)
      if (m != null) { clearTimeout(timer); resolve(m[1]) }
    })
    child.on('exit', code => { clearTimeout(timer); reject(new DemoError(`a seed exited (${code}): ${err.trim()}`)) })
  })
  return { repo, child, addr, id: addr.split('/p2p/')[1] }
}

/** Runs one cairn command to completion; its stdout. */
async function run (args: string[], signal: AbortSignal): Promise<string> {
  const child = spawn(process.execPath, [...process.execArgv, CAIRN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], signal, timeout: STEP_TIMEOUT_MS })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s })
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  if (code !== 0) throw new DemoError(`cairn ${args[0]} failed: ${err.trim() || `exit ${code}`}`)
  return out
}

async function stop (seed: Seed): Promise<void> {
  if (seed.child.exitCode != null) return
  const exited = new Promise(resolve => seed.child.on('exit', resolve))
  seed.child.kill('SIGTERM')
  const timer = setTimeout(() => seed.child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}

async function sameTree (a: string, b: string): Promise<boolean> {
  const sa = await fs.lstat(a)
  const sb = await fs.lstat(b)
  if (sa.isDirectory() !== sb.isDirectory()) return false
  if (!sa.isDirectory()) return (await fs.readFile(a)).equals(await fs.readFile(b))
  const names = (await fs.readdir(a)).filter(n => !n.startsWith('.')).sort()
  if (JSON.stringify(names) !== JSON.stringify((await fs.readdir(b)).sort())) return false
  for (const n of names) if (!(await sameTree(path.join(a, n), path.join(b, n)))) return false
  return true
}

export const command: Command = {
  name: 'demo',
  summary: 'a local swarm on 127.0.0.1, end to end (npm start)',
  help: `
Usage
  $ cairn demo [PATH]

Starts ${SEEDS} seeds in temporary repos on 127.0.0.1, publishes PATH (default:
the bundled fixtures/demo directory) on one, fetches it by CID on a fresh
repo that knows only the first seed's address (found through the DHT),
compares the bytes, stops the seeds and removes the temporary repos.`,
  flags: {},
  async run (ctx: Context) {
    const input = path.resolve(ctx.input[0] ?? DEMO_DIR)
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-demo-'))
    const step = (text: string, json: Record<string, unknown>): void => emit(ctx, text, json)
    const seeds: Seed[] = []
    try {
      const st = await fs.stat(input)
      for (let i = 0; i < SEEDS; i++) {
        const seed = await startSeed(path.join(tmp, `seed-${i + 1}`), i === 0 ? [] : [seeds[0].addr], ctx.signal)
        seeds.push(seed)
        step(`1. seed ${i + 1} up      ${seed.addr}`, { step: 'seed', n: i + 1, address: seed.addr })
      }
      const publisher = seeds[SEEDS - 1]
      const added = (await run(['add', '--repo', publisher.repo, ...(st.isDirectory() ? ['-r'] : []), '-Q', input], ctx.signal)).trim()
      step(`2. published     ${added} (${path.basename(input)}) on seed ${SEEDS}, announced in the DHT`, { step: 'add', cid: added, seed: SEEDS })
      const fetcher = path.join(tmp, 'fetcher')
      // add announces in the background: a lookup a moment too early finds nobody, so ask up to 3 times
      let provs = ''
      for (let attempt = 1; provs === ''; attempt++) {
        try {
          provs = (await run(['findprovs', added, '--repo', fetcher, '--bootstrap', seeds[0].addr, '--max', '1', '--timeout', '20'], ctx.signal)).trim()
        } catch (err) {
          if (attempt >= 3) throw err
        }
      }
      step(`3. found         provider ${provs} through the DHT, knowing only seed 1`, { step: 'findprovs', provider: provs })
      const out = path.join(tmp, 'fetched')
      await run(['get', added, '-o', out, '--repo', fetcher, '--bootstrap', seeds[0].addr, '--timeout', '30'], ctx.signal)
      if (!(await sameTree(input, out))) throw new DemoError(`the fetched copy of ${added} differs from ${input}`)
      step(`4. fetched       ${added} by CID into a fresh repo: every block verified, bytes identical`, { step: 'get', cid: added, identical: true })
      step(`5. try it        cairn get ${added} --peer ${publisher.addr}   (while a seed like this runs)`, { step: 'done', cid: added })
    } finally {
      await Promise.all(seeds.map(stop))
      await fs.rm(tmp, { recursive: true, force: true })
    }
  }
}

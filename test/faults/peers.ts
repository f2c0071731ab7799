// For the fault tests: the hostile peer process, a cairn command measured
// for peak memory, and small readers of what cairn prints.

import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'
import { ROOT, cairn, ok, type RunOptions, type RunResult } from '../helpers.ts'

/** the bound on a fetcher's (and a seed's) resident memory under attack */
export const RSS_LIMIT_MIB = 300
/** one answer from the hostile peer, at most */
const ANSWER_TIMEOUT_MS = 60_000

export interface Hostile {
  addr: string
  id: string
  child: ChildProcess
  ask: (o: object) => Promise<Record<string, any>>
  stop: () => Promise<void>
}

/** Starts test/faults/hostile-peer.ts with its config; resolves once it listens. */
export async function startHostile (config: object): Promise<Hostile> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'test', 'faults', 'hostile-peer.js'), JSON.stringify(config)], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  const exited = new Promise<void>(resolve => child.on('exit', () => resolve()))
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]()
  const next = async (): Promise<Record<string, any>> => {
    const t = setTimeout(() => child.kill('SIGKILL'), ANSWER_TIMEOUT_MS)
    try {
      const { value, done } = await lines.next()
      if (done === true) throw new Error(`the hostile peer exited; stderr: ${stderr}`)
      return JSON.parse(value as string) as Record<string, any>
    } finally {
      clearTimeout(t)
    }
  }
  const first = await next()
  const addr = first.listening as string
  return {
    addr,
    id: addr.split('/p2p/')[1],
    child,
    ask: async (o: object) => { child.stdin?.write(JSON.stringify(o) + '\n'); return await next() },
    stop: async () => {
      if (child.exitCode == null && child.signalCode == null) child.kill('SIGKILL')
      await exited
    }
  }
}

/** Runs cairn with the peak-memory probe preloaded; the result and its VmHWM in MiB. */
export async function cairnMeasured (args: string[], dir: string, o: RunOptions = {}): Promise<RunResult & { hwmMiB: number }> {
  const file = path.join(dir, `hwm-${Date.now()}-${Math.random().toString(36).slice(2)}`)
  const probe = pathToFileURL(path.join(ROOT, 'dist', 'test', 'faults', 'hwm-probe.js')).href
  const r = await cairn(args, { ...o, env: { ...o.env, NODE_OPTIONS: `--import=${probe}`, CAIRN_TEST_HWM_FILE: file } })
  const text = await fs.readFile(file, 'utf8').catch(() => '')
  const kib = Math.max(0, ...text.split('\n').filter(l => l !== '').map(l => Number(l.split(' ')[1])))
  assert.ok(kib > 0, `no VmHWM recorded for cairn ${args.join(' ')}`)
  return { ...r, hwmMiB: kib / 1024 }
}

/** Peak resident memory of a running process, MiB. */
export async function hwmOf (pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]) / 1024
}

export interface FetchReport { fetched: number, peers: Record<string, number>, banned: Record<string, string> }

/** The closing report a --json get prints on stdout. */
export function fetchReport (stdout: string): FetchReport {
  for (const line of stdout.split('\n').filter(l => l !== '')) {
    const o = JSON.parse(line) as Partial<FetchReport>
    if (o.fetched != null) return { banned: {}, ...o } as FetchReport
  }
  throw new Error(`no fetch report in ${stdout}`)
}

/** Asserts `repo verify` is clean. */
export async function verifyClean (repo: string): Promise<void> {
  const v = await cairn(['repo', 'verify', '--repo', repo])
  ok(v, `repo verify ${repo}`)
}

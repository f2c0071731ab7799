// Starting and stopping `cairn seed` processes for the multi-process tests,
// and speaking to a seed's control API directly. Loopback only: every seed
// listens on 127.0.0.1, every wait is bounded, and every process started
// here is killed by the time the test process exits.

import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import { after, before } from 'node:test'
import { CAIRN, NODE_FLAGS, ROOT, tempDir } from '../helpers.ts'

/** a seed that has not printed its addresses by then counts as failed to start */
export const READY_TIMEOUT_MS = 60_000
/** SIGTERM/SIGINT → exit; after this a stop falls back to SIGKILL */
export const STOP_TIMEOUT_MS = 15_000

export interface Exit { code: number | null, signal: NodeJS.Signals | null }

export interface SeedProcess {
  readonly repo: string
  readonly child: ChildProcess
  readonly pid: number
  /** the peer ID from the listening lines */
  readonly id: string
  /** every 'listening <multiaddr>/p2p/<id>' address, in order */
  readonly addrs: string[]
  /** resolves once the process has exited (and been reaped) */
  readonly exited: Promise<Exit>
  stdout: () => string
  stderr: () => string
  /** sends `signal`, waits up to STOP_TIMEOUT_MS, then SIGKILLs; the exit it saw */
  stop: (signal?: NodeJS.Signals) => Promise<Exit>
}

export interface StartOptions {
  /** default ['/ip4/127.0.0.1/tcp/0'] */
  listen?: string[]
  bootstrap?: string[]
  args?: string[]
  readyTimeoutMs?: number
  /** run inside this network namespace (root; the NAT tests): listen addresses are then documentation-range ones */
  netns?: string
  /** Node's flags for the seed (default NODE_FLAGS, the launcher's): the memory benches try others */
  nodeFlags?: string[]
  /** added to this process's environment for the seed (undefined: removed) */
  env?: NodeJS.ProcessEnv
}

/** the documentation ranges, the only addresses tests may use besides loopback */
const DOC_RANGE = /^\/ip4\/(192\.0\.2|198\.51\.100|203\.0\.113)\.\d+\//

const live = new Set<ChildProcess>()
// last resort when a test process dies without its after hooks: no seed outlives it
process.on('exit', () => {
  for (const c of live) {
    try { c.kill('SIGKILL') } catch {}
  }
})

let shuttingDown = false

/**
 * For a file's last after hook: stops every seed this process started,
 * including any still starting (they are stopped the moment they are ready),
 * so none keeps the test runner alive.
 */
export async function stopLive (): Promise<void> {
  shuttingDown = true
  await Promise.all([...live].map(async c => {
    const gone = new Promise<void>(resolve => c.once('exit', () => resolve()))
    c.kill('SIGTERM')
    const t = setTimeout(() => c.kill('SIGKILL'), STOP_TIMEOUT_MS)
    await gone
    clearTimeout(t)
  }))
}

/** Starts `cairn seed --repo REPO` on loopback and waits until it has printed its addresses. */
export async function startSeed (repo: string, o: StartOptions = {}): Promise<SeedProcess> {
  const listen = o.listen ?? ['/ip4/127.0.0.1/tcp/0']
  for (const l of listen) {
    if (o.netns == null ? !l.startsWith('/ip4/127.0.0.1/') : !DOC_RANGE.test(l)) throw new Error(`tests listen on 127.0.0.1 (or documentation ranges in a namespace) only, not ${l}`)
  }
  const args = [...(o.nodeFlags ?? NODE_FLAGS), CAIRN, 'seed', '--repo', repo, ...listen.flatMap(l => ['--listen', l]), ...(o.bootstrap ?? []).flatMap(b => ['--bootstrap', b]), ...(o.args ?? [])]
  const env = { ...process.env, ...o.env }
  delete env.CAIRN_REPO
  for (const [k, v] of Object.entries(o.env ?? {})) if (v == null) delete env[k]
  // `ip netns exec` execs node in place: the pid is node's
  const child = o.netns == null
    ? spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('ip', ['netns', 'exec', o.netns, process.execPath, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  live.add(child)
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s })
  const exited = new Promise<Exit>(resolve => {
    child.on('exit', (code, signal) => { live.delete(child); resolve({ code, signal }) })
  })

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> => {
    if (child.exitCode == null && child.signalCode == null) child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
    try {
      return await exited
    } finally {
      clearTimeout(timer)
    }
  }

  const readyTimeout = o.readyTimeoutMs ?? READY_TIMEOUT_MS
  const ready = (): boolean => /^listening \S+$/m.test(out) && /^seeding /m.test(err)
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { cleanup(); reject(new Error(`seed on ${repo} not ready within ${readyTimeout} ms`)) }, readyTimeout)
      const check = (): void => { if (ready()) { cleanup(); resolve() } }
      const early = (e: Exit): void => { cleanup(); reject(new Error(`seed on ${repo} exited before it was ready (${e.code ?? e.signal})`)) }
      const cleanup = (): void => {
        clearTimeout(timer)
        child.stdout.off('data', check)
        child.stderr.off('data', check)
      }
      child.stdout.on('data', check)
      child.stderr.on('data', check)
      void exited.then(early)
      check()
    })
  } catch (e) {
    await stop('SIGKILL')
    throw new Error(`${(e as Error).message}\nstdout: ${out}\nstderr: ${err}`)
  }

  if (shuttingDown) {
    // the file's after hooks already ran (a test timed out while this seed started): it must not keep the runner alive
    await stop('SIGKILL')
    throw new Error(`seed on ${repo} became ready after the tests had ended`)
  }
  const addrs = out.split('\n').filter(l => l.startsWith('listening ')).map(l => l.slice('listening '.length))
  // the peer ID is the last /p2p/ part (a relayed address names the relay first)
  const ids = new Set(addrs.map(a => a.split('/p2p/').slice(1).pop() as string))
  if (ids.size !== 1 || ids.has(undefined as never)) {
    await stop('SIGKILL')
    throw new Error(`seed on ${repo}: listening lines without one /p2p/<id>: ${JSON.stringify(addrs)}`)
  }
  return {
    repo,
    child,
    pid: child.pid as number,
    id: [...ids][0],
    addrs,
    exited,
    stdout: () => out,
    stderr: () => err,
    stop
  }
}

/** Stops every seed given (SIGTERM, SIGKILL after a bounded wait), all at once. */
export async function stopAll (seeds: Iterable<SeedProcess | undefined>): Promise<void> {
  await Promise.all([...seeds].filter(s => s != null).map(async s => await s.stop()))
}

/**
 * Runs `fn` over `items` with at most `limit` calls in flight; results in
 * order. After a failure it starts no more, waits for those in flight (so a
 * caller's cleanup sees everything started) and throws the first error.
 */
export async function mapLimit<T, R> (items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  let failure: { error: unknown } | null = null
  const worker = async (): Promise<void> => {
    while (next < items.length && failure == null) {
      const i = next++
      try {
        results[i] = await fn(items[i], i)
      } catch (error) {
        failure ??= { error }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (failure != null) throw (failure as { error: unknown }).error
  return results
}

/**
 * Polls `probe` every `intervalMs` until it returns something other than
 * undefined/false, or fails after `timeoutMs` saying what it waited for and
 * what it last saw.
 */
export async function waitFor<T> (what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown = null
  for (;;) {
    try {
      const v = await probe()
      if (v !== undefined && v !== false) return v
      last = v
    } catch (e) {
      last = e
    }
    if (Date.now() >= deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`)
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bound, then closed). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })
}

export interface ApiFile { socket: string | null, http: string | null, token: string, pid: number }

export async function readApiFile (repo: string): Promise<ApiFile> {
  return JSON.parse(await fs.readFile(path.join(repo, 'api'), 'utf8')) as ApiFile
}

export interface ApiReply {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
  /** the NDJSON lines of the body, parsed (empty if it is not NDJSON) */
  lines: Array<Record<string, unknown>>
}

export interface ApiRequest {
  /** default: the socket, else the TCP address, from the repo's api file */
  socketPath?: string
  port?: number
  headers?: Record<string, string>
  body?: string
  method?: string
  timeoutMs?: number
}

/** One raw HTTP request to a seed's control API; headers are exactly the ones given. */
export async function apiRequest (target: { socketPath: string } | { port: number }, urlPath: string, o: ApiRequest = {}): Promise<ApiReply> {
  return await new Promise((resolve, reject) => {
    const req = http.request({
      ...('socketPath' in target ? { socketPath: target.socketPath } : { host: '127.0.0.1', port: target.port }),
      method: o.method ?? 'POST',
      path: urlPath,
      headers: o.headers ?? {},
      setHost: o.headers?.host == null && o.headers?.Host == null,
      signal: AbortSignal.timeout(o.timeoutMs ?? 30_000)
    }, res => {
      let body = ''
      res.setEncoding('utf8').on('data', (s: string) => { body += s })
      res.on('end', () => {
        const lines: Array<Record<string, unknown>> = []
        for (const l of body.split('\n')) {
          if (l === '') continue
          try { lines.push(JSON.parse(l) as Record<string, unknown>) } catch {}
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, lines })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(o.body ?? '')
  })
}

/** Calls a method of the seed on `repo` with its token, as the CLI does; the `result` (throws on `error`). */
export async function apiCall (repo: string, method: string, params: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<any> {
  const api = await readApiFile(repo)
  const target = api.socket != null ? { socketPath: api.socket } : { port: Number((api.http as string).split(':')[1]) }
  const r = await apiRequest(target, `/api/v1/${method}`, {
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json', ...(api.http != null ? { host: api.http } : {}) },
    body: JSON.stringify(params),
    timeoutMs
  })
  const error = r.lines.find(l => 'error' in l)
  if (r.status !== 200 || error != null) throw new Error(`${method}: HTTP ${r.status} ${JSON.stringify(error ?? r.body)}`)
  const result = r.lines.find(l => 'result' in l)
  if (result == null) throw new Error(`${method}: no result in ${JSON.stringify(r.body)}`)
  return result.result
}

/**
 * What a test started: temp dirs and seeds, released together (seeds first,
 * then the dirs they used). Use one per test and close it in an after hook.
 */
export class Resources {
  private readonly dirs: Array<() => Promise<void>> = []
  readonly seeds: SeedProcess[] = []

  async dir (prefix = 'cairn-it-'): Promise<string> {
    const { dir, cleanup } = await tempDir(prefix)
    this.dirs.push(cleanup)
    return dir
  }

  private closed = false
  private readonly starting = new Set<Promise<SeedProcess>>()

  async seed (repo: string, o: StartOptions = {}): Promise<SeedProcess> {
    const p = startSeed(repo, o)
    this.starting.add(p)
    try {
      const s = await p
      this.seeds.push(s)
      // closed while it started (a timed-out hook): stop it now, or it keeps the runner alive
      if (this.closed) await s.stop()
      return s
    } finally {
      this.starting.delete(p)
    }
  }

  async close (): Promise<void> {
    this.closed = true
    // seeds still starting are stopped as they come up (startSeed itself gives up after its ready time-out)
    await Promise.allSettled([...this.starting])
    await stopAll(this.seeds)
    await Promise.all(this.dirs.splice(0).map(async c => await c()))
  }
}

/** What seedSuite() gives a test file: its temp dir, and seeds started in it by name. */
export interface SeedSuite {
  /** the suite's temp dir (set by the suite's before hook) */
  readonly dir: string
  /** Starts a seed on the repo DIR/NAME; it is stopped after the suite. */
  seed: (name: string, o?: StartOptions) => Promise<SeedProcess>
}

/**
 * The set-up the multi-process fetch suites share: a temp dir made before
 * the suite, seeds named into it, and after the suite every seed stopped
 * (those still starting too) and the dir removed. Call it at a file's top.
 */
export function seedSuite (prefix: string): SeedSuite {
  const seeds: SeedProcess[] = []
  let dir = ''
  let cleanup: () => Promise<void> = async () => {}
  before(async () => { ({ dir, cleanup } = await tempDir(prefix)) })
  after(async () => {
    await stopAll(seeds)
    await stopLive()
    await cleanup()
  })
  return {
    get dir () {
      if (dir === '') throw new Error('seedSuite: the dir is made in the before hook; use it inside tests')
      return dir
    },
    async seed (name, o = {}) {
      const s = await startSeed(path.join(dir, name), o)
      seeds.push(s)
      return s
    }
  }
}

/** Block files under a block store (its shard directories of *.data); 0 for a store not made yet. */
export async function blockFiles (blocksDir: string): Promise<number> {
  let n = 0
  for (const shard of await fs.readdir(blocksDir).catch(() => [] as string[])) {
    for (const name of await fs.readdir(path.join(blocksDir, shard)).catch(() => [] as string[])) if (name.endsWith('.data')) n++
  }
  return n
}

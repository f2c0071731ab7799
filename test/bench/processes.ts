// Processes for the transfer bench: one-shot commands timed from spawn to
// exit with their RSS sampled, and long-lived workers spoken to in JSON
// lines. Every wait is bounded, and every process started here is tracked
// by its PID so `killStarted()` (called in a finally) ends whatever is left.

import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { CAIRN, NODE_FLAGS, ROOT } from '../helpers.ts'

const HERE = path.dirname(fileURLToPath(import.meta.url))
export const WORKER = path.join(HERE, 'transfer-worker.js')
/** how often a running process's RSS is read from /proc */
export const RSS_POLL_MS = 50
/** SIGTERM → exit; after this a stop falls back to SIGKILL */
const STOP_TIMEOUT_MS = 15_000

const started = new Set<ChildProcess>()
// last resort: no process of ours outlives the bench
process.on('exit', () => { killStarted() })

/** SIGKILLs every process started here that is still running, each by its PID. */
export function killStarted (): void {
  for (const c of started) {
    if (c.exitCode == null && c.signalCode == null && c.pid != null) {
      try { process.kill(c.pid, 'SIGKILL') } catch {}
    }
  }
  started.clear()
}

function track (child: ChildProcess): void {
  started.add(child)
  child.once('exit', () => started.delete(child))
}

/** VmRSS and VmHWM of a running process, MiB; null once it is gone. */
export function rssOf (pid: number): { rss: number, hwm: number } | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    const rss = /VmRSS:\s+(\d+) kB/.exec(s)
    const hwm = /VmHWM:\s+(\d+) kB/.exec(s)
    if (rss == null || hwm == null) return null
    return { rss: Number(rss[1]) / 1024, hwm: Number(hwm[1]) / 1024 }
  } catch {
    return null
  }
}

/** clock ticks per second of /proc/PID/stat's CPU fields (USER_HZ: 100 on Linux) */
const CLK_TCK = 100

/**
 * CPU seconds (user + system, every thread) a running process has used so
 * far, or null once it is gone. `pid` may be a /proc path below the process
 * ('PID/task/TID': one thread). `children`: its reaped children's instead.
 */
export function cpuOf (pid: number | string, children = false): number | null {
  try {
    // the fields after the command name, which sits in parentheses and may hold spaces
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime, stime (cutime, cstime): fields 14 and 15 (16, 17) of the whole line, counted after the name and state
    return (children ? Number(f[13]) + Number(f[14]) : Number(f[11]) + Number(f[12])) / CLK_TCK
  } catch {
    return null
  }
}

/** cpuOf of a process that must still be running: throws once it is gone. */
export function liveCpuOf (pid: number | string, children = false): number {
  const cpu = cpuOf(pid, children)
  if (cpu == null) throw new Error(`process ${pid} is gone (no /proc/${pid}/stat)`)
  return cpu
}

export interface Timed {
  code: number | null
  signal: NodeJS.Signals | null
  /** spawn to exit */
  seconds: number
  /** spawn to the first byte on stdout, or null */
  firstStdoutMs: number | null
  timedOut: boolean
  stdout: string
  stderr: string
  /** the largest VmRSS seen while polling, and VmHWM at the last poll (MiB) */
  maxRssMiB: number
  hwmMiB: number
  /** CPU seconds at the last poll: short of the whole by at most one poll's worth (RSS_POLL_MS) */
  cpuSeconds: number
}

export interface TimedOptions {
  timeoutMs: number
  /** keep stdout's bytes? (cat's output is only counted) */
  keepStdout?: boolean
}

/** Runs `node cli/cairn.js ...args`, timed from spawn to exit, RSS polled every RSS_POLL_MS. */
export async function timedCairn (args: string[], o: TimedOptions): Promise<Timed & { stdoutBytes: number }> {
  const env = { ...process.env }
  delete env.CAIRN_REPO
  const t0 = performance.now()
  const child = spawn(process.execPath, [...NODE_FLAGS, CAIRN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  track(child)
  const pid = child.pid as number
  let out = ''
  let err = ''
  let firstStdoutMs: number | null = null
  let stdoutBytes = 0
  child.stdout.on('data', (b: Buffer) => {
    firstStdoutMs ??= performance.now() - t0
    stdoutBytes += b.byteLength
    if (o.keepStdout !== false) out += b.toString('utf8')
  })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s })
  let maxRss = 0
  let hwm = 0
  let cpu = 0
  const poll = (): void => {
    const r = rssOf(pid)
    if (r == null) return
    maxRss = Math.max(maxRss, r.rss)
    hwm = Math.max(hwm, r.hwm)
    cpu = cpuOf(pid) ?? cpu
  }
  const poller = setInterval(poll, RSS_POLL_MS)
  let timedOut = false
  const killer = setTimeout(() => { timedOut = true; try { process.kill(pid, 'SIGKILL') } catch {} }, o.timeoutMs)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(resolve => child.on('close', (c, s) => resolve([c, s])))
  const seconds = (performance.now() - t0) / 1000
  clearInterval(poller)
  clearTimeout(killer)
  return { code, signal, seconds, firstStdoutMs, timedOut, stdout: out, stderr: err, maxRssMiB: maxRss, hwmMiB: hwm, cpuSeconds: cpu, stdoutBytes }
}

/** `cairn ...args` that must succeed (bounded); its stdout. */
export async function cairnOk (args: string[], timeoutMs = 180_000): Promise<string> {
  const r = await timedCairn(args, { timeoutMs })
  if (r.code !== 0) throw new Error(`cairn ${args.join(' ')}: ${r.timedOut ? `no exit within ${timeoutMs / 1000} s` : `exit ${r.code ?? r.signal}`}; stderr: ${r.stderr.slice(-600)}`)
  return r.stdout
}

/** A transfer-worker.js process: JSON lines on stdout, stdin kept open until stop(). */
export class Worker {
  readonly child: ChildProcess
  private out = ''
  private err = ''
  private readonly lines: unknown[] = []
  private waiters: Array<() => void> = []
  readonly exited: Promise<number | null>

  /** `script`: the worker file (transfer-worker.js unless given) */
  constructor (readonly mode: string, args: string[], script = WORKER) {
    this.child = spawn(process.execPath, [script, mode, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    track(this.child)
    this.child.stdin?.on('error', () => {})
    this.child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      this.out += s
      let nl: number
      while ((nl = this.out.indexOf('\n')) !== -1) {
        const line = this.out.slice(0, nl)
        this.out = this.out.slice(nl + 1)
        try { this.lines.push(JSON.parse(line)) } catch {}
        for (const w of this.waiters.splice(0)) w()
      }
    })
    this.child.stderr?.setEncoding('utf8').on('data', (s: string) => { this.err = (this.err + s).slice(-4000) })
    this.exited = new Promise(resolve => this.child.on('close', code => {
      for (const w of this.waiters.splice(0)) w()
      resolve(code)
    }))
  }

  get pid (): number { return this.child.pid as number }
  get stderr (): string { return this.err }
  get isRunning (): boolean { return this.child.exitCode == null && this.child.signalCode == null }

  /** The last JSON line so far, or null. */
  last<T> (): T | null { return (this.lines.at(-1) ?? null) as T | null }

  /** The `index`-th JSON line (0 = the first), waiting at most timeoutMs. */
  async line<T> (index: number, timeoutMs: number): Promise<T> {
    const deadline = performance.now() + timeoutMs
    while (this.lines.length <= index) {
      if (!this.isRunning && this.lines.length <= index) throw new Error(`${this.mode} worker exited (${this.child.exitCode ?? this.child.signalCode}) without a result; stderr: ${this.err.slice(-600)}`)
      const left = deadline - performance.now()
      if (left <= 0) throw new Error(`${this.mode} worker gave no answer within ${timeoutMs / 1000} s; stderr: ${this.err.slice(-600)}`)
      await new Promise<void>(resolve => {
        const t = setTimeout(resolve, Math.min(left, 1000))
        this.waiters.push(() => { clearTimeout(t); resolve() })
      })
    }
    return this.lines[index] as T
  }

  /** Closes stdin (the sign to finish), waits for the exit, SIGKILLs after STOP_TIMEOUT_MS. */
  async stop (): Promise<void> {
    this.child.stdin?.end()
    const t = setTimeout(() => this.kill(), STOP_TIMEOUT_MS)
    await this.exited
    clearTimeout(t)
  }

  kill (): void {
    if (this.isRunning) {
      try { process.kill(this.pid, 'SIGKILL') } catch {}
    }
  }
}

/** Runs a worker to its exit (bounded); its last JSON line. */
export async function runWorker<T> (mode: string, args: string[], timeoutMs: number, script = WORKER): Promise<T> {
  const w = new Worker(mode, args, script)
  const t = setTimeout(() => w.kill(), timeoutMs)
  try {
    const code = await w.exited
    if (code !== 0) throw new Error(`${mode} worker exited ${code ?? 'by a signal'} (time-out ${timeoutMs / 1000} s); stderr: ${w.stderr.slice(-600)}`)
    const last = w.last<T>()
    if (last == null) throw new Error(`${mode} worker printed no result; stderr: ${w.stderr.slice(-600)}`)
    return last
  } finally {
    clearTimeout(t)
  }
}

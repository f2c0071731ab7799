// Shared by the tests: run the built `cairn` as a user would, in temp dirs.

import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The project root (tests run from dist/test/…). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const CAIRN = path.join(ROOT, 'cli', 'cairn.js')
export const FIXTURES = path.join(ROOT, 'fixtures')
/**
 * The Node flags of the launcher's `#!/usr/bin/env -S node …` line: what a
 * user's `cairn` runs with, so `node cli/cairn.js` here gets them too.
 */
export const NODE_FLAGS: string[] = (() => {
  const first = readFileSync(CAIRN, 'utf8').split('\n')[0]
  const m = /^#!\/usr\/bin\/env -S node((?: --[a-z0-9-]+(?:=\S+)?)*)$/.exec(first)
  if (m == null) throw new Error(`cli/cairn.js starts with ${JSON.stringify(first)}, not "#!/usr/bin/env -S node [--flag...]"`)
  return m[1].split(' ').filter(f => f !== '')
})()
/** The Node the project pins for development and CI. */
export const PINNED_NODE_MAJOR = 24

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stdoutBytes: Buffer
  stderr: string
}

export interface RunOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  stdin?: string | Buffer
  /** give up (and fail) after this many ms; every wait is bounded */
  timeoutMs?: number
  node?: string
  /** run inside this network namespace, as a user on that host would (root: the namespace tests) */
  netns?: string
}

/** Runs `node [NODE_FLAGS] cli/cairn.js ...args` and collects its output. */
export async function cairn (args: string[], o: RunOptions = {}): Promise<RunResult> {
  const command = [o.node ?? process.execPath, ...NODE_FLAGS, CAIRN, ...args]
  const [file, ...argv] = o.netns != null ? ['ip', 'netns', 'exec', o.netns, ...command] : command
  const child = spawn(file, argv, {
    cwd: o.cwd ?? ROOT,
    env: { ...process.env, ...o.env },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout.on('data', (b: Buffer) => out.push(b))
  child.stderr.on('data', (b: Buffer) => err.push(b))
  child.stdin.on('error', () => {})
  if (o.stdin != null) child.stdin.end(o.stdin)
  else child.stdin.end()
  const timeout = o.timeoutMs ?? 60_000
  const timer = setTimeout(() => child.kill('SIGKILL'), timeout)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(resolve => child.on('close', (c, s) => resolve([c, s])))
  clearTimeout(timer)
  const stdoutBytes = Buffer.concat(out)
  return { code, signal, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr: Buffer.concat(err).toString('utf8') }
}

/** A fresh temp dir, removed by the returned cleanup. */
export async function tempDir (prefix = 'cairn-test-'): Promise<{ dir: string, cleanup: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix))
  return { dir, cleanup: async () => { await fs.rm(dir, { recursive: true, force: true }) } }
}

/** Deterministic pseudo-random bytes (xorshift), so CIDs are stable across runs. */
export function pseudoRandom (size: number, seed = 1): Buffer {
  const buf = Buffer.alloc(size)
  let x = seed >>> 0 || 1
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    buf[i] = x & 0xff
  }
  return buf
}

/** Asserts the one-line error contract: exactly one line, starting `Error: `. */
export function errorLine (r: RunResult): string {
  const lines = r.stderr.split('\n').filter(l => l !== '')
  if (lines.length !== 1 || !lines[0].startsWith('Error: ')) {
    throw new Error(`expected one 'Error: …' line on stderr, got: ${JSON.stringify(r.stderr)}`)
  }
  return lines[0]
}

/** `cairn --repo REPO ...args` */
export const run = async (repo: string, ...args: string[]): Promise<RunResult> => await cairn(['--repo', repo, ...args])

/** Asserts exit 0, showing stderr when not. */
export function ok (r: RunResult, what: string): void {
  if (r.code !== 0) throw new Error(`${what}: exit ${String(r.code)}, stderr: ${r.stderr}`)
}

/** Asserts a non-zero exit with the one-line error; returns that line. */
export function failed (r: RunResult, what: string): string {
  if (r.code === 0) throw new Error(`${what} should fail; stdout: ${r.stdout.slice(0, 300)}`)
  return errorLine(r)
}

/** Runs `fn` in a fresh temp dir, removed afterwards. */
export async function withTemp (prefix: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir(prefix)
  try {
    await fn(dir)
  } finally {
    await cleanup()
  }
}

/**
 * The end of a client script that a test runs in a process of its own (a
 * browser or verified-fetch client in a namespace): prints `run`'s result,
 * or `{error}`, as one JSON line and exits 0 or 1; gives up after `timeoutMs`.
 */
export function printResultOf (run: () => Promise<unknown>, timeoutMs: number): void {
  const timer = setTimeout(() => { console.log(JSON.stringify({ error: `no result within ${timeoutMs} ms` })); process.exit(1) }, timeoutMs)
  run().then(r => {
    clearTimeout(timer)
    console.log(JSON.stringify(r))
    process.exit(0)
  }, (err: unknown) => {
    clearTimeout(timer)
    console.log(JSON.stringify({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }))
    process.exit(1)
  })
}

// What every command module exports, and what it is given to run.

import { resolveRepoPath } from '../storage/repo-path.ts'
import type { Repo } from '../storage/repo.ts'
import { OutputError } from '../core/util/errors.ts'
import type { FlagSpecs } from './args.ts'

export interface Context {
  input: string[]
  flags: Record<string, unknown>
  json: boolean
  repoPath: string
  signal: AbortSignal
  stdout: NodeJS.WriteStream
  stderr: NodeJS.WriteStream
  stdin: NodeJS.ReadStream
}

export interface Command {
  name: string
  summary: string
  /** Usage / Options / Examples, without the global options */
  help: string
  flags: FlagSpecs
  /** verbs its first argument takes (pin add|rm|ls), for shell completion */
  subcommands?: string[]
  run: (ctx: Context) => Promise<void>
}

export function makeContext (input: string[], flags: Record<string, unknown>, signal: AbortSignal): Context {
  return {
    input,
    flags,
    json: flags.json === true,
    repoPath: resolveRepoPath(stringFlag({ flags }, 'repo')),
    signal,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin
  }
}

/**
 * A flag's value, undefined when not given. parseFlags checked each value
 * against its spec, so one of another type is a command reading its own
 * flag wrongly (a bug): it throws rather than let the value through.
 */
function flagOf<T> (ctx: Pick<Context, 'flags'>, name: string, kind: string, is: (v: unknown) => v is T): T | undefined {
  const v = ctx.flags[name]
  if (v === undefined) return undefined
  if (!is(v)) throw new TypeError(`flag ${name} is not ${kind} (its spec and the command disagree)`)
  return v
}

/** A string flag (type 'string'), undefined when not given. */
export function stringFlag (ctx: Pick<Context, 'flags'>, name: string): string | undefined {
  return flagOf(ctx, name, 'a string', (v): v is string => typeof v === 'string')
}

/** A number flag (type 'number'), undefined when not given. */
export function numberFlag (ctx: Pick<Context, 'flags'>, name: string): number | undefined {
  return flagOf(ctx, name, 'a number', (v): v is number => typeof v === 'number')
}

/** A boolean flag (type 'boolean'): true, false (--no-NAME) or undefined when not given. */
export function booleanFlag (ctx: Pick<Context, 'flags'>, name: string): boolean | undefined {
  return flagOf(ctx, name, 'true or false', (v): v is boolean => typeof v === 'boolean')
}

/** A repeatable string flag (isMultiple), [] when not given. */
export function listFlag (ctx: Pick<Context, 'flags'>, name: string): string[] {
  return flagOf(ctx, name, 'a list of strings', (v): v is string[] => Array.isArray(v) && v.every(x => typeof x === 'string')) ?? []
}

/** Opens the repo for one command and closes it (and its lock) afterwards. */
export async function withRepo<T> (ctx: Context, write: boolean, fn: (repo: Repo) => Promise<T>): Promise<T> {
  // loaded here, not at start: commands served by a running seed never open the repo
  const { Repo } = await import('../storage/repo.ts')
  const repo = await Repo.open(ctx.repoPath, { write })
  try {
    return await fn(repo)
  } finally {
    await repo.close()
  }
}

/** Writes one line of text, or one JSON object with --json, to stdout. */
export function emit (ctx: Context, text: string, json: unknown): void {
  ctx.stdout.write(ctx.json ? JSON.stringify(json) + '\n' : text + '\n')
}

/** Writes bytes to stdout, waiting when the pipe is full. */
export async function writeOut (ctx: Context, chunk: Uint8Array): Promise<void> {
  if (!ctx.stdout.write(chunk)) {
    await new Promise<void>((resolve, reject) => {
      const done = (): void => { ctx.stdout.off('error', fail); resolve() }
      const fail = (err: Error): void => { ctx.stdout.off('drain', done); reject(err) }
      ctx.stdout.once('drain', done)
      ctx.stdout.once('error', fail)
    })
  }
}

/** A message for people: stderr as text, or a JSON line on stdout with --json. */
export function report (ctx: Context, text: string, json: unknown): void {
  if (ctx.json) ctx.stdout.write(JSON.stringify(json) + '\n')
  else ctx.stderr.write(text + '\n')
}

/** Binary output to a terminal is refused, as gzip does: it would garble the screen. */
export function refuseTerminal (ctx: Context, what: string): void {
  if (ctx.stdout.isTTY === true) throw new OutputError(`${what} writes binary data; not writing it to a terminal (use -o FILE or redirect stdout)`)
}

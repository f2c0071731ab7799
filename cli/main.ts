// The cairn entry point: finds the command, loads only its module (so local
// commands never load the network stack), parses its flags, runs it, and
// turns any failure into one `Error: …` line and a non-zero exit.

import { CairnError, UsageError, errorMessage } from '../storage/errors.ts'
import { AbortedError } from '../core/util/errors.ts'
import { CAIRN_VERSION } from '../core/util/version.ts'
import { installPublicRangesHook } from '../core/net/public-ranges.ts'
import { findCommand, GLOBAL_FLAGS, GLOBAL_HELP } from './argv.ts'
import { COMMANDS, SUMMARIES, suggestCommand } from './command-table.ts'
import { escapeTerminal } from '../core/util/escape.ts'
import type { Command } from './command.ts'

function generalHelp (): string {
  const width = Math.max(...Object.keys(SUMMARIES).map(k => k.length))
  return `
cairn ${CAIRN_VERSION} — publish files, fetch them by CID, seed them

Usage
  $ cairn <command> [options]

Commands
${Object.entries(SUMMARIES).map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}
${GLOBAL_HELP}
  -v, --version  print the version

Run 'cairn help <command>' or 'cairn <command> --help' for a command's options.
`
}

/**
 * DEBUG=cairn:cli (or cairn:*): the stack of an unexpected error, each line
 * escaped. The logger is loaded only when DEBUG is set: imported up front it
 * added ~10 ms to every command's start (`cairn help`, min of 15: 30 → 41 ms).
 */
async function logStack (err: unknown): Promise<void> {
  if (err instanceof CairnError || process.env.DEBUG == null) return
  const { logger } = await import('@libp2p/logger')
  const log = logger('cairn:cli')
  const stack = err instanceof Error ? err.stack : undefined
  if (log.enabled) log('%s', (stack ?? String(err)).split('\n').map(line => escapeTerminal(line)).join('\n'))
}

// a message may carry a stranger's string (a name from a DAG or a manifest,
// a peer's error): escaped, it stays one line and cannot drive the terminal
function fail (err: unknown): number {
  if (err instanceof CairnError) {
    process.stderr.write(`Error: ${escapeTerminal(err.message)}\n`)
    return err.exitCode
  }
  process.stderr.write(`Error: ${escapeTerminal(errorMessage(err))}\n`)
  return 1
}

/** Flags `cairn` takes with no command, short and long. */
const TOP_LEVEL_FLAGS = new Set(['--version', '-v', '--help', '-h', ...Object.keys(GLOBAL_FLAGS).map(f => `--${f}`)])

/** A usage error for a name that is no command, with the likeliest one. */
function unknownCommand (name: string): UsageError {
  const hint = suggestCommand(name)
  const safe = escapeTerminal(name)
  if (hint == null) return new UsageError(`unknown command "${safe}" (see cairn --help)`)
  return new UsageError(`unknown command "${safe}"; did you mean "cairn ${hint}"? (see cairn --help)`)
}

function commandHelp (command: Command): string {
  return `${command.summary}\n${command.help}\n${GLOBAL_HELP}\n\n`
}

export async function main (argv: string[]): Promise<number> {
  const { name, rest } = findCommand(argv)
  if (name == null) {
    if (rest.includes('--version') || rest.includes('-v')) {
      process.stdout.write(CAIRN_VERSION + '\n')
      return 0
    }
    if (rest.includes('--help') || rest.includes('-h') || rest.length === 0) {
      process.stdout.write(generalHelp())
      return rest.length === 0 ? 2 : 0
    }
    const unknown = rest.find(a => a.startsWith('-') && a !== '--' && !TOP_LEVEL_FLAGS.has(a.split('=')[0]))
    if (unknown != null) return fail(new UsageError(`unknown flag ${unknown.split('=')[0]} (see cairn --help)`))
    return fail(new UsageError('no command given (see cairn --help)'))
  }
  if (name === 'help') {
    // `cairn help add` is `cairn add --help`
    const topic = findCommand(rest).name
    if (topic == null) {
      process.stdout.write(generalHelp())
      return 0
    }
    const loadTopic = Object.hasOwn(COMMANDS, topic) ? COMMANDS[topic] : null
    if (loadTopic == null) return fail(unknownCommand(topic))
    process.stdout.write(commandHelp((await loadTopic()).command))
    return 0
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : null
  if (load == null) return fail(unknownCommand(name))

  // a promise nobody awaited failed: still one Error line, not a stack trace
  process.on('unhandledRejection', err => {
    const code = fail(err)
    void logStack(err).finally(() => process.exit(code))
  })
  const controller = new AbortController()
  let interrupts = 0
  const onSignal = (sig: NodeJS.Signals): void => {
    // first signal: stop cleanly; second: stop now
    if (++interrupts > 1) process.exit(130)
    controller.abort(new Error(`interrupted by ${sig}`))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // a closed pipe (cairn cat … | head) is not an error
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0)
  })

  // before any command imports libp2p: network.publicRanges works through it
  installPublicRangesHook()
  try {
    const [{ command }, { parseFlags }, { makeContext }] = await Promise.all([load(), import('./args.ts'), import('./command.ts')])
    const { input, flags } = parseFlags(rest, command.flags, name)
    if (flags.help === true) {
      process.stdout.write(commandHelp(command))
      return 0
    }
    await command.run(makeContext(input, flags, controller.signal))
    return 0
  } catch (err) {
    // after Ctrl-C whatever broke first is not the story: say it was interrupted
    if (controller.signal.aborted && !(err instanceof AbortedError)) {
      const why = (controller.signal.reason == null ? 'signal' : errorMessage(controller.signal.reason)).replace('interrupted by ', '')
      return fail(new AbortedError(`${name} was interrupted (${why}); nothing partial was left at an output path, ` +
        'and blocks fetched so far are kept: run the same command again to resume'))
    }
    const code = fail(err)
    await logStack(err)
    return code
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

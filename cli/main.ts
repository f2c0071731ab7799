// The cairn entry point: finds the command, loads only its module (so local
// commands never load the network stack), parses its flags, runs it, and
// turns any failure into one `Error: …` line and a non-zero exit.

import { CairnError, UsageError } from '../storage/errors.ts'
import { AbortedError } from '../core/errors.ts'
import { CAIRN_VERSION } from '../core/version.ts'
import { installPublicRangesHook } from '../core/net/public-ranges.ts'
import { findCommand, GLOBAL_HELP } from './argv.ts'
import type { Command } from './command.ts'

/** Command name → its module, imported on demand. */
const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  init: async () => await import('./commands/init.ts'),
  add: async () => await import('./commands/add.ts'),
  cat: async () => await import('./commands/cat.ts'),
  get: async () => await import('./commands/get.ts'),
  ls: async () => await import('./commands/ls.ts'),
  pin: async () => await import('./commands/pin.ts'),
  repo: async () => await import('./commands/repo.ts'),
  car: async () => await import('./commands/car.ts'),
  config: async () => await import('./commands/config.ts'),
  seed: async () => await import('./commands/seed.ts'),
  id: async () => ({ command: (await import('./commands/net.ts')).id }),
  peers: async () => ({ command: (await import('./commands/net.ts')).peers }),
  connect: async () => ({ command: (await import('./commands/net.ts')).connect }),
  provide: async () => ({ command: (await import('./commands/net.ts')).provide }),
  findprovs: async () => ({ command: (await import('./commands/net.ts')).findprovs }),
  stats: async () => ({ command: (await import('./commands/net.ts')).stats }),
  status: async () => ({ command: (await import('./commands/net.ts')).status }),
  shutdown: async () => ({ command: (await import('./commands/net.ts')).shutdown }),
  anchor: async () => ({ command: (await import('./commands/anchor.ts')).anchor }),
  chain: async () => ({ command: (await import('./commands/anchor.ts')).chain }),
  proof: async () => ({ command: (await import('./commands/anchor.ts')).proof }),
  verify: async () => ({ command: (await import('./commands/anchor.ts')).verify }),
  name: async () => await import('./commands/name.ts'),
  key: async () => await import('./commands/key.ts'),
  demo: async () => await import('./commands/demo.ts')
}

/** One line per command for the general help; kept here so help loads nothing. */
const SUMMARIES: Record<string, string> = {
  init: 'create the repo (other commands create it on first use)',
  add: 'import files or directories and print their CIDs',
  cat: "write a file's bytes to stdout",
  get: 'write a file or directory to disk, atomically',
  ls: 'list the entries of a directory',
  pin: 'keep DAGs in the repo: pin add|rm|ls',
  repo: 'repo stat|gc|verify',
  car: 'CAR v1 files: car export CID [-o FILE] | car import FILE...',
  config: 'read or change config.json',
  seed: 'run the node: serve and announce content (Ctrl-C stops it)',
  id: "this node's peer ID and addresses",
  peers: 'the peers the seed is connected to',
  connect: 'open a connection to a peer: connect MULTIADDR',
  provide: 'announce a CID in the DHT',
  findprovs: 'find peers that provide a CID',
  stats: "the seed's counters",
  status: 'describe the running seed',
  shutdown: 'stop the running seed',
  anchor: 'sign a manifest for a CID and queue it for anchoring',
  chain: 'the anchor chain: head, height, work, target, pending',
  proof: 'export a proof that a CID is anchored: proof CID [-o FILE]',
  verify: 'check content, its signed manifest and anchoring: verify CID|PATH | --proof FILE',
  name: 'IPNS names: name publish CID | name resolve NAME | name history NAME',
  key: 'publishing keys for names: key gen NAME | key ls | key rm NAME',
  demo: 'a local swarm on 127.0.0.1, end to end (npm start)'
}

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

Run 'cairn <command> --help' for a command's options.
`
}

function fail (err: unknown): number {
  if (err instanceof CairnError) {
    process.stderr.write(`Error: ${err.message}\n`)
    return err.exitCode
  }
  const e = err as Error
  process.stderr.write(`Error: ${e?.message ?? String(err)}\n`)
  if (process.env.CAIRN_DEBUG != null) process.stderr.write(`${e?.stack ?? ''}\n`)
  return 1
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
    return fail(new UsageError(`no command given (see cairn --help)`))
  }
  if (name === 'help') {
    process.stdout.write(generalHelp())
    return 0
  }
  const load = COMMANDS[name]
  if (load == null) return fail(new UsageError(`unknown command "${name}" (see cairn --help)`))

  // a promise nobody awaited failed: still one Error line, not a stack trace
  process.on('unhandledRejection', err => { process.exit(fail(err)) })
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
      process.stdout.write(`${command.summary}\n${command.help}\n${GLOBAL_HELP}\n\n`)
      return 0
    }
    await command.run(makeContext(input, flags, controller.signal))
    return 0
  } catch (err) {
    // after Ctrl-C whatever broke first is not the story: say it was interrupted
    if (controller.signal.aborted && !(err instanceof AbortedError)) {
      return fail(new AbortedError(`${name} was interrupted (${String((controller.signal.reason as Error)?.message ?? 'signal').replace('interrupted by ', '')}); nothing partial was left at an output path, and blocks fetched so far are kept: run the same command again to resume`))
    }
    return fail(err)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

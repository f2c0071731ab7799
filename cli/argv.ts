// The command name and the global flags: kept free of imports so that
// `cairn --version` and `cairn --help` load nothing else.

/** One flag of one type, given once (with an optional default) or repeatable; meow's own Flag shapes. */
type FlagOf<T extends 'string' | 'boolean' | 'number', V> = { type: T, shortFlag?: string } & ({ isMultiple?: false, default?: V } | { isMultiple: true })
export type FlagSpec = FlagOf<'string', string> | FlagOf<'boolean', boolean> | FlagOf<'number', number>
export type FlagSpecs = Record<string, FlagSpec>

/** Flags every command takes. */
export const GLOBAL_FLAGS = {
  repo: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', shortFlag: 'h' }
} satisfies FlagSpecs

export const GLOBAL_HELP = `
Global options
  --repo DIR     the repo to use (else $CAIRN_REPO, else ~/.cairn)
  --json         JSON lines on stdout instead of text
  -h, --help     show help for a command`

/** Global flags that take a value, so the command name can be found past them. */
const VALUE_FLAGS = new Set(['--repo'])

/** Splits argv into the command name and the rest (global flags anywhere). */
export function findCommand (argv: string[]): { name: string | null, rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--') break
    if (VALUE_FLAGS.has(a)) { i++; continue }
    if (a.startsWith('-') && a !== '-') continue
    return { name: a, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] }
  }
  return { name: null, rest: argv }
}

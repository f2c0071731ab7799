// Flag parsing with meow, one command at a time; unknown flags are errors
// with one clear line.

import meow from 'meow'
import { UsageError } from '../core/util/errors.ts'
import { GLOBAL_FLAGS, type FlagSpecs } from './argv.ts'
export type { FlagSpec, FlagSpecs } from './argv.ts'

/** what meow would have read from package.json: the name it sets as process.title */
const MEOW_PKG = { name: 'cairn', bin: { cairn: 'cli/cairn.js' } }

const kebab = (s: string): string => s.replace(/[A-Z]/g, c => '-' + c.toLowerCase())
const camel = (s: string): string => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())

export interface Parsed {
  input: string[]
  flags: Record<string, unknown>
}

export function parseFlags (argv: string[], specs: FlagSpecs, commandName: string): Parsed {
  const all: FlagSpecs = { ...GLOBAL_FLAGS, ...specs }
  // meow prints its own two-line message and exits on unknown flags, so
  // parse permissively and report unknown ones here as one line
  const cli = meow({
    importMeta: import.meta,
    argv,
    flags: all,
    allowUnknownFlags: true,
    autoHelp: false,
    autoVersion: false,
    booleanDefault: undefined,
    // meow reads package.json up the tree (its help's description and
    // version, and process.title) unless given one: cairn uses neither
    pkg: MEOW_PKG
  })
  const known = new Set<string>()
  for (const [name, spec] of Object.entries(all)) {
    known.add(name); known.add(kebab(name)); known.add(camel(name))
    if (spec.shortFlag != null) known.add(spec.shortFlag)
  }
  const unknown = Object.keys(cli.unnormalizedFlags).filter(k => !known.has(k) && k !== '--')
  if (unknown.length > 0) {
    const f = unknown[0]
    throw new UsageError(`unknown flag ${f.length === 1 ? '-' : '--'}${kebab(f)} for "cairn ${commandName}" (see cairn ${commandName} --help)`)
  }
  for (const [name, spec] of Object.entries(all)) {
    const v = cli.flags[name]
    if (v === undefined) continue
    const values = Array.isArray(v) ? v : [v]
    for (const x of values) {
      if (spec.type === 'number' && (typeof x !== 'number' || Number.isNaN(x))) {
        throw new UsageError(`--${kebab(name)} needs a number`)
      }
      if (spec.type === 'string' && (typeof x !== 'string' || x === '')) {
        throw new UsageError(`--${kebab(name)} needs a value`)
      }
    }
  }
  return { input: cli.input.map(String), flags: cli.flags }
}

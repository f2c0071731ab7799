// `cairn completion bash|zsh|fish`: a completion script made from the
// command table and each command's flags, so it never falls behind the CLI.

import { UsageError } from '../../core/util/errors.ts'
import { GLOBAL_FLAGS } from '../argv.ts'
import { COMMANDS, SUMMARIES } from '../command-table.ts'
import type { Command, Context } from '../command.ts'
import type { FlagSpecs } from '../args.ts'

const SHELLS = ['bash', 'zsh', 'fish']

const kebab = (s: string): string => s.replace(/[A-Z]/g, c => '-' + c.toLowerCase())

export interface CommandShape {
  name: string
  summary: string
  /** long flags with their dashes, e.g. --output */
  long: string[]
  /** short flags with their dash, e.g. -o */
  short: string[]
  subcommands: string[]
}

function flagsOf (specs: FlagSpecs, help: string): { long: string[], short: string[] } {
  const long: string[] = []
  const short: string[] = []
  for (const [name, spec] of Object.entries(specs)) {
    long.push(`--${kebab(name)}`)
    // every boolean takes --no-<flag> (meow); offered where the help names it (add --no-pin)
    if (spec.type === 'boolean' && help.includes(`--no-${kebab(name)}`)) long.push(`--no-${kebab(name)}`)
    if (spec.shortFlag != null) short.push(`-${spec.shortFlag}`)
  }
  return { long, short }
}

/** Every command of the table with its flags (loads every command module). */
export async function commandShapes (): Promise<CommandShape[]> {
  const out: CommandShape[] = []
  for (const [name, load] of Object.entries(COMMANDS)) {
    const { command } = await load()
    const { long, short } = flagsOf({ ...GLOBAL_FLAGS, ...command.flags }, command.help)
    out.push({ name, summary: SUMMARIES[name] ?? command.summary, long, short, subcommands: command.subcommands ?? [] })
  }
  return out
}

/** A word safe inside single quotes in any of the three shells. */
const quoted = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`

export function bashScript (shapes: CommandShape[]): string {
  const names = shapes.map(s => s.name).join(' ')
  const cases = shapes.map(s => `    ${s.name}) opts=${quoted([...s.long, ...s.short].join(' '))}; subs=${quoted(s.subcommands.join(' '))} ;;`).join('\n')
  return `# cairn completion for bash: source it, or put it in
# ~/.local/share/bash-completion/completions/cairn
_cairn () {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  local cmd='' at=0 i w opts='' subs=''
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    if [[ $w == --repo ]]; then ((i++)); continue; fi
    [[ $w == -* ]] && continue
    cmd=$w; at=$i; break
  done
  if [[ -z $cmd ]]; then
    if [[ $cur == -* ]]; then
      COMPREPLY=($(compgen -W '--repo --json --help -h --version -v' -- "$cur"))
    else
      COMPREPLY=($(compgen -W ${quoted(names)} -- "$cur"))
    fi
    return
  fi
  case $cmd in
${cases}
    help) subs=${quoted(names)} ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [[ -n $subs && $((at + 1)) -eq $COMP_CWORD ]]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
  fi
}
complete -o default -o bashdefault -F _cairn cairn
`
}

export function zshScript (shapes: CommandShape[]): string {
  const described = shapes.map(s => `    ${quoted(`${s.name}:${s.summary.replace(/:/g, '\\:')}`)}`).join('\n')
  const cases = shapes.map(s => `    ${s.name}) opts=(${[...s.long, ...s.short].map(quoted).join(' ')}); subs=(${s.subcommands.map(quoted).join(' ')}) ;;`).join('\n')
  return `#compdef cairn
# cairn completion for zsh: put it in a directory of $fpath as _cairn, or source it
_cairn () {
  local -a commands opts subs
  commands=(
${described}
  )
  local i cmd='' at=0
  for ((i = 2; i < CURRENT; i++)); do
    if [[ $words[i] == --repo ]]; then ((i++)); continue; fi
    [[ $words[i] == -* ]] && continue
    cmd=$words[i]; at=$i; break
  done
  if [[ -z $cmd ]]; then
    if [[ $PREFIX == -* ]]; then compadd -- --repo --json --help -h --version -v
    else _describe -t commands 'cairn command' commands; fi
    return
  fi
  case $cmd in
${cases}
    help) subs=(\${commands%%:*}) ;;
  esac
  if [[ $PREFIX == -* ]]; then compadd -- $opts
  elif (( \${#subs} > 0 && at + 1 == CURRENT )); then compadd -- $subs
  else _files; fi
}
if (( $+functions[compdef] )); then compdef _cairn cairn; fi
`
}

export function fishScript (shapes: CommandShape[]): string {
  const names = shapes.map(s => s.name).join(' ')
  const lines = [
    '# cairn completion for fish: save as ~/.config/fish/completions/cairn.fish',
    'complete -c cairn -f',
    'complete -c cairn -l repo -r -d \'the repo to use\'',
    'complete -c cairn -l json -d \'JSON lines on stdout\'',
    'complete -c cairn -s h -l help -d \'show help\'',
    'complete -c cairn -n __fish_use_subcommand -s v -l version -d \'print the version\''
  ]
  for (const s of shapes) {
    lines.push(`complete -c cairn -n __fish_use_subcommand -a ${s.name} -d ${quoted(s.summary)}`)
    const when = quoted(`__fish_seen_subcommand_from ${s.name}`)
    for (const l of s.long) {
      if (['--repo', '--json', '--help'].includes(l)) continue
      lines.push(`complete -c cairn -n ${when} -l ${l.slice(2)}`)
    }
    for (const sh of s.short) if (sh !== '-h') lines.push(`complete -c cairn -n ${when} -s ${sh.slice(1)}`)
    if (s.subcommands.length > 0) lines.push(`complete -c cairn -n ${when} -a ${quoted(s.subcommands.join(' '))}`)
    else lines.push(`complete -c cairn -n ${when} -F`)
  }
  lines.push(`complete -c cairn -n ${quoted('__fish_seen_subcommand_from help')} -a ${quoted(names)}`)
  return lines.join('\n') + '\n'
}

export const command: Command = {
  name: 'completion',
  summary: 'print a shell completion script',
  help: `
Usage
  $ cairn completion bash|zsh|fish

Prints a script that completes cairn's commands, their verbs (pin add|rm|ls)
and their flags, made from the CLI's own command table.

Examples
  $ source <(cairn completion bash)                       bash, this shell
  $ cairn completion bash > ~/.local/share/bash-completion/completions/cairn
  $ cairn completion zsh > "\${fpath[1]}/_cairn"
  $ cairn completion fish > ~/.config/fish/completions/cairn.fish`,
  flags: {},
  subcommands: SHELLS,
  async run (ctx: Context) {
    const shell = ctx.input[0]
    if (ctx.input.length !== 1 || !SHELLS.includes(shell)) throw new UsageError('completion needs one shell: bash, zsh or fish (see cairn completion --help)')
    const shapes = await commandShapes()
    // names go into the scripts unquoted in places (case labels)
    for (const s of shapes) if (!/^[a-z][a-z0-9-]*$/.test(s.name)) throw new Error(`command name ${s.name} is not a plain word`)
    ctx.stdout.write(shell === 'bash' ? bashScript(shapes) : shell === 'zsh' ? zshScript(shapes) : fishScript(shapes))
  }
}

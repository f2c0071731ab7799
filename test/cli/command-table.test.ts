// The command table at work: `cairn help CMD`, unknown flags and mistyped
// commands named (with a suggestion), and `cairn completion` scripts made
// from the table, checked by a real bash.

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'
import { describe, test } from 'node:test'
import { GLOBAL_FLAGS, type FlagSpecs } from '../../cli/argv.ts'
import { cairn, errorLine } from '../helpers.ts'

const execFileP = promisify(execFile)
const hasShell = (name: string): boolean => ['/usr/bin', '/bin', '/usr/local/bin'].some(d => existsSync(`${d}/${name}`))
const kebab = (s: string): string => s.replace(/[A-Z]/g, c => '-' + c.toLowerCase())

/** Sources `script` in a fresh bash and completes `words` (the last is the word being typed). */
async function bashComplete (script: string, words: string[]): Promise<string[]> {
  const arr = words.map(w => `'${w.replace(/'/g, "'\\''")}'`).join(' ')
  const { stdout } = await execFileP('bash', ['--norc', '--noprofile', '-c', `${script}\nCOMP_WORDS=(${arr}); COMP_CWORD=${words.length - 1}; _cairn; printf '%s\\n' "\${COMPREPLY[@]}"`], { timeout: 10_000 })
  return stdout.split('\n').filter(l => l !== '')
}

describe('help and mistakes', { concurrency: true }, () => {
  test("cairn help add prints add's help, as cairn add --help does", async () => {
    const viaHelp = await cairn(['help', 'add'])
    assert.equal(viaHelp.code, 0)
    const viaFlag = await cairn(['add', '--help'])
    assert.equal(viaHelp.stdout, viaFlag.stdout)
    assert.match(viaHelp.stdout, /--no-anchor/)
    assert.doesNotMatch(viaHelp.stdout, /^Commands$/m, 'not the top-level help')
    const bad = await cairn(['help', 'bogus'])
    assert.equal(bad.code, 2)
    assert.match(errorLine(bad), /unknown command "bogus"/)
  })

  test('cairn --bogus names the unknown flag (exit 2)', async () => {
    const r = await cairn(['--bogus'])
    assert.equal(r.code, 2)
    assert.equal(errorLine(r), 'Error: unknown flag --bogus (see cairn --help)')
    const none = await cairn(['--json'])
    assert.equal(none.code, 2)
    assert.match(errorLine(none), /no command given/)
  })

  test('a mistyped or foreign command gets a suggestion: daemon → seed (Kubo), ad → add, sede → seed', async () => {
    for (const [typed, meant] of [['daemon', 'seed'], ['ad', 'add'], ['sede', 'seed'], ['findprov', 'findprovs'], ['chian', 'chain']]) {
      const r = await cairn([typed])
      assert.equal(r.code, 2, typed)
      assert.equal(errorLine(r), `Error: unknown command "${typed}"; did you mean "cairn ${meant}"? (see cairn --help)`)
    }
    const far = await cairn(['xyzzy'])
    assert.equal(far.code, 2)
    assert.equal(errorLine(far), 'Error: unknown command "xyzzy" (see cairn --help)')
  })
})

/** the command table, imported where it is used so the other tests run without it */
const table = async (): Promise<typeof import('../../cli/command-table.ts')['COMMANDS']> => (await import('../../cli/command-table.ts')).COMMANDS

describe('cairn completion', { concurrency: true }, () => {
  test('bash: the script parses, registers a completion, and completes every command of the table with its flags and verbs', async () => {
    const COMMANDS = await table()
    const r = await cairn(['completion', 'bash'])
    assert.equal(r.code, 0, r.stderr)
    await execFileP('bash', ['-n', '-c', r.stdout])
    const { stdout } = await execFileP('bash', ['--norc', '--noprofile', '-c', `${r.stdout}\ncomplete -p cairn`])
    assert.match(stdout, /-F _cairn cairn$/m)

    const all = await bashComplete(r.stdout, ['cairn', ''])
    assert.deepEqual([...all].sort(), Object.keys(COMMANDS).sort())
    assert.ok(all.includes('completion'))
    assert.deepEqual(await bashComplete(r.stdout, ['cairn', '--repo', '/tmp/x', 'pi']), ['pin'])
    assert.deepEqual(await bashComplete(r.stdout, ['cairn', 'pin', '']), ['add', 'rm', 'ls'])
    assert.deepEqual(await bashComplete(r.stdout, ['cairn', 'completion', '']), ['bash', 'zsh', 'fish'])
    assert.deepEqual(await bashComplete(r.stdout, ['cairn', 'add', '--no-']), ['--no-raw-leaves', '--no-pin', '--no-anchor'])
    for (const [name, load] of Object.entries(COMMANDS)) {
      const { command } = await load()
      const offered = await bashComplete(r.stdout, ['cairn', name, '-'])
      for (const [flag, spec] of Object.entries({ ...GLOBAL_FLAGS, ...command.flags } as FlagSpecs)) {
        assert.ok(offered.includes(`--${kebab(flag)}`), `${name} --${kebab(flag)} offered`)
        if (spec.shortFlag != null) assert.ok(offered.includes(`-${spec.shortFlag}`), `${name} -${spec.shortFlag} offered`)
      }
    }
  })

  test('zsh: the script parses and registers _cairn with compinit', { skip: !hasShell('zsh') && 'zsh is not installed (.ci/run installs it)' }, async () => {
    const r = await cairn(['completion', 'zsh'])
    assert.equal(r.code, 0, r.stderr)
    await execFileP('zsh', ['-n', '-c', r.stdout])
    const { stdout } = await execFileP('zsh', ['-f', '-c', `autoload -U compinit; compinit -u -D\n${r.stdout}\nprint -r -- \${_comps[cairn]}`], { timeout: 10_000 })
    assert.equal(stdout.trim(), '_cairn')
  })

  test('fish: the script parses and completes commands, verbs and flags', { skip: !hasShell('fish') && 'fish is not installed (.ci/run installs it)' }, async () => {
    const r = await cairn(['completion', 'fish'])
    assert.equal(r.code, 0, r.stderr)
    await execFileP('fish', ['-n', '-c', r.stdout])
    const complete = async (line: string): Promise<string[]> => {
      const { stdout } = await execFileP('fish', ['--no-config', '-c', `${r.stdout}\ncomplete -C ${JSON.stringify(line)}`], { timeout: 10_000 })
      return stdout.split('\n').filter(l => l !== '').map(l => l.split('\t')[0])
    }
    const all = await complete('cairn ')
    for (const name of Object.keys(await table())) assert.ok(all.includes(name), `fish completes ${name}`)
    assert.deepEqual((await complete('cairn pin ')).sort(), ['add', 'ls', 'rm'])
    const getFlags = await complete('cairn get -')
    for (const f of ['--output', '-o', '--force', '--peer', '--offline']) assert.ok(getFlags.includes(f), `get ${f}`)
  })

  test('zsh and fish: scripts name every command; a bad shell is a usage error', async () => {
    const COMMANDS = await table()
    for (const shell of ['zsh', 'fish']) {
      const r = await cairn(['completion', shell])
      assert.equal(r.code, 0, r.stderr)
      for (const name of Object.keys(COMMANDS)) assert.match(r.stdout, new RegExp(shell === 'zsh' ? `'${name}:` : ` -a ${name} `), `${shell}: ${name}`)
    }
    assert.match((await cairn(['completion', 'fish'])).stdout, /__fish_seen_subcommand_from get' -s o/)
    const bad = await cairn(['completion', 'tcsh'])
    assert.equal(bad.code, 2)
    assert.match(errorLine(bad), /bash, zsh or fish/)
  })
})

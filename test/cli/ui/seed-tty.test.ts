// The seeding dashboard in a real terminal (tmux, 80×24): it draws, '?' shows
// help, 'q' stops the node cleanly (exit 0, repo unlocked).
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { CAIRN, cairn, tempDir } from '../../helpers.ts'

const hasTmux = spawnSync('tmux', ['-V']).status === 0

async function screenUntil (session: string, re: RegExp, what: string): Promise<string> {
  let screen = ''
  for (let i = 0; i < 150; i++) { // bounded: ~30 s
    screen = execFileSync('tmux', ['capture-pane', '-p', '-t', session]).toString()
    if (re.test(screen)) return screen
    await sleep(200)
  }
  throw new Error(`no ${what} on screen within 30 s:\n${screen}`)
}

test('seed on a terminal: dashboard at 80×24, ? for help, q quits cleanly', { skip: hasTmux ? false : 'tmux is not installed (.ci/run installs it)', timeout: 90_000 }, async () => {
  const { dir, cleanup } = await tempDir()
  const session = `cairn-seed-${process.pid}`
  try {
    const repo = path.join(dir, 'repo')
    const added = await cairn(['add', '-Q', '--repo', repo, 'fixtures/hello.txt'])
    assert.equal(added.code, 0, added.stderr)
    const marker = path.join(dir, 'exit')
    // CI=true (as CI sets it) makes Ink draw only the last frame: a person's terminal has no CI
    const cmd = `env -u CI '${process.execPath}' '${CAIRN}' seed --repo '${repo}' --listen /ip4/127.0.0.1/tcp/0; echo $? > '${marker}'; sleep 30`
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '80', '-y', '24', cmd])
    const screen = await screenUntil(session, /Peers \(\d+\)/, 'dashboard')
    assert.match(screen, /cairn seed …\w+ {2}local:cairn/)
    assert.match(screen, /Seeded \(1\)/)
    assert.match(screen, /…2km2devei4 12 B/)
    assert.match(screen, /DHT/)
    for (const line of screen.split('\n')) assert.ok(line.length <= 80)
    execFileSync('tmux', ['send-keys', '-t', session, '?'])
    await screenUntil(session, /stop the seed and quit/, 'help')
    execFileSync('tmux', ['send-keys', '-t', session, 'x'])
    await screenUntil(session, /Peers \(\d+\)/, 'dashboard after help')
    execFileSync('tmux', ['send-keys', '-t', session, 'q'])
    let code = ''
    for (let i = 0; i < 100 && code === ''; i++) { // bounded: ~20 s
      await sleep(200)
      code = (await fs.readFile(marker, 'utf8').catch(() => '')).trim()
    }
    assert.equal(code, '0')
    await assert.rejects(fs.access(path.join(repo, 'repo.lock')), 'the lock is released')
    await assert.rejects(fs.access(path.join(repo, 'api')), 'the api file is removed')
  } finally {
    spawnSync('tmux', ['kill-session', '-t', session])
    await cleanup()
  }
})

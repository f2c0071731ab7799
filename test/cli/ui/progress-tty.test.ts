// The progress bar in a real terminal: tmux runs cairn, capture-pane reads the screen.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { CAIRN, pseudoRandom, tempDir } from '../../helpers.ts'

const hasTmux = spawnSync('tmux', ['-V']).status === 0

test('add on a TTY draws a progress bar on stderr that ends at 100% done', { skip: hasTmux ? false : 'tmux is not installed (.ci/run installs it)' }, async () => {
  const { dir, cleanup } = await tempDir()
  const session = `cairn-progress-${process.pid}`
  try {
    const file = path.join(dir, 'input.bin')
    await fs.writeFile(file, pseudoRandom(8 * 1024 * 1024, 7))
    const marker = path.join(dir, 'finished')
    const cmd = `'${process.execPath}' '${CAIRN}' add --repo '${dir}/repo' '${file}'; echo "exit=$?" > '${marker}'; sleep 30`
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '120', '-y', '10', cmd])
    let screen = ''
    for (let i = 0; i < 100; i++) { // bounded: ~20 s
      await sleep(200)
      const done = await fs.readFile(marker, 'utf8').catch(() => '')
      if (done !== '') {
        assert.equal(done.trim(), 'exit=0')
        screen = execFileSync('tmux', ['capture-pane', '-p', '-t', session]).toString()
        break
      }
    }
    assert.match(screen, /add .*100% .*8\.00 MiB \/ 8\.00 MiB.*done/)
    assert.match(screen, /added baf\w+ input\.bin/)
  } finally {
    spawnSync('tmux', ['kill-session', '-t', session])
    await cleanup()
  }
})

test('without a TTY, add prints no progress to stderr; --json prints JSON progress lines', async () => {
  const { cairn } = await import('../../helpers.ts')
  const { dir, cleanup } = await tempDir()
  try {
    const file = path.join(dir, 'f.bin')
    await fs.writeFile(file, pseudoRandom(3 * 1024 * 1024, 3))
    const plain = await cairn(['add', '--repo', path.join(dir, 'r'), file])
    assert.equal(plain.code, 0, plain.stderr)
    assert.equal(plain.stderr, '')
    const json = await cairn(['add', '--json', '--repo', path.join(dir, 'r2'), file])
    assert.equal(json.code, 0, json.stderr)
    const lines = json.stderr.trim().split('\n').map(l => JSON.parse(l) as { progress: string, bytes: number, done: boolean })
    const last = lines.at(-1)
    assert.equal(last?.progress, 'add')
    assert.equal(last?.done, true)
    assert.equal(last?.bytes, 3 * 1024 * 1024)
    const out = JSON.parse(json.stdout.trim().split('\n').at(-1) as string) as { cid: string, path: string }
    assert.equal(out.path, 'f.bin')
  } finally {
    await cleanup()
  }
})

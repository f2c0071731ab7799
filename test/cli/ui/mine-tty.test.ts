// The dashboard's m key in a real terminal (tmux): it starts mining, the
// chain panel shows the hash rate and the height growing, a file added
// meanwhile gets anchored, m again stops mining, q quits cleanly with the
// workers running.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { CAIRN, cairn, tempDir } from '../../helpers.ts'
import { hasTmux, screenUntil } from './tmux.ts'

test('dashboard: m starts and stops mining; the chain panel shows height and hash rate', { skip: hasTmux ? false : 'tmux is not installed', timeout: 180_000 }, async () => {
  const { dir, cleanup } = await tempDir()
  const session = `cairn-mine-${process.pid}`
  const repo = path.join(dir, 'repo')
  try {
    const set = await cairn(['config', 'set', 'anchor.network', 'test', '--repo', repo])
    assert.equal(set.code, 0, set.stderr)
    const marker = path.join(dir, 'exit')
    const cmd = `exec env -u CI sh -c "'${process.execPath}' '${CAIRN}' seed --repo '${repo}' --listen /ip4/127.0.0.1/tcp/0; echo \\$? > '${marker}'; sleep 30"`
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '120', '-y', '32', cmd])
    await screenUntil(session, s => /height 0 test/.test(s) && /not mining \(m\)/.test(s), 'the chain panel, not mining', 60)

    const file = path.join(dir, 'note.txt')
    await fs.writeFile(file, 'anchored from the dashboard\n')
    const added = await cairn(['add', '-Q', '--repo', repo, file])
    assert.equal(added.code, 0, added.stderr)

    execFileSync('tmux', ['send-keys', '-t', session, 'm'])
    await screenUntil(session, s => /mining \d+(\.\d+)? [kM]H\/s/.test(s) && /height [1-9]\d* test/.test(s), 'mining with a hash rate and a height above 0', 60)
    let anchored = false
    for (let i = 0; i < 60 && !anchored; i++) { // bounded: ~60 s
      anchored = (await cairn(['verify', file, '--repo', repo])).code === 0
      if (!anchored) await sleep(1000)
    }
    assert.ok(anchored, 'the file added before m was anchored')

    execFileSync('tmux', ['send-keys', '-t', session, 'm'])
    await screenUntil(session, s => /not mining \(m\)/.test(s), 'mining stopped', 60)
    execFileSync('tmux', ['send-keys', '-t', session, 'm']) // and quit while the workers run
    await screenUntil(session, s => /mining \d/.test(s), 'mining again', 60)
    execFileSync('tmux', ['send-keys', '-t', session, 'q'])
    let code = ''
    for (let i = 0; i < 100 && code === ''; i++) { // bounded: ~20 s
      await sleep(200)
      code = (await fs.readFile(marker, 'utf8').catch(() => '')).trim()
    }
    assert.equal(code, '0')
    await assert.rejects(fs.access(path.join(repo, 'repo.lock')), 'the lock is released')
  } finally {
    spawnSync('tmux', ['kill-session', '-t', session])
    await cleanup()
  }
})

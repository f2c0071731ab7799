// The seeding dashboard in a real terminal (tmux at 80×24 and 160×48): it
// draws; a file published from another process and a peer that connects
// show up; '?' shows help; 'q' stops the node cleanly (exit 0, repo
// unlocked, no process left).
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { CAIRN, cairn, tempDir } from '../../helpers.ts'
import { startSeed } from '../../integration/seeds.ts'
import { hasTmux, screenUntil } from './tmux.ts'

for (const [cols, rows] of [[80, 24], [160, 48]]) {
  test(`seed on a ${cols}×${rows} terminal: dashboard shows a new peer and published content; ? helps; q quits cleanly`, { skip: hasTmux ? false : 'tmux is not installed (.ci/run installs it)', timeout: 120_000 }, async () => {
    const { dir, cleanup } = await tempDir()
    const session = `cairn-seed-${process.pid}-${cols}`
    const repo = path.join(dir, 'repo')
    let other: Awaited<ReturnType<typeof startSeed>> | undefined
    try {
      const marker = path.join(dir, 'exit')
      const pidFile = path.join(dir, 'pid')
      // CI=true (as CI sets it) makes Ink draw only the last frame: a person's terminal has no CI
      const cmd = `echo $$ > '${pidFile}'; exec env -u CI sh -c "'${process.execPath}' '${CAIRN}' seed --repo '${repo}' --listen /ip4/127.0.0.1/tcp/0; echo \\$? > '${marker}'; sleep 30"`
      execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', String(cols), '-y', String(rows), cmd])
      let screen = await screenUntil(session, s => /Peers \(0\)/.test(s) && /Seeded \(0\)/.test(s), 'dashboard')
      assert.match(screen, /cairn seed …\w+ {2}local:cairn/)
      for (const line of screen.split('\n')) assert.ok(line.length <= cols)
      // the address line is cut to the terminal's width: ask the seed itself
      const id = await cairn(['id', '--json', '--repo', repo])
      assert.equal(id.code, 0, id.stderr)
      const addr = (JSON.parse(id.stdout) as { addresses: string[] }).addresses[0]
      assert.match(addr, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)

      // a file published from another process goes through the seed
      const added = await cairn(['add', '-Q', '--repo', repo, 'fixtures/hello.txt'])
      assert.equal(added.code, 0, added.stderr)
      // a peer from another process connects and stays
      other = await startSeed(path.join(dir, 'other'), { bootstrap: [addr] })
      screen = await screenUntil(session, s => /Seeded \(1\)/.test(s) && /Peers \(1\)/.test(s), 'the new content and the peer')
      assert.match(screen, /…2km2devei4 12 B/)
      assert.ok(screen.includes(`…${other.id.slice(-10)}`), `the peer ${other.id} is listed:\n${screen}`)
      assert.match(screen, /added bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4|peer connected/)
      if (process.env.CAIRN_SHOW_PANES != null) process.stdout.write(`\n--- ${cols}×${rows} ---\n${screen}\n`)

      execFileSync('tmux', ['send-keys', '-t', session, '?'])
      await screenUntil(session, s => /stop the seed and quit/.test(s), 'help')
      execFileSync('tmux', ['send-keys', '-t', session, 'x'])
      await screenUntil(session, s => /Peers \(\d+\)/.test(s), 'dashboard after help')
      execFileSync('tmux', ['send-keys', '-t', session, 'q'])
      let code = ''
      for (let i = 0; i < 100 && code === ''; i++) { // bounded: ~20 s
        await sleep(200)
        code = (await fs.readFile(marker, 'utf8').catch(() => '')).trim()
      }
      assert.equal(code, '0')
      await assert.rejects(fs.access(path.join(repo, 'repo.lock')), 'the lock is released')
      await assert.rejects(fs.access(path.join(repo, 'api')), 'the api file is removed')
      // no seed process of this repo is left
      const ps = execFileSync('ps', ['-eo', 'args']).toString()
      assert.ok(!ps.split('\n').some(l => l.includes(`seed --repo ${repo} `)), 'the seed process is gone')
    } finally {
      await other?.stop()
      spawnSync('tmux', ['kill-session', '-t', session])
      await cleanup()
    }
  })
}

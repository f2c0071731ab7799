// The seeding dashboard in a real terminal (tmux at 80×24, 100×30 and
// 160×48): it draws with its header on the top line; a file published from
// another process and a peer that connects show up; a fetch from another
// process shows as an upload; the terminal's scrollback does not grow (a
// frame taller than the terminal scrolls it on every redraw); '?' shows
// help; 'q' or Ctrl-C stops the node cleanly (exit 0, repo unlocked, no
// process left).
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { CAIRN, cairn, pseudoRandom, tempDir } from '../../helpers.ts'
import { startSeed } from '../../integration/seeds.ts'
import { hasTmux, historySize, screenUntil, topLine } from './tmux.ts'

/** how long the scrollback is watched */
const WATCH_MS = 10_000
/** the file fetched from the seed: big enough that its upload takes several blocks */
const FILE_BYTES = 6 * 1024 * 1024

/** The dashboard's first line: the header with the keys. */
const HEADER = /^cairn seed …\w+ {2}local:cairn .*\? help {2}q quit/

for (const [cols, rows, quitKey] of [[80, 24, 'q'], [100, 30, 'C-c'], [160, 48, 'q']] as const) {
  test(`seed on a ${cols}×${rows} terminal: header on top, no scrollback growth, a new peer, published content and an upload show; ? helps; ${quitKey} quits cleanly`, { skip: hasTmux ? false : 'tmux is not installed (.ci/run installs it)', timeout: 150_000 }, async () => {
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
      assert.match(topLine(session), HEADER)
      for (const line of screen.split('\n')) assert.ok(line.length <= cols)
      // what the shell and the seed printed before the dashboard is history already; from here on nothing is added
      const history = historySize(session)
      // the address line is cut to the terminal's width: ask the seed itself
      const id = await cairn(['id', '--json', '--repo', repo])
      assert.equal(id.code, 0, id.stderr)
      const addr = (JSON.parse(id.stdout) as { addresses: string[] }).addresses[0]
      assert.match(addr, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)

      // a file published from another process goes through the seed
      const added = await cairn(['add', '-Q', '--repo', repo, 'fixtures/hello.txt'])
      assert.equal(added.code, 0, added.stderr)
      const movie = path.join(dir, 'movie.bin')
      await fs.writeFile(movie, pseudoRandom(FILE_BYTES, cols))
      const big = await cairn(['add', '-Q', '--repo', repo, movie])
      assert.equal(big.code, 0, big.stderr)
      const bigCid = big.stdout.trim()
      // a peer from another process connects and stays
      other = await startSeed(path.join(dir, 'other'), { bootstrap: [addr] })
      screen = await screenUntil(session, s => /Seeded \(2\)/.test(s) && /Peers \(1\)/.test(s), 'the new content and the peer')
      // more rows than at the start: the frame still fits
      assert.match(topLine(session), HEADER)
      assert.equal(historySize(session), history, 'no scrollback growth with a peer and content')
      assert.match(screen, /…2km2devei4 12 B/)
      assert.match(screen, /movie\.bin …\w+ 6\.00 MiB/, 'the name from the manifest')
      assert.ok(screen.includes(`…${other.id.slice(-10)}`), `the peer ${other.id} is listed:\n${screen}`)

      // another process fetches the file from the seed: the seed shows the upload, to whom, and logs it
      const watchStart = Date.now()
      const got = await cairn(['get', bigCid, '--peer', addr, '--repo', path.join(dir, 'fetcher'), '-o', path.join(dir, 'copy.bin')])
      assert.equal(got.code, 0, got.stderr)
      screen = await screenUntil(session, s => /↑ movie\.bin → …\w+/.test(s), 'the upload', 10)
      assert.match(screen, /Transfers ↓0 ↑[1-9]/)
      assert.match(screen, /peer …\w+ started fetching movie\.bin|peer …\w+ finished fetching movie\.bin/)
      if (process.env.CAIRN_SHOW_PANES != null) process.stdout.write(`\n--- ${cols}×${rows} ---\n${screen}\n`)
      // the rest of the watch: the frame redraws ten times a second the whole time
      await sleep(Math.max(0, WATCH_MS - (Date.now() - watchStart)))
      assert.match(topLine(session), HEADER)
      assert.equal(historySize(session), history, `the scrollback grew while the dashboard ran:\n${execFileSync('tmux', ['capture-pane', '-p', '-S', '-50', '-t', session]).toString()}`)

      execFileSync('tmux', ['send-keys', '-t', session, '?'])
      await screenUntil(session, s => /stop the seed and quit/.test(s), 'help')
      execFileSync('tmux', ['send-keys', '-t', session, 'x'])
      await screenUntil(session, s => /Peers \(\d+\)/.test(s), 'dashboard after help')
      // q, or Ctrl-C (read as a key in raw mode): both a clean stop, exit 0
      execFileSync('tmux', ['send-keys', '-t', session, quitKey])
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

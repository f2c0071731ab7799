#!/usr/bin/env -S node --max-semi-space-size=4
// The launcher: plain JavaScript that any Node can parse, so an old Node gets
// one clear line instead of a stack trace from deep inside libp2p.
//
// The flag above caps V8's young generation at 4 MiB a half (its default
// grows to 16-32 MiB on this kind of machine). A fetch allocates a stream of
// short-lived buffers; with the large default the young generation grew
// during a long get and the fetcher's peak RSS went from ~270 MiB for a
// 512 MiB file to ~320 MiB for 2 GiB; capped, 245-260 and ~277 MiB, at the
// same speed (docs/bench.md). It applies when `cairn` runs as a command (npm
// links it so); `node cli/cairn.js` runs without it (the test helpers pass
// the flags of this line: test/helpers.ts NODE_FLAGS).
const MIN_NODE_MAJOR = 22
const major = Number(process.versions.node.split('.')[0])
if (!(major >= MIN_NODE_MAJOR)) {
  process.stderr.write('Error: cairn needs Node.js ' + MIN_NODE_MAJOR + ' or newer; this is Node.js ' +
    process.versions.node + ' (run it through npm, which uses the pinned Node, or install a newer Node)\n')
  process.exit(1)
}
import('../dist/cli/main.js')
  .then(m => m.main(process.argv.slice(2)))
  .then(code => {
    process.exitCode = code
    // the command is done: a handle a library left open must not keep the
    // process alive (stdout and stderr are synchronous on Linux pipes and files)
    setTimeout(() => process.exit(code), 500).unref()
  })
  .catch(err => {
    process.stderr.write('Error: ' + (err && err.message ? err.message : String(err)) + '\n')
    process.exitCode = 1
  })

#!/usr/bin/env node
// The launcher: plain JavaScript that any Node can parse, so an old Node gets
// one clear line instead of a stack trace from deep inside libp2p.
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

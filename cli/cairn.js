#!/usr/bin/env -S node --max-semi-space-size=1 --initial-old-space-size=128
// The launcher: plain JavaScript that any Node can parse, so an old Node gets
// one clear line instead of a stack trace from deep inside libp2p.
//
// The flags above tune V8's garbage collector for a stream of short-lived
// buffers (every byte of a transfer passes through ~4 of them: socket read,
// noise, decrypted, block). Measured on 512 MiB and 2 GiB gets (docs/bench.md):
// - with V8's small starting old-generation limit, a full mark-compact ran
//   every ~100 ms, ~40 per 512 MiB; their concurrent marking took about as
//   much CPU as the fetcher's own thread, and as much again in the seed.
//   `--initial-old-space-size=128` leaves the collections that freeing the
//   buffers needs (~12-24), and a get took ~20% less time; every start
//   pays for it (~20 ms for `config --help`, ~60 ms for a 1 KiB get);
// - a small young generation (1 MiB a half; its default grows to 16-32 MiB)
//   frees most buffers in cheap scavenges, and keeps peak RSS flat between a
//   512 MiB and a 2 GiB get (~240-265 against ~280 MiB).
// They apply when `cairn` runs as a command (npm links it so); `node
// cli/cairn.js` runs without them (the test helpers pass the flags of this
// line: test/helpers.ts NODE_FLAGS).
const MIN_NODE_MAJOR = 22
const major = Number(process.versions.node.split('.')[0])
if (!(major >= MIN_NODE_MAJOR)) {
  process.stderr.write('Error: cairn needs Node.js ' + MIN_NODE_MAJOR + ' or newer; this is Node.js ' +
    process.versions.node + ' (run it through npm, which uses the pinned Node, or install a newer Node)\n')
  process.exit(1)
}
// `cairn seed` runs for days, and its resident memory grew for two reasons
// that are no leak (docs/design.md, "The seed's memory: V8's old space and
// glibc's malloc"; figures in docs/faults.md, soak):
// - `--initial-old-space-size=128` (the #! line, for the transfers of
//   short-lived commands) lets V8's old generation fill to ~90 MiB of
//   mostly garbage before its first full collection, with the ArrayBuffers
//   it holds; a seed serving small fetches reached that after 5-15 minutes,
//   then saw-toothed there. The seed runs with V8's own sizing: ~40 MiB
//   committed from the start, but about twice the CPU per 512 MiB sent
//   (starting it at 64 MiB cost ~25% and still grew: docs/faults.md);
// - glibc gives each thread that allocates an arena of its own, and once a
//   large buffer is freed its mmap threshold rises (up to 32 MiB), so the
//   transfers' 256 KiB-1 MiB buffers come from the brk heap, whose top stays
//   resident after they are freed. The variables below (mallopt(3)) hold
//   both; they must be set before the process starts.
// So the launcher re-executes itself once for `seed`, in place (same pid,
// ~40 ms; Node 22.15+), without that flag and with those variables. A variable the user
// set is kept; other commands run as they are.
const SEED_MALLOC_ENV = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' }
/** the #! line's flags the seed runs without */
const NOT_FOR_SEED = /^--initial-old-space-size=/
/** the command name as cli/argv.ts findCommand finds it: the first argument that is no flag (--repo takes a value) */
function commandName (args) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--') return null
    if (args[i] === '--repo') { i++; continue }
    if (args[i].startsWith('-') && args[i] !== '-') continue
    return args[i]
  }
  return null
}
if (typeof process.execve === 'function' && commandName(process.argv.slice(2)) === 'seed') {
  const missing = process.platform === 'linux' ? Object.keys(SEED_MALLOC_ENV).filter(k => process.env[k] == null) : []
  const flags = process.execArgv.filter(f => !NOT_FOR_SEED.test(f))
  if (missing.length > 0 || flags.length < process.execArgv.length) {
    const env = { ...process.env }
    for (const k of missing) env[k] = SEED_MALLOC_ENV[k]
    try {
      process.execve(process.execPath, [process.execPath, ...flags, ...process.argv.slice(1)], env)
    } catch {
      // not replaced (Windows, a seccomp policy): the seed runs as started
    }
  }
}
// V8's compiled code of cairn's modules, kept on disk between runs (Node's
// own cache: os.tmpdir()/node-compile-cache, or NODE_COMPILE_CACHE; off with
// NODE_DISABLE_COMPILE_CACHE=1): loading the network stack for a fetch took
// ~270 ms, ~50 ms less with it. Failing to enable it changes nothing else.
process.getBuiltinModule?.('node:module')?.enableCompileCache?.()
// the CLI bundled with its dependencies (cli/bundle.js, run by `npm run
// build`): a command loads a few chunks instead of ~900 modules
import('../dist/bundle/main.js')
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

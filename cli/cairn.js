#!/usr/bin/env -S node --max-semi-space-size=1 --initial-old-space-size=64
// The launcher: plain JavaScript that any Node can parse, so an old Node gets
// one clear line instead of a stack trace from deep inside libp2p.
//
// The flags above tune V8's garbage collector for a stream of short-lived
// buffers (every byte of a transfer passes through ~4 of them: socket read,
// noise, decrypted, block). Measured on 512 MiB and 2 GiB gets (docs/bench.md):
// - with V8's small starting old-generation limit, a full mark-compact ran
//   every ~100 ms, ~40 per 512 MiB; their concurrent marking took about as
//   much CPU as the fetcher's own thread, and as much again in the seed.
//   `--initial-old-space-size=128` left the collections that freeing the
//   buffers needs (~12-24), and a get took ~20% less time; every start
//   pays for it (~20 ms for `config --help`, ~60 ms for a 1 KiB get).
//   64 costs a 512 MiB transfer no more CPU than 128, at either end (32
//   did: the seeder's CPU went from ~1.5 to ~2.4 s), and lets half as
//   much garbage pile up before a full collection: a seed serving a loop
//   of small gets settled at ~165 MiB instead of warming up to ~220 over
//   5-15 minutes (docs/bench.md, "The old-space start");
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
// `cairn seed` runs for days. The old generation's large start (above) lets
// a seed pile up garbage for minutes before V8 collects it, with the
// buffers it holds: the seed collects everything every 30 s itself
// (core/daemon/daemon.ts), for which it needs `gc` (--expose-gc), a flag
// that must be there when the process starts. So the launcher re-executes
// itself once for `seed`, in place (process.execve: same pid, ~40 ms; Node
// 22.15+, else the seed runs as started and collects as V8 decides).
// glibc's malloc variables, tried for the same soak, cost a seed ~20% more
// CPU per byte served and did not stop its RSS creeping (docs/design.md,
// "The seed's memory").
const SEED_FLAG = '--expose-gc'
// The re-executed seed also runs on jemalloc when the system has it
// (Debian's libjemalloc2): glibc's malloc keeps a seed's freed buffers
// (blocks, socket reads) at each new high-water mark for as long as it
// runs (one seed's brk heap stayed at 43 MiB after a burst of fetches,
// its live heap 21 MiB), and jemalloc gives pages unused for ~30 s back
// (dirty_decay_ms; muzzy_decay_ms:0, since pages freed lazily still count
// in RSS). It may cost the seeder ~10% more CPU per byte served, within
// this box's spread. A preload or MALLOC_CONF the user set is kept;
// CAIRN_MALLOC=system turns it off (docs/design.md, "The seed's memory").
const JEMALLOC = [
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2',
  '/usr/lib/libjemalloc.so.2',
  '/usr/local/lib/libjemalloc.so.2'
]
const JEMALLOC_CONF = 'dirty_decay_ms:30000,muzzy_decay_ms:0'
/** the seed's environment: the caller's, with jemalloc preloaded where it applies */
function seedEnv (env) {
  if (env.CAIRN_MALLOC === 'system' || (env.LD_PRELOAD ?? '') !== '' || process.platform !== 'linux') return env
  const fs = process.getBuiltinModule?.('node:fs')
  const lib = fs == null ? undefined : JEMALLOC.find(p => fs.existsSync(p))
  if (lib == null) return env
  return { ...env, LD_PRELOAD: lib, MALLOC_CONF: env.MALLOC_CONF ?? JEMALLOC_CONF }
}
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
if (typeof process.execve === 'function' && commandName(process.argv.slice(2)) === 'seed' && !process.execArgv.includes(SEED_FLAG)) {
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, SEED_FLAG, ...process.argv.slice(1)], seedEnv(process.env))
  } catch {
    // not replaced (Windows, a seccomp policy): the seed runs as started
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

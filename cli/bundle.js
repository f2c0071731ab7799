// The second build step (`npm run build`, after tsc): bundles the compiled CLI
// in dist/ with its dependencies into dist/bundle/, which the launcher
// (cli/cairn.js) runs. Node resolved and loaded ~900 modules for a fetch: of
// a 1 KiB get's ~0.55 s, ~0.3 s went to module resolution, package.json
// reads and stats (node --cpu-prof); bundled, the same get takes ~0.25 s
// (docs/design.md). Commands stay lazy: each is a chunk of its own
// (splitting), loaded only when run. The tests' own imports of dist/ are not
// bundled.

import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'
import { PATCHED_UTILS_VERSION, PRIVATE_IP_MODULE, wrapPrivateIpSource } from '../dist/core/net/public-ranges.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DIST = path.join(ROOT, 'dist')
const OUT = path.join(DIST, 'bundle')

/** entry points: the CLI, and the workers, which their modules start by these names beside them */
const ENTRIES = {
  main: 'cli/main.js',
  'block-worker': 'storage/block-worker.js',
  'mine-worker': 'core/anchor/mine-worker.js'
}

/**
 * Packages left in node_modules, loaded from there at run time, each because
 * it reads a file beside itself that the bundle would not have.
 */
const LEFT_OUT = [
  // reads dist/rabin.wasm through __dirname (the rabin chunker)
  'rabin-wasm',
  // reads its own package.json through require('../../package.json') (UPnP)
  '@achingbrain/ssdp'
]

/** `s` matched literally in a RegExp */
const literal = s => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

/** Imports of LEFT_OUT packages become relative imports of the files the resolver found. */
const leaveOut = {
  name: 'leave-out',
  setup (build) {
    const filter = new RegExp(`^(${LEFT_OUT.map(literal).join('|')})$`)
    build.onResolve({ filter }, async args => {
      if (args.pluginData === 'leave-out') return undefined
      const found = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'leave-out' })
      if (found.errors.length > 0) return { errors: found.errors }
      return { path: path.relative(OUT, found.path).split(path.sep).join('/'), external: true }
    })
  }
}

/** libp2p's isPrivateIp, wrapped as the launcher's hook wraps it for unbundled code (core/net/public-ranges.ts). */
const publicRanges = {
  name: 'public-ranges',
  setup (build) {
    const self = path.join(DIST, 'core', 'net', 'public-ranges.js')
    const filter = new RegExp(`${literal(PRIVATE_IP_MODULE)}$`)
    build.onLoad({ filter }, async args => {
      const source = await fs.readFile(args.path, 'utf8')
      const wrapped = wrapPrivateIpSource(source, self)
      if (wrapped == null) {
        // a libp2p other than the one the wrap was written for: stop here, loudly
        return { errors: [{ text: `${args.path} is not @libp2p/utils ${PATCHED_UTILS_VERSION}'s (SHA-256 differs): review core/net/public-ranges.ts against it, then update PRIVATE_IP_SHA256 and the pin in package.json` }] }
      }
      return { contents: wrapped, loader: 'js' }
    })
  }
}

await fs.rm(OUT, { recursive: true, force: true })
/**
 * Edits of dependencies' code in the bundle, each one measured. A text not
 * found (a new version) leaves that file as it is, with a warning: slower,
 * not wrong.
 */
const EDITS = [
  {
    file: '/meow/build/dependencies.js',
    // meow's own bundle runs normalize-package-data's setup (spdx-correct's
    // tables, ~30 ms) on import, though meow calls it only when asked for
    // its pkg, which cairn never is: deferred to that call, `cairn
    // --version` 80 -> 50 ms, a `cat` through a seed ~150 -> ~120 ms
    find: 'var normalizeExports = requireNormalize();\nconst normalizePackageData = getDefaultExportFromCjs(normalizeExports);',
    replace: 'const normalizePackageData = (...args) => getDefaultExportFromCjs(requireNormalize())(...args);'
  },
  // Node builds an ESM namespace of a built-in imported by `import`, reading
  // every export: node:util's lazy ones load ~30 more built-ins (parseArgs,
  // util.diff, worker_threads), node:process's its report module, and
  // node:child_process loads dgram. meow's code is the only one on the path
  // of `cat`/`get` through a seed that imports them; require() (the
  // bundle's banner defines it) builds no namespace. `cat` through a seed
  // loaded 145 built-ins, 113 after these edits (docs/bench.md).
  {
    file: '/meow/build/dependencies.js',
    // a leftover of meow's bundler: the result is unused, but it loads child_process
    find: "import { promisify } from 'node:util';\nimport { execFile } from 'node:child_process';\n",
    replace: ''
  },
  {
    file: '/meow/build/dependencies.js',
    find: '\npromisify(execFile);\n',
    replace: '\n'
  },
  {
    file: '/meow/build/dependencies.js',
    find: "import require$$0$2, { format } from 'util';",
    replace: "const require$$0$2 = require('node:util'); const { format } = require$$0$2;"
  },
  {
    file: '/meow/build/dependencies.js',
    find: "import process$1 from 'node:process';",
    replace: 'const process$1 = process;'
  },
  ...['index.js', 'options.js', 'validate.js'].map(f => ({
    file: `/meow/build/${f}`,
    find: "import process from 'node:process';",
    replace: ''
  })),
  {
    file: '/@libp2p/noise/dist/src/utils.js',
    // @libp2p/noise joins every ciphertext message that spans two socket
    // reads (nearly all: 64 KiB reads, 64 KiB + 2 byte messages) into a
    // `dst` buffer for its WebAssembly cipher to decrypt into; cairn's
    // cipher (core/net/noise-crypto.ts) decrypts messages that size with
    // Node's and never reads `dst`, and the WebAssembly one allocates its
    // own without it. A copy and a 64 KiB allocation per message on the
    // receiving side: 0.03-0.17 s of CPU per 512 MiB (docs/bench.md)
    find: 'const dst = chunk.subarray(i, end - CHACHA_TAG_LENGTH);',
    replace: 'const dst = chunk instanceof Uint8Array ? chunk.subarray(i, end - CHACHA_TAG_LENGTH) : undefined;'
  }
]

/** Applies every edit of a file in one onLoad (esbuild takes the first onLoad that answers). */
const edits = {
  name: 'edits',
  setup (build) {
    const files = [...new Set(EDITS.map(e => e.file))]
    for (const file of files) {
      build.onLoad({ filter: new RegExp(`${literal(file)}$`) }, async args => {
        let source = await fs.readFile(args.path, 'utf8')
        const warnings = []
        for (const edit of EDITS.filter(e => e.file === file)) {
          if (!source.includes(edit.find)) warnings.push({ text: `${file} changed: an edit was not made (cli/bundle.js EDITS): ${edit.find.slice(0, 60)}` })
          else source = source.replace(edit.find, edit.replace)
        }
        return { contents: source, loader: 'js', warnings }
      })
    }
  }
}

const result = await esbuild.build({
  absWorkingDir: ROOT,
  entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [name, path.join(DIST, file)])),
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  // class and function names survive renaming: errors are told apart by
  // `name` (new.target.name), also across the daemon's API
  keepNames: true,
  // white space and syntax only (names stay, for stack traces): a 1 KiB get
  // started ~10% sooner (smaller files to read and parse)
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  // CommonJS dependencies call require(); an ESM bundle has none of its own
  banner: { js: "import { createRequire as __cairnCreateRequire } from 'node:module'; const require = __cairnCreateRequire(import.meta.url);" },
  // ink imports its devtools only with DEV=true; the package is not installed
  external: ['react-devtools-core'],
  plugins: [leaveOut, publicRanges, edits],
  logLevel: 'warning'
})
if (result.errors.length > 0) process.exit(1)

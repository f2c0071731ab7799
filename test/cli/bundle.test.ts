// The launcher runs the bundle that `npm run build` makes (cli/bundle.js):
// commands load their code from dist/bundle/, not module by module from
// node_modules, and what the bundle reads beside itself is there.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { importer } from 'ipfs-unixfs-importer'
import { rabin } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { MemoryBlockstore } from 'blockstore-core'
import { CAIRN, NODE_FLAGS, ROOT, cairn, pseudoRandom, tempDir } from '../helpers.ts'

const BUNDLE = path.join(ROOT, 'dist', 'bundle')

/** Runs cairn with a preload that lists every module URL Node loads; returns them with the exit code. */
async function loadedModules (dir: string, args: string[]): Promise<{ code: number | null, stderr: string, urls: string[] }> {
  const probe = path.join(dir, 'probe.mjs')
  const list = path.join(dir, `loaded-${Date.now()}.txt`)
  await fs.writeFile(probe, `
    import module from 'node:module'
    import fs from 'node:fs'
    const urls = []
    module.registerHooks({ load (url, context, next) { urls.push(url); return next(url, context) } })
    process.on('exit', () => { fs.writeFileSync(${JSON.stringify(list)}, urls.join('\\n')) })
  `)
  const child = spawn(process.execPath, [...NODE_FLAGS, '--import', probe, CAIRN, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const code = await new Promise<number | null>(resolve => child.on('close', c => resolve(c)))
  clearTimeout(timer)
  return { code, stderr, urls: (await fs.readFile(list, 'utf8')).split('\n').filter(u => u !== '') }
}

/**
 * Packages cli/bundle.js leaves in node_modules, and their dependencies:
 * rabin-wasm loads with every add (the importer's chunker module imports it)
 */
const LEFT_OUT = ['rabin-wasm', '@assemblyscript/loader', '@achingbrain/ssdp']

/** Modules loaded from node_modules that are not of a package the bundle leaves out. */
const bundledYetLoaded = (urls: string[]): string[] => urls.filter(u => u.includes('/node_modules/') && !LEFT_OUT.some(p => u.includes(`/node_modules/${p}/`)))

test('cairn loads its code from the bundle: a local and a network command load from node_modules only what the bundle leaves out', { timeout: 60_000 }, async () => {
  const { dir, cleanup } = await tempDir('cairn-bundle-')
  try {
    const file = path.join(dir, 'f.bin')
    await fs.writeFile(file, pseudoRandom(3000, 3))
    const add = await loadedModules(dir, ['--repo', path.join(dir, 'r'), 'add', '-Q', file])
    assert.equal(add.code, 0, add.stderr)
    assert.ok(add.urls.some(u => u.endsWith('/dist/bundle/main.js')), 'the launcher imported dist/bundle/main.js')
    assert.ok(!add.urls.some(u => u.includes('/dist/cli/')), 'no unbundled CLI module was loaded')
    assert.deepEqual(bundledYetLoaded(add.urls), [])
    // the network stack: a get from a peer that is not there loads libp2p and
    // fails; with public ranges declared, which work only where the bundle
    // wrapped libp2p's isPrivateIp (core/net/public-ranges.ts)
    const config = JSON.parse(await fs.readFile(path.join(dir, 'r', 'config.json'), 'utf8')) as { network: Record<string, unknown> }
    config.network.publicRanges = ['198.51.100.0/24']
    await fs.writeFile(path.join(dir, 'r', 'config.json'), JSON.stringify(config))
    const get = await loadedModules(dir, ['--repo', path.join(dir, 'r'), 'get', 'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4',
      '-o', path.join(dir, 'out'), '--peer', '/ip4/127.0.0.1/tcp/9/p2p/12D3KooWJb3cmBsz8mU4NYDWzZGU2Vix2sFyzaGkPUn35GKBzrx9', '--timeout', '5'])
    assert.notEqual(get.code, 0)
    assert.doesNotMatch(get.stderr, /publicRanges/)
    assert.match(get.stderr, /^Error: .*(dial|connect|reach)/im)
    assert.ok(get.urls.filter(u => u.includes('/dist/bundle/')).length > 5, 'get loaded the network chunks of the bundle')
    assert.deepEqual(bundledYetLoaded(get.urls), [])
  } finally {
    await cleanup()
  }
})

test('the rabin chunker, whose wasm the bundle leaves in node_modules, gives the importer\'s CID', { timeout: 60_000 }, async () => {
  const { dir, cleanup } = await tempDir('cairn-bundle-')
  try {
    const bytes = pseudoRandom(3 * 1024 * 1024 + 7, 11)
    const file = path.join(dir, 'f.bin')
    await fs.writeFile(file, bytes)
    const spec = { minChunkSize: 64 * 1024, avgChunkSize: 256 * 1024, maxChunkSize: 512 * 1024 }
    // the reference: the importer itself with the default profile's settings and the same rabin chunker
    let root = ''
    for await (const e of importer([{ content: bytes }], new MemoryBlockstore(), { cidVersion: 1, rawLeaves: true, layout: balanced({ maxChildrenPerNode: 1024 }), chunker: rabin(spec) })) root = e.cid.toString()
    const printed = await cairn(['--repo', path.join(dir, 'r'), 'add', '-Q', '-n', '--chunker', `rabin-${spec.minChunkSize}-${spec.avgChunkSize}-${spec.maxChunkSize}`, file])
    assert.equal(printed.code, 0, printed.stderr)
    assert.equal(printed.stdout.trim(), root)
    const fixed = await cairn(['--repo', path.join(dir, 'r'), 'add', '-Q', '-n', file])
    assert.notEqual(fixed.stdout.trim(), root, 'rabin cut the file otherwise than 1 MiB chunks')
  } finally {
    await cleanup()
  }
})

test('every file the bundle reads beside itself is there', async () => {
  const names = (await fs.readdir(BUNDLE)).filter(n => n.endsWith('.js'))
  assert.ok(names.includes('main.js') && names.includes('block-worker.js') && names.includes('mine-worker.js'), names.join(' '))
  const missing: string[] = []
  for (const n of names) {
    const code = await fs.readFile(path.join(BUNDLE, n), 'utf8')
    // CommonJS paths have no meaning in an ESM bundle: such a package belongs in cli/bundle.js LEFT_OUT
    for (const m of code.matchAll(/\b__(dirname|filename)\b/g)) missing.push(`${n}: uses __${m[1]}`)
    for (const m of code.matchAll(/new URL\("([^"]+)",\s*import\.meta\.url\)/g)) {
      // ink reads its own package.json only with DEV=true (React devtools, not installed)
      if (m[1] === '../package.json' && code.includes('Failed to load package.json in development mode')) continue
      const target = path.join(BUNDLE, m[1])
      if (!(await fs.stat(target).then(() => true, () => false))) missing.push(`${n}: reads ${m[1]}, not in dist/bundle`)
    }
  }
  assert.deepEqual(missing, [])
})

test('no chunk is a CommonJS package behind a dynamic import (its named exports would be missing)', async () => {
  // esbuild turns import('cjs-package') into a chunk exporting only `default`:
  // `(await import('react')).createElement` was undefined in the bundle
  const names = (await fs.readdir(BUNDLE)).filter(n => n.endsWith('.js'))
  const defaultOnly: string[] = []
  for (const n of names) {
    if (/export default require_\w+\(\);/.test(await fs.readFile(path.join(BUNDLE, n), 'utf8'))) defaultOnly.push(n)
  }
  assert.deepEqual(defaultOnly, [])
})

/** The built-in modules Node loaded while running cairn with `args` (process.moduleLoadList at exit). */
async function loadedBuiltins (dir: string, args: string[]): Promise<{ code: number | null, stderr: string, builtins: string[] }> {
  const probe = path.join(dir, 'builtins.cjs')
  const list = path.join(dir, `builtins-${Date.now()}.txt`)
  await fs.writeFile(probe, `process.on('exit', () => { require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.filter(m => m.startsWith('NativeModule ')).map(m => m.slice(13)).join('\\n')) })`)
  const child = spawn(process.execPath, [...NODE_FLAGS, '--require', probe, CAIRN, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const code = await new Promise<number | null>(resolve => child.on('close', c => resolve(c)))
  clearTimeout(timer)
  return { code, stderr, builtins: (await fs.readFile(list, 'utf8')).split('\n') }
}

test('parsing a command\'s flags with meow loads no built-in that cat and get do not use (the start of cat through a seed)', { timeout: 60_000 }, async () => {
  const { dir, cleanup } = await tempDir('cairn-bundle-')
  try {
    // --help: meow parses the flags, nothing else runs
    const r = await loadedBuiltins(dir, ['cat', '--help'])
    assert.equal(r.code, 0, r.stderr)
    // ESM namespaces of node:util, node:process and node:child_process loaded these (meow's imports)
    const unwanted = ['child_process', 'dgram', 'worker_threads', 'internal/util/parse_args/parse_args', 'internal/util/diff', 'internal/process/report']
    assert.deepEqual(unwanted.filter(m => r.builtins.includes(m)), [])
    assert.ok(r.builtins.includes('fs'), 'the list of built-ins was read')
  } finally {
    await cleanup()
  }
})

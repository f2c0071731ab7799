// network.publicRanges: declared ranges answer "public", others are untouched,
// and the hook wraps libp2p's isPrivateIp when loaded through it.

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { isDeclaredPublic, setPublicRanges } from '../../../core/net/public-ranges.ts'
import { ROOT } from '../../helpers.ts'

test('declared ranges, IPv4 and IPv6, and nothing else; [] undoes them', () => {
  setPublicRanges(['198.51.100.0/24', '2001:db8::/32'])
  try {
    assert.equal(isDeclaredPublic('198.51.100.7'), true)
    assert.equal(isDeclaredPublic('198.51.101.7'), false)
    assert.equal(isDeclaredPublic('192.0.2.1'), false)
    assert.equal(isDeclaredPublic('2001:db8::1'), true)
    assert.equal(isDeclaredPublic('2001:db9::1'), false)
    assert.equal(isDeclaredPublic('not an ip'), false)
  } finally {
    setPublicRanges([])
  }
  assert.equal(isDeclaredPublic('198.51.100.7'), false)
})

test('through the hook, libp2p calls a declared range public and keeps its own answer elsewhere', () => {
  // a fresh process: the hook must be installed before @libp2p/utils loads
  const script = `
    const { installPublicRangesHook, setPublicRanges, publicRangesActive } = await import('./dist/core/net/public-ranges.js')
    installPublicRangesHook()
    const { isPrivateIp, isPrivate } = await import('@libp2p/utils')
    const { multiaddr } = await import('@multiformats/multiaddr')
    const before = isPrivateIp('198.51.100.7')
    setPublicRanges(['198.51.100.0/24'])
    console.log(JSON.stringify({ active: publicRangesActive(), before, after: isPrivateIp('198.51.100.7'), other: isPrivateIp('192.0.2.1'), lan: isPrivateIp('10.1.2.3'), ma: isPrivate(multiaddr('/ip4/198.51.100.7/tcp/1')) }))
  `
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout), { active: true, before: true, after: false, other: true, lan: true, ma: false })
})

test('only the pinned @libp2p/utils file is wrapped: any other source, even one that still exports isPrivateIp, is left alone', async () => {
  const fs = await import('node:fs/promises')
  const path = await import('node:path')
  const { wrapPrivateIpSource, isPatchedSource, PATCHED_UTILS_VERSION } = await import('../../../core/net/public-ranges.ts')
  const file = path.join(ROOT, 'node_modules', '@libp2p', 'utils', 'dist', 'src', 'private-ip.js')
  const source = await fs.readFile(file, 'utf8')
  const pkg = JSON.parse(await fs.readFile(path.join(ROOT, 'node_modules', '@libp2p', 'utils', 'package.json'), 'utf8')) as { version: string }
  assert.equal(pkg.version, PATCHED_UTILS_VERSION, 'the installed @libp2p/utils is the one the wrap was written for')
  const declared = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
  assert.equal(declared.dependencies['@libp2p/utils'], PATCHED_UTILS_VERSION, 'package.json pins it exactly')
  assert.equal(isPatchedSource(source), true)
  assert.notEqual(wrapPrivateIpSource(source, '/x.js'), null)
  const changed = source.replace('export function isPrivateIp(', 'export function isPrivateIp( /* a new libp2p */')
  assert.equal(wrapPrivateIpSource(changed, '/x.js'), null)
  assert.equal(wrapPrivateIpSource(source + '\n// one more line\n', '/x.js'), null)
})

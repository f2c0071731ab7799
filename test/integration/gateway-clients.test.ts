// Independent clients of the gateway, each run in a network namespace of its
// own with only loopback up (`unshare -n`): nothing they do can leave the
// machine, whatever their defaults. @helia/verified-fetch on Helia over HTTP
// (verified-fetch-client.ts) and headless chromium (browser-client.ts).

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, test } from 'node:test'
import { promisify } from 'node:util'
import { ROOT } from '../helpers.ts'

const run = promisify(execFile)
/** one client run, at most (each bounds itself below this) */
const CLIENT_TIMEOUT_MS = 180_000
const CHROMIUM = '/usr/bin/chromium'

/** Why a namespace with only loopback cannot be made here, or null. */
function unshareUnavailable (): string | null {
  if (process.getuid?.() !== 0) return 'needs root (unshare -n)'
  try {
    fs.accessSync('/usr/bin/unshare')
  } catch {
    return 'no unshare(1)'
  }
  return null
}

/**
 * Runs a client script in a fresh network namespace (loopback only: the
 * script first checks there is no route at all); its one JSON line.
 */
async function inNamespace (script: string, args: string[] = []): Promise<Record<string, any>> {
  const js = path.join(ROOT, 'dist', 'test', 'integration', script)
  const cmd = 'ip link set lo up && if [ -n "$(ip route show; ip -6 route show | grep -v "^::1 \\|^fe80")" ]; then echo \'{"error":"a route out exists"}\'; exit 1; fi; exec "$0" "$@"'
  const { stdout } = await run('unshare', ['-n', 'sh', '-c', cmd, process.execPath, js, ...args], { cwd: ROOT, timeout: CLIENT_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }).catch(err => ({ stdout: String((err as { stdout?: string }).stdout ?? ''), stderr: '' }))
  const line = stdout.trim().split('\n').pop() ?? ''
  const out = JSON.parse(line === '' ? '{"error":"no output"}' : line) as Record<string, any>
  assert.equal(out.error, undefined, String(out.error))
  return out
}

const skip = unshareUnavailable()

describe('independent clients', { timeout: 400_000, skip: skip ?? false }, () => {
  test('@helia/verified-fetch over HTTP only, with the gateway as its one gateway and router, fetches and verifies a multi-block file and a file in a directory', async () => {
    const r = await inNamespace('verified-fetch-client.js')
    assert.equal(r.file.status, 200)
    assert.equal(r.file.ok, true, 'the multi-block file, byte for byte')
    assert.equal(r.file.bytes, 5 * 1024 * 1024 + 333)
    assert.equal(r.inner.status, 200)
    assert.equal(r.inner.ok, true, 'the file in a directory')
    // the blocks came from the gateway (the client has no other source: no libp2p, no other gateway, no route out)
    assert.ok(r.gateway.served >= 2, `gateway answered ${r.gateway.served} requests`)
    assert.ok(r.gateway.bytes >= r.file.bytes, 'at least the file\'s bytes went through the gateway')
  })

  test('chromium opens a listing and follows a link, renders a site\'s index.html, plays and seeks a media file through Range requests', { skip: fs.existsSync(CHROMIUM) ? false : `no ${CHROMIUM}` }, async () => {
    const shots = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-gw-shots-'))
    const r = await inNamespace('browser-client.js', [shots])
    assert.match(r.listing.title, /^\/ipfs\/\w+\/files$/)
    assert.equal(r.listing.strangeShown, 1, 'the stranger name shows as text')
    assert.equal(r.file, 'hello from a listing')
    assert.equal(r.site.title, 'cairn site')
    assert.equal(r.site.h1Color, 'rgb(200, 30, 30)', 'the stylesheet beside index.html applied')
    assert.equal(r.media.error, null)
    assert.equal(r.media.duration, 300)
    assert.ok(r.media.after >= 280 && r.media.after < 290, `played from the seek (${r.media.after})`)
    assert.ok(r.media.ranges.length >= 2, `Range requests: ${JSON.stringify(r.media.ranges)}`)
    assert.ok(r.media.ranges.some((h: string) => /^bytes=[1-9]\d*-/.test(h)), 'one starts past the beginning (the seek)')
    assert.ok(r.media.statuses.every((s: number) => s === 206))
    // the server saw them: the first (bytes=0-) the browser drops once it seeks (counted 499, the client left), the seek's completes as 206
    assert.ok(r.media.serverPartial >= 1, `the server answered ${r.media.serverPartial} ranges with 206 in full`)
    assert.ok(r.media.serverPartial + r.media.serverLeft >= r.media.ranges.length, `206s ${r.media.serverPartial} + cut off ${r.media.serverLeft} cover the ${r.media.ranges.length} Range requests`)
    for (const f of ['listing.png', 'file.png', 'site.png', 'media.png']) assert.ok(fs.statSync(path.join(shots, f)).size > 1000, f)
    process.stderr.write(`# screenshots in ${shots}\n`)
  })
})

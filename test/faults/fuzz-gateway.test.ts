// Fuzzing the gateway's parsing of what HTTP clients send: URL paths and
// queries, Accept, Range, If-None-Match, Cache-Control, entity-bytes and
// ?filename= (fast-check, in process, 10,000 cases per function), then a
// smaller run of random requests over real HTTP at a real seed. For every
// case: no crash, and any refusal is a GatewayError with a 4xx status; over
// HTTP, no 5xx other than 503/504, and the seed still answers afterwards.

import assert from 'node:assert/strict'
import net from 'node:net'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import fc from 'fast-check'
import { GatewayError, chooseFormat, contentDisposition, entityRange, noneMatch, onlyIfCached, parseAccept, parseDagScope, parseEntityBytes, parseRange, parseTarget } from '../../core/gateway/request.ts'
import { typeFromBytes, typeFromName } from '../../core/gateway/content-type.ts'
import { cairn } from '../helpers.ts'
import { Resources, stopLive } from '../integration/seeds.ts'
import { gatewaySeed, get } from '../integration/gateway-http.ts'

/** cases per function (the issue asks for at least 10,000 in all) */
const RUNS = 10_000
/** random requests over real HTTP */
const HTTP_RUNS = 600
/** one raw HTTP exchange, at most */
const HTTP_CASE_MS = 15_000

/** Runs `fn`: anything it throws must be a GatewayError with a 4xx status. */
function refusedCleanly (fn: () => unknown): void {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof GatewayError, `not a GatewayError: ${(err as Error)?.stack ?? String(err)}`)
    assert.ok(err.status >= 400 && err.status < 500, `status ${err.status}`)
    assert.doesNotMatch(err.message, /\n/, 'one line')
  }
}

const CID = 'bafybeibfevfxlvxp5vxobr5oapczpf7resxnleb7tkqmdorc4gl5cdva3y'
/** pieces a hostile path is made of */
const pathPiece = fc.oneof(
  fc.constantFrom('x.constructor', 'a.__proto__', 'b.valueOf', 'c.toString'),
  fc.constantFrom('ipfs', 'ipns', 'routing', 'v1', 'providers', 'peers', CID, 'bafkqaaa', 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG', '', '.', '..', '%2F', '%00', '%zz', '%', '%E2%82', '?', '#', 'index.html', 'a b'),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 10 })
)
const target = fc.tuple(fc.array(pathPiece, { maxLength: 8 }), fc.option(fc.string({ maxLength: 60 }))).map(([parts, q]) => `/${parts.join('/')}${q != null ? `?${q}` : ''}`)
const query = fc.array(fc.tuple(fc.constantFrom('format', 'dag-scope', 'entity-bytes', 'filename', 'download', 'x'), fc.oneof(fc.constantFrom('raw', 'car', 'tar', 'valueOf', '__proto__', 'constructor', 'block', 'entity', 'all', '0:*', '-1:*', '5:2', ':', '*:*', '1e3:5', 'true'), fc.string({ maxLength: 12 }))), { maxLength: 4 })
  .map(kv => kv.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&'))

describe('gateway parsing, in process', { timeout: 300_000 }, () => {
  test('URL paths and queries: a request, or a 4xx refusal', () => {
    fc.assert(fc.property(fc.oneof(target, fc.string({ maxLength: 200 }), query.map(q => `/ipfs/${CID}/a?${q}`)), url => {
      refusedCleanly(() => {
        const r = parseTarget(url)
        if (r.kind === 'ipfs') {
          assert.ok(r.segments.every(s => s !== '' && !s.includes('/') && !s.includes('\0') && s !== '..' && s !== '.'))
          parseDagScope(r.query.get('dag-scope'))
          parseEntityBytes(r.query.get('entity-bytes'))
          chooseFormat(r.query.get('format'), undefined)
        }
      })
    }), { numRuns: RUNS })
  })

  test('Accept and ?format=: a format, or a 4xx refusal', () => {
    const media = fc.oneof(fc.constantFrom('application/vnd.ipld.car', 'application/vnd.ipld.raw', 'application/vnd.ipld.dag-json', 'text/html', '*/*', 'application/x-tar', 'application/vnd.ipld.car;version=2', 'application/vnd.ipld.car; order=dfs; dups=y', ';q=0', ';q=abc', ''), fc.string({ maxLength: 30 }))
    fc.assert(fc.property(fc.option(fc.string({ maxLength: 10 })), fc.array(media, { maxLength: 6 }).map(a => a.join(',')), (format, accept) => {
      refusedCleanly(() => {
        const f = chooseFormat(format, accept)
        assert.ok(f === null || f === 'raw' || f === 'car')
      })
      for (const item of parseAccept(accept)) assert.ok(item.q > 0)
    }), { numRuns: RUNS })
  })

  test('Range: ignored, unsatisfiable, or a range inside the file', () => {
    const header = fc.oneof(fc.string({ maxLength: 40 }), fc.tuple(fc.option(fc.nat({ max: 2 ** 40 })), fc.option(fc.nat({ max: 2 ** 40 }))).map(([a, b]) => `bytes=${a ?? ''}-${b ?? ''}`), fc.constantFrom('bytes=0-0,5-9', 'bytes=-0', 'bytes= 1 - 2 ', 'items=0-1', 'bytes=99999999999999999999-'))
    fc.assert(fc.property(header, fc.nat({ max: 2 ** 36 }), (h, size) => {
      const r = parseRange(h, size)
      if (r !== null && r !== 'unsatisfiable') {
        assert.ok(Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end))
        assert.ok(r.start >= 0 && r.start < r.end && r.end <= size, `${h} on ${size}: ${JSON.stringify(r)}`)
      }
    }), { numRuns: RUNS })
  })

  test('entity-bytes: a 4xx refusal, or a range inside the file', () => {
    const v = fc.oneof(fc.string({ maxLength: 30 }), fc.tuple(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.oneof(fc.constant('*'), fc.integer({ min: -(2 ** 40), max: 2 ** 40 }).map(String))).map(([a, b]) => `${a}:${b}`))
    fc.assert(fc.property(v, fc.nat({ max: 2 ** 36 }), (text, size) => {
      refusedCleanly(() => {
        const e = parseEntityBytes(text)
        if (e == null) return
        const { start, end } = entityRange(e, size)
        assert.ok(start >= 0 && start <= end && end <= size, `${text} on ${size}: ${start}-${end}`)
      })
    }), { numRuns: RUNS })
  })

  test('If-None-Match, Cache-Control, ?filename= and first bytes: no crash; Content-Disposition never breaks its header', () => {
    fc.assert(fc.property(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 }), fc.uint8Array({ maxLength: 600 }), (h, name, bytes) => {
      assert.equal(typeof noneMatch(h, `"${CID}"`), 'boolean')
      assert.equal(typeof onlyIfCached(h), 'boolean')
      for (const kind of ['inline', 'attachment'] as const) {
        const d = contentDisposition(kind, name)
        // eslint-disable-next-line no-control-regex -- looking for control characters
        assert.doesNotMatch(d, /[\u0000-\u001f\u007f]/, 'no control characters in the header')
        assert.ok(/^(inline|attachment); filename="[\x20-\x21\x23-\x5b\x5d-\x7e]*"; filename\*=UTF-8''[A-Za-z0-9%!'()*._~-]*$/.test(d), d)
      }
      assert.equal(typeof typeFromBytes(bytes), 'string')
      const byName = typeFromName(name)
      assert.ok(byName === null || typeof byName === 'string', `type of ${JSON.stringify(name)}`)
    }), { numRuns: RUNS })
  })
})

/** One raw HTTP/1.1 request (any bytes in the target and headers): the status code, 0 if the connection closed without one. */
async function rawRequest (port: number, target: string, headers: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1')
    let data = ''
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no answer to ${JSON.stringify(target)} within ${HTTP_CASE_MS} ms`)) }, HTTP_CASE_MS)
    sock.setEncoding('latin1')
    sock.on('data', (s: string) => {
      data += s
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data)
      if (m != null) { clearTimeout(timer); sock.destroy(); resolve(Number(m[1])) }
    })
    sock.on('error', () => {})
    sock.on('close', () => { clearTimeout(timer); resolve(0) })
    sock.write(Buffer.from(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Connection: close\r\n\r\n`, 'latin1'))
  })
}

describe('gateway parsing, over real HTTP', { timeout: 300_000 }, () => {
  const res = new Resources()
  let port = 0
  let root = ''
  before(async () => {
    const dir = await res.dir('cairn-gwfuzz-')
    const repo = path.join(dir, 'repo')
    const add = await cairn(['add', '-r', '-Q', path.join(import.meta.dirname, '..', '..', '..', 'fixtures', 'demo'), '--repo', repo])
    assert.equal(add.code, 0, add.stderr)
    root = add.stdout.trim()
    ;({ port } = await gatewaySeed(res, repo, { 'gateway.timeout': '2' }))
  })
  after(async () => { await res.close(); await stopLive() })

  test(`${HTTP_RUNS} random requests: no 5xx but 503/504, and the seed still serves`, async () => {
    const headerLine = fc.tuple(fc.constantFrom('Accept', 'Range', 'If-None-Match', 'Cache-Control', 'X-Junk'), fc.oneof(fc.constantFrom('application/vnd.ipld.car', 'application/vnd.ipld.raw;q=0.5, */*', 'bytes=0-10', 'bytes=-5', 'only-if-cached', '*'), fc.string({ maxLength: 30 }))).map(([k, v]) => `${k}: ${v.replace(/[\r\n]/g, '')}\r\n`)
    const seen = new Map<number, number>()
    await fc.assert(fc.asyncProperty(
      // eslint-disable-next-line no-control-regex -- a request line cannot hold control characters
      fc.oneof(target.map(t => t.replace(/[\s\u0000-\u001f]/g, '')), query.map(q => `/ipfs/${root}/?${q}`), fc.constantFrom(`/ipfs/${root}/`, `/ipfs/${root}/index.html`, `/ipfs/${root}?format=car`)),
      fc.array(headerLine, { maxLength: 3 }).map(a => a.join('')),
      async (t, h) => {
        const status = await rawRequest(port, t === '' ? '/' : t, h)
        seen.set(status, (seen.get(status) ?? 0) + 1)
        assert.ok(status === 0 || status < 500 || status === 503 || status === 504, `${JSON.stringify(t)} ${JSON.stringify(h)} → ${status}`)
      }
    ), { numRuns: HTTP_RUNS })
    assert.ok((seen.get(200) ?? 0) + (seen.get(301) ?? 0) > 0, `some requests were served: ${JSON.stringify([...seen])}`)
    const still = await get(port, `/ipfs/${root}/`)
    assert.equal(still.status, 200)
  })
})

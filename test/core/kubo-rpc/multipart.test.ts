// The multipart parser against bodies cut into chunks at every place:
// a delimiter, a header block or a CRLF split across two chunks must not
// change what the parts hold.

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { boundaryOf, parseMultipart } from '../../../core/kubo-rpc/multipart.ts'
import { RpcParamError } from '../../../core/kubo-rpc/wire.ts'

const BOUNDARY = '-----------------------------abc123'

function body (parts: Array<{ name: string, type: string, bytes: Buffer }>): Buffer {
  const out: Buffer[] = []
  parts.forEach((p, i) => {
    if (i > 0) out.push(Buffer.from('\r\n'))
    out.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file${i > 0 ? `-${i}` : ''}"; filename="${encodeURIComponent(p.name)}"\r\nContent-Type: ${p.type}\r\n\r\n`))
    out.push(p.bytes)
  })
  out.push(Buffer.from(`\r\n--${BOUNDARY}--\r\n`))
  return Buffer.concat(out)
}

async function * chunked (bytes: Buffer, cuts: number[]): AsyncGenerator<Uint8Array> {
  let at = 0
  for (const c of [...new Set(cuts)].sort((a, b) => a - b)) {
    if (c <= at || c >= bytes.length) continue
    yield bytes.subarray(at, c)
    at = c
  }
  yield bytes.subarray(at)
}

async function parse (source: AsyncIterable<Uint8Array>): Promise<Array<{ filename: string, contentType: string, bytes: Buffer }>> {
  const out = []
  for await (const p of parseMultipart(source, BOUNDARY)) {
    const chunks: Buffer[] = []
    for await (const c of p.body) chunks.push(Buffer.from(c))
    out.push({ filename: p.filename, contentType: p.contentType, bytes: Buffer.concat(chunks) })
  }
  return out
}

describe('multipart', () => {
  test('parts survive any chunking, including bytes that look like a delimiter', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ name: fc.string({ minLength: 1, maxLength: 20 }), bytes: fc.uint8Array({ maxLength: 300 }) }), { minLength: 1, maxLength: 4 }),
      fc.array(fc.nat(2000), { maxLength: 30 }),
      async (parts, cuts) => {
        const given = parts.map((p, i) => ({ name: `d/${p.name}`, type: i % 2 === 0 ? 'application/octet-stream' : 'application/x-directory', bytes: Buffer.concat([Buffer.from(p.bytes), Buffer.from(`\r\n--${BOUNDARY.slice(0, 10)}`)]) }))
        const got = await parse(chunked(body(given), cuts))
        assert.deepEqual(got.map(g => [g.filename, g.contentType, g.bytes.toString('hex')]), given.map(g => [g.name, g.type, g.bytes.toString('hex')]))
      }), { numRuns: 300 })
  })

  test('a body split in two at every offset, and one byte at a time, parses alike (directories, a body ending in a delimiter\'s start)', async () => {
    const given = [
      { name: 'dir', type: 'application/x-directory', bytes: Buffer.alloc(0) },
      { name: 'dir/a.bin', type: 'application/octet-stream', bytes: Buffer.concat([Buffer.from(`x\r\n--${BOUNDARY.slice(0, -1)}`), Buffer.from('tail')]) },
      { name: 'dir/b.txt', type: 'application/octet-stream', bytes: Buffer.from(`\r\n--${BOUNDARY.slice(0, 20)}`) },
      { name: 'dir/sub', type: 'application/x-directory', bytes: Buffer.alloc(0) }
    ]
    const whole = body(given)
    const want = given.map(g => [g.name, g.type, g.bytes.toString('hex')])
    for (let at = 1; at < whole.length; at++) {
      const got = await parse(chunked(whole, [at]))
      assert.deepEqual(got.map(g => [g.filename, g.contentType, g.bytes.toString('hex')]), want, `split at ${at} of ${whole.length}`)
    }
    const bytewise = await parse(chunked(whole, Array.from({ length: whole.length }, (_, i) => i)))
    assert.deepEqual(bytewise.map(g => [g.filename, g.contentType, g.bytes.toString('hex')]), want)
  })

  test('a part the reader skipped is kept for it, not lost', async () => {
    const given = [{ name: 'a', type: 'application/octet-stream', bytes: Buffer.from('first') }, { name: 'b', type: 'application/octet-stream', bytes: Buffer.from('second') }]
    const parts = []
    for await (const p of parseMultipart(chunked(body(given), [3, 50, 90]), BOUNDARY)) parts.push(p)
    const texts = []
    for (const p of parts) {
      const chunks: Buffer[] = []
      for await (const c of p.body) chunks.push(Buffer.from(c))
      texts.push(Buffer.concat(chunks).toString())
    }
    assert.deepEqual(texts, ['first', 'second'])
  })

  test('a body cut short, or without a boundary, is a 400', async () => {
    const whole = body([{ name: 'a', type: 'application/octet-stream', bytes: Buffer.from('data') }])
    await assert.rejects(parse(chunked(whole.subarray(0, whole.length - 10), [])), RpcParamError)
    assert.throws(() => boundaryOf('application/json'), RpcParamError)
    assert.equal(boundaryOf(`multipart/form-data; boundary=${BOUNDARY}`), BOUNDARY)
    assert.equal(boundaryOf('multipart/form-data; charset=utf-8; boundary="x y"'), 'x y')
  })
})

// core/api/protocol.ts: what comes from the api file and the socket is
// checked before the CLI trusts it; anything else is refused as a whole.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { endpointPort, parseEndpoint, parseErrorTrailer, parseWireLine } from '../../../core/api/protocol.ts'

const TOKEN = 'dG9rZW4'

test('an api file naming a socket or a loopback port is an endpoint', () => {
  assert.deepEqual(parseEndpoint(JSON.stringify({ socket: '/r/api.sock', http: null, token: TOKEN, pid: 42 })), { socket: '/r/api.sock', http: null, token: TOKEN, pid: 42 })
  const tcp = parseEndpoint(JSON.stringify({ socket: null, http: '127.0.0.1:4321', token: TOKEN, pid: 42 }))
  assert.equal(tcp?.http, '127.0.0.1:4321')
  assert.equal(endpointPort('127.0.0.1:4321'), 4321)
})

test('a torn, foreign or half-filled api file is no endpoint', () => {
  for (const text of [
    '', '{"socket": "/r/api.sock"', 'null', '[]',
    JSON.stringify({ socket: '/r/api.sock', http: null, token: TOKEN }),
    JSON.stringify({ socket: null, http: null, token: TOKEN, pid: 42 }),
    JSON.stringify({ socket: null, http: '192.0.2.1:80', token: TOKEN, pid: 42 }),
    JSON.stringify({ socket: '/r/api.sock', http: null, token: TOKEN, pid: '42' })
  ]) {
    assert.equal(parseEndpoint(text), null, text)
  }
})

test('answer lines: progress, item, result and error are read; anything else is refused', () => {
  assert.deepEqual(parseWireLine('{"progress":{"bytes":3}}'), { progress: { bytes: 3 } })
  assert.deepEqual(parseWireLine('{"result":null}'), { result: null })
  assert.deepEqual(parseWireLine('{"error":{"name":"UsageError","message":"bad","exitCode":2}}'), { error: { name: 'UsageError', message: 'bad', exitCode: 2 } })
  for (const text of ['', 'not json', '{}', '{"error":{"message":"no name"}}', '{"error":"text"}', '[1]']) {
    assert.equal(parseWireLine(text), null, text)
  }
})

test('an error trailer is read when it is a wire error, else refused', () => {
  const e = { name: 'PathNotFoundError', message: 'x: no such path', exitCode: 1 }
  assert.deepEqual(parseErrorTrailer(Buffer.from(JSON.stringify(e)).toString('base64url')), e)
  assert.equal(parseErrorTrailer(Buffer.from('{"name":1}').toString('base64url')), null)
  assert.equal(parseErrorTrailer('!!!'), null)
})

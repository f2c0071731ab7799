import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PARAMS, checkParams } from '../../../core/api/contract.ts'
import { makeHandlers } from '../../../core/api/handlers.ts'
import { UsageError } from '../../../core/util/errors.ts'

test('every handler has a contract entry and every contract entry a handler', () => {
  const handlers = makeHandlers({ repo: {} as never, lock: {} as never, node: async () => { throw new Error('no node') }, online: false, provider: null, shutdown: null, startedAt: 0, fetching: new Set(), chain: async () => { throw new Error('no chain') } })
  assert.deepEqual(Object.keys(handlers).sort(), Object.keys(PARAMS).sort())
})

test('a call with a missing or mistyped parameter is a usage error naming it; unknown parameters pass', () => {
  assert.deepEqual(checkParams('cat', { path: 'bafy', offset: 3 }), { path: 'bafy', offset: 3 })
  assert.deepEqual(checkParams('cat', { path: 'bafy', extra: 'x' }), { path: 'bafy', extra: 'x' })
  const bad: Array<[string, unknown, RegExp]> = [
    ['cat', {}, /cat: parameter "path"/],
    ['cat', { path: 'bafy', offset: -1 }, /parameter "offset"/],
    ['get', { path: 'bafy', force: 'yes' }, /parameter "force"/],
    ['findprovs', { cid: 'bafy', max: 0 }, /parameter "max"/],
    ['mine', {}, /parameter "on"/],
    ['add', { paths: ['a', 5] }, /parameter "paths.1"/],
    ['add', { profile: { name: 'unixfs-v1-2025', cidVersion: 2, rawLeaves: true, chunker: 'size-1', width: 174, hamt: 'block-bytes' } }, /parameter "profile.cidVersion"/],
    ['add', { profile: { name: 'fastest', cidVersion: 1, rawLeaves: true, chunker: 'size-1', width: 174, hamt: 'block-bytes' } }, /parameter "profile.name"/],
    ['name.publish', { value: 'bafy', lifetimeMs: 1.5 }, /parameter "lifetimeMs"/]
  ]
  for (const [method, params, re] of bad) {
    assert.throws(() => checkParams(method, params), (e: Error) => e instanceof UsageError && e.exitCode === 2 && re.test(e.message), `${method} ${JSON.stringify(params)}`)
  }
})

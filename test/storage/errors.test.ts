// storage/errors.ts describeFsError: one sentence naming the path, whether
// the errno name is in the error's code or only in its message (a failed
// child process such as `sync -f`).

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeFsError, errnoCode, errorMessage, errorName } from '../../storage/errors.ts'

test('an errno code becomes words', () => {
  const err = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
  assert.equal(describeFsError(err, 'cannot write /r/config.json'), 'cannot write /r/config.json: no space left on the device')
  assert.equal(describeFsError(Object.assign(new Error('x'), { code: 'EPERM' }), 'cannot read k'), 'cannot read k: permission denied')
})

test('an error with no errno code is judged by the errno name in its message', () => {
  const err = Object.assign(new Error('Command failed: sync -f /r/blocks\nEROFS: read-only'), { code: 1 })
  assert.equal(describeFsError(err, 'cannot flush the block store to disk'), 'cannot flush the block store to disk: the file system is read-only')
})

test('anything else keeps its message, without an error-name prefix', () => {
  assert.equal(describeFsError(new Error('TypeError: bad thing'), 'cannot write x'), 'cannot write x: bad thing')
  assert.equal(describeFsError('plain', 'cannot write x'), 'cannot write x: plain')
})

test('errnoCode, errorMessage and errorName read what was thrown, whatever it is', () => {
  const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' })
  assert.equal(errnoCode(enoent), 'ENOENT')
  assert.equal(errnoCode(Object.assign(new Error('x'), { code: 1 })), undefined, 'a numeric code (a child\'s exit status) is no errno name')
  assert.equal(errnoCode('ENOENT'), undefined)
  assert.equal(errnoCode(null), undefined)
  assert.equal(errorMessage(enoent), 'ENOENT: no such file')
  assert.equal(errorMessage('a thrown string'), 'a thrown string')
  assert.equal(errorMessage(undefined), 'undefined')
  assert.equal(errorMessage({ message: 7 }), '[object Object]')
  assert.equal(errorName(new DOMException('stop', 'AbortError')), 'AbortError')
  assert.equal(errorName(42), undefined)
})

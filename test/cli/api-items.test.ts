// What a command reads of a call's items and progress events is checked:
// an item it cannot read is one error line naming the method, and a
// progress event that is no transfer event is passed by.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as v from 'valibot'
import { DaemonUnreachableError } from '../../cli/client.ts'
import { expectItem } from '../../cli/items.ts'
import { transferEvent } from '../../cli/progress.ts'

const ROW = v.looseObject({ cid: v.string(), size: v.nullable(v.number()) })

test('an item is read whole, extra keys and their order kept (--json prints it)', () => {
  const item = { cid: 'bafy', size: null, name: 'a', type: 'file' }
  const got = expectItem(ROW, item, 'ls')
  assert.equal(JSON.stringify(got), JSON.stringify(item))
})

test('an item the command cannot read is one line naming the method and the field', () => {
  assert.throws(() => expectItem(ROW, { cid: 7, size: 1 }, 'ls'), (e: Error) =>
    e instanceof DaemonUnreachableError && /^ls answered an item cairn cannot read \("cid": .+\)$/.test(e.message) && !e.message.includes('\n'))
  assert.throws(() => expectItem(ROW, 'text', 'pin.ls'), { message: /^pin\.ls answered an item cairn cannot read/ })
})

test('transfer events are read; other progress events are none', () => {
  assert.deepEqual(transferEvent({ type: 'get:bytes', bytes: 5, totalBytes: null }), { type: 'get:bytes', bytes: 5, totalBytes: null })
  assert.deepEqual(transferEvent({ type: 'add:start', totalBytes: 9, files: 1 }), { type: 'add:start', totalBytes: 9 })
  assert.equal(transferEvent({ type: 'get:bytes', bytes: '5' }), null)
  assert.equal(transferEvent(null), null)
})

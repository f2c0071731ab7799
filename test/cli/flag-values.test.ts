// cli/command.ts flag readers: each returns the flag's value with its type
// checked (parseFlags checked it against the spec first), undefined or []
// when the flag was not given, and throws when a command reads a flag as a
// type its spec does not give it.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { booleanFlag, listFlag, numberFlag, stringFlag } from '../../cli/command.ts'
import { parseFlags } from '../../cli/args.ts'

test('flag readers return what parseFlags read, typed', () => {
  const ctx = parseFlags(['--out', 'x', '--n', '3', '--no-pin', '--peer', 'a', '--peer', 'b'], {
    out: { type: 'string' }, n: { type: 'number' }, pin: { type: 'boolean' }, peer: { type: 'string', isMultiple: true }, other: { type: 'string', isMultiple: true }
  }, 'test')
  assert.equal(stringFlag(ctx, 'out'), 'x')
  assert.equal(numberFlag(ctx, 'n'), 3)
  assert.equal(booleanFlag(ctx, 'pin'), false)
  assert.deepEqual(listFlag(ctx, 'peer'), ['a', 'b'])
  assert.deepEqual(listFlag(ctx, 'other'), [])
  assert.equal(stringFlag(ctx, 'missing'), undefined)
  assert.equal(numberFlag(ctx, 'missing'), undefined)
})

test('reading a flag as another type than its spec gives is refused in one line', () => {
  const ctx = { flags: { n: 3, peer: ['a', 4] } }
  assert.throws(() => stringFlag(ctx, 'n'), { name: 'TypeError', message: 'flag n is not a string (its spec and the command disagree)' })
  assert.throws(() => listFlag(ctx, 'peer'), { message: 'flag peer is not a list of strings (its spec and the command disagree)' })
  assert.throws(() => booleanFlag(ctx, 'n'), /flag n is not true or false/)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { escapeHtml, escapeTerminal } from '../../../core/util/escape.ts'

test('escapeTerminal makes control, C1 and bidi characters visible and leaves text alone', () => {
  assert.equal(escapeTerminal('photo.jpg'), 'photo.jpg')
  assert.equal(escapeTerminal('naïve 写真.png'), 'naïve 写真.png')
  assert.equal(escapeTerminal('a\nb'), 'a\\nb')
  assert.equal(escapeTerminal('\x1b[2J'), '\\x1b[2J')
  assert.equal(escapeTerminal('\u009b31m'), '\\x9b31m')
  assert.equal(escapeTerminal('evil\u202etxt.exe'), 'evil\\u202etxt.exe')
  assert.equal(escapeTerminal('back\\slash'), 'back\\\\slash')
})

test('escapeTerminal output never holds a control character, and distinct names stay distinct', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
    const ea = escapeTerminal(a)
    // eslint-disable-next-line no-control-regex -- no control character may survive escaping
    assert.doesNotMatch(ea, /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u)
    if (a !== b) assert.notEqual(ea, escapeTerminal(b))
  }), { numRuns: 2000 })
})

test('escapeHtml leaves no markup', () => {
  assert.equal(escapeHtml('<img src=x onerror="alert(1)">&\''), '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;')
})

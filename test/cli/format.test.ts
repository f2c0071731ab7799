import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatDuration } from '../../cli/format.ts'

test('durations round to whole seconds before they are split (119.6 s is 2m00s, not 1m60s); hours past an hour', () => {
  assert.equal(formatDuration(0), '0s')
  assert.equal(formatDuration(59.4), '59s')
  assert.equal(formatDuration(59.6), '1m00s')
  assert.equal(formatDuration(119.6), '2m00s')
  assert.equal(formatDuration(3599.6), '1h00m')
  assert.equal(formatDuration(7199), '1h59m')
  assert.equal(formatDuration(-1), '--')
  assert.equal(formatDuration(Number.NaN), '--')
})

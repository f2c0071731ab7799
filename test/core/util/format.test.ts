// Numbers for people: no raw floating point in a byte count, a rate or a hash rate.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatBytes as cliFormatBytes } from '../../../cli/format.ts'

// imported in the tests, so the CLI's own check below runs on its own
const core = async (): Promise<typeof import('../../../core/util/format.ts')> => await import('../../../core/util/format.ts')

test("the CLI's rates are rounded: stats bw printed 24.04809619238477 B/s", () => {
  // what the CLI's stats bw and progress bar print a rate with
  assert.equal(`${cliFormatBytes(24.04809619238477)}/s`, '24 B/s')
  assert.equal(cliFormatBytes(1024 * 1024 - 1), '1.00 MiB', 'not "1024.0 KiB"')
})

test('rates and sizes are rounded: 24.04809619238477 B/s prints as 24 B/s', async () => {
  const { formatBytes, formatRate } = await core()
  assert.equal(formatRate(24.04809619238477), '24 B/s')
  assert.equal(formatBytes(0), '0 B')
  assert.equal(formatBytes(1023.6), '1.00 KiB')
  assert.equal(formatBytes(1536), '1.50 KiB')
  assert.equal(formatBytes(1024 * 1024 - 1), '1.00 MiB', 'not "1024.0 KiB"')
  assert.equal(formatBytes(64 * 1024 * 1024), '64.0 MiB')
  assert.equal(formatRate(3.2 * 1024 * 1024 + 0.123), '3.20 MiB/s')
  assert.equal(formatBytes(Number.NaN), '-')
  for (let i = 0; i < 2000; i++) {
    const n = Math.random() * 2 ** (i % 50)
    assert.match(formatBytes(n), /^\d+(\.\d{1,2})? (B|KiB|MiB|GiB|TiB|PiB)$/, `${n}`)
  }
})

test('hash rates: H/s below a thousand, never 0.00 MH/s', async () => {
  const { formatHashRate } = await core()
  assert.equal(formatHashRate(850.4), '850 H/s')
  assert.equal(formatHashRate(12_345), '12.3 kH/s')
  assert.equal(formatHashRate(1_250_000), '1.25 MH/s')
  assert.equal(formatHashRate(3_000_000_000), '3.00 GH/s')
})

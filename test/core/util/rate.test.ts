import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RateLimiter } from '../../../core/util/rate.ts'
import { parseRate } from '../../../storage/units.ts'

test('RATE values: units, plain numbers, 0 for none; anything else is refused', () => {
  assert.equal(parseRate('16MiB'), 16 * 1024 * 1024)
  assert.equal(parseRate('500KiB'), 500 * 1024)
  assert.equal(parseRate('2MB'), 2_000_000)
  assert.equal(parseRate('1.5 MiB/s'), 1.5 * 1024 * 1024)
  assert.equal(parseRate('1048576'), 1048576)
  assert.equal(parseRate(4096), 4096)
  assert.equal(parseRate('0'), 0)
  for (const bad of ['', 'fast', '-1', '16 parsecs', '1e9', -5, 1.5, null, [], '16MiBs']) assert.equal(parseRate(bad), null, JSON.stringify(bad))
})

test('an unlimited limiter never waits', async () => {
  const l = new RateLimiter(0)
  for (let i = 0; i < 1000; i++) await l.take(1024 * 1024)
  assert.equal(l.limit, 0)
})

test('a capped limiter lets no more through than its rate (a lower bound on time, never an upper one)', async () => {
  const rate = 1024 * 1024 // 1 MiB/s
  const l = new RateLimiter(rate)
  const t0 = performance.now()
  // 100 ms of burst, then 0.4 MiB more at 1 MiB/s: at least ~300 ms
  for (let i = 0; i < 5; i++) await l.take(100 * 1024)
  const ms = performance.now() - t0
  assert.ok(ms >= 250, `5 × 100 KiB passed a 1 MiB/s cap in ${ms.toFixed(0)} ms`)
})

test('waiters are served first come, first served (fair across peers), and an aborted one leaves', async () => {
  const l = new RateLimiter(10 * 1024 * 1024)
  await l.take(2 * 1024 * 1024) // into debt: the next takers queue
  const order: string[] = []
  const ac = new AbortController()
  const a = l.take(1024).then(() => order.push('a'))
  const gone = l.take(1024, ac.signal).then(() => order.push('gone'), () => order.push('aborted'))
  const b = l.take(1024).then(() => order.push('b'))
  ac.abort()
  await Promise.all([a, gone, b])
  assert.deepEqual(order, ['aborted', 'a', 'b'])
})

test('charge() counts bytes that passed unasked (relayed ones): the next taker waits the debt off', async () => {
  let now = 0
  const l = new RateLimiter(1024 * 1024, () => now) // 1 MiB/s, a clock of our own
  l.charge(512 * 1024) // half a second's worth, relayed
  let passed = false
  const waiting = l.take(1).then(() => { passed = true })
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(passed, false, 'a take right after the charge passed')
  now = 600 // the debt is paid off at 1 MiB/s in ~400 ms after the burst
  await waiting
  assert.equal(passed, true)
  const free = new RateLimiter(0)
  free.charge(1 << 30) // no cap: nothing to count against
  await free.take(1)
})

// core/net/backoff-timer.ts: the doubling waits that the DHT re-lookups,
// the bootstrap keeper, the table filler and the swarm's discovery share.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { backoffDelays, BackoffTimer } from '../../../core/net/backoff-timer.ts'

test('backoffDelays doubles from the first wait and stays at the cap', () => {
  const delays = backoffDelays(500, 8_000)
  const first = Array.from({ length: 8 }, () => delays.next().value)
  assert.deepEqual(first, [500, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000, 8_000])
})

test('backoffDelays with a cap below twice the first wait never grows past the cap', () => {
  const delays = backoffDelays(300, 500)
  assert.deepEqual([delays.next().value, delays.next().value, delays.next().value], [300, 500, 500])
})

test('BackoffTimer runs its task on growing waits, and reset() starts over at the first', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const runs: number[] = []
  let now = 0
  const timer = new BackoffTimer(async () => { runs.push(now) }, 100, 400)
  timer.schedule()
  const advance = async (ms: number): Promise<void> => {
    for (let i = 0; i < ms; i += 10) { now += 10; t.mock.timers.tick(10); await Promise.resolve() }
  }
  await advance(1_500)
  // runs at 100, 300 (+200), 700 (+400), 1100 (+400), 1500 (+400)
  assert.deepEqual(runs, [100, 300, 700, 1_100, 1_500])
  timer.reset()
  await advance(100)
  assert.equal(runs.at(-1), 1_600, 'after reset() the next wait is the first one again')
  timer.stop()
  await advance(1_000)
  assert.equal(runs.length, 6, 'a stopped timer runs nothing more')
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { render } from 'ink-testing-library'
import { ProgressBar, barText } from '../../../cli/ui/ProgressBar.tsx'
import { RateMeter } from '../../../cli/progress.ts'

const MIB = 1024 * 1024

test('a known total shows bar, percent, bytes, rate and ETA', () => {
  const { lastFrame, unmount } = render(<ProgressBar label='add' bytes={64 * MIB} total={256 * MIB} rate={32 * MIB} />)
  const frame = lastFrame() ?? ''
  assert.match(frame, /^add /)
  assert.match(frame, / 25% /)
  assert.match(frame, /64\.0 MiB \/ 256\.0 MiB/)
  assert.match(frame, /32\.0 MiB\/s/)
  assert.match(frame, /ETA 6s/)
  assert.ok(frame.includes(barText(0.25, 24)), frame)
  unmount()
})

test('an unknown total shows bytes and rate, no bar or ETA', () => {
  const { lastFrame, unmount } = render(<ProgressBar label='get' bytes={1536} total={null} rate={0} />)
  const frame = lastFrame() ?? ''
  assert.match(frame, /1\.50 KiB/)
  assert.doesNotMatch(frame, /ETA|%|█/)
  unmount()
})

test('done fills the bar and says done', () => {
  const { lastFrame, unmount } = render(<ProgressBar label='car import' bytes={10} total={10} rate={5} done />)
  const frame = lastFrame() ?? ''
  assert.match(frame, /100%/)
  assert.match(frame, /done/)
  assert.ok(frame.includes('█'.repeat(24)))
  unmount()
})

test('barText clamps and rounds', () => {
  assert.equal(barText(0, 4), '░░░░')
  assert.equal(barText(0.5, 4), '██░░')
  assert.equal(barText(2, 4), '████')
  assert.equal(barText(-1, 4), '░░░░')
})

test('RateMeter measures over its window', () => {
  const m = new RateMeter()
  assert.equal(m.rate(), 0)
  m.add(0, 0)
  m.add(1000, 10 * MIB)
  assert.equal(m.rate(1000), 10 * MIB)
  m.add(5000, 20 * MIB) // the old samples fall out of the 2 s window
  m.add(6000, 30 * MIB)
  assert.equal(m.rate(6000), 10 * MIB)
  assert.ok(m.rate(60_000) < m.rate(6000) / 10, 'an idle meter decays')
  m.count(61_000, 5)
  assert.equal(m.bytes, 30 * MIB + 5)
})

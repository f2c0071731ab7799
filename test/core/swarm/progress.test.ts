// core/swarm/progress.ts: a fetch that fails because every provider was
// dropped says why each one was, never a blank.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CID } from 'multiformats/cid'
import { Lane, type Asker } from '../../../core/swarm/lane.ts'
import { dropReason, noneLeft } from '../../../core/swarm/progress.ts'

const ROOT = CID.parse('bafybeidzrmu7epeda26sefdx7n4zwqzgb4eg23lihn63q63nayz6frhsam')
const asker: Asker = { ask: async () => await new Promise(() => {}), cancel: () => {}, close: () => {} }

function deadLane (key: string, err: Error): Lane {
  const lane = new Lane(key, asker, 'cairn', 0)
  lane.dead = err
  return lane
}

test('dropReason: the message, else the error\'s name, else words that say none was given', () => {
  assert.equal(dropReason(new Error('answered nothing for 5 s')), 'answered nothing for 5 s')
  const closed = new Error('')
  closed.name = 'StreamClosedError'
  assert.equal(dropReason(closed), 'StreamClosedError')
  assert.equal(dropReason(new Error('')), 'failed, with no reason given')
})

test('every provider failed: each one is named with a reason, none blank', () => {
  const closed = new Error('')
  closed.name = 'StreamClosedError'
  const err = noneLeft(ROOT, [deadLane('peerAAAAAAAA', new Error('answered nothing for 5 s')), deadLane('peerBBBBBBBB', closed), deadLane('peerCCCCCCCC', new Error(''))], new Map(), true)
  assert.match(err.message, /every provider of bafy\S+ failed: /)
  assert.match(err.message, /AAAAAAAA: answered nothing for 5 s; BBBBBBBB: StreamClosedError; CCCCCCCC: failed, with no reason given$/)
  assert.doesNotMatch(err.message, /: ;|: $/)
})

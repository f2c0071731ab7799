// The sweep provider (core/net/sweeper.ts) against a fake network (unit
// tests): a round costs one lookup per region (plus one that measures the
// network), every CID reaches the region's peers, a restart resumes the
// round from the saved schedule, every failure is reported with its reason,
// and announcing waits while transfers run.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { FRESH_REST_DELAY_MS, Sweeper, type ScheduleStore, type Wire } from '../../../core/net/sweeper.ts'
import { dhtKey, ProvideFailure, classify } from '../../../core/net/sweep-wire.ts'
import { inRegion, KEY_BYTES, prefixOf } from '../../../core/net/keyspace.ts'
import type { ProvideSchedule } from '../../../storage/provide-schedule.ts'

interface FakePeer { id: string, key: Uint8Array, toString: () => string }

async function makeCids (n: number, salt = 0): Promise<CID[]> {
  return await Promise.all(Array.from({ length: n }, async (_, i) => CID.createV1(raw.code, await sha256.digest(new Uint8Array([i & 255, i >> 8, salt])))))
}

/** The 20 peers closest to a CID's key in a network of `size` evenly spread peers: their keys lie at distances i / (size + 1). */
function peersNear (cid: CID, size: number): FakePeer[] {
  const t = dhtKey(cid)
  return Array.from({ length: 20 }, (_, i) => {
    const d = Math.floor((i + 1) / (size + 1) * 2 ** 48)
    const key = new Uint8Array(t)
    for (let b = 0; b < 6; b++) key[b] ^= Math.floor(d / 2 ** (8 * (5 - b))) & 255
    const id = `peer${i}`
    return { id, key, toString: () => id }
  })
}

function memoryStore (): ScheduleStore & { value: ProvideSchedule | null } {
  const s = {
    value: null as ProvideSchedule | null,
    load: async () => s.value == null ? null : structuredClone(s.value),
    save: async (v: ProvideSchedule) => { s.value = structuredClone(v) }
  }
  return s
}

class FakeWire implements Wire<FakePeer> {
  lookups: CID[] = []
  sent = new Map<string, Set<string>>()
  /** lookups answered before the next one hangs until aborted */
  hangAfter = Infinity
  constructor (private readonly size: number) {}
  async lookup (cid: CID, signal?: AbortSignal): Promise<FakePeer[]> {
    this.lookups.push(cid)
    if (this.lookups.length > this.hangAfter) {
      await new Promise((_resolve, reject) => { signal?.addEventListener('abort', () => { reject(signal.reason) }, { once: true }) })
    }
    return peersNear(cid, this.size)
  }

  async send (peer: FakePeer, cids: readonly CID[]): Promise<void> {
    for (const c of cids) {
      const k = c.toString()
      const got = this.sent.get(k) ?? new Set()
      got.add(peer.id)
      this.sent.set(k, got)
    }
  }

  peerKey (p: FakePeer): Uint8Array { return p.key }
}

async function until (f: () => boolean, ms = 5000): Promise<void> {
  for (const t0 = Date.now(); !f(); await new Promise(resolve => setTimeout(resolve, 10))) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting')
  }
}

test('a round costs one lookup per region; a restart resumes the round where the schedule says', async () => {
  const cids = await makeCids(400)
  const store = memoryStore()
  // a network of 200 peers: depth 3, 8 regions of ~25 peers
  const wire1 = new FakeWire(200)
  wire1.hangAfter = 3
  const s1 = new Sweeper({ wire: wire1, store, targets: async function * () { yield * cids }, strategy: 'all', intervalMs: 3_600_000 })
  s1.start()
  await until(() => wire1.lookups.length === 4)
  await s1.stop()
  const saved = store.value as ProvideSchedule
  assert.equal(saved.depth, 3)
  assert.equal(saved.catchUp, true)
  // the first lookup measured the network (its region was then cut finer), two regions were swept
  assert.equal(saved.lookups, 3)
  const swept = [...wire1.sent.keys()]
  const sweptRegions = new Set(cids.filter(c => wire1.sent.has(c.toString())).map(c => prefixOf(dhtKey(c), 3)))
  assert.deepEqual([...sweptRegions].sort(), ['000', '001'])
  assert.equal(saved.cursor, '010')

  const wire2 = new FakeWire(200)
  const s2 = new Sweeper({ wire: wire2, store, targets: async function * () { yield * cids }, strategy: 'all', intervalMs: 3_600_000 })
  s2.start()
  const stat = await s2.roundEnded(AbortSignal.timeout(10_000))
  await s2.stop()
  // resumed at the saved cursor: no lookup, no record, for the two regions already swept
  assert.ok(inRegion(dhtKey(wire2.lookups[0]), '010'), 'the first lookup after the restart is in the next region')
  assert.equal(wire2.lookups.length, 6)
  for (const c of swept) assert.ok(!wire2.sent.has(c), 'a swept CID is not sent again in the same round')
  assert.equal(swept.length + wire2.sent.size, 400, 'every CID was sent, once per round')
  for (const peers of wire2.sent.values()) assert.equal(peers.size, 20)
  // provide stat's fields
  assert.equal(stat.cids, 400)
  assert.equal(stat.regions, 8)
  assert.equal(stat.depth, 3)
  assert.deepEqual({ lookups: stat.lastRound?.lookups, regions: stat.lastRound?.regions, cids: stat.lastRound?.cids }, { lookups: 9, regions: 8, cids: 400 })
  assert.ok((stat.lastRound?.ms ?? -1) >= 0)
  assert.ok(stat.lastSweepAt != null && stat.lastSweepAt <= Date.now())
  assert.equal(stat.round, null)
  assert.equal(store.value?.cursor, null)
  // the next round starts one interval after this one did
  assert.equal(stat.nextSweepAt, saved.roundStartedAt + 3_600_000)
  assert.equal(stat.records, wire2.sent.size * 20)
})

test('every failure is reported with its reason: no peers, refused, timeout', async () => {
  const cids = await makeCids(50, 1)
  const wire = new FakeWire(10)
  let lookups = 0
  wire.lookup = async (cid: CID) => {
    lookups++
    if (lookups === 1) throw new ProvideFailure('no-peers', 'the lookup found no peers')
    return peersNear(cid, 10).slice(0, 3)
  }
  wire.send = async (peer: FakePeer) => {
    if (peer.id === 'peer0') throw Object.assign(new Error('the stream was reset'), { name: 'StreamResetError' })
    if (peer.id === 'peer1') throw Object.assign(new Error('the operation timed out'), { name: 'TimeoutError' })
  }
  const s = new Sweeper({ wire, store: memoryStore(), targets: async function * () { yield * cids }, strategy: 'all', intervalMs: 3_600_000 })
  // fresh content: one region (a 10-peer network), its lookup finds nobody
  const first = await s.announceNow(cids.slice(0, 5))
  assert.equal(first.delivered, 0)
  assert.deepEqual(first.failures.map(f => f.reason), ['no-peers'])
  const second = await s.announceNow(cids.slice(5, 10))
  assert.equal(second.delivered, 1, 'the third peer took them')
  assert.deepEqual(second.failures.map(f => f.reason).sort(), ['refused', 'timeout'])
  assert.deepEqual(s.stat.failures, { timeout: 1, 'no-peers': 1, refused: 1, error: 0 })
  assert.equal(s.stat.recentFailures.length, 3)
  for (const f of s.stat.recentFailures) {
    assert.ok(f.message.length > 0)
    assert.ok(f.cids > 0)
  }
  assert.equal(s.stat.recentFailures.find(f => f.reason === 'refused')?.peer, 'peer0')
  await s.stop()
})

test('errors are classified by name: timeouts, refusals, and the rest', () => {
  const e = (name: string, code?: string): Error => Object.assign(new Error('x'), { name, code })
  assert.equal(classify(e('AbortError')), 'timeout')
  assert.equal(classify(e('TimeoutError')), 'timeout')
  assert.equal(classify(e('UnsupportedProtocolError')), 'refused')
  assert.equal(classify(e('DialError')), 'refused')
  assert.equal(classify(e('Error', 'ECONNREFUSED')), 'refused')
  assert.equal(classify(new ProvideFailure('no-peers', 'none')), 'no-peers')
  assert.equal(classify(e('TypeError')), 'error')
})

test('fresh content: roots go first, one lookup per region, peers reused for the next add; announcing waits while transfers run', async () => {
  const cids = await makeCids(30, 2)
  const wire = new FakeWire(10)
  // busy past FRESH_REST_DELAY_MS: the rest of the add waits for the transfer to end
  let busyUntil = Date.now() + FRESH_REST_DELAY_MS + 1500
  const s = new Sweeper({ wire, store: memoryStore(), targets: async function * () {}, strategy: 'all', intervalMs: 3_600_000, lastTransferAt: () => Date.now() < busyUntil ? Date.now() : 0 })
  s.announce([cids[0]], true)
  s.announce(cids.slice(1, 20))
  // the root does not wait for transfers
  await until(() => wire.sent.has(cids[0].toString()), 1000)
  assert.equal(wire.sent.size, 1, 'the other CIDs wait while blocks are being transferred')
  await until(() => wire.sent.size === 20, FRESH_REST_DELAY_MS + 6000)
  assert.ok(Date.now() >= busyUntil, 'sent after the transfers went quiet')
  assert.ok(s.stat.yieldedMs >= 1000)
  assert.equal(wire.lookups.length, 1, 'one region, one lookup, reused for the second batch')
  busyUntil = 0
  s.announce(cids.slice(20))
  await until(() => wire.sent.size === 30)
  assert.equal(wire.lookups.length, 1, 'a recent lookup of the region serves the next add')
  assert.equal(s.stat.fresh, 30)
  await s.stop()
})

test('a key lies at the distances peersNear gives (the fake network is what the estimate assumes)', async () => {
  const [c] = await makeCids(1, 3)
  const ps = peersNear(c, 1000)
  assert.equal(ps[0].key.length, KEY_BYTES)
})

// What storage/ reads back from its datastore and lock file is checked, not
// trusted: a damaged pin or name record is a RepoError naming it, a damaged
// provide schedule is no schedule, and a lock file with an unreadable start
// time still protects a live holder.

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { FsDatastore } from 'datastore-fs'
import { Key } from 'interface-datastore'
import { CID } from 'multiformats/cid'
import { Pins } from '../../storage/pins.ts'
import { NameRecords } from '../../storage/name-records.ts'
import { ProvideScheduleStore } from '../../storage/provide-schedule.ts'
import { RepoLock } from '../../storage/lock.ts'
import { RepoError, RepoLockedError } from '../../storage/errors.ts'
import { tempDir } from '../helpers.ts'

const CID_TEXT = 'bafkreibnoelefnzgwbcacyt4vh52ymxvzbjq7mmqhtcnwarfq4lzegsiqe'
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

async function withStore (fn: (ds: FsDatastore, dir: string) => Promise<void>): Promise<void> {
  const t = await tempDir()
  try {
    const ds = new FsDatastore(path.join(t.dir, 'datastore'))
    await ds.open()
    await fn(ds, t.dir)
  } finally {
    await t.cleanup()
  }
}

test('pins: a stored pin reads back; a damaged record is a RepoError naming it', async () => {
  await withStore(async ds => {
    const pins = new Pins(ds)
    const cid = CID.parse(CID_TEXT)
    await pins.add(cid, 'direct')
    const got = await pins.get(cid)
    assert.equal(got?.cid.toString(), CID_TEXT)
    assert.equal(got?.type, 'direct')
    for (const damaged of ['{"cid":"not a cid","type":"direct","time":1}', `{"cid":"${CID_TEXT}","type":"sideways","time":1}`, 'not json', '{}']) {
      await ds.put(new Key(`/pins/${CID_TEXT}`), bytes(damaged))
      await assert.rejects(pins.get(cid), (e: Error) => e instanceof RepoError && e.message === `the pin record /pins/${CID_TEXT} is damaged (cairn pin rm and pin add it again)`, damaged)
      await assert.rejects(async () => { for await (const p of pins.ls()) assert.fail(`read ${p.cid.toString()}`) }, RepoError)
    }
  })
})

test('name records: a damaged record is a RepoError naming the name', async () => {
  await withStore(async ds => {
    const names = new NameRecords(ds)
    await names.put({ name: 'k51abc', record: new Uint8Array([1, 2, 3]), seen: 5, publishing: { key: 'self', lifetimeMs: 10, ttlMs: 1 } })
    assert.deepEqual(await names.get('k51abc'), { name: 'k51abc', record: Buffer.from([1, 2, 3]), seen: 5, publishing: { key: 'self', lifetimeMs: 10, ttlMs: 1 } })
    await ds.put(new Key('/names/k51abc'), bytes('{"record":7,"seen":5}'))
    await assert.rejects(names.get('k51abc'), { name: 'RepoError', message: 'the stored record of k51abc is damaged (resolve the name again to replace it)' })
  })
})

test('provide schedule: where the round is must be right; past figures that are damaged read as unknown', async () => {
  await withStore(async ds => {
    const store = new ProvideScheduleStore(ds)
    const good = { roundStartedAt: 1, cursor: '01', catchUp: false, depth: 3, lastSweepAt: 2, lastRound: { endedAt: 1, ms: 2, lookups: 3, regions: 4, cids: 5 }, lookups: 6 }
    await store.save(good)
    assert.deepEqual(await store.load(), good)
    await ds.put(new Key('/provide/schedule'), bytes(JSON.stringify({ ...good, lastRound: 'soon', lastSweepAt: 'x' })))
    assert.deepEqual(await store.load(), { ...good, lastRound: null, lastSweepAt: null })
    for (const bad of [{ ...good, cursor: '2' }, { ...good, depth: 1.5 }, { ...good, catchUp: 'no' }]) {
      await ds.put(new Key('/provide/schedule'), bytes(JSON.stringify(bad)))
      assert.equal(await store.load(), null, JSON.stringify(bad))
    }
  })
})

test('lock: a live holder whose lock file has a damaged start time keeps the repo', async () => {
  await withStore(async (_ds, dir) => {
    const file = path.join(dir, 'repo.lock')
    // the test runner's parent is alive and is not us
    await fs.writeFile(file, JSON.stringify({ pid: process.ppid, start: 12 }))
    await assert.rejects(RepoLock.acquire(file, dir), RepoLockedError)
    await fs.writeFile(file, JSON.stringify({ pid: 'x' }))
    const lock = await RepoLock.acquire(file, dir)
    await lock.release()
  })
})

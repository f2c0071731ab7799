// `cairn demo` is what `npm start` runs: a real swarm of processes on 127.0.0.1.
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import os from 'node:os'
import { test } from 'node:test'
import { cairn } from '../helpers.ts'

const demoDirs = async (): Promise<string[]> => (await fs.readdir(os.tmpdir())).filter(n => n.startsWith('cairn-demo-'))

test('demo publishes on one seed, finds it through the DHT, fetches identical bytes, and cleans up', { timeout: 120_000 }, async () => {
  const before = new Set(await demoDirs())
  const r = await cairn(['demo'], { timeoutMs: 110_000 })
  assert.equal(r.code, 0, r.stderr)
  const lines = r.stdout.trim().split('\n')
  assert.equal(lines.filter(l => l.startsWith('1. seed')).length, 3)
  const cid = /^2\. published\s+(\S+)/m.exec(r.stdout)?.[1]
  assert.ok(cid != null, r.stdout)
  assert.match(r.stdout, /^3\. found\s+provider 12D3Koo\w+ through the DHT/m)
  assert.match(r.stdout, new RegExp(`^4\\. fetched\\s+${cid} by CID .*bytes identical`, 'm'))
  // the same CID as adding fixtures/demo here: the demo published the bundled fixture
  const local = await cairn(['add', '-r', '-n', '-Q', 'fixtures/demo'])
  assert.equal(local.stdout.trim(), cid)
  const leftover = (await demoDirs()).filter(d => !before.has(d))
  assert.deepEqual(leftover, [], 'the demo removes its temporary repos')
})

test('demo --json prints one JSON object per step', { timeout: 120_000 }, async () => {
  const r = await cairn(['demo', '--json'], { timeoutMs: 110_000 })
  assert.equal(r.code, 0, r.stderr)
  const steps = r.stdout.trim().split('\n').map(l => JSON.parse(l) as { step: string })
  assert.deepEqual(steps.map(s => s.step), ['seed', 'seed', 'seed', 'add', 'findprovs', 'get', 'done'])
})

// Unit test with a fake libp2p and DHT: the filler runs awaited self-queries
// while the table is short and someone is connected, one at a time, until
// three in a row find nobody new, and again once the table shrank; a new
// connection brings the next one forward only while they find peers (a
// 20-seed swarm, whose tables never reach 20, used to query without pause).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TableFiller } from '../../../core/net/table-filler.ts'

function fakes (o: { connections: number, table: number, grows: number[] }) {
  const listeners: Array<() => void> = []
  const state = { queries: 0, inFlight: 0, maxInFlight: 0, keys: [] as string[] }
  const dht = {
    routingTable: { size: o.table },
    getClosestPeers: async function * (key: Uint8Array) {
      state.queries++
      state.keys.push(Buffer.from(key).toString('hex'))
      state.inFlight++
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight)
      await new Promise(resolve => setTimeout(resolve, 20))
      dht.routingTable.size += o.grows[state.queries - 1] ?? 0
      state.inFlight--
      yield { name: 'FINAL_PEER' }
    }
  }
  const libp2p = {
    peerId: { toMultihash: () => ({ bytes: Uint8Array.of(0x00, 0x02, 0xca, 0x1e) }) },
    getConnections: () => Array.from({ length: o.connections }),
    addEventListener: (_: string, f: () => void) => { listeners.push(f) },
    removeEventListener: () => {}
  }
  return { dht, libp2p, state, connect: () => { for (const f of listeners) f() } }
}

test('queries our own key, awaited and one at a time, while the table is short and a peer is connected', async () => {
  const f = fakes({ connections: 1, table: 1, grows: [5] })
  const filler = new TableFiller(f.libp2p as never, f.dht as never)
  await Promise.all([filler.tick(), filler.tick(), filler.tick()])
  assert.equal(f.state.queries, 1, 'overlapping rounds share one query')
  assert.equal(f.state.maxInFlight, 1)
  assert.deepEqual(f.state.keys, ['0002ca1e'])
  assert.equal(f.dht.routingTable.size, 6)
})

test('rests after three queries in a row find nobody new, until the table shrinks', async () => {
  const f = fakes({ connections: 1, table: 1, grows: [5, 0, 0, 0, 2] })
  const filler = new TableFiller(f.libp2p as never, f.dht as never)
  for (let i = 0; i < 4; i++) await filler.tick() // grew to 6, then three quiet queries
  assert.equal(f.state.queries, 4)
  await filler.tick()
  await filler.tick()
  assert.equal(f.state.queries, 4, 'a settled table was queried again')
  f.dht.routingTable.size = 4 // peers lost since
  await filler.tick()
  assert.equal(f.state.queries, 5, 'a table that shrank below its settled size was not queried')
  assert.equal(f.dht.routingTable.size, 6)
})

test('no query with no connection, or with a full table', async () => {
  const alone = fakes({ connections: 0, table: 0, grows: [] })
  await new TableFiller(alone.libp2p as never, alone.dht as never).tick()
  assert.equal(alone.state.queries, 0)
  const full = fakes({ connections: 30, table: 20, grows: [] })
  await new TableFiller(full.libp2p as never, full.dht as never).tick()
  assert.equal(full.state.queries, 0)
})

test('at rest, neither the timer nor a new connection runs a query', async () => {
  const f = fakes({ connections: 3, table: 2, grows: [4, 0, 0, 0] })
  const filler = new TableFiller(f.libp2p as never, f.dht as never)
  filler.start()
  try {
    for (let i = 0; i < 4; i++) await filler.tick() // grew: 2 -> 6 (the timer reset to 1 s), then three quiet queries
    assert.equal(f.state.queries, 4)
    f.connect()
    // the timer's round (1 s after the growth) and any round a reset would bring
    await new Promise(resolve => setTimeout(resolve, 1500))
    assert.equal(f.state.queries, 4, 'a settled table was queried again')
  } finally {
    filler.stop()
  }
})

test('while queries find peers, a connection runs the next one after the first wait', async () => {
  const f = fakes({ connections: 1, table: 1, grows: [3, 3, 3] })
  const filler = new TableFiller(f.libp2p as never, f.dht as never)
  filler.start()
  try {
    await new Promise(resolve => setTimeout(resolve, 1400)) // the first round, at 1 s
    assert.equal(f.state.queries, 1)
    f.connect()
    await new Promise(resolve => setTimeout(resolve, 1400))
    assert.ok(f.state.queries >= 2, `${f.state.queries} queries`)
  } finally {
    filler.stop()
  }
})

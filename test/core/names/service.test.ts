// NameService with a real repo and an in-memory chain; the node is a fake
// whose DHT holds what each test puts there (a unit test: mocks allowed).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { unmarshalIPNSRecord } from 'ipns'
import { Key } from 'interface-datastore'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { AnchorChain } from '../../../core/anchor/chain.ts'
import { readManifest, signNameManifest } from '../../../core/anchor/manifest.ts'
import { exportProof, verifyProof } from '../../../core/anchor/proof.ts'
import { AnchorRuleError } from '../../../core/anchor/rules.ts'
import { MemoryChainStore } from '../../../core/anchor/store.ts'
import { mineBlock, testNetwork } from '../../../core/anchor/test-miner.ts'
import { generateKey, loadKey } from '../../../core/names/keys.ts'
import { NameNotFoundError, createRecord, parseName } from '../../../core/names/record.ts'
import { NameService } from '../../../core/names/service.ts'
import { Repo } from '../../../storage/repo.ts'
import type { CairnNode } from '../../../core/net/node.ts'

const NET = testNetwork('names')
const cidOf = async (n: number): Promise<CID> => CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(`v${n}`)))

/** A node whose DHT stores every put and answers gets with `served` (or what was put). */
function fakeNode (): { node: CairnNode, stored: Uint8Array[], served: Uint8Array[] | null } {
  const state = { stored: [] as Uint8Array[], served: null as Uint8Array[] | null }
  const dht = {
    async * put (_key: Uint8Array, value: Uint8Array) {
      state.stored.push(value)
      yield { name: 'PEER_RESPONSE', messageName: 'PUT_VALUE' }
    },
    async * get () {
      for (const value of state.served ?? state.stored) yield { name: 'VALUE', value }
    }
  }
  const node = { libp2p: { getConnections: () => [{}], services: { dht } }, settings: { bootstrap: [] } } as unknown as CairnNode
  return Object.assign(state, { node })
}

async function setup (): Promise<{ repo: Repo, chain: AnchorChain, names: NameService, dht: ReturnType<typeof fakeNode>, mine: () => Promise<void>, done: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-names-'))
  const repo = await Repo.open(dir, { write: true })
  const chain = await AnchorChain.open(NET, new MemoryChainStore(), { now: () => NET.genesis.time + 1e9 })
  const dht = fakeNode()
  const names = new NameService({ repo, node: async () => dht.node, chain: async () => chain, online: true, pubsub: null })
  const mine = async (): Promise<void> => {
    const b = mineBlock(NET, chain.head, [...chain.pending.values()])
    assert.equal((await chain.submit(b.header, b.body, b.manifests)).status, 'accepted')
  }
  return { repo, chain, names, dht, mine, done: async () => { chain.close(); await repo.close(); await fs.rm(dir, { recursive: true, force: true }) } }
}

test('5 updates are anchored in order; history lists them; a proof of the 3rd verifies with no repo', async () => {
  const { repo, chain, names, mine, done } = await setup()
  try {
    const key = await generateKey(repo, 'site')
    for (let i = 0; i < 5; i++) {
      const r = await names.publish((await cidOf(i)).toString(), { key: 'site' })
      assert.equal(r.seq, i)
      assert.equal(r.name, key.id)
      assert.equal(r.anchor, 'pending')
      assert.deepEqual(r.dht, { peers: 1, error: null })
      await mine()
      await mine()
    }
    const h = await names.history(key.id)
    assert.deepEqual(h.entries.map(e => e.seq), [0, 1, 2, 3, 4])
    assert.deepEqual(h.entries.map(e => e.value), await Promise.all([0, 1, 2, 3, 4].map(async i => `/ipfs/${(await cidOf(i)).toString()}`)))
    assert.ok(h.entries.every((e, i) => e.height === 2 * i + 1 && e.confirmations === chain.height - e.height + 1))

    const third = chain.nameAnchorings(publicKeyToProtobuf((await loadKey(repo, 'site')).publicKey)).find(a => a.manifest.manifest.type === 'ipns' && a.manifest.manifest.seq === 2)
    assert.ok(third?.block != null)
    const proof = await verifyProof(await exportProof(chain, third.manifest, third.block))
    assert.equal(proof.manifest.type, 'ipns')
    assert.equal(proof.manifest.name, key.id)
    assert.equal(proof.manifest.seq, 2)
    assert.equal(proof.manifest.value, `/ipfs/${(await cidOf(2)).toString()}`)
    assert.equal(proof.block.height, 5)
  } finally {
    await done()
  }
})

test('a replayed older record is refused: the resolver never goes below the anchored sequence, and says so', async () => {
  const { repo, names, dht, mine, done } = await setup()
  try {
    const key = await generateKey(repo, 'k')
    const old = await createRecord(await loadKey(repo, 'k'), await cidOf(100), 1n)
    for (let i = 0; i < 4; i++) await names.publish((await cidOf(i)).toString(), { key: 'k' })
    await mine()
    // a resolver that never saw the updates (this repo's own record dropped),
    // whose DHT serves only the old record (seq 1), as a peer replaying it would
    await repo.datastore.delete(new Key(`/names/${key.id}`))
    dht.served = [old]
    const r = await names.resolve(key.id, { nocache: true, timeoutMs: 2000 })
    assert.equal(r.seq, 3)
    assert.equal(r.value, `/ipfs/${(await cidOf(3)).toString()}`)
    assert.equal(r.source, 'anchored')
    assert.equal(r.warnings.length, 1)
    assert.match(r.warnings[0], /sequence 1 .* older than sequence 3 anchored/)
  } finally {
    await done()
  }
})

test('when the anchored record has expired, an older record still is not taken: the name does not resolve, and the error says why', async () => {
  const { repo, names, dht, mine, done } = await setup()
  try {
    const key = await generateKey(repo, 'k')
    const old = await createRecord(await loadKey(repo, 'k'), await cidOf(100), 1n)
    for (let i = 0; i < 4; i++) await names.publish((await cidOf(i)).toString(), { key: 'k', lifetimeMs: 50 })
    await mine()
    await repo.datastore.delete(new Key(`/names/${key.id}`))
    await new Promise(resolve => setTimeout(resolve, 100))
    dht.served = [old]
    await assert.rejects(names.resolve(key.id, { timeoutMs: 1000 }), (e: Error) => e instanceof NameNotFoundError && /sequence 3 is anchored/.test(e.message))
  } finally {
    await done()
  }
})

test('without an anchored floor the DHT answer wins; with a newer one it is taken; nothing found is a clear error', async () => {
  const { repo, names, dht, done } = await setup()
  try {
    const key = await generateKey(repo, 'k')
    const k = await loadKey(repo, 'k')
    dht.served = [await createRecord(k, await cidOf(7), 7n), await createRecord(k, await cidOf(9), 9n), await createRecord(k, await cidOf(8), 8n)]
    const r = await names.resolve(key.id, { timeoutMs: 2000 })
    assert.equal(r.seq, 9)
    assert.equal(r.source, 'dht')
    // now cached: within its TTL the cache answers
    dht.served = []
    assert.equal((await names.resolve(key.id, { timeoutMs: 2000 })).source, 'cache')
    const stranger = parseName('k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8')
    await assert.rejects(names.resolve(stranger.text, { timeoutMs: 1500 }), (e: Error) => e instanceof NameNotFoundError && /did not resolve within 1.5 s/.test(e.message))
  } finally {
    await done()
  }
})

test('a name manifest whose record says something else, or is another key\'s, breaks rule BadRecord', async () => {
  const { repo, done } = await setup()
  try {
    await generateKey(repo, 'a')
    await generateKey(repo, 'b')
    const a = await loadKey(repo, 'a')
    const b = await loadKey(repo, 'b')
    const rec = await createRecord(a, await cidOf(1), 4n)
    const ruleOf = async (p: Promise<unknown>): Promise<string> => { try { await p; return 'accepted' } catch (e) { if (e instanceof AnchorRuleError) return e.rule; throw e } }
    assert.equal(await ruleOf(readManifest((await signNameManifest(a, { root: await cidOf(1), seq: 4, record: rec, time: 1 })).bytes)), 'accepted')
    assert.equal(await ruleOf(readManifest((await signNameManifest(a, { root: await cidOf(2), seq: 4, record: rec, time: 1 })).bytes)), 'BadRecord')
    assert.equal(await ruleOf(readManifest((await signNameManifest(a, { root: await cidOf(1), seq: 5, record: rec, time: 1 })).bytes)), 'BadRecord')
    assert.equal(await ruleOf(readManifest((await signNameManifest(b, { root: await cidOf(1), seq: 4, record: rec, time: 1 })).bytes)), 'BadRecord')
    assert.equal(unmarshalIPNSRecord(rec).sequence, 4n)
  } finally {
    await done()
  }
})

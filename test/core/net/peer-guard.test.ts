// The peer guard on its own: allow/deny parsing, the gater's decisions,
// scores and bans, and the bitswap watch (with fake events).

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { BAN_SCORE, MAX_WANTS_PER_MESSAGE, MAX_WANTS_PER_WINDOW, OFFENCES, PeerGuard, RECENT_WANT_MS, parseRule, type BitswapEngine, type GuardPolicy } from '../../../core/net/peer-guard.ts'
import { ConfigError } from '../../../storage/errors.ts'
import { isPeerOrRange, validateConfig } from '../../../storage/config.ts'
import type { Libp2p, MultiaddrConnection, PeerId } from '@libp2p/interface'

const newPeer = async (): Promise<PeerId> => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
const policy = (o: Partial<GuardPolicy> = {}): GuardPolicy => ({ allow: [], deny: [], trustedOnly: false, maxConnectionsPerIP: 64, ...o })
const maConn = (addr: string): MultiaddrConnection => ({ remoteAddr: multiaddr(addr) }) as unknown as MultiaddrConnection

/** A libp2p stand-in: connections it holds, and which were closed. */
function fakeLibp2p (conns: Array<{ remotePeer: PeerId, remoteAddr: string, direction: 'inbound' | 'outbound' }>): { libp2p: Libp2p, closed: string[] } {
  const closed: string[] = []
  const libp2p = {
    getConnections: () => conns.map(c => ({
      remotePeer: c.remotePeer,
      remoteAddr: multiaddr(c.remoteAddr),
      direction: c.direction,
      close: async () => { closed.push(c.remotePeer.toString()) },
      abort: () => {}
    }))
  } as unknown as Libp2p
  return { libp2p, closed }
}

describe('allow/deny entries', () => {
  test('peer IDs, single addresses and CIDR ranges parse; anything else is a ConfigError naming the key', async () => {
    const p = await newPeer()
    const rule = parseRule([p.toString(), '192.0.2.7', '198.51.100.0/24', '::1', 'fc00::/7'], 'security.allow')
    assert.ok(rule.peers.has(p.toString()))
    assert.ok(rule.ranges.check('192.0.2.7', 'ipv4'))
    assert.ok(!rule.ranges.check('192.0.2.8', 'ipv4'))
    assert.ok(rule.ranges.check('198.51.100.200', 'ipv4'))
    assert.ok(rule.ranges.check('fd12::1', 'ipv6'))
    for (const bad of ['nope', '192.0.2.0/33', '192.0.2.0/x', '10.0.0.0/8/1', '', '12D3KooWshort']) {
      assert.throws(() => parseRule([bad], 'security.deny'), (e: Error) => e instanceof ConfigError && e.message.includes('security.deny'), bad)
    }
  })

  test('config: security.allow/deny/trustedOnly and connections.maxPerIP are validated, with documented defaults', async () => {
    const d = validateConfig({})
    assert.deepEqual(d.security, { allow: [], deny: [], trustedOnly: false })
    assert.equal(d.connections.maxPerIP, 64)
    const p = await newPeer()
    const c = validateConfig({ security: { allow: [p.toString(), '203.0.113.0/24'], trustedOnly: true }, connections: { maxPerIP: 4 } })
    assert.deepEqual(c.security.allow, [p.toString(), '203.0.113.0/24'])
    assert.equal(c.connections.max, 300, 'the other connections key keeps its default')
    assert.throws(() => validateConfig({ security: { deny: ['not a peer'] } }), /security\.deny/)
    assert.throws(() => validateConfig({ security: { trustedOnly: 'yes' } }), /security\.trustedOnly/)
    assert.throws(() => validateConfig({ connections: { maxPerIP: 0 } }), /connections\.maxPerIP/)
    assert.throws(() => validateConfig({ security: { other: 1 } }), /unknown key "security\.other"/)
    assert.ok(isPeerOrRange(p.toString()))
    assert.ok(isPeerOrRange(p.toCID().toString()), 'the CID form of a peer ID')
    assert.equal(isPeerOrRange(42), false)
  })
})

describe('the connection gater', () => {
  test('deny by peer ID and by range, in both directions', async () => {
    const bad = await newPeer()
    const good = await newPeer()
    const g = new PeerGuard(policy({ deny: [bad.toString(), '198.51.100.0/24'] })).gater()
    assert.equal(await g.denyDialPeer?.(bad), true)
    assert.equal(await g.denyDialPeer?.(good), false)
    assert.equal(await g.denyDialMultiaddr?.(multiaddr('/ip4/198.51.100.9/tcp/1')), true)
    assert.equal(await g.denyDialMultiaddr?.(multiaddr('/ip4/127.0.0.1/tcp/1')), false)
    assert.equal(await g.denyInboundConnection?.(maConn('/ip4/198.51.100.9/tcp/5')), true)
    assert.equal(await g.denyInboundConnection?.(maConn('/ip4/127.0.0.1/tcp/5')), false)
    assert.equal(await g.denyInboundEncryptedConnection?.(bad, maConn('/ip4/127.0.0.1/tcp/5')), true)
    assert.equal(await g.denyOutboundEncryptedConnection?.(bad, maConn('/ip4/127.0.0.1/tcp/5')), true)
    assert.equal(await g.denyInboundEncryptedConnection?.(good, maConn('/ip4/127.0.0.1/tcp/5')), false)
  })

  test('trusted only: allowed IDs or ranges get in, nobody else, either way', async () => {
    const friend = await newPeer()
    const stranger = await newPeer()
    const byId = new PeerGuard(policy({ trustedOnly: true, allow: [friend.toString()] })).gater()
    assert.equal(await byId.denyDialPeer?.(friend), false)
    assert.equal(await byId.denyDialPeer?.(stranger), true)
    assert.equal(await byId.denyInboundEncryptedConnection?.(friend, maConn('/ip4/127.0.0.1/tcp/5')), false)
    assert.equal(await byId.denyInboundEncryptedConnection?.(stranger, maConn('/ip4/127.0.0.1/tcp/5')), true)
    const byRange = new PeerGuard(policy({ trustedOnly: true, allow: ['192.0.2.0/24'] })).gater()
    assert.equal(await byRange.denyInboundConnection?.(maConn('/ip4/192.0.2.3/tcp/5')), false)
    assert.equal(await byRange.denyInboundConnection?.(maConn('/ip4/203.0.113.3/tcp/5')), true, 'refused before encryption')
    assert.equal(await byRange.denyDialPeer?.(stranger), false, 'the address decides once known')
    assert.equal(await byRange.denyOutboundEncryptedConnection?.(stranger, maConn('/ip4/203.0.113.3/tcp/5')), true)
    assert.equal(await byRange.denyOutboundEncryptedConnection?.(stranger, maConn('/ip4/192.0.2.3/tcp/5')), false)
  })

  test('at most maxConnectionsPerIP inbound connections from one address; allowed ranges are exempt', async () => {
    const peers = await Promise.all([1, 2, 3].map(newPeer))
    const guard = new PeerGuard(policy({ maxConnectionsPerIP: 3, allow: ['192.0.2.0/24'] }))
    const { libp2p } = fakeLibp2p([
      ...peers.map(p => ({ remotePeer: p, remoteAddr: '/ip4/203.0.113.5/tcp/1', direction: 'inbound' as const })),
      ...peers.map(p => ({ remotePeer: p, remoteAddr: '/ip4/192.0.2.5/tcp/1', direction: 'inbound' as const }))
    ])
    guard.attach(libp2p)
    const g = guard.gater()
    assert.equal(await g.denyInboundConnection?.(maConn('/ip4/203.0.113.5/tcp/9')), true, 'a fourth from the same IP')
    assert.equal(await g.denyInboundConnection?.(maConn('/ip4/203.0.113.6/tcp/9')), false, 'another IP')
    assert.equal(await g.denyInboundConnection?.(maConn('/ip4/192.0.2.5/tcp/9')), false, 'an allowed range')
    assert.ok(guard.stats.refused >= 1)
  })
})

describe('scores and bans', () => {
  test('one wrong block bans at once: the peer is hung up on, refused both ways, and listeners hear of it', async () => {
    const liar = await newPeer()
    const guard = new PeerGuard(policy())
    const { libp2p, closed } = fakeLibp2p([{ remotePeer: liar, remoteAddr: '/ip4/127.0.0.1/tcp/1', direction: 'outbound' }])
    guard.attach(libp2p)
    const heard: string[] = []
    const off = guard.onBan(e => heard.push(`${e.peer} ${e.offence}`))
    assert.equal(OFFENCES['wrong-block'], BAN_SCORE)
    assert.equal(guard.report(liar, 'wrong-block'), true)
    assert.deepEqual(closed, [liar.toString()])
    assert.deepEqual(heard, [`${liar.toString()} wrong-block`])
    assert.ok(guard.isBanned(liar))
    const g = guard.gater()
    assert.equal(await g.denyDialPeer?.(liar), true)
    assert.equal(await g.denyInboundEncryptedConnection?.(liar, maConn('/ip4/127.0.0.1/tcp/5')), true)
    off()
    guard.report(liar, 'wrong-block')
    assert.equal(heard.length, 1, 'banned once; unsubscribed listener hears nothing more')
  })

  test('unsolicited blocks add up: a few are tolerated, many ban', async () => {
    const p = await newPeer()
    const guard = new PeerGuard(policy())
    const n = Math.ceil(BAN_SCORE / OFFENCES['unsolicited-block'])
    for (let i = 1; i < n; i++) assert.equal(guard.report(p, 'unsolicited-block'), false, `after ${i}`)
    assert.equal(guard.report(p, 'unsolicited-block'), true)
  })

  test('one invalid anchor block or manifest from gossip bans at once (honest nodes validate before forwarding)', async () => {
    const p = await newPeer()
    const guard = new PeerGuard(policy())
    assert.equal(guard.report(p, 'invalid-anchor'), true)
    assert.ok(guard.isBanned(p))
  })
})

describe('the bitswap watch', () => {
  /** A fake engine: the guard only listens to these two event targets. */
  function fakeEngine (wanted: Set<string>): { engine: BitswapEngine, block: (cid: CID, sender: PeerId) => void, message: (peer: PeerId, wants: number, cancel?: boolean) => void } {
    const wantList = new EventTarget() as EventTarget & { has: (c: CID) => boolean }
    wantList.has = (c: CID) => wanted.has(Buffer.from(c.multihash.bytes).toString('base64'))
    const network = new EventTarget()
    return {
      engine: { wantList, network } as unknown as BitswapEngine,
      block: (cid, sender) => wantList.dispatchEvent(new CustomEvent('block', { detail: { cid, sender } })),
      message: (peer, wants, cancel = false) => network.dispatchEvent(new CustomEvent('bitswap:message', { detail: { peer, message: { wantlist: { entries: new Array(wants).fill({ cancel }) } } } }))
    }
  }
  const cidOf = async (s: string): Promise<CID> => CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(s)))

  test('a wanted block is fine, and so are late copies of it; blocks nobody wanted are counted against the sender', async () => {
    const honest = await newPeer()
    const hostile = await newPeer()
    const want = await cidOf('wanted')
    const wanted = new Set([Buffer.from(want.multihash.bytes).toString('base64')])
    const guard = new PeerGuard(policy())
    const f = fakeEngine(wanted)
    guard.watchBitswap(f.engine)
    f.block(want, honest)
    wanted.clear() // the want is answered and cancelled
    f.block(want, honest) // a late duplicate from a second peer
    assert.equal(guard.score(honest), 0)
    for (let i = 0; i < 3; i++) f.block(await cidOf(`junk ${i}`), hostile)
    assert.equal(guard.score(hostile), 3 * OFFENCES['unsolicited-block'])
  })

  test('a wantlist longer than any honest peer sends is a flood: banned', async () => {
    const p = await newPeer()
    const guard = new PeerGuard(policy())
    const f = fakeEngine(new Set())
    guard.watchBitswap(f.engine)
    f.message(p, 10)
    assert.equal(guard.isBanned(p), false)
    f.message(p, MAX_WANTS_PER_MESSAGE + 1)
    assert.equal(guard.isBanned(p), true)
  })

  test('what the watch remembers is what the last minute brought: expired wants and closed want windows are forgotten', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 })
    const guard = new PeerGuard(policy())
    const wanted = new Set<string>()
    const f = fakeEngine(wanted)
    guard.watchBitswap(f.engine)
    const peers = await Promise.all(Array.from({ length: 20 }, async () => await newPeer()))
    for (let i = 0; i < 50; i++) {
      const cid = await cidOf(`block ${i}`)
      wanted.add(Buffer.from(cid.multihash.bytes).toString('base64'))
      f.block(cid, peers[0])
    }
    for (const p of peers) f.message(p, 10)
    assert.deepEqual(guard.remembered, { wants: 50, windows: 20 })
    t.mock.timers.tick(RECENT_WANT_MS + 1)
    // one more want and one more window: the old ones have expired and go
    const late = await cidOf('late')
    wanted.add(Buffer.from(late.multihash.bytes).toString('base64'))
    f.block(late, peers[1])
    f.message(peers[1], 10)
    assert.deepEqual(guard.remembered, { wants: 1, windows: 1 })
    // a late copy of a block wanted long ago is unsolicited again, as before
    wanted.clear()
    f.block(await cidOf('block 3'), peers[2])
    assert.equal(guard.score(peers[2]), OFFENCES['unsolicited-block'])
    f.block(late, peers[2])
    assert.equal(guard.score(peers[2]), OFFENCES['unsolicited-block'], 'a copy of a block wanted within the minute is a duplicate')
  })

  test('many moderate wantlists within 10 s are a flood too; cancels do not count', async () => {
    const p = await newPeer()
    const q = await newPeer()
    const guard = new PeerGuard(policy())
    const f = fakeEngine(new Set())
    guard.watchBitswap(f.engine)
    for (let i = 0; i < 20; i++) f.message(q, MAX_WANTS_PER_MESSAGE, true)
    assert.equal(guard.isBanned(q), false, 'cancels are not wants')
    let sent = 0
    while (!guard.isBanned(p) && sent <= MAX_WANTS_PER_WINDOW) {
      f.message(p, 2000)
      sent += 2000
    }
    assert.ok(guard.isBanned(p))
    assert.ok(sent > MAX_WANTS_PER_WINDOW && sent <= MAX_WANTS_PER_WINDOW + 2000, `banned after ${sent} wants`)
  })
})

// Kubo RPC: the node and the network. id, version, swarm/peers,
// swarm/connect, routing/findprovs, routing/provide, config/show.

import os from 'node:os'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { CAIRN_VERSION } from '../util/version.ts'
import { connect, findProviders, NotFoundInNetworkError } from '../net/info.ts'
import { BlockNotFoundError } from '../util/errors.ts'
import { RpcParamError, sendJson, sendStream } from './wire.ts'
import { cidArg, parseDuration } from './args.ts'
import { storageMax } from './repo.ts'
import type { Call, Endpoint, RpcContext } from './call.ts'

/** Kubo's routing.QueryEventType for a provider found */
const EVENT_PROVIDER = 4
/** routing/findprovs: providers wanted unless num-providers says otherwise (Kubo's default) */
const DEFAULT_NUM_PROVIDERS = 20
/** routing/findprovs and provide give up after this unless `timeout` says otherwise */
const ROUTING_TIMEOUT_MS = 30_000
/** go-libp2p's network.Direction values, which Kubo's swarm/peers sends */
const DIR_INBOUND = 1
const DIR_OUTBOUND = 2

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')

export function nodeEndpoints (ctx: RpcContext): Record<string, Endpoint> {
  const s = ctx.services
  return {
    async id (c: Call) {
      const node = await s.node()
      const self = node.libp2p.peerId
      const arg = c.params.args()[0]
      if (arg == null || arg === '' || arg === self.toString()) {
        return sendJson(c.res, {
          ID: self.toString(),
          PublicKey: self.publicKey != null ? b64(publicKeyToProtobuf(self.publicKey)) : '',
          Addresses: node.addresses(),
          AgentVersion: `cairn/${CAIRN_VERSION}`,
          Protocols: node.libp2p.getProtocols().sort()
        })
      }
      // another peer: what the peer store knows of it (identify), never a guess
      let id
      try { id = peerIdFromString(arg) } catch { throw new RpcParamError(`invalid peer ID ${JSON.stringify(arg)}`) }
      const peer = await node.libp2p.peerStore.get(id).catch(() => null)
      if (peer == null) throw new NotFoundInNetworkError(`peer ${arg} is not known to this node (connect to it first)`)
      const agent = peer.metadata.get('AgentVersion')
      sendJson(c.res, {
        ID: id.toString(),
        PublicKey: id.publicKey != null ? b64(publicKeyToProtobuf(id.publicKey)) : '',
        Addresses: peer.addresses.map(a => `${a.multiaddr.toString()}/p2p/${id.toString()}`),
        AgentVersion: agent != null ? new TextDecoder().decode(agent) : '',
        Protocols: [...peer.protocols].sort()
      })
    },

    async version (c: Call) {
      sendJson(c.res, { Version: CAIRN_VERSION, Commit: '', Repo: 'cairn', System: `${os.arch()}/${os.platform()}`, Golang: `node-${process.version}` })
    },

    async 'swarm/peers' (c: Call) {
      const node = await s.node()
      const withLatency = c.params.bool(['latency'], false) || c.params.bool(['verbose', 'v'], false)
      const withStreams = c.params.bool(['streams'], false) || c.params.bool(['verbose', 'v'], false)
      const withDirection = c.params.bool(['direction'], false) || c.params.bool(['verbose', 'v'], false)
      const peers = node.libp2p.getConnections().map(conn => {
        const row: Record<string, unknown> = {
          Addr: conn.remoteAddr.decapsulateCode(421).toString(),
          Peer: conn.remotePeer.toString(),
          Latency: withLatency && conn.rtt != null ? `${conn.rtt}ms` : '',
          Muxer: conn.multiplexer ?? ''
        }
        if (withDirection) row.Direction = conn.direction === 'inbound' ? DIR_INBOUND : DIR_OUTBOUND
        if (withStreams) row.Streams = conn.streams.map(st => ({ Protocol: st.protocol ?? '' }))
        return row
      })
      sendJson(c.res, { Peers: peers })
    },

    async 'swarm/connect' (c: Call) {
      const node = await s.node()
      const addrs = c.params.args()
      if (addrs.length === 0) throw new RpcParamError('argument "address" is required')
      const out: string[] = []
      for (const a of addrs) {
        const r = await connect(node, a, AbortSignal.any([c.signal, AbortSignal.timeout(ROUTING_TIMEOUT_MS)]))
        out.push(`connect ${r.id} success`)
      }
      sendJson(c.res, { Strings: out })
    },

    async 'routing/findprovs' (c: Call) {
      const cid = cidArg(c.params)
      const max = c.params.int(['num-providers', 'n']) ?? DEFAULT_NUM_PROVIDERS
      if (max < 1) throw new RpcParamError('number of providers must be greater than 0')
      const timeoutMs = parseDuration(c.params.str(['timeout'])) ?? ROUTING_TIMEOUT_MS
      const node = await s.node()
      await sendStream(c.res, (async function * () {
        try {
          for await (const p of findProviders(node, cid, { timeoutMs, max, signal: c.signal })) {
            yield { Extra: '', ID: '', Responses: [{ Addrs: p.addresses, ID: p.id }], Type: EVENT_PROVIDER }
          }
        } catch (err) {
          // Kubo's lookup that finds nobody simply ends
          if (!(err instanceof NotFoundInNetworkError)) throw err
        }
      })())
    },

    async 'routing/provide' (c: Call) {
      const args = c.params.args()
      if (args.length === 0) throw new RpcParamError('argument "key" is required')
      const recursive = c.params.bool(['recursive', 'r'], false)
      const cids = args.map(a => cidArg(c.params, a))
      for (const cid of cids) {
        if (!(await s.repo.blocks.has(cid))) throw new BlockNotFoundError(cid.toString(), `block ${cid.toString()} not found locally, cannot provide`)
      }
      const node = await s.node()
      const signal = AbortSignal.any([c.signal, AbortSignal.timeout(parseDuration(c.params.str(['timeout'])) ?? ROUTING_TIMEOUT_MS)])
      for (const cid of cids) {
        if (recursive && s.provider != null) {
          // the root now, and what is below it with the sweep provider's fresh content
          const r = await s.provider.provideOne(cid, undefined, signal)
          if (r.peers === 0) throw new Error(`providing ${cid.toString()} failed: ${r.failures[0]?.message ?? 'no DHT peer took the record'}`)
          await s.provider.provideDag(cid, signal)
        } else {
          await node.libp2p.contentRouting.provide(cid, { signal })
        }
      }
      // Kubo streams its DHT query events here; cairn has none to show
      await sendStream(c.res, (async function * () {})())
    },

    async 'config/show' (c: Call) {
      const node = await s.node()
      const { repo } = s
      sendJson(c.res, {
        Identity: { PeerID: node.libp2p.peerId.toString() },
        Addresses: { API: multiaddrOf(ctx.address()), Swarm: repo.config.addresses.listen, Announce: [], Gateway: '' },
        Bootstrap: repo.config.bootstrap,
        Datastore: { StorageMax: String(await storageMax(repo)) }
      })
    }
  }
}

/** HOST:PORT as Kubo's /ip4|ip6/HOST/tcp/PORT; unix:PATH as /unix/PATH */
function multiaddrOf (hostPort: string): string {
  if (hostPort.startsWith('unix:')) return `/unix${hostPort.slice('unix:'.length)}`
  const m = /^\[?([^\]]+)\]?:(\d+)$/.exec(hostPort)
  if (m == null) return ''
  return `/${m[1].includes(':') ? 'ip6' : 'ip4'}/${m[1]}/tcp/${m[2]}`
}

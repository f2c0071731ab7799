// A stock Helia 7 node on the IPFS protocols, for the tests in network
// namespaces (ipfs-dht.test.ts): libp2p (TCP, Noise, Yamux, identify,
// identify push, ping), kad-dht on /ipfs/kad/1.0.0 with its own defaults
// (the Amino protocol, private addresses dropped from records), bitswap, and
// Helia's libp2p routing. Configured explicitly: no public bootstrap list, no
// delegated routers, no mDNS, no UPnP, no AutoNAT (so nothing leaves the
// namespace, and nothing waits on a reachability answer that a test network
// never gives: a public IPFS server is configured as what AutoNAT would make
// it, a DHT server announcing its public address).
//
// argv[2] is JSON: { listen, bootstrap?: string[], publicRanges?: string[] }.
// The ranges are made public to libp2p exactly as the cairn launcher does
// (core/net/public-ranges.ts), so Helia treats the test network as the
// internet; the hook goes in before libp2p is imported.
//
// Lines on stdin are commands, one JSON answer per line:
//   {"add": "<base64>"}                  → {"cid"}              (stored, not announced)
//   {"provide": "<cid>"}                 → {"ms"}
//   {"cat": "<cid>", "timeoutMs"}        → {"bytes": "<base64>"} (bitswap, providers from the DHT)
//   {"findProviders": "<cid>", "timeoutMs"} → {"providers": [{"id", "addrs"}]}
//   {"agent": "<peer id>"}               → {"agent"}            (what identify said)
//   {"peers": true}                      → {"peers": ["<id>", …]}
//   {"dial": "<multiaddr>"}              → {"id"}
//   {"table": true}                      → {"size"}
//   {"ipnsPublish": "<cid>"}             → {"name"}             (@helia/ipns, key 'interop', to the DHT)
//   {"ipnsResolve": "<name>", "timeoutMs"} → {"value", "seq"}   (@helia/ipns, from the DHT)
//   {"ipnsRecord": "<name>", "timeoutMs"}  → {"record": "<base64>"} (the DHT's record, checked by kad-dht's ipns validator)
//   {"ipnsValidate": "<name>", "record": "<base64>"} → {"value", "seq"} (@helia/ipns's own validator, Helia's keychain)
// It prints {"listening": "<multiaddr>/p2p/<id>", "id"} first.

import { createInterface } from 'node:readline'
import { installPublicRangesHook, setPublicRanges } from '../../core/net/public-ranges.ts'

const { base36 } = await import('multiformats/bases/base36')
const { multihashToIPNSRoutingKey } = await import('ipns')

interface Options { listen: string, bootstrap?: string[], publicRanges?: string[] }
const o = JSON.parse(process.argv[2] ?? '{}') as Options
installPublicRangesHook()
setPublicRanges(o.publicRanges ?? [])

const [{ withBitswap }, { withLibp2pLight }, { unixfs }, { identify, identifyPush }, { kadDHT }, { noise }, { ping }, { tcp }, { yamux }, { bootstrap }, { multiaddr }, { peerIdFromString, peerIdFromCID }, { MemoryBlockstore }, { MemoryDatastore }, { createHeliaLight }, { CID }, { ipns, ipnsValidator: heliaIpnsValidator }, { ipnsValidator }, { ipnsSelector }] = await Promise.all([
  import('@helia/bitswap'), import('@helia/libp2p'), import('@helia/unixfs'), import('@libp2p/identify'), import('@libp2p/kad-dht'),
  import('@libp2p/noise'), import('@libp2p/ping'), import('@libp2p/tcp'), import('@libp2p/yamux'), import('@libp2p/bootstrap'),
  import('@multiformats/multiaddr'), import('@libp2p/peer-id'), import('blockstore-core'), import('datastore-core'), import('helia'), import('multiformats/cid'),
  import('@helia/ipns'), import('ipns/validator'), import('ipns/selector')
])

const helia = withBitswap(withLibp2pLight(createHeliaLight({ blockstore: new MemoryBlockstore(), datastore: new MemoryDatastore() }), {
  // listened on and announced: what a public server's AutoNAT would confirm
  addresses: { listen: [o.listen], announce: [o.listen] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  peerDiscovery: (o.bootstrap ?? []).length > 0 ? [bootstrap({ list: o.bootstrap as string[] })] : [],
  services: {
    identify: identify(),
    identifyPush: identifyPush(),
    ping: ping(),
    // a DHT server, as a public node becomes once AutoNAT answers; everything else kad-dht's
    // defaults, with the IPNS record rules every IPNS node (Kubo, Helia's libp2p defaults) uses
    dht: kadDHT({ clientMode: false, validators: { ipns: ipnsValidator }, selectors: { ipns: ipnsSelector } })
  }
}))
await helia.start()
const libp2p = helia.libp2p as unknown as import('@libp2p/interface').Libp2p<{ dht: import('@libp2p/kad-dht').KadDHT }>
const fs = unixfs(helia)
// Helia's IPNS, with its own keychain (key 'interop') and Helia's routing (the DHT above)
const names = ipns(helia)
const say = (x: unknown): void => { process.stdout.write(JSON.stringify(x) + '\n') }
const me = libp2p.peerId.toString()
say({ listening: `${o.listen}/p2p/${me}`, id: me })

interface Cmd { add?: string, provide?: string, cat?: string, findProviders?: string, agent?: string, peers?: boolean, dial?: string, table?: boolean, ipnsPublish?: string, ipnsResolve?: string, ipnsRecord?: string, ipnsValidate?: string, record?: string, timeoutMs?: number }

async function answer (cmd: Cmd): Promise<unknown> {
  const signal = AbortSignal.timeout(cmd.timeoutMs ?? 60_000)
  if (cmd.add != null) return { cid: (await fs.addBytes(Buffer.from(cmd.add, 'base64'))).toString() }
  if (cmd.provide != null) {
    const t0 = performance.now()
    await helia.routing.provide(CID.parse(cmd.provide), { signal })
    return { ms: Math.round(performance.now() - t0) }
  }
  if (cmd.cat != null) {
    const chunks: Uint8Array[] = []
    for await (const c of fs.cat(CID.parse(cmd.cat), { signal })) chunks.push(c)
    return { bytes: Buffer.concat(chunks).toString('base64') }
  }
  if (cmd.findProviders != null) {
    const providers: Array<{ id: string, addrs: string[] }> = []
    try {
      for await (const p of helia.routing.findProviders(CID.parse(cmd.findProviders), { signal })) {
        // Helia 7's routing names a provider by the CID of its peer ID (bafzaa…)
        providers.push({ id: peerIdFromCID(p.id as unknown as InstanceType<typeof CID>).toString(), addrs: p.multiaddrs.map(a => a.toString()) })
      }
    } catch (err) {
      if (providers.length === 0) throw err
    }
    return { providers }
  }
  if (cmd.agent != null) {
    const peer = await libp2p.peerStore.get(peerIdFromString(cmd.agent))
    const agent = peer.metadata.get('AgentVersion')
    return { agent: agent == null ? null : new TextDecoder().decode(agent), protocols: peer.protocols }
  }
  if (cmd.peers === true) return { peers: [...new Set(libp2p.getConnections().map(c => c.remotePeer.toString()))] }
  if (cmd.dial != null) return { id: (await libp2p.dial(multiaddr(cmd.dial), { signal })).remotePeer.toString() }
  if (cmd.ipnsPublish != null) {
    const r = await names.publish('interop', CID.parse(cmd.ipnsPublish), { signal })
    return { name: r.publicKey.toCID().toString(base36) }
  }
  if (cmd.ipnsResolve != null) {
    // the first answer is the resolved record (a recursive name would yield more)
    const first = await names.resolve(peerIdFromString(cmd.ipnsResolve).toMultihash() as never, { signal }).next()
    if (first.done === true) throw new Error('no record')
    const v: unknown = first.value.record.value
    return { value: v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v), seq: String(first.value.record.sequence) }
  }
  if (cmd.ipnsRecord != null) {
    const key = multihashToIPNSRoutingKey(peerIdFromString(cmd.ipnsRecord).toMultihash() as never)
    return { record: Buffer.from(await helia.routing.get(key, { signal })).toString('base64') }
  }
  if (cmd.ipnsValidate != null) {
    const key = multihashToIPNSRoutingKey(peerIdFromString(cmd.ipnsValidate).toMultihash() as never)
    const entry = await heliaIpnsValidator(key, Buffer.from(cmd.record ?? '', 'base64'), helia.keychain, { signal })
    return { value: new TextDecoder().decode(entry.value ?? new Uint8Array()), seq: String(entry.sequence) }
  }
  if (cmd.table === true) return { size: (libp2p.services.dht as unknown as { routingTable: { size: number } }).routingTable.size }
  throw new Error(`unknown command ${JSON.stringify(cmd)}`)
}

// one command at a time per line, but lines may overlap (a cat while a findProviders runs)
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as Cmd & { n?: number }
  void answer(cmd).then(r => { say({ n: cmd.n, ...(r as object) }) }, (err: Error) => { say({ n: cmd.n, error: `${err.name}: ${err.message}` }) })
}
await helia.stop()

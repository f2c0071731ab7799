// The baselines of the transfer bench, each side in a process of its own
// (the orchestrator is transfer.ts). Every mode prints JSON lines on stdout;
// the last one is its result. Loopback only.
//
//   tcp-recv BYTES                  → {"port"}; acks once BYTES arrived, then exits
//   tcp-send PORT BYTES CHUNK       → {"seconds"} from connect to the ack
//   libp2p-recv BYTES [ENC]         → {"addr"}; the same over one libp2p stream
//   libp2p-send ADDR BYTES CHUNK [ENC]  → {"seconds"} from the first send to the ack
//                                     (ENC: noise, the default, or tls: @libp2p/tls)
//   helia-seed FILE DIR CHUNK       → {"addr","cid"} once FILE is imported (untimed);
//                                     serves until stdin closes, then {"peakRssMiB"}
//   helia-fetch CID OUT DIR TIMEOUT_MS ADDR...
//                                   → {"seconds","bytes","peers","peakRssMiB"} or {"timedOut":true}
//
// Senders write CHUNK-sized pieces of one random buffer and wait on
// backpressure (socket.write → 'drain'; libp2p 3's stream.send → onDrain, as
// core/net/block-protocol.ts does). Receivers only count bytes.

import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import type { Libp2p, Stream } from '@libp2p/interface'

/** the protocol of the raw libp2p stream baseline: nothing but bytes */
const STREAM_PROTOCOL = '/cairn-bench/stream/1.0.0'
/** the one byte a receiver sends back once it has counted everything */
const ACK = Uint8Array.of(0x06)

const [mode, ...args] = process.argv.slice(2)
const say = (o: unknown): void => { process.stdout.write(JSON.stringify(o) + '\n') }

/** Peak RSS of this process (VmHWM, which starts afresh at exec). */
function peakRssMiB (): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))
  return m != null ? Number(m[1]) / 1024 : 0
}

/** The one buffer senders cut their chunks from: random, so nothing compresses it. */
function source (chunk: number): Buffer {
  return randomBytes(chunk)
}

async function tcpRecv (total: number): Promise<void> {
  const server = net.createServer(socket => {
    let n = 0
    socket.on('data', (b: Buffer) => {
      n += b.byteLength
      if (n >= total) socket.end(ACK, () => server.close())
    })
    socket.on('error', () => {})
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  say({ port: (server.address() as net.AddressInfo).port })
  await new Promise(resolve => server.on('close', resolve))
}

async function tcpSend (port: number, total: number, chunk: number): Promise<void> {
  const buf = source(chunk)
  const socket = net.connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  const acked = new Promise<void>(resolve => socket.once('data', () => resolve()))
  const t0 = performance.now()
  for (let sent = 0; sent < total; sent += chunk) {
    const piece = total - sent >= chunk ? buf : buf.subarray(0, total - sent)
    if (!socket.write(piece)) await new Promise(resolve => socket.once('drain', resolve))
  }
  await acked
  const seconds = (performance.now() - t0) / 1000
  socket.destroy()
  say({ seconds })
}

/** A libp2p node configured explicitly: TCP, Noise (or TLS), Yamux, nothing else (no discovery, no DHT). */
async function plainNode (listen: boolean, enc = 'noise'): Promise<Libp2p> {
  const [{ createLibp2p }, { tcp }, { yamux }] = await Promise.all([
    import('libp2p'), import('@libp2p/tcp'), import('@libp2p/yamux')
  ])
  if (enc !== 'noise' && enc !== 'tls') throw new Error(`unknown encrypter ${enc}`)
  const encrypter = enc === 'tls' ? (await import('@libp2p/tls')).tls() : (await import('@libp2p/noise')).noise()
  return await createLibp2p({
    addresses: { listen: listen ? ['/ip4/127.0.0.1/tcp/0'] : [] },
    transports: [tcp()],
    connectionEncrypters: [encrypter],
    streamMuxers: [yamux()]
  })
}

async function libp2pRecv (total: number, enc?: string): Promise<void> {
  const node = await plainNode(true, enc)
  let finished: () => void = () => {}
  const done = new Promise<void>(resolve => { finished = resolve })
  await node.handle(STREAM_PROTOCOL, async (stream: Stream) => {
    let n = 0
    let acked = false
    try {
      // read to the end: the sender closes once it has the ack
      for await (const c of stream) {
        n += c.byteLength
        if (n >= total && !acked) {
          acked = true
          stream.send(ACK)
        }
      }
      await stream.close()
    } catch (err) {
      stream.abort(err as Error)
    }
    finished()
  })
  say({ addr: node.getMultiaddrs()[0].toString() })
  await done
  await node.stop()
}

async function libp2pSend (addr: string, total: number, chunk: number, enc?: string): Promise<void> {
  const { multiaddr } = await import('@multiformats/multiaddr')
  const node = await plainNode(false, enc)
  const stream = await node.dialProtocol(multiaddr(addr), STREAM_PROTOCOL)
  const buf = source(chunk)
  // the receiver's one message is the ack: leaving the loop at it ends the read
  // eslint-disable-next-line no-unreachable-loop
  const acked = (async () => { for await (const _ of stream) return })()
  const t0 = performance.now()
  for (let sent = 0; sent < total; sent += chunk) {
    const piece = total - sent >= chunk ? buf : buf.subarray(0, total - sent)
    if (!stream.send(piece)) await stream.onDrain()
  }
  await acked
  const seconds = (performance.now() - t0) / 1000
  say({ seconds })
  await stream.close()
  await node.stop()
}

/** Helia 7 light with bitswap over blockstore-fs in `dir`: a stock node, no routers, loopback only. */
async function heliaNode (dir: string): Promise<any> {
  const [{ createHeliaLight }, { withLibp2pLight }, { withBitswap }, { tcp }, { noise }, { yamux }, { identify }, { FsBlockstore }, { MemoryDatastore }] = await Promise.all([
    import('helia'), import('@helia/libp2p'), import('@helia/bitswap'), import('@libp2p/tcp'), import('@libp2p/noise'),
    import('@libp2p/yamux'), import('@libp2p/identify'), import('blockstore-fs'), import('datastore-core')
  ])
  const blockstore = new FsBlockstore(path.join(dir, 'blocks'))
  await blockstore.open()
  const helia = withBitswap(withLibp2pLight(createHeliaLight({ blockstore, datastore: new MemoryDatastore() }), {
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  }))
  await helia.start()
  return helia
}

async function heliaSeed (file: string, dir: string, chunk: number): Promise<void> {
  const [{ unixfs }, { fixedSize }] = await Promise.all([import('@helia/unixfs'), import('ipfs-unixfs-importer/chunker')])
  const helia = await heliaNode(dir)
  const cid = await unixfs(helia).addByteStream(fs.createReadStream(file, { highWaterMark: chunk }), { chunker: fixedSize({ chunkSize: chunk }) })
  say({ addr: helia.libp2p.getMultiaddrs()[0].toString(), cid: cid.toString() })
  // serve until the orchestrator closes stdin
  process.stdin.resume()
  await new Promise(resolve => process.stdin.once('end', resolve))
  say({ peakRssMiB: peakRssMiB() })
  await helia.stop()
}

async function heliaFetch (cidStr: string, out: string, dir: string, timeoutMs: number, addrs: string[]): Promise<void> {
  const [{ unixfs }, { multiaddr }, { CID }] = await Promise.all([import('@helia/unixfs'), import('@multiformats/multiaddr'), import('multiformats/cid')])
  const helia = await heliaNode(dir)
  const signal = AbortSignal.timeout(timeoutMs)
  // which peer sent each block, from bitswap's progress events (if cat passes them on)
  const peers: Record<string, number> = {}
  const onProgress = (e: { type: string, detail: unknown }): void => {
    if (e.type !== 'bitswap:block') return
    const sender = (e.detail as { sender?: { toString: () => string } }).sender?.toString() ?? '?'
    peers[sender] = (peers[sender] ?? 0) + 1
  }
  const t0 = performance.now()
  let bytes = 0
  try {
    for (const a of addrs) await helia.libp2p.dial(multiaddr(a), { signal })
    const fd = fs.openSync(out, 'w')
    try {
      for await (const c of unixfs(helia).cat(CID.parse(cidStr), { signal, onProgress })) {
        fs.writeSync(fd, c)
        bytes += c.byteLength
      }
    } finally {
      fs.closeSync(fd)
    }
  } catch (err) {
    if (signal.aborted) {
      say({ timedOut: true, bytes, peers, peakRssMiB: peakRssMiB() })
      process.exit(0)
    }
    throw err
  }
  const seconds = (performance.now() - t0) / 1000
  say({ seconds, bytes, peers, peakRssMiB: peakRssMiB() })
  // a stuck handle must not keep the process (and the bench) waiting
  setTimeout(() => process.exit(0), 5000).unref()
  await helia.stop()
}

const n = Number
if (mode === 'tcp-recv') await tcpRecv(n(args[0]))
else if (mode === 'tcp-send') await tcpSend(n(args[0]), n(args[1]), n(args[2]))
else if (mode === 'libp2p-recv') await libp2pRecv(n(args[0]), args[1])
else if (mode === 'libp2p-send') await libp2pSend(args[0], n(args[1]), n(args[2]), args[3])
else if (mode === 'helia-seed') await heliaSeed(args[0], args[1], n(args[2]))
else if (mode === 'helia-fetch') await heliaFetch(args[0], args[1], args[2], n(args[3]), args.slice(4))
else throw new Error(`unknown mode ${mode}`)

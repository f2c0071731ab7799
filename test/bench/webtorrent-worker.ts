// WebTorrent 3 as the realistic bench's (realistic.ts) baseline, each side a
// process of its own. Prints JSON lines on stdout; the last one is its result.
//
//   wt-seed FILE DIR            → {"port","torrent"} once FILE is hashed (untimed; the
//                                 .torrent is written to DIR); serves until stdin
//                                 closes, then {"peakRssMiB"}
//   wt-fetch TORRENT OUT TIMEOUT_MS PORT...
//                               → {"seconds","sinceStart","bytes","peers","peakRssMiB","cpuSeconds"} or {"timedOut":true}
//                                 (seconds: add to done; sinceStart: the process's start
//                                 to done, Node's start and the imports included, as a
//                                 cairn get is timed; cpuSeconds: the process's CPU,
//                                 every thread, from its start to done)
//
// The installed webtorrent has no built WebRTC addon: every import of
// 'webrtc-polyfill' or 'node-datachannel' resolves to a stub (a resolve hook
// registered before webtorrent is imported), so the native module is never
// loaded; WebRTC peers are never made (TCP peers only, added by hand).
// Loopback only: no DHT, no tracker, no LSD, no uTP, no UPnP / NAT-PMP, no
// PEX, the torrent private and without announce URLs; and as a last guard,
// any TCP connect or UDP send to an address other than loopback throws.

import dgram from 'node:dgram'
import fs from 'node:fs'
import { registerHooks } from 'node:module'
import net from 'node:net'
import path from 'node:path'
import { performance } from 'node:perf_hooks'

/** what the stub of the WebRTC modules exports: classes that refuse to be made */
const WEBRTC_STUB = 'data:text/javascript,' + encodeURIComponent(`
class NoWebRTC { constructor () { throw new Error('WebRTC is stubbed out in the bench') } }
export const RTCPeerConnection = NoWebRTC
export const RTCSessionDescription = NoWebRTC
export const RTCIceCandidate = NoWebRTC
export const PeerConnection = NoWebRTC
export const IceUdpMuxListener = NoWebRTC
export default {}
`)
const STUBBED = /^(webrtc-polyfill|node-datachannel)(\/.*)?$/
registerHooks({
  resolve (specifier, context, next) {
    if (STUBBED.test(specifier)) return { url: WEBRTC_STUB, format: 'module', shortCircuit: true }
    return next(specifier, context)
  }
})

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1'])
function refuseUnlessLoopback (host: unknown, what: string): void {
  if (host != null && !LOOPBACK.has(String(host))) throw new Error(`bench guard: ${what} to ${String(host)} refused (loopback only)`)
}
const connect = net.Socket.prototype.connect
net.Socket.prototype.connect = function (this: net.Socket, ...args: any[]) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0] // (normalized args) from net.connect
  if (typeof first === 'object' && first != null) {
    if (first.path == null) refuseUnlessLoopback(first.host ?? '127.0.0.1', 'TCP connect')
  } else if (typeof first === 'number' || /^\d+$/.test(String(first))) {
    refuseUnlessLoopback(typeof args[1] === 'string' ? args[1] : '127.0.0.1', 'TCP connect')
  }
  return (connect as (...a: any[]) => net.Socket).apply(this, args)
} as typeof connect
const send = dgram.Socket.prototype.send
dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: any[]) {
  const host = args.find((a, i) => i > 0 && typeof a === 'string')
  refuseUnlessLoopback(host ?? 'unknown', 'UDP send')
  return (send as (...a: any[]) => void).apply(this, args)
} as typeof send

const [mode, ...args] = process.argv.slice(2)
const say = (o: unknown): void => { process.stdout.write(JSON.stringify(o) + '\n') }

function peakRssMiB (): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))
  return m != null ? Number(m[1]) / 1024 : 0
}

/** every discovery and outside-world feature off: peers come only from addPeer */
const CLIENT_OPTIONS = { dht: false, tracker: false, lsd: false, utp: false, utPex: false, natUpnp: false, natPmp: false, webSeeds: false }

async function client (): Promise<any> {
  // a specifier in a variable: webtorrent ships no types, and the bench uses it untyped
  const specifier = 'webtorrent'
  const { default: WebTorrent } = await import(specifier) as { default: new (o: object) => any }
  return new WebTorrent(CLIENT_OPTIONS)
}

async function listening (c: any): Promise<number> {
  if (!c.listening) await new Promise(resolve => c.once('listening', resolve))
  return c.address().port as number
}

async function wtSeed (file: string, dir: string): Promise<void> {
  const c = await client()
  const torrent = await new Promise<any>((resolve, reject) => {
    c.once('error', reject)
    c.seed(file, { announceList: [], private: true }, resolve)
  })
  const port = await listening(c)
  const out = path.join(dir, `${torrent.infoHash as string}.torrent`)
  fs.writeFileSync(out, torrent.torrentFile)
  say({ port, torrent: out, pieceLength: torrent.pieceLength })
  process.stdin.resume()
  await new Promise(resolve => process.stdin.once('end', resolve))
  say({ peakRssMiB: peakRssMiB() })
  await new Promise(resolve => c.destroy(resolve))
}

async function wtFetch (torrentFile: string, out: string, timeoutMs: number, ports: number[]): Promise<void> {
  const c = await client()
  const wires = new Set<any>()
  const timer = setTimeout(() => {
    say({ timedOut: true, bytes: 0, peers: {}, peakRssMiB: peakRssMiB() })
    process.exit(0)
  }, timeoutMs)
  const t0 = performance.now()
  const torrent = c.add(fs.readFileSync(torrentFile), { path: out, announce: [], private: true })
  torrent.on('wire', (w: any) => wires.add(w))
  torrent.once('infoHash', () => { for (const p of ports) torrent.addPeer(`127.0.0.1:${p}`) })
  await new Promise<void>((resolve, reject) => {
    torrent.once('done', resolve)
    torrent.once('error', reject)
    c.once('error', reject)
  })
  const seconds = (performance.now() - t0) / 1000
  clearTimeout(timer)
  const peers: Record<string, number> = {}
  for (const w of wires) peers[String(w.remotePort)] = (peers[String(w.remotePort)] ?? 0) + (w.downloaded as number)
  // performance.now() counts from the process's time origin: its start
  const cpu = process.cpuUsage()
  say({ seconds, sinceStart: performance.now() / 1000, bytes: torrent.length, peers, peakRssMiB: peakRssMiB(), cpuSeconds: (cpu.user + cpu.system) / 1e6 })
  setTimeout(() => process.exit(0), 5000).unref()
  await new Promise(resolve => c.destroy(resolve))
}

if (mode === 'wt-seed') await wtSeed(args[0], args[1])
else if (mode === 'wt-fetch') await wtFetch(args[0], args[1], Number(args[2]), args.slice(3).map(Number))
else throw new Error(`unknown mode ${mode}`)

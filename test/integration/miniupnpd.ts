// miniupnpd in a router namespace, for the UPnP test. It must be told the
// router's external address is usable although it lies in a documentation
// range: miniupnpd refuses port forwarding on a "reserved" external address
// unless `ext_allow_private_ipv4=yes`, an option Debian 12's 2.3.1 lacks
// (there `ext_ip=198.51.100.x` fails with "reserved / private address").

import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Home, Topology } from './netns.ts'

/** miniupnpd either exits with its config error or runs by then */
const START_PROBE_MS = 2_000
/** where miniupnpd serves its UPnP description (and answers SOAP) on the LAN side */
const HTTP_PORT = 5000

const CONFIG = (home: Home): string => [
  'ext_ifname=wan',
  'listening_ip=lan',
  `port=${HTTP_PORT}`,
  'enable_upnp=yes',
  'enable_natpmp=yes',
  'secure_mode=yes',
  'system_uptime=yes',
  // the documentation range is "reserved" to miniupnpd: say it is the external address, and allow it
  `ext_ip=${home.wan}`,
  'ext_allow_private_ipv4=yes',
  'uuid=3e1c2a7d-5b2f-4c6e-9a1d-c41e00000001',
  `allow 1024-65535 ${home.gateway.replace(/\.1$/, '.0')}/24 1024-65535`,
  'deny 0-65535 0.0.0.0/0 0-65535',
  ''
].join('\n')

/** The nftables structure miniupnpd (nftables backend) expects: its table and chains. */
const NFT_INIT = `
table inet filter {
  chain forward { type filter hook forward priority 0; policy accept; jump miniupnpd; }
  chain miniupnpd { }
  chain prerouting { type nat hook prerouting priority -100; policy accept; jump prerouting_miniupnpd; }
  chain postrouting { type nat hook postrouting priority 100; policy accept; jump postrouting_miniupnpd; }
  chain prerouting_miniupnpd { }
  chain postrouting_miniupnpd { }
}
`

async function exists (cmd: string): Promise<boolean> {
  return await fs.access(cmd).then(() => true, () => false)
}

export interface Miniupnpd { child: ChildProcess, log: () => string, stop: () => Promise<void> }

async function launch (topo: Topology, home: Home): Promise<{ upnpd: Miniupnpd, exited: Promise<number | null> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-upnpd-'))
  const conf = path.join(dir, 'miniupnpd.conf')
  await fs.writeFile(conf, CONFIG(home))
  await fs.writeFile(path.join(dir, 'init.nft'), NFT_INIT)
  await topo.exec(home.router, 'nft', ['-f', path.join(dir, 'init.nft')])
  const child = spawn('ip', ['netns', 'exec', home.router, '/usr/sbin/miniupnpd', '-f', conf, '-d'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { log += s })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { log += s })
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
  const stop = async (): Promise<void> => {
    if (child.exitCode == null && child.signalCode == null) child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
    await fs.rm(dir, { recursive: true, force: true })
  }
  return { upnpd: { child, log: () => log, stop }, exited }
}

/** Why miniupnpd cannot serve the test here, or null when it can (it is started and stopped to find out). */
export async function miniupnpdUnavailable (topo: Topology, home: Home): Promise<string | null> {
  if (!(await exists('/usr/sbin/miniupnpd'))) return 'miniupnpd is not installed (.ci/run installs it)'
  const { upnpd, exited } = await launch(topo, home)
  const early = await Promise.race([exited.then(() => true), new Promise<boolean>(resolve => setTimeout(() => resolve(false), START_PROBE_MS))])
  const log = upnpd.log()
  await upnpd.stop()
  await topo.exec(home.router, 'nft', ['delete', 'table', 'inet', 'filter']).catch(() => {})
  if (early) {
    return `miniupnpd refuses a documentation-range external address here (needs ext_allow_private_ipv4, which this build lacks): ${log.trim().split('\n').slice(-2).join(' / ')}`
  }
  if (/Port forwarding is impossible|reserved/i.test(log)) return `miniupnpd disabled port forwarding: ${log.trim()}`
  return null
}

export async function startMiniupnpd (topo: Topology, home: Home): Promise<Miniupnpd> {
  const { upnpd } = await launch(topo, home)
  return upnpd
}

// A small internet in network namespaces, for the NAT tests: a switch
// namespace with a bridge ("the internet", 198.51.100.0/24), public hosts
// plugged into it, and home networks behind routers that masquerade
// (192.0.2.0/24, 203.0.113.0/24). Documentation ranges only. Every namespace
// is named cairn-<pid>-…, and destroy() removes them all (killing what runs
// inside), also from a process 'exit' hook.

import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** one `ip`/`nft` call; the topology is a few dozen of them */
const COMMAND_TIMEOUT_MS = 10_000

export const INTERNET = '198.51.100'

async function sh (cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { timeout: COMMAND_TIMEOUT_MS })
    return stdout
  } catch (err) {
    const e = err as { stderr?: string, message: string }
    throw new Error(`${cmd} ${args.join(' ')}: ${e.stderr?.trim() ?? e.message}`)
  }
}

/** Why namespaces cannot be made here, or null when they can. */
export async function netnsUnavailable (): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'needs root (ip netns)'
  const probe = `cairn-${process.pid}-probe`
  try {
    await sh('ip', ['netns', 'add', probe])
  } catch (err) {
    return `cannot create a network namespace: ${(err as Error).message}`
  }
  try {
    await sh('ip', ['netns', 'exec', probe, 'nft', 'list', 'tables'])
  } catch (err) {
    return `nft does not work in a namespace: ${(err as Error).message}`
  } finally {
    await sh('ip', ['netns', 'del', probe]).catch(() => {})
  }
  return null
}

export interface Home {
  /** the router's namespace and its address on the internet */
  router: string
  wan: string
  /** the home host's namespace and its LAN address */
  host: string
  lan: string
  /** the router's LAN address (the gateway) */
  gateway: string
}

export class Topology {
  readonly prefix = `cairn-${process.pid}`
  private readonly made: string[] = []
  private nextPort = 0
  private readonly onExit = (): void => { this.destroySync() }

  private constructor (readonly net: string) {}

  /** The switch namespace with its bridge. */
  static async create (): Promise<Topology> {
    const t = new Topology(`cairn-${process.pid}-net`)
    process.on('exit', t.onExit)
    await t.add(t.net)
    await sh('ip', ['-n', t.net, 'link', 'add', 'br0', 'type', 'bridge'])
    await sh('ip', ['-n', t.net, 'link', 'set', 'br0', 'up'])
    return t
  }

  private async add (ns: string): Promise<void> {
    await sh('ip', ['netns', 'add', ns])
    this.made.push(ns)
    await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
  }

  /** A namespace plugged into the internet as `${INTERNET}.${host}`; returns its name. */
  async publicHost (name: string, host: number): Promise<string> {
    const ns = `${this.prefix}-${name}`
    await this.add(ns)
    const port = `v${this.nextPort++}`
    await sh('ip', ['link', 'add', port, 'netns', this.net, 'type', 'veth', 'peer', 'name', 'wan', 'netns', ns])
    await sh('ip', ['-n', this.net, 'link', 'set', port, 'master', 'br0', 'up'])
    await sh('ip', ['-n', ns, 'addr', 'add', `${INTERNET}.${host}/24`, 'dev', 'wan'])
    await sh('ip', ['-n', ns, 'link', 'set', 'wan', 'up'])
    return ns
  }

  /**
   * A home network: a router on the internet at `${INTERNET}.${wanHost}`
   * that masquerades for `${lanNet}.0/24`, and one host at `${lanNet}.2`.
   */
  async home (name: string, wanHost: number, lanNet: string): Promise<Home> {
    const router = await this.publicHost(`${name}r`, wanHost)
    const host = `${this.prefix}-${name}`
    await this.add(host)
    await sh('ip', ['link', 'add', 'lan', 'netns', router, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host])
    await sh('ip', ['-n', router, 'addr', 'add', `${lanNet}.1/24`, 'dev', 'lan'])
    await sh('ip', ['-n', router, 'link', 'set', 'lan', 'up'])
    await sh('ip', ['-n', host, 'addr', 'add', `${lanNet}.2/24`, 'dev', 'eth0'])
    await sh('ip', ['-n', host, 'link', 'set', 'eth0', 'up'])
    await sh('ip', ['-n', host, 'route', 'add', 'default', 'via', `${lanNet}.1`])
    await sh('ip', ['netns', 'exec', router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'])
    // masquerade: the home host's connections leave with the router's address
    await sh('ip', ['netns', 'exec', router, 'nft', 'add table ip cairn-nat'])
    await sh('ip', ['netns', 'exec', router, 'nft', 'add chain ip cairn-nat post { type nat hook postrouting priority 100 ; }'])
    await sh('ip', ['netns', 'exec', router, 'nft', 'add rule ip cairn-nat post oifname wan masquerade'])
    return { router, wan: `${INTERNET}.${wanHost}`, host, lan: `${lanNet}.2`, gateway: `${lanNet}.1` }
  }

  /** Runs a command inside `ns`. */
  async exec (ns: string, cmd: string, args: string[]): Promise<string> {
    return await sh('ip', ['netns', 'exec', ns, cmd, ...args])
  }

  /** Deletes every namespace made (processes inside are killed first). */
  async destroy (): Promise<void> {
    for (const ns of this.made.splice(0).reverse()) {
      const pids = await sh('ip', ['netns', 'pids', ns]).catch(() => '')
      for (const pid of pids.split('\n').filter(p => p !== '')) {
        try { process.kill(Number(pid), 'SIGKILL') } catch {}
      }
      await sh('ip', ['netns', 'del', ns]).catch(() => {})
    }
    process.off('exit', this.onExit)
  }

  private destroySync (): void {
    for (const ns of this.made.splice(0).reverse()) {
      try {
        const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
        for (const pid of pids.split('\n').filter(p => p !== '')) {
          try { process.kill(Number(pid), 'SIGKILL') } catch {}
        }
        execFileSync('ip', ['netns', 'del', ns])
      } catch {}
    }
  }
}

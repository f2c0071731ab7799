import { AbortedError, UsageError, errorMessage } from '../../core/util/errors.ts'
import { isPeerOrRange } from '../../storage/config.ts'
import { parseMetricsAddress } from '../../core/daemon/metrics.ts'
import { parseGatewayAddress } from '../../core/gateway/server.ts'
import { parseRpcAddress, parseRpcAuth } from '../../core/kubo-rpc/listen.ts'
import { TOKEN_FILE } from '../../core/kubo-rpc/auth.ts'
import path from 'node:path'
import { booleanFlag, emit, listFlag, numberFlag, report, stringFlag, type Command, type Context } from '../command.ts'
import { formatRate } from '../format.ts'
import { RATE_FORMAT, parseRate } from '../../storage/units.ts'

function rateFlag (ctx: Context, key: string, flag: string): number | undefined {
  const v = stringFlag(ctx, key)
  if (v == null) return undefined
  const rate = parseRate(v)
  if (rate == null) throw new UsageError(`${flag} needs ${RATE_FORMAT} (got ${JSON.stringify(v)})`)
  return rate
}

/** `parse` applied to a flag's value when the flag was given. */
function withFlag<T> (value: string | undefined, parse: (v: string) => T): T | undefined {
  return value != null ? parse(value) : undefined
}

export const command: Command = {
  name: 'seed',
  summary: 'run the node: serve and announce content, answer other cairn commands',
  help: `
Usage
  $ cairn seed [options]

Runs until Ctrl-C, SIGTERM or 'cairn shutdown', then stops cleanly and
exits 0 (130 if interrupted before it was up; a second Ctrl-C stops it at
once, 130). Prints 'listening
<multiaddr>/p2p/<id>' for each address on stdout. While it runs, add, cat,
get, ls, pin, repo and car go through it, and 'add' announces at once.

Options
  --listen MA          listen here instead of config addresses.listen (repeatable)
  --bootstrap MA       also bootstrap from this peer (repeatable)
  --mdns               find peers on the LAN by multicast DNS
  --relay-service      relay for peers behind NATs (config nat.relayService)
  --relay MA           reserve a slot on this relay, /…/p2p/<relay id> (repeatable;
                       added to config nat.relays): peers reach us through it
  --reprovide-interval S
                       seconds between reprovides (default: config provide.interval)
  --max-upload RATE    cap what this seed sends to all peers together, e.g. 16MiB (default: config transfer.maxUpload, 0 = none)
  --max-download RATE  cap what fetches through this seed receive (default: config transfer.maxDownload)
  --metrics [HOST:]PORT
                       serve Prometheus metrics at http://HOST:PORT/metrics (host 127.0.0.1 by default)
  --gateway [HOST:]PORT
                       serve HTTP: path and trustless gateway, routing v1, read-only, no token
                       (host 127.0.0.1 by default; config gateway.listen)
  --rpc [HOST:]PORT    serve the Kubo RPC (/api/v0, for IPFS Cluster and kubo-rpc-client) there
                       (host 127.0.0.1 by default; config rpc.listen); needs the token it prints
  --rpc unix[:PATH]    serve it on a Unix socket (mode 0600; default <repo>/rpc.sock) instead: no token,
                       the socket's permissions admit this user only (IPFS Cluster: /unix/PATH)
  --rpc-auth none      serve it without a token, on loopback only (config rpc.auth; as Kubo's default API)
  --allow PEERID|CIDR  trust this peer or address range (repeatable; added to config security.allow):
                       with --trusted-only only these connect; allowed ranges skip the per-IP limit
  --deny PEERID|CIDR   never connect to or accept this peer or address range (repeatable)
  --trusted-only       only allowed peers may connect, in or out (config security.trustedOnly)
  --mine               mine anchor blocks (empty ones too) in worker threads
  --miner-threads N    hashing threads (default: config anchor.minerThreads, 1)
  --no-tui             plain log lines instead of the dashboard (also when not a terminal)

On a terminal it shows a live dashboard that fits the terminal (peers,
transfers both ways: fetches and what peers fetch from this seed, seeded
content by name, DHT, anchor chain, log): q or Ctrl-C quits, Tab and the
arrows move between panes (on a small terminal some hide until focused),
? helps. Without it, the log lines go to stderr.

Examples
  $ cairn seed
  $ cairn seed --listen /ip4/0.0.0.0/tcp/4737
  $ cairn seed --max-upload 16MiB
  $ cairn seed --gateway 8080
  $ cairn seed --listen /ip4/127.0.0.1/tcp/0 --bootstrap /ip4/127.0.0.1/tcp/4737/p2p/12D3Koo...
  $ cairn seed --listen /ip4/0.0.0.0/tcp/4737 --relay-service
  $ cairn seed --relay /ip4/198.51.100.2/tcp/4737/p2p/12D3Koo...`,
  flags: {
    listen: { type: 'string', isMultiple: true },
    bootstrap: { type: 'string', isMultiple: true },
    mdns: { type: 'boolean' },
    relayService: { type: 'boolean' },
    relay: { type: 'string', isMultiple: true },
    reprovideInterval: { type: 'number' },
    metrics: { type: 'string' },
    gateway: { type: 'string' },
    rpc: { type: 'string' },
    rpcAuth: { type: 'string' },
    maxUpload: { type: 'string' },
    maxDownload: { type: 'string' },
    allow: { type: 'string', isMultiple: true },
    deny: { type: 'string', isMultiple: true },
    trustedOnly: { type: 'boolean' },
    tui: { type: 'boolean' },
    mine: { type: 'boolean' },
    minerThreads: { type: 'number' }
  },
  async run (ctx: Context) {
    if (ctx.input.length > 0) throw new UsageError('seed takes no arguments (see cairn seed --help)')
    const interval = numberFlag(ctx, 'reprovideInterval')
    const relays = listFlag(ctx, 'relay')
    for (const r of relays) if (!/^\/\S+\/p2p\/[A-Za-z0-9]+$/.test(r)) throw new UsageError(`--relay needs a multiaddr ending in /p2p/<relay peer id>, not "${r}"`)
    if (interval != null && !(interval >= 1)) throw new UsageError('--reprovide-interval needs a number of seconds ≥ 1')
    const maxUpload = rateFlag(ctx, 'maxUpload', '--max-upload')
    const maxDownload = rateFlag(ctx, 'maxDownload', '--max-download')
    const allow = listFlag(ctx, 'allow')
    const deny = listFlag(ctx, 'deny')
    for (const [flag, list] of [['--allow', allow], ['--deny', deny]] as const) {
      for (const v of list) if (!isPeerOrRange(v)) throw new UsageError(`${flag} needs a peer ID or an IP address range such as 192.0.2.0/24, not "${v}"`)
    }
    const threads = numberFlag(ctx, 'minerThreads')
    if (threads != null && !(Number.isSafeInteger(threads) && threads >= 1 && threads <= 64)) throw new UsageError('--miner-threads needs a whole number from 1 to 64')
    const [{ Repo }, { Seed }] = await Promise.all([import('../../storage/repo.ts'), import('../../core/daemon/daemon.ts')])
    const repo = await Repo.open(ctx.repoPath, { write: true })
    try {
      const listen = listFlag(ctx, 'listen')
      const seed = await Seed.start(repo, {
        listen: listen.length > 0 ? listen : undefined,
        bootstrap: listFlag(ctx, 'bootstrap'),
        mdns: ctx.flags.mdns === true ? true : undefined,
        relayService: booleanFlag(ctx, 'relayService'),
        relays,
        reprovideInterval: interval,
        maxUpload,
        maxDownload,
        metrics: withFlag(stringFlag(ctx, 'metrics'), parseMetricsAddress),
        gateway: withFlag(stringFlag(ctx, 'gateway'), parseGatewayAddress),
        rpc: withFlag(stringFlag(ctx, 'rpc'), parseRpcAddress),
        rpcAuth: withFlag(stringFlag(ctx, 'rpcAuth'), parseRpcAuth),
        allow,
        deny,
        trustedOnly: ctx.flags.trustedOnly === true ? true : undefined,
        mine: ctx.flags.mine === true,
        minerThreads: threads,
        signal: ctx.signal
      })
      // Ctrl-C while the seed was still starting: the user gave up on it, so it
      // stops and the command was interrupted (130); once it runs, a signal is
      // how a seed is meant to stop, and a clean stop exits 0 (as Kubo's daemon)
      if (ctx.signal.aborted) {
        await seed.stop()
        throw new AbortedError('seed was interrupted while it started; it stopped')
      }
      const addrs = seed.node.addresses()
      for (const a of addrs) emit(ctx, `listening ${a}`, { listening: a })
      const id = seed.node.libp2p.peerId.toString()
      report(ctx, `seeding ${repo.root} as ${id} on network ${repo.config.network.kind}:${repo.config.network.name}`, { id })
      const caps = [{ what: 'upload', rate: seed.node.upload.limit }, { what: 'download', rate: seed.node.download.limit }].filter(c => c.rate !== 0)
      if (caps.length > 0) report(ctx, `capped: ${caps.map(c => `${c.what} ${formatRate(c.rate)}`).join(', ')}`, { maxUpload: seed.node.upload.limit, maxDownload: seed.node.download.limit })
      report(ctx, `anchor chain ${seed.chain.net.name} at height ${seed.chain.height}, ${seed.chain.pending.size} manifest(s) pending${seed.miner.stats.mining ? `, mining with ${seed.miner.stats.threads} thread(s)` : ''}`, { chain: seed.chain.net.name, height: seed.chain.height, mining: seed.miner.stats.mining })
      if (seed.rpc != null) {
        const { address, token } = seed.rpc
        if (address.startsWith('unix:')) {
          const socket = address.slice('unix:'.length)
          report(ctx, `kubo rpc at ${address} (a Unix socket, mode 0600: no token; IPFS Cluster's ipfshttp.node_multiaddress is /unix${socket})`, { rpc: address, rpcSocket: socket })
        } else if (token == null) {
          report(ctx, `kubo rpc at http://${address}/api/v0 (no token: rpc.auth is none, loopback only)`, { rpc: `http://${address}/api/v0` })
        } else {
          const url = `http://${address}/api/v0`
          report(ctx, `kubo rpc at ${url} (Authorization: Bearer ${token}, or basic auth cairn:<token>; kept in ${path.join(repo.root, TOKEN_FILE)})`, { rpc: url, rpcToken: token })
        }
      }
      if (seed.metricsAddress != null) report(ctx, `metrics at http://${seed.metricsAddress}/metrics`, { metrics: `http://${seed.metricsAddress}/metrics` })
      if (seed.gatewayAddress != null) report(ctx, `gateway at http://${seed.gatewayAddress}/ipfs/<cid>`, { gateway: `http://${seed.gatewayAddress}` })
      if (addrs.length > 0) report(ctx, `another machine fetches with: cairn get <cid> --peer ${addrs[0]}`, { fetch: `cairn get <cid> --peer ${addrs[0]}` })
      const stopped = new Promise<void>(resolve => ctx.signal.addEventListener('abort', () => resolve(), { once: true }))
      const tui = ctx.flags.tui !== false && !ctx.json && ctx.stdout.isTTY === true && ctx.stdin.isTTY === true
      if (tui) {
        await dashboard(ctx, seed, stopped)
      } else {
        // the same information as plain lines
        seed.monitor.onLog = line => report(ctx, line, { log: line })
        await Promise.race([stopped, seed.whenStopped()])
      }
      report(ctx, 'stopping…', { stopping: true })
      await seed.stop()
      report(ctx, 'stopped', { stopped: true })
    } finally {
      await repo.close()
    }
  }
}

async function dashboard (ctx: Context, seed: import('../../core/daemon/daemon.ts').Seed, interrupted: Promise<void>): Promise<void> {
  const [{ render }, { seedApp }] = await Promise.all([import('ink'), import('../ui/SeedApp.tsx')])
  let quit: () => void = () => {}
  const quitting = new Promise<void>(resolve => { quit = resolve })
  const app = render(seedApp({
    snapshot: () => seed.monitor.snapshot(),
    onQuit: () => quit(),
    onMine: () => { void seed.setMining(!seed.miner.stats.mining).catch(err => seed.monitor.log(`miner: ${errorMessage(err)}`)) }
  }), { stdout: ctx.stdout, stdin: ctx.stdin, exitOnCtrlC: false, patchConsole: false })
  await Promise.race([quitting, interrupted, seed.whenStopped()])
  app.unmount()
  await app.waitUntilExit().catch(() => {})
}

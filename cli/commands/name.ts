import { UsageError } from '../../core/util/errors.ts'
import { escapeTerminal } from '../../core/util/escape.ts'
import { DURATION_FORMAT, parseDuration } from '../../storage/units.ts'
import { emit, listFlag, numberFlag, stringFlag, type Command, type Context } from '../command.ts'
import { withInvoker } from '../client.ts'

function duration (ctx: Context, flag: string): number | undefined {
  const v = stringFlag(ctx, flag)
  if (v == null) return undefined
  const ms = parseDuration(v)
  if (ms == null) throw new UsageError(`--${flag} needs ${DURATION_FORMAT} (got ${escapeTerminal(v)})`)
  return ms
}

function timeoutMs (ctx: Context): number | undefined {
  const t = numberFlag(ctx, 'timeout')
  if (t == null) return undefined
  if (!(t > 0)) throw new UsageError('--timeout needs a number of seconds > 0')
  return Math.round(t * 1000)
}

const when = (ms: number): string => new Date(ms).toISOString()

/** without a seed, the command's own node joins the DHT through config bootstrap and --bootstrap */
const invokeOptions = (ctx: Context): { write: false, bootstrap: string[] } => ({ write: false, bootstrap: listFlag(ctx, 'bootstrap') })

export const command: Command = {
  name: 'name',
  summary: 'IPNS names: name publish CID | name resolve NAME | name history NAME',
  help: `
Usage
  $ cairn name publish CID|/ipfs/CID[/path] [--key NAME] [--lifetime D] [--ttl D]
  $ cairn name resolve NAME [--nocache] [--timeout S]
  $ cairn name history NAME

publish signs an IPNS record (V1+V2, as Kubo and Helia make them) pointing
the key's name at the content, with the next sequence number, puts it in the
DHT, sends it on the name's pubsub topic (with a seed), and queues it for
anchoring in the chain. A seed republishes it before it expires.
  --key NAME      a key from 'cairn key' (default: self, the node's key)
  --lifetime D    how long the record is valid (default 48h)
  --ttl D         how long resolvers may cache it (default 1h)

resolve answers from the cache, the name's pubsub topic, then the DHT, with
the highest valid sequence, and never one below a sequence anchored for the
name in the chain (a replayed older record is refused, and said so).
  --nocache       skip the cache
  --timeout S     give up after S seconds (default 30)
  --bootstrap MA  without a seed: a peer to join the DHT through (repeatable)

history lists the name's anchored records, oldest first: sequence, value,
height, block time, confirmations ('cairn proof /ipns/NAME' exports one).

cat, get and ls take /ipns/NAME[/path] too.

Examples
  $ cairn name publish bafy...
  $ cairn name resolve k51qzi5uqu5d...
  $ cairn cat /ipns/k51qzi5uqu5d.../index.html`,
  subcommands: ['publish', 'resolve', 'history'],
  flags: {
    key: { type: 'string' },
    lifetime: { type: 'string' },
    ttl: { type: 'string' },
    nocache: { type: 'boolean' },
    timeout: { type: 'number' },
    bootstrap: { type: 'string', isMultiple: true }
  },
  async run (ctx) {
    const [verb, arg, ...extra] = ctx.input
    if (arg == null || extra.length > 0) throw new UsageError('usage: cairn name publish CID | name resolve NAME | name history NAME')
    if (verb === 'publish') {
      const r = await withInvoker(ctx, invokeOptions(ctx), async inv => await inv.call('name.publish', {
        value: arg, key: stringFlag(ctx, 'key'), lifetimeMs: duration(ctx, 'lifetime'), ttlMs: duration(ctx, 'ttl'), timeoutMs: timeoutMs(ctx)
      }))
      const dht = r.dht.error == null ? `DHT: ${r.dht.peers} peer(s)` : `DHT: not stored (${escapeTerminal(r.dht.error)})`
      const pubsub = r.pubsub != null ? `, pubsub: ${r.pubsub} peer(s)` : ''
      emit(ctx, `published ${r.name} → ${r.value} (sequence ${r.seq}, valid until ${when(r.expires)}; ${dht}${pubsub}; anchor: ${escapeTerminal(r.anchor)})`, r)
      return
    }
    if (verb === 'resolve') {
      const r = await withInvoker(ctx, invokeOptions(ctx), async inv => await inv.call('name.resolve', { name: arg, nocache: ctx.flags.nocache === true, timeoutMs: timeoutMs(ctx) }))
      for (const w of r.warnings) ctx.stderr.write(`warning: ${escapeTerminal(w)}\n`)
      emit(ctx, escapeTerminal(r.value), r)
      return
    }
    if (verb === 'history') {
      const h = await withInvoker(ctx, { write: false }, async inv => await inv.call('name.history', { name: arg }))
      if (ctx.json) {
        for (const e of h.entries) emit(ctx, '', { name: h.name, ...e })
        return
      }
      if (h.entries.length === 0) ctx.stderr.write(`no anchored record of ${h.name} is known to this repo's chain\n`)
      for (const e of h.entries) {
        const where = e.height != null ? `height ${e.height}, ${when(e.time)}, ${e.confirmations} confirmation(s)` : 'pending'
        emit(ctx, `${e.seq} ${escapeTerminal(e.value)} ${where}`, e)
      }
      return
    }
    throw new UsageError('usage: cairn name publish CID | name resolve NAME | name history NAME')
  }
}

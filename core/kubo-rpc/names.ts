// Kubo RPC: name/publish, name/resolve and resolve, through the seed's
// names (core/names/service.ts: the same keys, records, DHT, pubsub and
// anchoring as `cairn name`). Kubo's wire: `{Name, Value}` for a publish,
// `{Path}` for a resolve, and Kubo's messages where clients may look for
// them: a missing key, a name that does not resolve.

import { NameService } from '../names/service.ts'
import { NameNotFoundError, parseName } from '../names/record.ts'
import { listKeys, SELF } from '../names/keys.ts'
import { KeyNotFoundError } from '../../storage/keystore.ts'
import { CairnError } from '../util/errors.ts'
import { parseContentPath, splitIpnsPath, type ContentPath } from '../unixfs/content-path.ts'
import { resolveEntry } from '../unixfs/resolve.ts'
import { withContentReader, type Services } from '../api/handlers.ts'
import { parseDuration, pathArg } from './args.ts'
import { RpcParamError, sendJson, sendStream } from './wire.ts'
import { readContext, type Call, type Endpoint, type RpcContext } from './call.ts'

/** Kubo's depth limit for a name pointing at a name (boxo namesys' DefaultDepthLimit) */
const MAX_NAME_DEPTH = 32

/** Kubo's message for a key that is not in the key store (its keylookup), which clients match */
export const KUBO_NO_KEY = 'no key by the given name or PeerID was found'
/** boxo namesys' ErrResolveFailed */
export const KUBO_RESOLVE_FAILED = 'could not resolve name'

/** A publish that no peer took, without allow-offline (Kubo fails such a publish too). */
export class NamePublishOfflineError extends CairnError {}

/** names made for services that came without the seed's (tests): one per services object */
const fallback = new WeakMap<Services, NameService>()

/** The seed's names. */
function namesOf (s: Services): NameService {
  if (s.names != null) return s.names
  let n = fallback.get(s)
  if (n == null) fallback.set(s, n = new NameService({ repo: s.repo, node: s.node, chain: s.chain, online: s.online, pubsub: null }))
  return n
}

/**
 * /ipns/NAME[/path] to the path it names, the path below the name kept;
 * a name naming a name is followed to MAX_NAME_DEPTH, or one step unless
 * recursive. Anything else is returned as it is.
 */
export async function resolveNamePath (s: Services, c: Call, text: string, o: { recursive?: boolean, nocache?: boolean, timeoutMs?: number } = {}): Promise<string> {
  let at = text
  for (let depth = 0; ; depth++) {
    const ipns = splitIpnsPath(at)
    if (ipns == null) return at
    if (depth > 0 && o.recursive === false) return at
    if (depth === MAX_NAME_DEPTH) throw new NameNotFoundError(`${KUBO_RESOLVE_FAILED}: ${text} still names a name after ${MAX_NAME_DEPTH} steps`)
    let value: string
    try {
      value = (await namesOf(s).resolve(ipns.name, { nocache: o.nocache, timeoutMs: o.timeoutMs ?? timeoutOf(c), signal: c.signal })).value
    } catch (err) {
      if (err instanceof NameNotFoundError) throw new NameNotFoundError(`${KUBO_RESOLVE_FAILED}: ${err.message}`)
      throw err
    }
    at = [value.replace(/\/+$/, ''), ...ipns.segments].join('/')
  }
}

/** A CID[/path], /ipfs/CID[/path] or /ipns/NAME[/path] argument of cat, get, ls, refs and pin, names resolved. */
export async function contentPathArg (s: Services, c: Call, text: string): Promise<ContentPath> {
  return pathArg(await resolveNamePath(s, c, text))
}

/** Kubo's global `timeout` (kubo-rpc-client sends it as "<n>ms"), or another option's, for the DHT's wait */
const timeoutOf = (c: Call, ...names: string[]): number | undefined => parseDuration(c.params.str([...names, 'timeout']))

export function nameEndpoints (ctx: RpcContext): Record<string, Endpoint> {
  const s = ctx.services
  const names = (): NameService => namesOf(s)

  /** `key` as Kubo takes it: a key's name, or the name or peer ID a key publishes */
  const keyName = async (text: string): Promise<string> => {
    let id: string | null = null
    try { id = parseName(text).text } catch {}
    if (id == null) return text
    const found = (await listKeys(s.repo)).find(k => k.id === id)
    if (found == null) throw new KeyNotFoundError(`${KUBO_NO_KEY} (${text}: cairn key ls lists the keys)`)
    return found.name
  }
  const resolveName = async (c: Call, text: string, o: { recursive: boolean, nocache: boolean, timeoutMs?: number }): Promise<string> => await resolveNamePath(s, c, text, o)

  return {
    async 'name/publish' (c: Call) {
      const value = c.params.arg('ipfs-path')
      const lifetimeMs = parseDuration(c.params.str(['lifetime', 't']))
      const ttlMs = parseDuration(c.params.str(['ttl']))
      const allowOffline = c.params.bool(['allow-offline', 'allowOffline'], false)
      const check = c.params.bool(['resolve'], true)
      if (c.params.str(['sequence']) != null) throw new RpcParamError('cairn sets the sequence itself (above every one it published or saw anchored): the sequence option is not supported')
      if (!c.params.bool(['v1compat'], true)) throw new RpcParamError('cairn always writes V1+V2 records (v1compat=false is not supported)')
      if (value.startsWith('/ipns/')) throw new RpcParamError(`cairn names point at /ipfs/ paths; a name pointing at a name is not supported (got ${value})`)
      const key = await keyName(c.params.str(['key', 'k'], SELF))
      const target: ContentPath = parseContentPath(value.replace(/^\/ipfs\//, ''))
      // Kubo's --resolve (default true): the path must lead somewhere before a name points at it
      if (check && target.segments.length > 0) await withContentReader(s, readContext(c), target.cid, async store => await resolveEntry(store, target, c.signal))
      let r
      try {
        r = await names().publish(value, { key, lifetimeMs, ttlMs, timeoutMs: timeoutOf(c), signal: c.signal })
      } catch (err) {
        if (err instanceof KeyNotFoundError) throw new KeyNotFoundError(`${KUBO_NO_KEY} (key "${key}": cairn key ls lists the keys)`)
        throw err
      }
      s.republisher?.published(r.name)
      if (r.dht.error != null && (r.pubsub ?? 0) === 0 && !allowOffline) {
        throw new NamePublishOfflineError(`no peer took the record of ${r.name} (DHT: ${r.dht.error}); it is kept by this seed, which republishes it, and queued for anchoring. Pass allow-offline=true to publish without peers`)
      }
      sendJson(c.res, { Name: r.name, Value: r.value })
    },

    async 'name/resolve' (c: Call) {
      const args = c.params.args()
      const arg = args[0] != null && args[0] !== '' ? args[0] : (await listKeys(s.repo))[0].id
      const recursive = c.params.bool(['recursive', 'r'], true)
      const nocache = c.params.bool(['nocache', 'n'], false)
      const timeoutMs = timeoutOf(c, 'dht-timeout', 'dhtt')
      const stream = c.params.bool(['stream', 's'], false)
      const path = await resolveName(c, arg.startsWith('/ipns/') ? arg : `/ipns/${arg}`, { recursive, nocache, timeoutMs })
      if (stream) await sendStream(c.res, (async function * () { yield { Path: path } })())
      else sendJson(c.res, { Path: path })
    },

    /** Kubo's resolve (IPFS Cluster calls it for a pin's path): a path to /ipfs/<the CID it ends at> */
    async resolve (c: Call) {
      const arg = c.params.arg('name')
      const recursive = c.params.bool(['recursive', 'r'], true)
      const nocache = c.params.bool(['nocache', 'n'], false)
      const named = await resolveName(c, arg, { recursive, nocache, timeoutMs: timeoutOf(c, 'dht-timeout', 'dhtt') })
      // one step of a name that names a name: Kubo answers the name it points at
      if (named.startsWith('/ipns/')) return sendJson(c.res, { Path: named })
      const target = parseContentPath(named)
      if (target.segments.length === 0) return sendJson(c.res, { Path: `/ipfs/${target.cid.toString()}` })
      const entry = await withContentReader(s, readContext(c), target.cid, async store => await resolveEntry(store, target, c.signal))
      sendJson(c.res, { Path: `/ipfs/${entry.cid.toString()}` })
    }
  }
}

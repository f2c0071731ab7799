// Kubo RPC: pin/add, pin/rm, pin/ls, pin/update, through core/repo/pin.ts. A
// pin/add of content the repo lacks fetches it from the swarm (the seed's
// own fetch path, as `cairn pin add`), and with `progress` streams how many
// blocks it has walked, as Kubo does, so IPFS Cluster sees a pin advance.

import { CID } from 'multiformats/cid'
import { pinAdd, pinRm } from '../repo/pin.ts'
import { blockKey, walkDag } from '../repo/dag.ts'
import { resolveEntry } from '../unixfs/resolve.ts'
import { CairnError } from '../util/errors.ts'
import { withContentReader, type Services } from '../api/handlers.ts'
import { RpcParamError, sendJson, sendStream, whileRunning, type Params } from './wire.ts'
import { contentPathArg } from './names.ts'
import type { PinType } from '../../storage/pins.ts'
import { readContext, type Call, type Endpoint, type RpcContext } from './call.ts'

/** a pin's progress goes out at most this often (Kubo ticks every 500 ms) */
const PROGRESS_EVERY_MS = 250

/** A path Kubo would pin or list that is not pinned (Cluster looks for "is not pinned" in the message). */
export class NotPinnedError extends CairnError {}

const PIN_TYPES = ['all', 'direct', 'recursive', 'indirect'] as const
type ListType = typeof PIN_TYPES[number]

/** Resolves a CID, /ipfs/CID/path or /ipns/NAME/path argument to its CID, reading (and fetching) through the seed. */
async function resolveArg (s: Services, text: string, c: Call): Promise<CID> {
  const target = await contentPathArg(s, c, text)
  if (target.segments.length === 0) return target.cid
  const signal = c.signal
  return await withContentReader(s, readContext(c), target.cid, async store => (await resolveEntry(store, target, signal)).cid)
}

/** Pins `cid` the way `cairn pin add` does: under the shared lock, fetching what is missing, then announced. */
async function pinOne (s: Services, cid: CID, type: PinType, c: Call, onBlock: (n: number) => void): Promise<void> {
  const signal = c.signal
  await s.lock.shared(async () => await withContentReader(s, readContext(c), cid,
    async store => await pinAdd(s.repo, cid, { signal, store, type, onBlock })))
  if (s.provider != null) void s.provider.provideDag(cid).catch(() => {})
  s.monitor?.log(`pinned ${cid.toString()} (Kubo RPC)`)
  void s.monitor?.refreshContent().catch(() => {})
}

function listType (p: Params): ListType {
  const t = p.str(['type', 't'], 'all')
  const type = PIN_TYPES.find(x => x === t)
  if (type == null) throw new RpcParamError(`invalid type '${t}', must be one of {direct, indirect, recursive, all}`)
  return type
}

/** Blocks under recursive pins that are not pinned themselves: Kubo's indirect pins, with the root each is reached through. */
async function indirectPins (s: Services, signal: AbortSignal): Promise<Map<string, { cid: CID, through: CID }>> {
  const out = new Map<string, { cid: CID, through: CID }>()
  const roots = new Set<string>()
  const recursive: CID[] = []
  for await (const pin of s.repo.pins.ls()) {
    roots.add(blockKey(pin.cid))
    if (pin.type === 'recursive') recursive.push(pin.cid)
  }
  for (const root of recursive) {
    await walkDag(s.repo.blocks, root, {
      signal,
      allowMissing: true,
      onBlock: cid => {
        const key = blockKey(cid)
        if (!roots.has(key) && !out.has(key)) out.set(key, { cid, through: root })
      }
    })
  }
  return out
}

export function pinEndpoints (ctx: RpcContext): Record<string, Endpoint> {
  const s = ctx.services
  return {
    async 'pin/add' (c: Call) {
      const args = c.params.args()
      if (args.length === 0) throw new RpcParamError('argument "ipfs-path" is required')
      const type: PinType = c.params.bool(['recursive', 'r'], true) ? 'recursive' : 'direct'
      const progress = c.params.bool(['progress'], false)
      const cids: CID[] = []
      if (!progress) {
        for (const a of args) {
          const cid = await resolveArg(s, a, c)
          await pinOne(s, cid, type, c, () => {})
          cids.push(cid)
        }
        return sendJson(c.res, { Pins: cids.map(x => x.toString()) })
      }
      // progress: {"Progress":N} (blocks walked so far) at most every PROGRESS_EVERY_MS while it runs, then {"Pins":[…]}
      await sendStream(c.res, whileRunning<unknown>(async push => {
        // the first line goes at once: the client (and Cluster) sees the pin has started
        push({ Progress: 0 })
        let walked = 0
        let last = performance.now()
        for (const a of args) {
          const cid = await resolveArg(s, a, c)
          const before = walked
          await pinOne(s, cid, type, c, n => {
            walked = before + n
            if (performance.now() - last >= PROGRESS_EVERY_MS) {
              last = performance.now()
              push({ Progress: walked })
            }
          })
          cids.push(cid)
        }
        push({ Pins: cids.map(x => x.toString()), Progress: walked })
      }))
    },

    async 'pin/rm' (c: Call) {
      const args = c.params.args()
      if (args.length === 0) throw new RpcParamError('argument "ipfs-path" is required')
      const recursive = c.params.bool(['recursive', 'r'], true)
      const out: string[] = []
      for (const a of args) {
        const cid = await resolveArg(s, a, c)
        const pin = await s.repo.pins.get(cid)
        if (pin == null) throw new NotPinnedError(`${cid.toString()} is not pinned or pinned indirectly`)
        if (pin.type === 'recursive' && !recursive) throw new RpcParamError(`${cid.toString()} is pinned recursively`)
        await s.lock.shared(async () => { await pinRm(s.repo, cid) })
        s.monitor?.log(`unpinned ${cid.toString()} (Kubo RPC)`)
        out.push(cid.toString())
      }
      void s.monitor?.refreshContent().catch(() => {})
      sendJson(c.res, { Pins: out })
    },

    async 'pin/ls' (c: Call) {
      const type = listType(c.params)
      const stream = c.params.bool(['stream', 's'], false)
      const names = c.params.bool(['names', 'n'], false)
      const row = (cid: string, t: string): Record<string, string> => names ? { Type: t, Name: '' } : { Type: t }
      const found: Array<[string, Record<string, string>]> = []
      const args = c.params.args()
      if (args.length > 0) {
        let indirect: Map<string, { cid: CID, through: CID }> | null = null
        for (const a of args) {
          const cid = await resolveArg(s, a, c)
          const pin = await s.repo.pins.get(cid)
          if (pin != null && (type === 'all' || type === pin.type)) {
            found.push([cid.toString(), row(cid.toString(), pin.type)])
            continue
          }
          if (type === 'all' || type === 'indirect') {
            indirect ??= await indirectPins(s, c.signal)
            const hit = indirect.get(blockKey(cid))
            if (hit != null) {
              found.push([cid.toString(), row(cid.toString(), `indirect through ${hit.through.toString()}`)])
              continue
            }
          }
          throw new NotPinnedError(type === 'all' ? `path '${a}' is not pinned` : `path '${a}' is not pinned as ${type}`)
        }
      } else {
        for await (const pin of s.repo.pins.ls()) {
          if (type === 'all' || type === pin.type) found.push([pin.cid.toString(), row(pin.cid.toString(), pin.type)])
        }
        if (type === 'all' || type === 'indirect') {
          for (const { cid } of (await indirectPins(s, c.signal)).values()) found.push([cid.toString(), row(cid.toString(), 'indirect')])
        }
      }
      if (stream) return await sendStream(c.res, (async function * () { for (const [cid, r] of found) yield { Cid: cid, ...r } })())
      sendJson(c.res, { Keys: Object.fromEntries(found) })
    },

    async 'pin/update' (c: Call) {
      const args = c.params.args()
      if (args.length !== 2) throw new RpcParamError('pin/update needs two arguments: from-path and to-path')
      const unpin = c.params.bool(['unpin'], true)
      const from = await resolveArg(s, args[0], c)
      const to = await resolveArg(s, args[1], c)
      if ((await s.repo.pins.get(from))?.type !== 'recursive') throw new NotPinnedError(`'from' cid was not recursively pinned already (${from.toString()})`)
      await pinOne(s, to, 'recursive', c, () => {})
      if (unpin && blockKey(from) !== blockKey(to)) await s.lock.shared(async () => { await pinRm(s.repo, from) })
      sendJson(c.res, { Pins: [from.toString(), to.toString()] })
    }
  }
}

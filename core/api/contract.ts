// The control API's contract: each method's parameters, defined once as a
// valibot schema. The server (and the CLI's in-process path) checks every
// call against it before a handler runs; the CLI's calls are typed from it,
// and their results from the handlers themselves (handlers.ts `Handlers`),
// so client and server cannot drift apart unseen.

import * as v from 'valibot'
import { UsageError } from '../util/errors.ts'
import { PROFILE_NAMES } from '../../storage/config.ts'

const text = v.pipe(v.string(), v.minLength(1))
const count = v.pipe(v.number(), v.integer(), v.minValue(0))
const ms = v.pipe(v.number(), v.integer(), v.minValue(1))
const flag = v.optional(v.boolean())

/** what every read that may fetch takes (cat, get, ls, pin add, verify) */
const fetching = {
  offline: flag,
  peers: v.optional(v.array(text)),
  timeoutMs: v.optional(ms)
}

/** an import profile (core/unixfs/profiles.ts ImportProfile), resolved by the CLI */
export const IMPORT_PROFILE = v.object({
  name: v.picklist(PROFILE_NAMES),
  cidVersion: v.picklist([0, 1]),
  rawLeaves: v.boolean(),
  chunker: text,
  width: v.pipe(v.number(), v.integer(), v.minValue(2)),
  hamt: v.picklist(['block-bytes', 'links-bytes'])
})

const none = v.looseObject({})

/**
 * Parameters by method. Objects are loose: a parameter this version does not
 * know is passed on unchecked (an older CLI against a newer seed still works),
 * but every parameter it knows must have its type.
 */
export const PARAMS = {
  add: v.looseObject({
    paths: v.optional(v.array(text)),
    recursive: flag,
    wrap: flag,
    hidden: flag,
    pin: flag,
    onlyHash: flag,
    anchor: flag,
    profile: v.optional(IMPORT_PROFILE)
  }),
  cat: v.looseObject({ path: text, offset: v.optional(count), length: v.optional(count), ...fetching }),
  get: v.looseObject({ path: text, output: v.optional(text), force: flag, ...fetching }),
  ls: v.looseObject({ path: text, ...fetching }),
  'pin.add': v.looseObject({ cid: text, ...fetching }),
  'pin.rm': v.looseObject({ cid: text }),
  'pin.ls': none,
  'repo.stat': none,
  'repo.gc': none,
  'repo.verify': none,
  'car.import': v.looseObject({ file: v.optional(text), stdin: flag }),
  'car.export': v.looseObject({ cid: text }),
  'car.exportFile': v.looseObject({ cid: text, output: text, force: flag }),
  id: none,
  peers: none,
  connect: v.looseObject({ address: text }),
  provide: v.looseObject({ cid: text, timeoutMs: v.optional(ms) }),
  provideStat: none,
  findprovs: v.looseObject({ cid: text, max: v.optional(v.pipe(count, v.minValue(1))), timeoutMs: v.optional(ms) }),
  stats: none,
  status: none,
  mine: v.looseObject({ on: v.boolean() }),
  shutdown: none,
  anchor: v.looseObject({ cid: text, force: flag }),
  chain: none,
  verify: v.looseObject({ cid: v.optional(text), path: v.optional(text), ...fetching }),
  proof: v.looseObject({ cid: text, output: v.optional(text), seq: v.optional(count) }),
  'name.publish': v.looseObject({ value: text, key: v.optional(text), lifetimeMs: v.optional(ms), ttlMs: v.optional(ms), timeoutMs: v.optional(ms) }),
  'name.resolve': v.looseObject({ name: text, nocache: flag, timeoutMs: v.optional(ms) }),
  'name.history': v.looseObject({ name: text }),
  'key.gen': v.looseObject({ name: text }),
  'key.ls': none,
  'key.rm': v.looseObject({ name: text })
}

export type Method = keyof typeof PARAMS
/** what a caller passes to `method` */
export type Params<M extends Method> = v.InferInput<typeof PARAMS[M]>

export const isMethod = (m: string): m is Method => Object.hasOwn(PARAMS, m)

/** Checks a call's parameters; a bad one is a UsageError naming it. */
export function checkParams (method: string, params: unknown): Record<string, unknown> {
  // a method the contract does not list (none today) still gets an object
  const r = v.safeParse(isMethod(method) ? PARAMS[method] : none, params)
  if (r.success) return r.output
  const issue = r.issues[0]
  const where = v.getDotPath(issue)
  throw new UsageError(`${method}: ${where != null ? `parameter "${where}": ` : ''}${issue.message}`)
}

// Names and keys for the control API (and the CLI without a seed):
// name.publish, name.resolve, name.history, key.gen, key.ls, key.rm.

import { UsageError } from '../util/errors.ts'
import { generateKey, listKeys, removeKey } from '../names/keys.ts'
import type { NameService } from '../names/service.ts'
import type { Republisher } from '../names/republisher.ts'
import type { Repo } from '../../storage/repo.ts'
import type { CallContext } from './server.ts'

const str = (p: Record<string, unknown>, key: string): string => {
  const v = p[key]
  if (typeof v !== 'string' || v === '') throw new UsageError(`missing parameter "${key}"`)
  return v
}
const optStr = (p: Record<string, unknown>, key: string): string | undefined => typeof p[key] === 'string' ? p[key] : undefined
const optNum = (p: Record<string, unknown>, key: string): number | undefined => typeof p[key] === 'number' ? p[key] : undefined

export function nameHandlers (repo: Repo, names: () => NameService, republisher: Republisher | null) {
  return {
    async 'name.publish' (c: CallContext) {
      const r = await names().publish(str(c.params, 'value'), {
        key: optStr(c.params, 'key'),
        lifetimeMs: optNum(c.params, 'lifetimeMs'),
        ttlMs: optNum(c.params, 'ttlMs'),
        timeoutMs: optNum(c.params, 'timeoutMs'),
        signal: c.signal
      })
      republisher?.published(r.name)
      return r
    },
    async 'name.resolve' (c: CallContext) {
      return await names().resolve(str(c.params, 'name'), { nocache: c.params.nocache === true, timeoutMs: optNum(c.params, 'timeoutMs'), signal: c.signal })
    },
    async 'name.history' (c: CallContext) {
      return await names().history(str(c.params, 'name'))
    },
    async 'key.gen' (c: CallContext) { return await generateKey(repo, str(c.params, 'name')) },
    async 'key.ls' () { return await listKeys(repo) },
    async 'key.rm' (c: CallContext) { return await removeKey(repo, str(c.params, 'name')) }
  }
}

// The items a call streams (ls entries, pins, providers, bad blocks), checked
// against what the command reads of them. Its own module: valibot loads
// only with the commands that list items, never with `cat` or `get`.

import * as v from 'valibot'
import { DaemonUnreachableError } from './client.ts'

/** An item a call streamed, checked against `schema`; anything else is one error line naming the method. */
export function expectItem<T> (schema: v.GenericSchema<unknown, T>, value: unknown, method: string): T {
  const r = v.safeParse(schema, value)
  if (r.success) return r.output
  const where = v.getDotPath(r.issues[0])
  throw new DaemonUnreachableError(`${method} answered an item cairn cannot read (${where != null ? `"${where}": ` : ''}${r.issues[0].message})`)
}

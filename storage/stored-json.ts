// JSON that cairn wrote into the repo earlier, read back with a check: a
// file or record damaged on disk (or by hand) gives null, for the caller to
// refuse in its own words, never a value of the wrong shape.

import * as v from 'valibot'

/** `stored` (JSON text or its UTF-8 bytes) as `schema` gives it; null when it is not JSON or not of that shape. */
export function parseStored<S extends v.GenericSchema> (schema: S, stored: string | Uint8Array): v.InferOutput<S> | null {
  let raw: unknown
  try {
    raw = JSON.parse(typeof stored === 'string' ? stored : new TextDecoder().decode(stored))
  } catch {
    return null
  }
  const r = v.safeParse(schema, raw)
  return r.success ? r.output : null
}

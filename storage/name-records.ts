// The best IPNS record seen for each name (published here or resolved),
// in the datastore under /names/<name>: the record's bytes, when it was
// seen, and, for names this repo publishes, with which key and options, so
// a seed can republish them. storage/ keeps bytes; core/names/ reads them.

import { Key } from 'interface-datastore'
import type { FsDatastore } from 'datastore-fs'
import * as v from 'valibot'
import { parseStored } from './stored-json.ts'
import { RepoError, errorName } from './errors.ts'

const PREFIX = '/names'

export interface Publishing {
  /** the key store name ('self' for the node's key) */
  key: string
  lifetimeMs: number
  ttlMs: number
}

export interface StoredRecord {
  name: string
  record: Uint8Array
  /** Unix ms when it was stored */
  seen: number
  /** set when this repo publishes the name */
  publishing?: Publishing
}

/** A record as stored: its bytes in base64, when it was seen, and how this repo publishes it. */
const WIRE = v.object({
  record: v.string(),
  seen: v.number(),
  publishing: v.optional(v.object({ key: v.string(), lifetimeMs: v.number(), ttlMs: v.number() }))
})
type Wire = v.InferOutput<typeof WIRE>

/** A stored record's JSON; a damaged one is a RepoError naming the name. */
function decodeWire (name: string, bytes: Uint8Array): Wire {
  const wire = parseStored(WIRE, bytes)
  if (wire == null) throw new RepoError(`the stored record of ${name} is damaged (resolve the name again to replace it)`)
  return wire
}

export class NameRecords {
  constructor (private readonly ds: FsDatastore) {}

  private key (name: string): Key { return new Key(`${PREFIX}/${name}`) }

  async get (name: string): Promise<StoredRecord | null> {
    let bytes: Uint8Array
    try {
      bytes = await this.ds.get(this.key(name))
    } catch (err) {
      if (errorName(err) === 'NotFoundError') return null
      throw err
    }
    const w = decodeWire(name, bytes)
    return { name, record: Buffer.from(w.record, 'base64'), seen: w.seen, ...(w.publishing != null ? { publishing: w.publishing } : {}) }
  }

  async put (r: StoredRecord): Promise<void> {
    const w: Wire = { record: Buffer.from(r.record).toString('base64'), seen: r.seen, ...(r.publishing != null ? { publishing: r.publishing } : {}) }
    await this.ds.put(this.key(r.name), new TextEncoder().encode(JSON.stringify(w)))
  }

  /** Every name with a stored record. */
  async names (): Promise<string[]> {
    const out: string[] = []
    for await (const key of this.ds.queryKeys({ prefix: PREFIX })) out.push(key.baseNamespace())
    return out
  }

  /** Names this repo publishes. */
  async published (): Promise<StoredRecord[]> {
    const out: StoredRecord[] = []
    for await (const key of this.ds.queryKeys({ prefix: PREFIX })) {
      const r = await this.get(key.baseNamespace())
      if (r?.publishing != null) out.push(r)
    }
    return out
  }
}

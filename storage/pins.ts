// Pins: which DAGs the repo keeps. Stored in the datastore under /pins/<cid>.
// A pin is written only after the blocks it points at are durable.

import { Key } from 'interface-datastore'
import { CID } from 'multiformats/cid'
import type { FsDatastore } from 'datastore-fs'
import * as v from 'valibot'
import { parseStored } from './stored-json.ts'
import { RepoError, errorName } from './errors.ts'

export type PinType = 'recursive' | 'direct'

export interface Pin {
  cid: CID
  type: PinType
  /** when the pin was made, ms since the epoch */
  time: number
}

const PREFIX = '/pins'

/** A pin as stored: JSON of its CID (text), type and time. */
const STORED_PIN = v.object({ cid: v.string(), type: v.picklist(['recursive', 'direct']), time: v.number() })

/** A stored pin's bytes as a Pin; a damaged record is a RepoError naming its key. */
function decodePin (key: string, bytes: Uint8Array): Pin {
  const stored = parseStored(STORED_PIN, bytes)
  const cid = stored != null ? parseCid(stored.cid) : null
  if (stored == null || cid == null) throw new RepoError(`the pin record ${key} is damaged (cairn pin rm and pin add it again)`)
  return { cid, type: stored.type, time: stored.time }
}

/** A CID from text; null when the text is none. */
function parseCid (text: string): CID | null {
  try {
    return CID.parse(text)
  } catch {
    return null
  }
}

export class Pins {
  constructor (private readonly ds: FsDatastore) {}

  private key (cid: CID): Key {
    // pins are keyed by CIDv1 so a v0 and v1 name of one DAG share a pin
    return new Key(`${PREFIX}/${cid.toV1().toString()}`)
  }

  async add (cid: CID, type: PinType = 'recursive'): Promise<void> {
    const value = { cid: cid.toString(), type, time: Date.now() }
    await this.ds.put(this.key(cid), new TextEncoder().encode(JSON.stringify(value)))
  }

  async rm (cid: CID): Promise<boolean> {
    const key = this.key(cid)
    if (!(await this.ds.has(key))) return false
    await this.ds.delete(key)
    return true
  }

  /** the pin on `cid` (under any CID version), or null */
  async get (cid: CID): Promise<Pin | null> {
    const key = this.key(cid)
    let bytes: Uint8Array
    try {
      bytes = await this.ds.get(key)
    } catch (err) {
      if (errorName(err) === 'NotFoundError') return null
      throw err
    }
    return decodePin(key.toString(), bytes)
  }

  async has (cid: CID): Promise<boolean> {
    return await this.ds.has(this.key(cid))
  }

  async * ls (): AsyncGenerator<Pin> {
    for await (const { key, value } of this.ds.query({ prefix: PREFIX })) yield decodePin(key.toString(), value)
  }
}

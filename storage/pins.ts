// Pins: which DAGs the repo keeps. Stored in the datastore under /pins/<cid>.
// A pin is written only after the blocks it points at are durable.

import { Key } from 'interface-datastore'
import { CID } from 'multiformats/cid'
import type { FsDatastore } from 'datastore-fs'
import { errorName } from './errors.ts'

export type PinType = 'recursive' | 'direct'

export interface Pin {
  cid: CID
  type: PinType
  /** when the pin was made, ms since the epoch */
  time: number
}

const PREFIX = '/pins'

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
    try {
      const raw = JSON.parse(new TextDecoder().decode(await this.ds.get(this.key(cid)))) as { cid: string, type: PinType, time: number }
      return { cid: CID.parse(raw.cid), type: raw.type, time: raw.time }
    } catch (err) {
      if (errorName(err) === 'NotFoundError') return null
      throw err
    }
  }

  async has (cid: CID): Promise<boolean> {
    return await this.ds.has(this.key(cid))
  }

  async * ls (): AsyncGenerator<Pin> {
    for await (const { value } of this.ds.query({ prefix: PREFIX })) {
      const raw = JSON.parse(new TextDecoder().decode(value)) as { cid: string, type: PinType, time: number }
      yield { cid: CID.parse(raw.cid), type: raw.type, time: raw.time }
    }
  }
}

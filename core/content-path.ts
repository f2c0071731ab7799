// CID[/path] arguments, parsed so a bad one gets a clear error before any
// block is read. Kept apart from resolve.ts (the UnixFS exporter) so a
// command that only hands the path to a running seed loads none of it.

import { base36 } from 'multiformats/bases/base36'
import { CID } from 'multiformats/cid'
import { InvalidCidError } from './errors.ts'

export interface ContentPath {
  cid: CID
  /** path segments below the CID, already split and non-empty */
  segments: string[]
}

/** Parses 'CID', 'CID/a/b' or '/ipfs/CID/a/b'. */
export function parseContentPath (arg: string): ContentPath {
  const text = arg.replace(/^\/ipfs\//, '')
  const [head, ...rest] = text.split('/')
  let cid: CID
  try {
    cid = head.startsWith('k') ? CID.parse(head, base36) : CID.parse(head)
  } catch {
    throw new InvalidCidError(`invalid CID "${head}"`)
  }
  const segments = rest.filter(s => s !== '')
  return { cid, segments }
}

export function formatContentPath (p: ContentPath): string {
  return [p.cid.toString(), ...p.segments].join('/')
}

// CID[/path] arguments, parsed so a bad one gets a clear error before any
// block is read. Kept apart from resolve.ts (the UnixFS exporter) so a
// command that only hands the path to a running seed loads none of it.

import { base36 } from 'multiformats/bases/base36'
import { CID } from 'multiformats/cid'
import { InvalidCidError } from '../util/errors.ts'

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

/** '/ipns/NAME[/path]' split into the name and the path below it; null for anything else. */
export function splitIpnsPath (arg: string): { name: string, segments: string[] } | null {
  if (!arg.startsWith('/ipns/')) return null
  const [name, ...rest] = arg.slice('/ipns/'.length).split('/')
  return { name, segments: rest.filter(s => s !== '') }
}

/**
 * Checks a CID[/path] or /ipns/NAME[/path] argument before any repo or seed
 * is touched; returns the last path segment, or what names the whole.
 */
export function checkContentArg (arg: string): { last: string | undefined, whole: string } {
  const ipns = splitIpnsPath(arg)
  if (ipns != null) {
    if (ipns.name === '') throw new InvalidCidError('/ipns/ needs a name (k51… or 12D3Koo…)')
    return { last: ipns.segments.at(-1), whole: ipns.name }
  }
  const p = parseContentPath(arg)
  return { last: p.segments.at(-1), whole: p.cid.toString() }
}

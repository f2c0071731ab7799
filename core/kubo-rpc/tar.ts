// A UnixFS file or tree as a tar stream (ustar, with a PAX record for a
// name past ustar's 100 bytes): what Kubo's `get` sends. Read with the same
// bounded read-ahead as `cairn get`; entry names that could write outside
// the output on extraction are refused, as `cairn get` refuses them.

import { exporter, type UnixFSEntry } from 'ipfs-unixfs-exporter'
import { checkEntryName } from '../unixfs/get.ts'
import { entryBytes } from '../unixfs/file-reader.ts'
import { READ_AHEAD_BLOCKS, mapExportError } from '../unixfs/resolve.ts'
import type { BlockReader } from '../../storage/blocks.ts'

const BLOCK = 512
const NAME_FIELD = 100

function octal (n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0'
}

function header (name: string, o: { type: '0' | '2' | '5' | 'x', size: number, mode: number, mtime: number, link?: string }): Buffer {
  const h = Buffer.alloc(BLOCK)
  h.write(name, 0, NAME_FIELD, 'utf8')
  h.write(octal(o.mode, 8), 100, 'ascii')
  h.write(octal(0, 8), 108, 'ascii')
  h.write(octal(0, 8), 116, 'ascii')
  h.write(octal(o.size, 12), 124, 'ascii')
  h.write(octal(o.mtime, 12), 136, 'ascii')
  h.write('        ', 148, 'ascii')
  h.write(o.type, 156, 'ascii')
  if (o.link != null) h.write(o.link, 157, NAME_FIELD, 'utf8')
  h.write('ustar\0', 257, 'ascii')
  h.write('00', 263, 'ascii')
  let sum = 0
  for (const b of h) sum += b
  h.write(octal(sum, 7) + ' ', 148, 'ascii')
  return h
}

/** A PAX extended header carrying `key=value` records (path, linkpath) for the entry after it. */
function pax (records: Record<string, string>): Buffer[] {
  let body = ''
  for (const [k, v] of Object.entries(records)) {
    const rest = ` ${k}=${v}\n`
    // the length counts its own digits
    let len = Buffer.byteLength(rest) + 1
    while (String(len).length + Buffer.byteLength(rest) !== len) len = String(len).length + Buffer.byteLength(rest)
    body += `${len}${rest}`
  }
  const bytes = Buffer.from(body, 'utf8')
  return [header('PaxHeader', { type: 'x', size: bytes.length, mode: 0o644, mtime: 0 }), bytes, Buffer.alloc((BLOCK - bytes.length % BLOCK) % BLOCK)]
}

function entryHeader (name: string, o: { type: '0' | '2' | '5', size: number, mode: number, mtime: number, link?: string }): Buffer[] {
  const long: Record<string, string> = {}
  if (Buffer.byteLength(name) > NAME_FIELD) long.path = name
  if (o.link != null && Buffer.byteLength(o.link) > NAME_FIELD) long.linkpath = o.link
  return [...(Object.keys(long).length > 0 ? pax(long) : []), header(name, o)]
}

function modeOf (e: UnixFSEntry, fallback: number): number {
  return e.type === 'file' || e.type === 'directory' ? (e.unixfs.mode ?? fallback) & 0o7777 : fallback
}

function mtimeOf (e: UnixFSEntry): number {
  return e.type === 'file' || e.type === 'directory' ? Number(e.unixfs.mtime?.secs ?? 0n) : 0
}

/** The tar bytes of `entry` under the name `name`, depth first in link order, then the two closing zero blocks. */
export async function * tarEntry (store: BlockReader, entry: UnixFSEntry, name: string, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  yield * tarOne(store, entry, name, signal)
  yield Buffer.alloc(2 * BLOCK)
}

async function * tarOne (store: BlockReader, entry: UnixFSEntry, name: string, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  signal?.throwIfAborted()
  if (entry.type === 'directory') {
    yield * entryHeader(name + '/', { type: '5', size: 0, mode: modeOf(entry, 0o755), mtime: mtimeOf(entry) })
    try {
      for await (const child of entry.entries({ signal })) {
        checkEntryName(child.name, name)
        yield * tarOne(store, await exporter(child.cid, store, { signal }), `${name}/${child.name}`, signal)
      }
    } catch (err) {
      throw mapExportError(err, name)
    }
    return
  }
  if (entry.type === 'file' && entry.unixfs.type === 'symlink') {
    const target = new TextDecoder().decode(entry.unixfs.data ?? new Uint8Array())
    yield * entryHeader(name, { type: '2', size: 0, mode: 0o777, mtime: mtimeOf(entry), link: target })
    return
  }
  if (entry.type === 'object') throw mapExportError(new Error('a dag-cbor/dag-json object is not a UnixFS file or directory'), name)
  const size = Number(entry.size)
  yield * entryHeader(name, { type: '0', size, mode: modeOf(entry, 0o644), mtime: mtimeOf(entry) })
  let written = 0
  for await (const chunk of entryBytes(store, entry, { signal, readAhead: store.readAhead ?? READ_AHEAD_BLOCKS })) {
    written += chunk.byteLength
    yield chunk
  }
  if (written !== size) throw new Error(`${name}: read ${written} bytes of a file of ${size}`)
  const pad = (BLOCK - size % BLOCK) % BLOCK
  if (pad > 0) yield Buffer.alloc(pad)
}

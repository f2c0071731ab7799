// multipart/form-data request bodies, streamed: what Kubo's `add`,
// `block/put` and `dag/import` take. Each part's bytes are passed on as they
// arrive (a 512 MiB file is never held), so a part must be read before the
// next is asked for; one that was not is buffered, never skipped.

import { RpcParamError } from './wire.ts'

/** header block of one part, at most (Content-Disposition with a long, escaped file name) */
const MAX_PART_HEADERS = 64 * 1024

export interface Part {
  /** the form field: file, dir, file-1 … (Kubo ignores it, but a `?mode=` may ride on it) */
  field: string
  /** the file name, URL-decoded: a path relative to the added tree */
  filename: string
  contentType: string
  body: AsyncIterable<Uint8Array>
}

/** The boundary of a multipart/form-data Content-Type; a 400 when there is none. */
export function boundaryOf (contentType: string | undefined): string {
  const m = /^multipart\/form-data\s*;(?:.*;)?\s*boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType ?? '')
  if (m == null) throw new RpcParamError('expected a multipart/form-data request body (with a boundary)')
  return m[1] ?? m[2]
}

function headerParam (header: string, name: string): string | null {
  const m = new RegExp(`;\\s*${name}="((?:[^"\\\\]|\\\\.)*)"`, 'i').exec(header) ?? new RegExp(`;\\s*${name}=([^;\\s]+)`, 'i').exec(header)
  return m == null ? null : m[1].replace(/\\(.)/g, '$1')
}

/** The parts of a multipart body, in order. */
export async function * parseMultipart (source: AsyncIterable<Uint8Array>, boundary: string): AsyncGenerator<Part> {
  const it = source[Symbol.asyncIterator]()
  // the first delimiter has no CRLF before it: pretend it had
  let buf: Buffer = Buffer.from('\r\n')
  let ended = false
  const more = async (): Promise<boolean> => {
    if (ended) return false
    const next = await it.next()
    if (next.done === true) { ended = true; return false }
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength)
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
    return true
  }
  const delimiter = Buffer.from(`\r\n--${boundary}`)
  const truncated = (): RpcParamError => new RpcParamError('the multipart body ended before its closing boundary')

  // skip a preamble up to the first delimiter
  for (;;) {
    const at = buf.indexOf(delimiter)
    if (at !== -1) { buf = buf.subarray(at + delimiter.length); break }
    buf = buf.subarray(Math.max(0, buf.length - delimiter.length))
    if (!(await more())) throw truncated()
  }

  for (;;) {
    // after a delimiter: "--" ends the body, CRLF starts a part
    while (buf.length < 2) if (!(await more())) throw truncated()
    if (buf[0] === 0x2d && buf[1] === 0x2d) return
    let headEnd: number
    while ((headEnd = buf.indexOf('\r\n\r\n')) === -1) {
      if (buf.length > MAX_PART_HEADERS) throw new RpcParamError('a multipart part has over 64 KiB of headers')
      if (!(await more())) throw truncated()
    }
    const headers = buf.subarray(0, headEnd).toString('utf8').split('\r\n').slice(1)
    buf = buf.subarray(headEnd + 4)
    let disposition = ''
    let contentType = 'application/octet-stream'
    for (const h of headers) {
      const colon = h.indexOf(':')
      if (colon === -1) continue
      const name = h.slice(0, colon).trim().toLowerCase()
      const value = h.slice(colon + 1).trim()
      if (name === 'content-disposition') disposition = value
      else if (name === 'content-type') contentType = value.toLowerCase()
    }
    let filename = headerParam(disposition, 'filename') ?? ''
    try {
      filename = decodeURIComponent(filename)
    } catch {
      throw new RpcParamError(`a multipart file name is not valid URL encoding: ${JSON.stringify(filename)}`)
    }
    const field = headerParam(disposition, 'name') ?? ''

    // the body: every byte before the next delimiter
    let done = false
    const left: { spare: Buffer[] | null } = { spare: null }
    const read = async function * (): AsyncGenerator<Uint8Array> {
      while (!done) {
        const at = buf.indexOf(delimiter)
        if (at !== -1) {
          const out = buf.subarray(0, at)
          buf = buf.subarray(at + delimiter.length)
          done = true
          if (out.length > 0) yield out
          return
        }
        // all but a possible delimiter's start can go
        const keep = Math.min(buf.length, delimiter.length - 1)
        if (buf.length > keep) {
          const out = buf.subarray(0, buf.length - keep)
          buf = buf.subarray(buf.length - keep)
          yield out
        }
        // the next chunk is searched where it lies, not copied behind the tail:
        // only a delimiter that starts in the tail needs the two joined
        const next = await it.next()
        if (next.done === true) { ended = true; throw truncated() }
        const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength)
        const tail = buf
        if (tail.length === 0) { buf = chunk; continue }
        // a chunk too short to finish a delimiter begun in the tail: join them and look again
        if (chunk.length < delimiter.length - 1) { buf = Buffer.concat([tail, chunk]); continue }
        const joint = Buffer.concat([tail, chunk.subarray(0, delimiter.length - 1)]).indexOf(delimiter)
        if (joint !== -1 && joint < tail.length) {
          buf = Buffer.concat([tail, chunk])
          continue
        }
        yield tail
        buf = chunk
      }
    }
    const reader = read()
    const body = (async function * (): AsyncGenerator<Uint8Array> {
      if (left.spare != null) { yield * left.spare; return }
      yield * reader
    })()
    yield { field, filename, contentType, body }
    // the caller moved on without reading it all: keep the rest for it
    if (!done) {
      const spare: Buffer[] = []
      for await (const chunk of reader) spare.push(Buffer.from(chunk))
      left.spare = spare
    }
  }
}

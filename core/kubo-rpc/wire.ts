// Kubo's RPC wire conventions (go-ipfs-cmds over HTTP), as the clients
// expect them: options in the query string, positional arguments as
// repeated `arg`, one JSON value for a single answer, newline-delimited JSON
// with X-Chunked-Output for a stream of values, raw bytes with
// X-Stream-Output, errors as {"Message","Code","Type":"error"} (400 for the
// caller's mistakes, 500 otherwise), and an error met after the answer
// started goes in the X-Stream-Error trailer.

import type http from 'node:http'
import { CairnError, errorMessage, InputError, InvalidCidError, UnsupportedError, UsageError } from '../util/errors.ts'

export const STREAM_HEADER = 'X-Stream-Output'
export const CHANNEL_HEADER = 'X-Chunked-Output'
export const STREAM_ERROR_TRAILER = 'X-Stream-Error'
const EXPOSED = [STREAM_HEADER, CHANNEL_HEADER, 'X-Content-Length'].join(', ')

/** go-ipfs-cmds' error codes */
export const ERR_NORMAL = 0
export const ERR_CLIENT = 1

/** A bad option or argument: 400, Code 1, as go-ipfs-cmds answers it. */
export class RpcParamError extends UsageError {}

/** A call cairn does not answer: 404. */
export class RpcNotSupportedError extends CairnError {}

/** The caller's fault (400) rather than the node's (500). */
function isClientError (err: unknown): boolean {
  return err instanceof UsageError || err instanceof InvalidCidError || err instanceof InputError || err instanceof UnsupportedError
}

/** The status and body Kubo would send for `err`. */
export function errorBody (err: unknown): { status: number, body: { Message: string, Code: number, Type: 'error' } } {
  const message = errorMessage(err)
  if (err instanceof RpcNotSupportedError) return { status: 404, body: { Message: message, Code: ERR_NORMAL, Type: 'error' } }
  const client = isClientError(err)
  return { status: client ? 400 : 500, body: { Message: message, Code: client ? ERR_CLIENT : ERR_NORMAL, Type: 'error' } }
}

/** The query string of a call: options by name (and Kubo's short aliases), positional `arg`s. */
export class Params {
  private readonly q: URLSearchParams
  constructor (search: string) { this.q = new URLSearchParams(search) }

  /** every `arg`, in order */
  args (): string[] { return this.q.getAll('arg') }

  /** exactly one `arg` (what Kubo calls a required argument) */
  arg (what: string): string {
    const a = this.args()
    if (a.length === 0 || a[0] === '') throw new RpcParamError(`argument "${what}" is required`)
    return a[0]
  }

  private raw (names: string[]): string | null {
    for (const n of names) {
      const v = this.q.get(n)
      if (v != null) return v
    }
    return null
  }

  str (names: string[], fallback: string): string
  str (names: string[]): string | undefined
  str (names: string[], fallback?: string): string | undefined { return this.raw(names) ?? fallback }

  /** Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False; an empty value is true (a bare flag) */
  bool (names: string[], fallback: boolean): boolean {
    const v = this.raw(names)
    if (v == null) return fallback
    if (['', '1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true
    if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false
    throw new RpcParamError(`could not convert value "${v}" to type "bool" (for option "-${names[0]}")`)
  }

  int (names: string[]): number | undefined {
    const v = this.raw(names)
    if (v == null) return undefined
    if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new RpcParamError(`could not convert value "${v}" to type "int" (for option "-${names[0]}")`)
    return Number(v)
  }
}

function commonHeaders (res: http.ServerResponse): void {
  res.setHeader('Access-Control-Allow-Headers', EXPOSED)
  res.setHeader('Access-Control-Expose-Headers', EXPOSED)
  res.setHeader('Trailer', STREAM_ERROR_TRAILER)
  res.setHeader('Vary', 'Origin')
}

/** An error answer (before anything else was sent). */
export function sendError (res: http.ServerResponse, err: unknown): void {
  const { status, body } = errorBody(err)
  if (res.headersSent) {
    // the answer is under way: the trailer carries the error (Kubo's X-Stream-Error)
    endWithTrailer(res, body.Message)
    return
  }
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' })
  res.end(JSON.stringify(body) + '\n')
}

function endWithTrailer (res: http.ServerResponse, message: string): void {
  if (res.writableEnded || res.destroyed) return
  // a header value cannot hold line breaks
  res.addTrailers({ [STREAM_ERROR_TRAILER]: message.replace(/[\r\n]+/g, ' ') })
  res.end()
}

/** One JSON value (go-ipfs-cmds' Single: no stream header). */
export function sendJson (res: http.ServerResponse, value: unknown): void {
  commonHeaders(res)
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' })
  res.end(JSON.stringify(value) + '\n')
}

/** Waits until `res` can take more (a slow reader slows the producer). */
async function write (res: http.ServerResponse, chunk: Uint8Array | string): Promise<void> {
  if (res.destroyed) throw new Error('the client went away')
  if (!res.write(chunk)) {
    await new Promise<void>((resolve, reject) => {
      const done = (): void => { res.off('drain', done); res.off('close', gone); resolve() }
      const gone = (): void => { res.off('drain', done); res.off('close', gone); reject(new Error('the client went away')) }
      res.on('drain', done)
      res.on('close', gone)
    })
  }
}

/**
 * Values as newline-delimited JSON (X-Chunked-Output). The headers wait for
 * the first value, so an error before it is an ordinary error answer; after
 * it, the X-Stream-Error trailer.
 */
export async function sendStream (res: http.ServerResponse, values: AsyncIterable<unknown>): Promise<void> {
  let started = false
  const start = (): void => {
    if (started) return
    started = true
    commonHeaders(res)
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', [CHANNEL_HEADER]: '1' })
  }
  try {
    for await (const v of values) {
      start()
      await write(res, JSON.stringify(v) + '\n')
    }
  } catch (err) {
    if (!started) return sendError(res, err)
    endWithTrailer(res, errorBody(err).body.Message)
    return
  }
  start()
  res.end()
}

/** Bytes (X-Stream-Output, text/plain as Kubo sends them); the first chunk is awaited before the headers. */
export async function sendBytes (res: http.ServerResponse, chunks: AsyncIterable<Uint8Array>, o: { length?: number } = {}): Promise<void> {
  const it = chunks[Symbol.asyncIterator]()
  let first: IteratorResult<Uint8Array>
  try {
    first = await it.next()
  } catch (err) {
    return sendError(res, err)
  }
  commonHeaders(res)
  const headers: Record<string, string> = { 'Content-Type': 'text/plain', [STREAM_HEADER]: '1' }
  if (o.length != null) headers['X-Content-Length'] = String(o.length)
  res.writeHead(200, headers)
  try {
    for (let next = first; next.done !== true; next = await it.next()) await write(res, next.value)
  } catch (err) {
    void it.return?.()
    endWithTrailer(res, errorBody(err).body.Message)
    return
  }
  res.end()
}

/**
 * Runs `work` in the background and yields what it pushes as it pushes it
 * (progress while a pin or an add runs); its failure is thrown after the
 * values pushed before it. `work` sees the consumer's pace only through the
 * queue, which holds small JSON values.
 */
export async function * whileRunning<T> (work: (push: (v: T) => void) => Promise<void>): AsyncGenerator<T> {
  const queue: T[] = []
  let wake: (() => void) | null = null
  let finished = false
  let failure: unknown = null
  void work(v => { queue.push(v); wake?.() })
    .catch(err => { failure = err })
    .finally(() => { finished = true; wake?.() })
  for (;;) {
    // what was pushed so far, in order; more may be pushed while each is consumed
    while (queue.length > 0) yield * queue.splice(0)
    if (finished) break
    await new Promise<void>(resolve => { wake = resolve })
    wake = null
  }
  if (failure != null) throw failure
}

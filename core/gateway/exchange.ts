// One HTTP request and its answer, as the gateway's handlers see it: the
// reader to take blocks from, a signal that fires when the client leaves,
// and two ways to answer (whole, or streamed with backpressure). A stream
// that fails after its headers went out cannot change its status: the
// connection is cut, so the client sees a truncated answer, never a short
// one that looks whole.

import type http from 'node:http'
import type { BlockReader } from '../../storage/blocks.ts'

export interface Exchange {
  readonly store: BlockReader
  readonly signal: AbortSignal
  readonly head: boolean
  header: (name: string) => string | undefined
  respond: (status: number, headers: Record<string, string>, body?: string | Uint8Array) => void
  /** pulls the first chunk before the headers go out (an early failure still gets its own status) */
  stream: (status: number, headers: Record<string, string>, body: AsyncIterable<Uint8Array>) => Promise<void>
}

export class HttpExchange implements Exchange {
  readonly head: boolean
  /** what was answered, for the log and the metrics */
  status = 0
  sent = 0

  constructor (
    readonly req: http.IncomingMessage,
    readonly res: http.ServerResponse,
    readonly store: BlockReader,
    readonly signal: AbortSignal,
    private readonly onBytes: (n: number) => void,
    private readonly common: Record<string, string>,
    /** told when the socket has taken a streamed chunk (its buffer may then be reused: pool.ts) */
    private readonly onWritten?: (chunk: Uint8Array) => void
  ) {
    this.head = req.method === 'HEAD'
  }

  header (name: string): string | undefined {
    const v = this.req.headers[name]
    return Array.isArray(v) ? v.join(', ') : v
  }

  respond (status: number, headers: Record<string, string>, body?: string | Uint8Array): void {
    this.status = status
    if (this.res.headersSent || this.res.destroyed) return
    const bytes = body == null ? null : typeof body === 'string' ? Buffer.from(body, 'utf8') : body
    const h = { ...this.common, ...headers }
    if (bytes != null && h['content-length'] == null) h['content-length'] = String(bytes.byteLength)
    this.res.writeHead(status, h)
    if (bytes != null && !this.head && status !== 304) {
      this.res.end(bytes)
      this.sent += bytes.byteLength
      this.onBytes(bytes.byteLength)
    } else this.res.end()
  }

  async stream (status: number, headers: Record<string, string>, body: AsyncIterable<Uint8Array>): Promise<void> {
    const it = body[Symbol.asyncIterator]()
    try {
      let next = await it.next()
      this.status = status
      this.res.writeHead(status, { ...this.common, ...headers })
      while (next.done !== true) {
        this.signal.throwIfAborted()
        const chunk = next.value
        if (chunk.byteLength > 0) {
          const more = this.onWritten == null ? this.res.write(chunk) : this.res.write(chunk, () => { this.onWritten?.(chunk) })
          this.sent += chunk.byteLength
          this.onBytes(chunk.byteLength)
          if (!more) await this.drained()
        }
        next = await it.next()
      }
      this.res.end()
    } finally {
      // a failure or a client gone mid-way: the source's own finally blocks run (slots, fetches)
      await it.return?.()
    }
  }

  private async drained (): Promise<void> {
    if (this.res.destroyed) this.signal.throwIfAborted()
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.res.off('drain', done)
        this.res.off('close', done)
        this.signal.removeEventListener('abort', done)
        resolve()
      }
      this.res.on('drain', done)
      this.res.on('close', done)
      this.signal.addEventListener('abort', done, { once: true })
    })
    this.signal.throwIfAborted()
  }
}

// How a command reaches the repo: through a running seed's API when there is
// one (the seed holds the repo), else in process, calling the same handlers
// on a repo opened for this command.

import fs from 'node:fs/promises'
import { createRequire } from 'node:module'
import net from 'node:net'
import path from 'node:path'
import { Readable } from 'node:stream'
import { API_FILE, API_PREFIX, ERROR_TRAILER, PARAMS_HEADER, TOKEN_HEADER, endpointPort, parseEndpoint, parseErrorTrailer, parseWireLine, type ApiEndpoint, type WireError, type WireLine } from '../core/api/protocol.ts'
import { CairnError } from '../core/util/errors.ts'
import type { Context } from './command.ts'
import type { Method, Params } from '../core/api/contract.ts'
import type { Result } from '../core/api/handlers.ts'
import type { IncomingMessage } from 'node:http'

// node:http through require, not import: the ESM namespace of node:http reads
// every export, and Node 24's lazy WebSocket/EventSource getters then load
// undici, 25-50 ms of a command's start (the time to first byte of `cat`);
// require() is typed any, so the module's type is asserted here
const http = createRequire(import.meta.url)('node:http') as typeof import('node:http')

/** An error that happened in the seed, re-raised here with its exit code. */
export class RemoteError extends CairnError {
  override readonly exitCode: number
  constructor (e: WireError) {
    super(e.message)
    this.name = e.name
    this.exitCode = e.exitCode
  }
}

export class DaemonUnreachableError extends CairnError {}

export interface CallOptions {
  onProgress?: (p: unknown) => void
  onItem?: (i: unknown) => void
  /** a streamed request body (stdin for add) */
  body?: Readable
}

/** methods whose answer is bytes (protocol.ts BYTE_METHODS) */
type ByteMethod = 'cat' | 'car.export'
type JsonMethod = Exclude<Method, ByteMethod>

/** A call's params and result are typed from the contract and the handlers (core/api/contract.ts). */
export interface Invoker {
  /** true when a seed answers */
  readonly remote: boolean
  call: <M extends JsonMethod>(method: M, params: Params<M>, o?: CallOptions) => Promise<Result<M>>
  bytes: <M extends ByteMethod>(method: M, params: Params<M>, signal?: AbortSignal) => AsyncIterable<Uint8Array>
  close: () => Promise<void>
}

/** The seed's endpoint from the repo's api file, if its process is alive. */
export async function findDaemon (repoPath: string): Promise<ApiEndpoint | null> {
  let text: string
  try {
    text = await fs.readFile(path.join(repoPath, API_FILE), 'utf8')
  } catch {
    return null
  }
  const e = parseEndpoint(text)
  if (e == null) return null
  try {
    process.kill(e.pid, 0) // throws if that process is gone (a seed killed with SIGKILL)
  } catch {
    return null
  }
  // the pid may since belong to another process: only a seed that answers counts
  return await answers(e) ? e : null
}

/** Whether something accepts connections at the endpoint (bounded: 2 s). */
async function answers (e: ApiEndpoint): Promise<boolean> {
  return await new Promise(resolve => {
    const socket = e.socket != null ? net.connect(e.socket) : net.connect(endpointPort(e.http), '127.0.0.1')
    const done = (ok: boolean): void => { socket.destroy(); resolve(ok) }
    socket.setTimeout(2000, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** A response body as text, decoded across chunk boundaries. */
async function * textOf (res: IncomingMessage): AsyncIterable<string> {
  res.setEncoding('utf8')
  for await (const chunk of res) {
    if (typeof chunk !== 'string') throw new DaemonUnreachableError('the seed\'s answer is not text')
    yield chunk
  }
}

/** One line of the seed's answer to `method`; one that is not a line of the protocol ends the call. */
function wireLine (text: string, method: string): WireLine {
  const line = parseWireLine(text)
  if (line == null) throw new DaemonUnreachableError(`the seed's answer to ${method} is not cairn's API protocol: ${JSON.stringify(text.slice(0, 80))}`)
  return line
}

class HttpInvoker implements Invoker {
  readonly remote = true
  constructor (private readonly e: ApiEndpoint, private readonly signal: AbortSignal) {}

  private request (method: string, params: object, body?: Readable, signal?: AbortSignal): Promise<IncomingMessage> {
    const headers: Record<string, string> = { [TOKEN_HEADER]: `Bearer ${this.e.token}` }
    if (body != null) headers[PARAMS_HEADER] = Buffer.from(JSON.stringify(params)).toString('base64url')
    else headers['content-type'] = 'application/json'
    const target = this.e.socket != null
      ? { socketPath: this.e.socket }
      : { host: '127.0.0.1', port: endpointPort(this.e.http) }
    // over TCP the seed checks the Host header (no DNS rebinding)
    if (this.e.http != null) headers.host = this.e.http
    return new Promise((resolve, reject) => {
      const req = http.request({
        ...target,
        method: 'POST',
        path: API_PREFIX + method,
        headers,
        signal: signal ?? this.signal
      }, resolve)
      req.on('error', err => reject(new DaemonUnreachableError(`cannot reach the seed on this repo: ${err.message}`)))
      if (body != null) Readable.from(body).pipe(req)
      else req.end(JSON.stringify(params))
    })
  }

  async call<M extends JsonMethod> (method: M, params: Params<M>, o: CallOptions = {}): Promise<Result<M>> {
    const res = await this.request(method, params, o.body)
    let buffered = ''
    let result: unknown
    let got = false
    for await (const chunk of textOf(res)) {
      buffered += chunk
      let nl: number
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const line = wireLine(buffered.slice(0, nl), method)
        buffered = buffered.slice(nl + 1)
        if ('progress' in line) o.onProgress?.(line.progress)
        else if ('item' in line) o.onItem?.(line.item)
        else if ('error' in line) throw new RemoteError(line.error)
        else { result = line.result; got = true }
      }
    }
    if (!got) throw new DaemonUnreachableError(`the seed closed the connection during ${method}`)
    return result as Result<M> // the seed runs the same handlers: what they return is what came
  }

  async * bytes<M extends ByteMethod> (method: M, params: Params<M>, signal?: AbortSignal): AsyncIterable<Uint8Array> {
    const res = await this.request(method, params, undefined, signal)
    if (res.headers['content-type'] !== 'application/octet-stream') {
      let text = ''
      for await (const c of textOf(res)) text += c
      const line = wireLine(text.trim().split('\n')[0], method)
      throw 'error' in line ? new RemoteError(line.error) : new DaemonUnreachableError(`unexpected answer to ${method}`)
    }
    for await (const chunk of res) {
      if (!(chunk instanceof Uint8Array)) throw new DaemonUnreachableError(`the answer to ${method} is not bytes`)
      yield chunk
    }
    const failure = res.trailers[ERROR_TRAILER]
    if (failure != null) throw new RemoteError(parseErrorTrailer(failure) ?? { name: 'Error', message: `${method} failed in the seed (its error was unreadable)`, exitCode: 1 })
    if (!res.complete) throw new DaemonUnreachableError(`the seed closed the connection during ${method}`)
  }

  async close (): Promise<void> {}
}

class LocalInvoker implements Invoker {
  readonly remote = false
  private node: Promise<import('../core/net/node.ts').CairnNode> | null = null
  private handlers: Record<string, import('../core/api/server.ts').Handler> | null = null

  private chain: Promise<import('../core/anchor/chain.ts').AnchorChain> | null = null

  constructor (private readonly repo: import('../storage/repo.ts').Repo, private readonly ctx: Context, private readonly bootstrap: string[], private readonly write = false) {}

  private async table (): Promise<Record<string, import('../core/api/server.ts').Handler>> {
    if (this.handlers != null) return this.handlers
    const [{ makeHandlers }, { RwLock }] = await Promise.all([import('../core/api/handlers.ts'), import('../core/repo/rwlock.ts')])
    this.handlers = makeHandlers({
      repo: this.repo,
      lock: new RwLock(),
      // a node for this command alone: dials out, listens nowhere
      node: async () => {
        this.node ??= import('../core/net/node.ts').then(async ({ CairnNode }) => await CairnNode.start(this.repo, { listen: [], bootstrap: this.bootstrap }))
        return await this.node
      },
      online: false,
      provider: null,
      shutdown: null,
      startedAt: Date.now(),
      fetching: new Set(),
      // fetched blocks are writes: gc must not run meanwhile
      beforeFetch: async () => { await this.repo.lockForWriting() },
      // the chain is read from the repo only when a command asks for it
      chain: async () => {
        this.chain ??= import('../core/anchor/service.ts').then(async ({ openRepoChain }) => await openRepoChain(this.repo, this.write))
        return await this.chain
      }
    })
    return this.handlers
  }

  private async handler (method: string): Promise<import('../core/api/server.ts').Handler> {
    const t = await this.table()
    if (!Object.hasOwn(t, method)) throw new CairnError(`no operation "${method}"`)
    return t[method]
  }

  async call<M extends JsonMethod> (method: M, params: Params<M>, o: CallOptions = {}): Promise<Result<M>> {
    const h = await this.handler(method)
    // the handler table is looked up by name (Record<string, Handler>), so its answer is unknown
    // here: it is Result<M> by construction, the same handlers the seed runs (see HttpInvoker.call)
    return await (h({
      params: (await this.check(method, params)),
      body: o.body ?? null,
      signal: this.ctx.signal,
      progress: p => o.onProgress?.(p),
      item: i => o.onItem?.(i)
    }) as Promise<Result<M>>)
  }

  /** the seed checks each call against the contract; in process, so does this */
  private async check (method: string, params: object): Promise<Record<string, unknown>> {
    const { checkParams } = await import('../core/api/contract.ts')
    return checkParams(method, params)
  }

  async * bytes<M extends ByteMethod> (method: M, params: Params<M>, signal?: AbortSignal): AsyncIterable<Uint8Array> {
    const h = await this.handler(method)
    const out = h({ params: await this.check(method, params), body: null, signal: signal ?? this.ctx.signal, progress: () => {}, item: () => {} })
    if (out instanceof Promise) throw new CairnError(`${method} answers JSON, not bytes`)
    yield * out
  }

  async close (): Promise<void> {
    if (this.node != null) await (await this.node).stop()
    if (this.chain != null) (await this.chain.catch(() => null))?.close()
    await this.repo.close()
  }
}

export interface InvokeOptions {
  /** the command changes the repo: take the writer lock when running in process */
  write: boolean
  /** extra bootstrap peers for a node started for this command */
  bootstrap?: string[]
}

/** A seed's API when one runs on the repo; else the repo, opened here. */
export async function openInvoker (ctx: Context, o: InvokeOptions): Promise<Invoker> {
  const endpoint = await findDaemon(ctx.repoPath)
  if (endpoint != null) return new HttpInvoker(endpoint, ctx.signal)
  const { Repo } = await import('../storage/repo.ts')
  const repo = await Repo.open(ctx.repoPath, { write: o.write })
  return new LocalInvoker(repo, ctx, o.bootstrap ?? [], o.write)
}

/** Runs `fn` with an invoker and always closes it. */
export async function withInvoker<T> (ctx: Context, o: InvokeOptions, fn: (inv: Invoker) => Promise<T>): Promise<T> {
  const inv = await openInvoker(ctx, o)
  try {
    return await fn(inv)
  } finally {
    await inv.close()
  }
}

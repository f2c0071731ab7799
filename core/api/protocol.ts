// The daemon's control API: HTTP over a Unix socket in the repo (mode 0600),
// or over 127.0.0.1 with a Host check; every request carries the token from
// the repo's `api` file (mode 0600). Nothing else is accepted.
//
//   POST /api/v1/<method>   params: JSON body, or (with a streamed body such
//                           as stdin for add) the x-cairn-params header
//   response, JSON methods: NDJSON lines {progress} | {item} | {result} | {error}
//   response, byte methods: the bytes; a failure mid-stream ends the body
//                           early with an x-cairn-error trailer

export const API_FILE = 'api'
export const API_SOCKET = 'api.sock'
export const API_PREFIX = '/api/v1/'
export const TOKEN_HEADER = 'authorization'
export const PARAMS_HEADER = 'x-cairn-params'
export const ERROR_TRAILER = 'x-cairn-error'

/** What the repo's `api` file says: how to reach the daemon, by its socket or by loopback TCP. */
export type ApiEndpoint =
  | { /** the Unix socket's path */ socket: string, http: null, token: string, pid: number }
  | { socket: null, /** 127.0.0.1:PORT */ http: string, token: string, pid: number }

/**
 * The API file's text as an endpoint; null when it is not one (a torn or
 * foreign file). Checked by hand, not with valibot: the CLI reads it on
 * every call through a seed, and `cat` through a seed loads no valibot.
 */
export function parseEndpoint (text: string): ApiEndpoint | null {
  const o = parseJson(text)
  if (!isObject(o)) return null
  const { socket, http, token, pid } = o
  if (typeof token !== 'string' || typeof pid !== 'number' || !Number.isInteger(pid) || pid < 1) return null
  if (typeof socket === 'string' && http === null) return { socket, http, token, pid }
  if (socket === null && typeof http === 'string' && /^127\.0\.0\.1:\d{1,5}$/.test(http)) return { socket, http, token, pid }
  return null
}

/** The port of a loopback TCP endpoint. */
export const endpointPort = (http: string): number => Number(http.slice(http.lastIndexOf(':') + 1))

/** Methods whose response is raw bytes rather than NDJSON. */
export const BYTE_METHODS = new Set(['cat', 'car.export'])

export interface WireError { name: string, message: string, exitCode: number }

export type WireLine =
  | { progress: unknown }
  | { item: unknown }
  | { result: unknown }
  | { error: WireError }

function isObject (x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

/** JSON text's value; undefined when the text is not JSON. */
function parseJson (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function toWireError (x: unknown): WireError | null {
  if (!isObject(x)) return null
  const { name, message, exitCode } = x
  return typeof name === 'string' && typeof message === 'string' && Number.isInteger(exitCode) && typeof exitCode === 'number' ? { name, message, exitCode } : null
}

/** One NDJSON line of a JSON method's answer; null when it is not one. */
export function parseWireLine (text: string): WireLine | null {
  const o = parseJson(text)
  if (!isObject(o)) return null
  if ('progress' in o) return { progress: o.progress }
  if ('item' in o) return { item: o.item }
  if ('result' in o) return { result: o.result }
  const error = toWireError(o.error)
  return error != null ? { error } : null
}

/** A byte method's error trailer (JSON, base64url); null when it is not one. */
export function parseErrorTrailer (trailer: string): WireError | null {
  return toWireError(parseJson(Buffer.from(trailer, 'base64url').toString('utf8')))
}

// The daemon's control API: HTTP over a Unix socket in the repo (mode 0600),
// or over 127.0.0.1 with a Host check; every request carries the token from
// the repo's `api` file (mode 0600). Nothing else is accepted.
//
//   POST /api/v1/<method>   params: JSON body, or (with a streamed body such
//                           as stdin for add) the x-cairn-params header
//   response, JSON methods: NDJSON lines {progress} | {item} | {result} | {error}
//   response, byte methods: the bytes; a failure mid-stream ends the body
//                           early with an x-cairn-error trailer

import * as v from 'valibot'

export const API_FILE = 'api'
export const API_SOCKET = 'api.sock'
export const API_PREFIX = '/api/v1/'
export const TOKEN_HEADER = 'authorization'
export const PARAMS_HEADER = 'x-cairn-params'
export const ERROR_TRAILER = 'x-cairn-error'

const TOKEN_AND_PID = { token: v.string(), pid: v.pipe(v.number(), v.integer(), v.minValue(1)) }

/** What the repo's `api` file says: how to reach the daemon, by its socket or by loopback TCP. */
const API_ENDPOINT = v.union([
  /** the Unix socket's path */
  v.object({ socket: v.string(), http: v.null(), ...TOKEN_AND_PID }),
  /** 127.0.0.1:PORT */
  v.object({ socket: v.null(), http: v.pipe(v.string(), v.regex(/^127\.0\.0\.1:\d{1,5}$/)), ...TOKEN_AND_PID })
])
export type ApiEndpoint = v.InferOutput<typeof API_ENDPOINT>

/** The API file's text as an endpoint; null when it is not one (a torn or foreign file). */
export function parseEndpoint (text: string): ApiEndpoint | null {
  const r = v.safeParse(API_ENDPOINT, parseJson(text))
  return r.success ? r.output : null
}

/** The port of a loopback TCP endpoint. */
export const endpointPort = (http: string): number => Number(http.slice(http.lastIndexOf(':') + 1))

/** Methods whose response is raw bytes rather than NDJSON. */
export const BYTE_METHODS = new Set(['cat', 'car.export'])

const WIRE_ERROR = v.object({ name: v.string(), message: v.string(), exitCode: v.pipe(v.number(), v.integer()) })
export type WireError = v.InferOutput<typeof WIRE_ERROR>

const WIRE_LINE = v.union([
  v.object({ progress: v.unknown() }),
  v.object({ item: v.unknown() }),
  v.object({ result: v.unknown() }),
  v.object({ error: WIRE_ERROR })
])
export type WireLine = v.InferOutput<typeof WIRE_LINE>

/** JSON text's value; undefined when the text is not JSON. */
function parseJson (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** One NDJSON line of a JSON method's answer; null when it is not one. */
export function parseWireLine (text: string): WireLine | null {
  const r = v.safeParse(WIRE_LINE, parseJson(text))
  return r.success ? r.output : null
}

/** A byte method's error trailer (JSON, base64url); null when it is not one. */
export function parseErrorTrailer (trailer: string): WireError | null {
  const r = v.safeParse(WIRE_ERROR, parseJson(Buffer.from(trailer, 'base64url').toString('utf8')))
  return r.success ? r.output : null
}

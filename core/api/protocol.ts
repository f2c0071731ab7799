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

/** What the repo's `api` file says: how to reach the daemon. */
export interface ApiEndpoint {
  /** path of the Unix socket, or null */
  socket: string | null
  /** 127.0.0.1:port, or null */
  http: string | null
  token: string
  pid: number
}

/** Methods whose response is raw bytes rather than NDJSON. */
export const BYTE_METHODS = new Set(['cat', 'car.export'])

export interface WireError { name: string, message: string, exitCode: number }

export type WireLine =
  | { progress: unknown }
  | { item: unknown }
  | { result: unknown }
  | { error: WireError }

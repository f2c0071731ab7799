// `--rpc [HOST:]PORT` and config rpc.listen, parsed apart from the server so
// the seed command's start loads none of the RPC until it serves one.

import { UsageError } from '../util/errors.ts'

/** Parses `[HOST:]PORT` (host 127.0.0.1 unless named; [::1] for IPv6). */
export function parseRpcAddress (text: string): { host: string, port: number } {
  const m = /^(?:(.+):)?(\d{1,5})$/.exec(text)
  const port = Number(m?.[2])
  if (m == null || port > 65535) throw new UsageError(`--rpc needs PORT or HOST:PORT (got "${text}")`)
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1'), port }
}

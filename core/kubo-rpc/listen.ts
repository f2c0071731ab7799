// `--rpc [HOST:]PORT | unix[:PATH]` and config rpc.listen / rpc.auth, parsed
// apart from the server so the seed command's start loads none of the RPC
// until it serves one.

import { isIP } from 'node:net'
import path from 'node:path'
import { UsageError } from '../util/errors.ts'

/** the socket `unix` alone names, in the repo */
export const RPC_SOCKET = 'rpc.sock'

/** Where the RPC listens: TCP HOST:PORT, or a Unix socket (socket set, host and port unused). */
export interface RpcAddress { host: string, port: number, socket?: string }

/**
 * Parses `[HOST:]PORT` (host 127.0.0.1 unless named; [::1] for IPv6), or
 * `unix` (a socket in the repo) or `unix:PATH`.
 */
export function parseRpcAddress (text: string): RpcAddress {
  if (text === 'unix' || text.startsWith('unix:')) {
    const p = text.slice('unix:'.length)
    if (text !== 'unix' && p === '') throw new UsageError('--rpc unix:PATH needs a path')
    return { host: '', port: 0, socket: text === 'unix' ? '' : path.resolve(p) }
  }
  const m = /^(?:(.+):)?(\d{1,5})$/.exec(text)
  const port = Number(m?.[2])
  if (m == null || port > 65535) throw new UsageError(`--rpc needs PORT, HOST:PORT, unix or unix:PATH (got "${text}")`)
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1'), port }
}

/** RPC credentials: the repo's token, or none (loopback or a Unix socket only). */
export type RpcAuth = 'token' | 'none'

export function parseRpcAuth (text: string): RpcAuth {
  if (text !== 'token' && text !== 'none') throw new UsageError(`--rpc-auth takes token or none (got "${text}")`)
  return text
}

/** 127.0.0.0/8, ::1 (and IPv4-mapped loopback) or localhost: what only this machine reaches. */
export function isLoopbackHost (host: string): boolean {
  const h = host.toLowerCase().replace(/^::ffff:/, '')
  if (h === 'localhost' || h === '::1') return true
  return isIP(h) === 4 && h.startsWith('127.')
}

// Who may call the Kubo RPC. As Kubo's API.Authorizations: a bearer token
// (`Authorization: Bearer <token>`) or basic auth (user `cairn`, the token as
// password). The token is made on the first start and kept in the repo
// (rpc-token, mode 0600), so a Cluster peer configured once keeps working.
// As Kubo, a request from a web page (an Origin or Referer header) is refused,
// and so is a Host that is not an IP address or localhost (DNS rebinding).

import { randomBytes, timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import type http from 'node:http'
import path from 'node:path'
import { RepoError } from '../util/errors.ts'
import type { Repo } from '../../storage/repo.ts'

export const TOKEN_FILE = 'rpc-token'
/** the user name basic auth takes */
export const BASIC_USER = 'cairn'

/** The repo's RPC token, made (32 random bytes, base64url) on first use. */
export async function loadOrCreateToken (repo: Repo): Promise<string> {
  const existing = await repo.readSecret(TOKEN_FILE)
  if (existing != null) {
    const text = Buffer.from(existing).toString('utf8').trim()
    if (/^[A-Za-z0-9_-]{32,}$/.test(text)) return text
    throw new RepoError(`${path.join(repo.root, TOKEN_FILE)} holds no valid token (32 or more of A-Z a-z 0-9 _ -): remove it and a new one is made`)
  }
  const token = randomBytes(32).toString('base64url')
  try {
    await repo.writeSecret(TOKEN_FILE, Buffer.from(token + '\n'))
  } catch (err) {
    // another process wrote one first: use that
    const again = await repo.readSecret(TOKEN_FILE)
    if (again == null) throw err
    return Buffer.from(again).toString('utf8').trim()
  }
  return token
}

function same (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** True when the Authorization header carries the token, as bearer or as basic auth's password. */
export function authorized (header: string | undefined, token: string): boolean {
  if (header == null) return false
  const m = /^(Bearer|Basic)\s+(\S+)$/i.exec(header.trim())
  if (m == null) return false
  if (m[1].toLowerCase() === 'bearer') return same(m[2], token)
  const decoded = Buffer.from(m[2], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon !== -1 && same(decoded.slice(0, colon), BASIC_USER) && same(decoded.slice(colon + 1), token)
}

/**
 * Why a request is refused before its credentials are even looked at (403),
 * or null. `port` null: a Unix socket, which no web page reaches, so any Host
 * (IPFS Cluster sends "ipfs") is taken.
 */
export function refusedOrigin (req: http.IncomingMessage, port: number | null): string | null {
  if (req.headers.origin != null) return 'requests from web pages (with an Origin header) are refused'
  if (req.headers.referer != null) return 'requests from web pages (with a Referer header) are refused'
  if (port == null) return null
  const host = req.headers.host ?? ''
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host)
  const name = m?.[1].replace(/^\[(.*)\]$/, '$1') ?? ''
  const hostOk = m != null && (m[2] == null || Number(m[2]) === port) && (isIP(name) !== 0 || name.toLowerCase() === 'localhost')
  return hostOk ? null : `Host ${JSON.stringify(host)} refused: call the RPC by IP address or localhost`
}

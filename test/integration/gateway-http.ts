// HTTP requests to a seed's gateway for the gateway tests: raw http.request
// (no agent, no retries, exactly the headers given), every wait bounded.
// 127.0.0.1 only.

import http from 'node:http'
import { cairn } from '../helpers.ts'
import { freePort, type Resources, type SeedProcess } from './seeds.ts'

export interface Reply {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

/** a test request that has no answer by then fails */
export const REQUEST_TIMEOUT_MS = 30_000

export async function get (port: number, path: string, headers: Record<string, string> = {}, method = 'GET', timeoutMs = REQUEST_TIMEOUT_MS): Promise<Reply> {
  return await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false, signal: AbortSignal.timeout(timeoutMs) }, res => {
      const parts: Buffer[] = []
      res.on('data', (b: Buffer) => parts.push(b))
      res.on('end', () => {
        // a response cut off mid-body ends too: tell it apart from a whole one
        if (!res.complete) reject(new Error(`response to ${path} was cut off after ${Buffer.concat(parts).byteLength} bytes`))
        else resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) })
      })
      res.on('error', reject)
      res.on('aborted', () => reject(new Error(`response to ${path} aborted`)))
    })
    req.on('error', reject)
    req.end()
  })
}

/**
 * Starts `cairn seed` on `repo` with its gateway on a free 127.0.0.1 port,
 * after setting the given gateway.* config keys; the seed and the port.
 */
export async function gatewaySeed (res: Resources, repo: string, config: Record<string, string> = {}, extra: { bootstrap?: string[], args?: string[] } = {}): Promise<{ seed: SeedProcess, port: number }> {
  for (const [k, v] of Object.entries(config)) {
    const r = await cairn(['config', 'set', k, v, '--repo', repo])
    if (r.code !== 0) throw new Error(`config set ${k}: ${r.stderr}`)
  }
  const port = await freePort()
  const seed = await res.seed(repo, { bootstrap: extra.bootstrap, args: ['--gateway', `127.0.0.1:${port}`, ...(extra.args ?? [])] })
  return { seed, port }
}

// An independent client against the gateway, run by gateway-clients.test.ts
// inside a network namespace with only loopback (no route out: a stock
// Helia's defaults could not reach the internet even if one slipped in).
// Helia over HTTP only (createHeliaLight + @helia/http, no libp2p node),
// with the cairn seed's gateway as its one trustless gateway and its one
// delegated router; @helia/verified-fetch fetches and verifies a multi-block
// file and a file inside a directory. Prints one JSON line with what it saw.

import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createHeliaLight } from 'helia'
import { withHTTP } from '@helia/http'
import { createVerifiedFetch } from '@helia/verified-fetch'
import { cairn, printResultOf, pseudoRandom, tempDir } from '../helpers.ts'
import { freePort, startSeed, stopLive } from './seeds.ts'

/** the whole client run, at most */
const RUN_TIMEOUT_MS = 120_000
const MIB = 1024 * 1024

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

async function main (): Promise<Record<string, unknown>> {
  const { dir, cleanup } = await tempDir('cairn-vf-')
  try {
    const repo = path.join(dir, 'repo')
    const big = pseudoRandom(5 * MIB + 333, 21)
    await fs.writeFile(path.join(dir, 'big.bin'), big)
    await fs.mkdir(path.join(dir, 'tree', 'docs'), { recursive: true })
    const inner = Buffer.from('a file inside a directory\n')
    await fs.writeFile(path.join(dir, 'tree', 'docs', 'inner.txt'), inner)
    const a = await cairn(['add', '-Q', path.join(dir, 'big.bin'), '--repo', repo])
    const b = await cairn(['add', '-r', '-Q', path.join(dir, 'tree'), '--repo', repo])
    if (a.code !== 0 || b.code !== 0) throw new Error(`add: ${a.stderr}${b.stderr}`)
    const fileCid = a.stdout.trim()
    const treeCid = b.stdout.trim()
    const port = await freePort()
    const metrics = await freePort()
    const seed = await startSeed(repo, { args: ['--gateway', `127.0.0.1:${port}`, '--metrics', `127.0.0.1:${metrics}`] })
    const gateway = `http://127.0.0.1:${port}`
    const helia = await withHTTP(createHeliaLight(), {
      delegatedRouters: [gateway],
      recursiveGateways: [gateway],
      allowInsecure: true,
      allowLocal: true
    }).start()
    const verifiedFetch = await createVerifiedFetch(helia)
    try {
      const signal = AbortSignal.timeout(RUN_TIMEOUT_MS / 2)
      const r1 = await verifiedFetch(`ipfs://${fileCid}`, { signal })
      const got1 = new Uint8Array(await r1.arrayBuffer())
      const r2 = await verifiedFetch(`ipfs://${treeCid}/docs/inner.txt`, { signal })
      const got2 = new Uint8Array(await r2.arrayBuffer())
      const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text()
      const served = Number(/cairn_gateway_requests_total\{code="200"\} (\d+)/.exec(text)?.[1] ?? 0)
      const bytes = Number(/cairn_gateway_sent_bytes_total (\d+)/.exec(text)?.[1] ?? 0)
      return {
        file: { status: r1.status, ok: sha(got1) === sha(big), bytes: got1.byteLength },
        inner: { status: r2.status, ok: sha(got2) === sha(inner), type: r2.headers.get('content-type') },
        gateway: { served, bytes },
        seed: seed.pid
      }
    } finally {
      await verifiedFetch.stop()
      await helia.stop()
      await seed.stop()
    }
  } finally {
    await stopLive()
    await cleanup()
  }
}

printResultOf(main, RUN_TIMEOUT_MS)

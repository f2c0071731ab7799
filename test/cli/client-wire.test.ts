// cli/client.ts against a seed that answers over the repo's API socket: the
// answer's text is decoded across chunk boundaries, and an answer that is
// not cairn's protocol ends the call with one line naming the method. The
// "seed" is a plain HTTP server on a socket in a temp repo.

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import { DaemonUnreachableError, openInvoker } from '../../cli/client.ts'
import { makeContext } from '../../cli/command.ts'
import { API_FILE } from '../../core/api/protocol.ts'
import { tempDir } from '../helpers.ts'

/** Serves `answer` to every call (chunks written apart), with the repo's api file pointing at it. */
async function withFakeSeed (answer: Buffer[], fn: (repo: string) => Promise<void>): Promise<void> {
  const t = await tempDir('cairn-wire-')
  const socket = path.join(t.dir, 'api.sock')
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      void (async () => {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' })
        for (const part of answer) {
          res.write(part)
          await sleep(50)
        }
        res.end()
      })()
    })
  })
  await new Promise<void>(resolve => server.listen(socket, resolve))
  try {
    await fs.writeFile(path.join(t.dir, API_FILE), JSON.stringify({ socket, http: null, token: 'dG9rZW4', pid: process.pid }))
    await fn(t.dir)
  } finally {
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
    await t.cleanup()
  }
}

test('a UTF-8 character split between two chunks of the answer arrives whole', async () => {
  const line = Buffer.from(JSON.stringify({ item: { cid: 'bafy', type: 'recursive', name: 'café' } }) + '\n' + JSON.stringify({ result: null }) + '\n')
  const split = line.indexOf(Buffer.from('é')) + 1 // between the two bytes of é
  await withFakeSeed([line.subarray(0, split), line.subarray(split)], async repo => {
    const inv = await openInvoker(makeContext([], { repo }, AbortSignal.timeout(10_000)), { write: false })
    try {
      assert.equal(inv.remote, true)
      const items: unknown[] = []
      await inv.call('pin.ls', {}, { onItem: i => items.push(i) })
      assert.deepEqual(items, [{ cid: 'bafy', type: 'recursive', name: 'café' }])
    } finally {
      await inv.close()
    }
  })
})

test('an answer that is not the protocol is one error line naming the method', async () => {
  await withFakeSeed([Buffer.from('<html>hello</html>\n')], async repo => {
    const inv = await openInvoker(makeContext([], { repo }, AbortSignal.timeout(10_000)), { write: false })
    try {
      await assert.rejects(inv.call('pin.ls', {}), (e: Error) =>
        e instanceof DaemonUnreachableError && e.message === 'the seed\'s answer to pin.ls is not cairn\'s API protocol: "<html>hello</html>"')
    } finally {
      await inv.close()
    }
  })
})

// Driving the stock Helia 7 node of helia-peer.ts from a test: start it in a
// process of its own, send it commands, stop it. Loopback only; every wait
// is bounded.

import { spawn } from 'node:child_process'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { ROOT } from '../helpers.ts'

/** an answer from the Helia process that takes longer than this kills it (the test then fails) */
const ANSWER_TIMEOUT_MS = 60_000

export interface HeliaPeer {
  /** its listening multiaddr, /p2p/<id> included */
  addr: string
  id: string
  ask: (o: object) => Promise<Record<string, string>>
  stop: () => void
}

export async function startHelia (): Promise<HeliaPeer> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'test', 'integration', 'helia-peer.js')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const next = async (): Promise<Record<string, string>> => {
    const t = setTimeout(() => child.kill('SIGKILL'), ANSWER_TIMEOUT_MS)
    try {
      const { value, done } = await lines.next()
      if (done === true) throw new Error('the Helia peer exited')
      return JSON.parse(value as string) as Record<string, string>
    } finally {
      clearTimeout(t)
    }
  }
  const first = await next()
  return {
    addr: first.listening,
    id: first.listening.split('/p2p/')[1],
    ask: async (o: object) => { child.stdin.write(JSON.stringify(o) + '\n'); return await next() },
    stop: () => { child.kill('SIGTERM') }
  }
}

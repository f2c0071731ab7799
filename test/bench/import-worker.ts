// One import in a process of its own, so its peak RSS is its own:
//   node import-worker.js <helia|cairn> <chunkBytes> <file> <dir>
// prints {"seconds":…, "maxRssMiB":…, "cid":…}

import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'

const [mode, chunkArg, file, dir] = process.argv.slice(2)
const chunk = Number(chunkArg)

async function heliaImport (): Promise<string> {
  const { createHeliaLight } = await import('helia')
  const { unixfs } = await import('@helia/unixfs')
  const { FsBlockstore } = await import('blockstore-fs')
  const { MemoryDatastore } = await import('datastore-core')
  const { fixedSize } = await import('ipfs-unixfs-importer/chunker')
  const blockstore = new FsBlockstore(path.join(dir, 'blocks'))
  await blockstore.open()
  // a node with no libp2p: nothing is dialled; blocks go to blockstore-fs
  const helia = createHeliaLight({ blockstore, datastore: new MemoryDatastore() })
  await helia.start()
  const t0 = performance.now()
  const cid = await unixfs(helia).addByteStream(fs.createReadStream(file, { highWaterMark: 256 * 1024 }), { chunker: fixedSize({ chunkSize: chunk }) })
  const seconds = (performance.now() - t0) / 1000
  await helia.stop()
  report(seconds, cid.toString())
  return cid.toString()
}

async function cairnImport (): Promise<void> {
  const { Repo } = await import('../../storage/repo.ts')
  const { add } = await import('../../core/unixfs/add.ts')
  const { resolveProfile } = await import('../../core/unixfs/profiles.ts')
  const repo = await Repo.open(path.join(dir, 'repo'), { write: true })
  const profile = resolveProfile({ chunker: `size-${chunk}` })
  const t0 = performance.now()
  const r = await add(repo, { kind: 'paths', paths: [file] }, { profile })
  const seconds = (performance.now() - t0) / 1000
  await repo.close()
  report(seconds, r.root.toString())
}

/**
 * Peak RSS of this process: VmHWM, which starts afresh at exec. (getrusage's
 * maxRSS does not: it carries the parent's peak across fork + exec.)
 */
function peakRssMiB (): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))
  return m != null ? Number(m[1]) / 1024 : process.resourceUsage().maxRSS / 1024
}

function report (seconds: number, cid: string): void {
  process.stdout.write(JSON.stringify({ seconds, maxRssMiB: peakRssMiB(), cid }) + '\n')
}

if (mode === 'helia') await heliaImport()
else if (mode === 'cairn') await cairnImport()
else throw new Error(`unknown mode ${mode}`)

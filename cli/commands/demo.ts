// demo: what `npm start` runs. Until the network lands it is a real local
// walkthrough: a fresh repo in a temp dir, add a fixture, print its CID, read
// it back, compare the bytes, and clean up.

import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { add } from '../../core/add.ts'
import { cat } from '../../core/cat.ts'
import { get } from '../../core/get.ts'
import { PROFILES } from '../../core/profiles.ts'
import { CairnError } from '../../core/errors.ts'
import { Repo } from '../../storage/repo.ts'
import { emit, type Command, type Context } from '../command.ts'

/** The embedded default input: fixtures/demo beside the package. */
const DEMO_DIR = fileURLToPath(new URL('../../../fixtures/demo', import.meta.url))

export const command: Command = {
  name: 'demo',
  summary: 'a local walkthrough, end to end (npm start)',
  help: `
Usage
  $ cairn demo [PATH]

Creates a repo in a temp dir, adds PATH (default: the bundled
fixtures/demo directory), prints its CID, reads every file back through
'cat' and 'get', compares the bytes, and removes the temp dir.`,
  flags: {},
  async run (ctx: Context) {
    const input = path.resolve(ctx.input[0] ?? DEMO_DIR)
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-demo-'))
    const step = (text: string, json: Record<string, unknown>): void => emit(ctx, text, { step: json.step, ...json })
    try {
      const repo = await Repo.open(path.join(tmp, 'repo'), { write: true })
      try {
        step(`1. repo        ${repo.root}`, { step: 'repo', path: repo.root })
        const st = await fs.stat(input)
        const added = await add(repo, { kind: 'paths', paths: [input] }, { recursive: st.isDirectory(), profile: PROFILES['unixfs-v1-2025'], signal: ctx.signal })
        for (const e of added.entries) step(`2. added       ${e.cid.toString()} ${e.path}`, { step: 'added', cid: e.cid.toString(), path: e.path })
        const files = added.entries.filter(e => e.path.includes('/') || !st.isDirectory())
        for (const e of files) {
          const src = st.isDirectory() ? path.join(path.dirname(input), e.path) : input
          if (!(await fs.lstat(src)).isFile()) continue
          const chunks: Uint8Array[] = []
          for await (const c of cat(repo.blocks, { cid: e.cid, segments: [] }, { signal: ctx.signal })) chunks.push(c)
          const same = Buffer.concat(chunks).equals(await fs.readFile(src))
          if (!same) throw new CairnError(`cat ${e.cid.toString()} gave different bytes from ${src}`)
          step(`3. cat         ${e.cid.toString()} = ${e.path} (${Buffer.concat(chunks).byteLength} bytes, identical)`, { step: 'cat', cid: e.cid.toString(), identical: true })
        }
        const out = path.join(tmp, 'out')
        const got = await get(repo.blocks, { cid: added.root, segments: [] }, { output: out, signal: ctx.signal })
        step(`4. get         ${got.cid.toString()} -> ${got.files} file(s), ${got.bytes} bytes written atomically`, { step: 'get', cid: got.cid.toString(), files: got.files, bytes: got.bytes })
        step(`5. fetch it    cairn cat ${added.root.toString()}${st.isDirectory() ? '/<name>' : ''}   (in this repo; networked fetch comes with 'cairn seed')`, { step: 'done', root: added.root.toString() })
      } finally {
        await repo.close()
      }
    } finally {
      await fs.rm(tmp, { recursive: true, force: true })
    }
  }
}

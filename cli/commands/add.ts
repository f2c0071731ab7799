import { add, type AddInput } from '../../core/unixfs/add.ts'
import { resolveProfile } from '../../core/unixfs/profiles.ts'
import { readConfig } from '../../storage/config.ts'
import { UsageError } from '../../core/util/errors.ts'
import { booleanFlag, emit, numberFlag, report, stringFlag, type Command, type Context } from '../command.ts'
import { escapeTerminal } from '../../core/util/escape.ts'
import { withInvoker } from '../client.ts'
import path from 'node:path'
import { transferEvent, withProgress } from '../progress.ts'

interface AddReply { root: string, entries: Array<{ cid: string, path: string, size: number }>, anchor?: Array<{ root: string, status: string, reason?: string }> }

export const command: Command = {
  name: 'add',
  summary: 'import files or directories and print their CIDs',
  help: `
Usage
  $ cairn add PATH... [options]
  $ cairn add - [options]          read one file from stdin

Prints one 'added <cid> <path>' line per file and directory, the root last.

Options
  -r, --recursive        add directories and everything below them
  -w, --wrap-with-directory
                         wrap the inputs in one directory
  -Q, --quieter          print only the root CID
  -n, --only-hash        compute the CIDs without storing anything
      --hidden           include files and directories whose names start with a dot
      --profile P        unixfs-v1-2025 (default), kubo-v0 or kubo-v1
      --cid-version 0|1  as Kubo: 0 = kubo-v0, 1 = kubo-v1 (unless --profile is given)
      --raw-leaves       store file chunks as raw blocks (CIDv1 only)
      --no-raw-leaves    wrap file chunks in UnixFS nodes
      --chunker C        size-N (N ≤ 1048576) or rabin-MIN-AVG-MAX
      --no-pin           do not pin what was added
      --no-anchor        do not sign a manifest and queue it for anchoring
                         (anchoring publishes each root's CID, name and size)

Examples
  $ cairn add photo.jpg
  $ cairn add -r site/ -Q
  $ echo hello | cairn add -
  $ cairn add --cid-version 0 -n notes.txt     the CID Kubo's 'ipfs add' gives`,
  flags: {
    recursive: { type: 'boolean', shortFlag: 'r' },
    wrapWithDirectory: { type: 'boolean', shortFlag: 'w' },
    quieter: { type: 'boolean', shortFlag: 'Q' },
    quiet: { type: 'boolean', shortFlag: 'q' },
    onlyHash: { type: 'boolean', shortFlag: 'n' },
    hidden: { type: 'boolean' },
    profile: { type: 'string' },
    cidVersion: { type: 'number' },
    rawLeaves: { type: 'boolean' },
    chunker: { type: 'string' },
    pin: { type: 'boolean' },
    anchor: { type: 'boolean' }
  },
  async run (ctx: Context) {
    const f = ctx.flags
    if (ctx.input.length === 0) throw new UsageError('add needs a path, or - for stdin (see cairn add --help)')
    if (ctx.input.includes('-') && ctx.input.length > 1) throw new UsageError('add reads either stdin (-) or paths, not both')
    const onlyHash = f.onlyHash === true
    // the profile default comes from config when there is a repo to read
    const configured = onlyHash ? undefined : (await readConfig(path.join(ctx.repoPath, 'config.json'))).import.profile
    const profile = resolveProfile({
      profile: stringFlag(ctx, 'profile'),
      cidVersion: numberFlag(ctx, 'cidVersion'),
      rawLeaves: booleanFlag(ctx, 'rawLeaves'),
      chunker: stringFlag(ctx, 'chunker')
    }, configured)
    const stdin = ctx.input[0] === '-'
    const paths = stdin ? undefined : ctx.input.map(p => path.resolve(p))
    const params = {
      paths,
      recursive: f.recursive === true,
      wrap: f.wrapWithDirectory === true,
      hidden: f.hidden === true,
      pin: f.pin !== false,
      onlyHash,
      anchor: f.anchor !== false,
      profile
    }
    const result: AddReply = await withProgress(ctx, 'add', async (progress): Promise<AddReply> => {
      const onProgress = (e: unknown): void => {
        const p = transferEvent(e)
        if (p != null) progress.update(p.type === 'add:bytes' ? p.bytes ?? 0 : 0, stdin ? null : p.totalBytes ?? null)
      }
      if (onlyHash) {
        // nothing is stored: no repo, no seed
        const input: AddInput = paths == null ? { kind: 'stream', stream: ctx.stdin } : { kind: 'paths', paths }
        const r = await add(null, input, { ...params, signal: ctx.signal, onProgress })
        return { root: r.root.toString(), entries: r.entries.map(e => ({ cid: e.cid.toString(), path: e.path, size: e.size })) }
      }
      return await withInvoker(ctx, { write: true }, async inv => await inv.call('add', params, { onProgress, body: stdin ? ctx.stdin : undefined }))
    })
    for (const a of result.anchor ?? []) {
      if (a.status === 'not-queued') {
        report(ctx, `warning: ${a.root} was added, but its manifest was not queued for anchoring: ${escapeTerminal(a.reason ?? '')} (run cairn anchor ${a.root} later)`,
          { warning: 'not-queued', root: a.root, reason: a.reason })
      }
    }
    if (f.quieter === true) {
      emit(ctx, result.root, { cid: result.root })
      return
    }
    for (const e of result.entries) {
      // file names (an unpacked archive's) may hold control characters
      emit(ctx, f.quiet === true ? e.cid : `added ${e.cid}${e.path === '' ? '' : ' ' + escapeTerminal(e.path)}`, e)
    }
  }
}

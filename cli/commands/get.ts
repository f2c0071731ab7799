import path from 'node:path'
import { checkEntryName } from '../../core/unixfs/get.ts'
import { checkContentArg } from '../../core/unixfs/content-path.ts'
import { UsageError } from '../../core/util/errors.ts'
import { transferEvent, withProgress } from '../progress.ts'
import { report, stringFlag, type Command, type Context } from '../command.ts'
import { escapeTerminal } from '../../core/util/escape.ts'
import { withInvoker } from '../client.ts'
import { FETCH_FLAGS, FETCH_HELP, FetchReport, fetchInvokeOptions, fetchParams } from '../fetch-flags.ts'

export const command: Command = {
  name: 'get',
  summary: 'write a file or directory to disk',
  help: `
Usage
  $ cairn get CID[/path] [options]

Writes to a temporary name beside the output and renames it into place
once every block is read and verified: the output path holds the whole
result or nothing. Entries named '..', '.', '' or containing '/' are
refused; nothing is written through a symlink.

Options
  -o, --output PATH   where to write (default: the last path segment, else the CID)
  -f, --force         replace an existing file or directory at the output path

Examples
  $ cairn get bafy... -o photo.jpg
  $ cairn get bafy.../docs --force
  $ cairn get bafy... --peer /ip4/127.0.0.1/tcp/4737/p2p/12D3Koo...
${FETCH_HELP}`,
  flags: {
    output: { type: 'string', shortFlag: 'o' },
    force: { type: 'boolean', shortFlag: 'f' },
    ...FETCH_FLAGS
  },
  async run (ctx: Context) {
    if (ctx.input.length !== 1) throw new UsageError('get needs exactly one CID[/path] (see cairn get --help)')
    const target = checkContentArg(ctx.input[0])
    // relative to where the user stands, also when a seed does the writing
    const name = target.last
    if (ctx.flags.output == null) checkEntryName(name ?? target.whole, ctx.input[0]) // 'CID/..' or '/ipns/..' must not mean '..'
    const output = path.resolve((stringFlag(ctx, 'output')) ?? name ?? target.whole)
    const fetched = new FetchReport()
    const result = await withProgress(ctx, 'get', async progress => await withInvoker(ctx, fetchInvokeOptions(ctx), async inv => await inv.call('get', {
      path: ctx.input[0],
      output,
      force: ctx.flags.force === true,
      ...fetchParams(ctx)
    }, {
      onProgress: e => {
        if (fetched.see(e)) return
        const p = transferEvent(e)
        if (p?.type === 'get:bytes' && p.bytes != null) progress.update(p.bytes, p.totalBytes ?? null)
      }
    })))
    fetched.print(ctx)
    // the output's name may come from the DAG (get CID/name)
    report(ctx, `saved ${result.cid} to ${escapeTerminal(result.output)} (${result.bytes} bytes)`, result)
  }
}

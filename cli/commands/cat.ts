import { checkContentArg } from '../../core/unixfs/content-path.ts'
import { UsageError } from '../../core/util/errors.ts'
import { numberFlag, writeOut, type Command, type Context } from '../command.ts'
import { withInvoker } from '../client.ts'
import { FETCH_FLAGS, FETCH_HELP, fetchInvokeOptions, fetchParams } from '../fetch-flags.ts'

export const command: Command = {
  name: 'cat',
  summary: "write a file's bytes to stdout",
  help: `
Usage
  $ cairn cat CID[/path] [options]

Every block is checked against its CID as it is read.

Options
  --offset N    start at byte N
  --length N    write at most N bytes

Examples
  $ cairn cat bafy.../notes.txt
  $ cairn cat bafy... --offset 1024 --length 64 | xxd
  $ cairn cat bafy... --peer /ip4/127.0.0.1/tcp/4737/p2p/12D3Koo... > file
${FETCH_HELP}`,
  flags: {
    offset: { type: 'number' },
    length: { type: 'number' },
    ...FETCH_FLAGS
  },
  async run (ctx: Context) {
    if (ctx.input.length !== 1) throw new UsageError('cat needs exactly one CID[/path] (see cairn cat --help)')
    checkContentArg(ctx.input[0]) // a bad CID fails here, before any repo or seed is touched
    await withInvoker(ctx, fetchInvokeOptions(ctx), async inv => {
      const params = { path: ctx.input[0], offset: numberFlag(ctx, 'offset'), length: numberFlag(ctx, 'length'), ...fetchParams(ctx) }
      for await (const chunk of inv.bytes('cat', params)) {
        await writeOut(ctx, chunk)
      }
    })
  }
}

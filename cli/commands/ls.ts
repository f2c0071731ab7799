import { checkContentArg } from '../../core/unixfs/content-path.ts'
import { UsageError } from '../../core/util/errors.ts'
import { emit, type Command, type Context } from '../command.ts'
import { escapeTerminal } from '../../core/util/escape.ts'
import * as v from 'valibot'
import { withInvoker } from '../client.ts'
import { expectItem } from '../items.ts'
import { FETCH_FLAGS, FETCH_HELP, fetchInvokeOptions, fetchParams } from '../fetch-flags.ts'

/** a directory entry (loose, in the handler's key order: --json prints it whole) */
const LS_ENTRY = v.looseObject({ cid: v.string(), size: v.nullable(v.number()), name: v.string(), type: v.string() })

export const command: Command = {
  name: 'ls',
  summary: 'list the entries of a directory',
  help: `
Usage
  $ cairn ls CID[/path]

Prints '<cid> <size> <name>' per entry; directories show '-' as size
and their name ends in '/'.

Examples
  $ cairn ls bafy...
  $ cairn ls bafy.../docs --json
${FETCH_HELP}`,
  flags: { ...FETCH_FLAGS },
  async run (ctx: Context) {
    if (ctx.input.length !== 1) throw new UsageError('ls needs exactly one CID[/path] (see cairn ls --help)')
    checkContentArg(ctx.input[0])
    await withInvoker(ctx, fetchInvokeOptions(ctx), async inv => {
      await inv.call('ls', { path: ctx.input[0], ...fetchParams(ctx) }, {
        onItem: (i) => {
          const e = expectItem(LS_ENTRY, i, 'ls')
          // a name in a DAG is anyone's: ESC or a newline in it must not reach the terminal
          emit(ctx, `${e.cid} ${e.size ?? '-'} ${escapeTerminal(e.name)}${e.type === 'directory' ? '/' : ''}`, e)
        }
      })
    })
  }
}

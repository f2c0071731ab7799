import { parseContentPath } from '../../core/unixfs/resolve.ts'
import { UsageError } from '../../core/util/errors.ts'
import { emit, report, type Command, type Context } from '../command.ts'
import * as v from 'valibot'
import { withInvoker } from '../client.ts'
import { expectItem } from '../items.ts'
import { FETCH_FLAGS, FETCH_HELP, FetchReport, fetchInvokeOptions, fetchParams } from '../fetch-flags.ts'

/** a pin (loose, in the handler's key order: --json prints it whole) */
const PIN_ROW = v.looseObject({ cid: v.string(), type: v.string() })

export const command: Command = {
  name: 'pin',
  summary: 'keep DAGs in the repo: pin add|rm|ls',
  help: `
Usage
  $ cairn pin add CID     pin a DAG, fetching whatever the repo lacks
  $ cairn pin rm CID      unpin it; 'cairn repo gc' then frees its blocks
  $ cairn pin ls          '<cid> <type>' per pin

Examples
  $ cairn pin add bafy...
  $ cairn pin ls --json
${FETCH_HELP}`,
  flags: { ...FETCH_FLAGS },
  subcommands: ['add', 'rm', 'ls'],
  async run (ctx: Context) {
    const [verb, arg, ...extra] = ctx.input
    if (verb === 'ls' && arg == null) {
      await withInvoker(ctx, { write: false }, async inv => {
        await inv.call('pin.ls', {}, { onItem: i => { const p = expectItem(PIN_ROW, i, 'pin.ls'); emit(ctx, `${p.cid} ${p.type}`, p) } })
      })
      return
    }
    if ((verb === 'add' || verb === 'rm') && arg != null && extra.length === 0) {
      const { segments } = parseContentPath(arg)
      if (segments.length > 0) throw new UsageError(`pin ${verb} takes a CID, not a path (got ${arg})`)
      const fetched = new FetchReport()
      await withInvoker(ctx, fetchInvokeOptions(ctx, true), async inv => {
        const r = await inv.call(`pin.${verb}`, { cid: arg, ...(verb === 'add' ? fetchParams(ctx) : {}) }, { onProgress: e => { fetched.see(e) } })
        fetched.print(ctx)
        if (verb === 'add') emit(ctx, `pinned ${r.cid} recursively`, { ...r, pinned: true })
        else report(ctx, `unpinned ${r.cid}`, { ...r, pinned: false })
      })
      return
    }
    throw new UsageError('usage: cairn pin add CID | pin rm CID | pin ls')
  }
}

import { CairnError, UsageError } from '../../core/util/errors.ts'
import { emit, report, type Command, type Context } from '../command.ts'
import * as v from 'valibot'
import { withInvoker } from '../client.ts'
import { expectItem } from '../items.ts'
import { formatBytes } from '../format.ts'

/** a corrupt block repo.verify found (loose, in the handler's key order: --json prints it whole) */
const BAD_BLOCK = v.looseObject({ bad: v.string(), file: v.string(), problem: v.string() })

export class RepoVerifyFailedError extends CairnError {}

export const command: Command = {
  name: 'repo',
  summary: 'repo stat|gc|verify',
  help: `
Usage
  $ cairn repo stat      blocks, bytes and pins in the repo
  $ cairn repo gc        delete every block no pin reaches
  $ cairn repo verify    re-hash every block; name each that does not match its CID

'repo verify' exits 1 when any block is bad.

Examples
  $ cairn repo verify --json`,
  flags: {},
  subcommands: ['stat', 'gc', 'verify'],
  async run (ctx: Context) {
    const [verb, ...extra] = ctx.input
    if (extra.length > 0) throw new UsageError('usage: cairn repo stat | repo gc | repo verify')
    switch (verb) {
      case 'stat':
        await withInvoker(ctx, { write: false }, async inv => {
          const s = await inv.call('repo.stat', {})
          emit(ctx, `repo    ${s.path}\nblocks  ${s.blocks}\nsize    ${formatBytes(s.size)} (${s.size} bytes)\npins    ${s.pins}`, s)
        })
        return
      case 'gc':
        await withInvoker(ctx, { write: true }, async inv => {
          const r = await inv.call('repo.gc', {}, { onItem: i => { if (ctx.json) emit(ctx, '', i) } })
          report(ctx, `removed ${r.removed} block(s), freed ${formatBytes(r.freed)}; kept ${r.kept}`, r)
          if (r.missing > 0) report(ctx, `note: ${r.missing} block(s) of pinned DAGs are not in the repo`, { missing: r.missing })
        })
        return
      case 'verify':
        await withInvoker(ctx, { write: false }, async inv => {
          const r = await inv.call('repo.verify', {}, {
            onItem: i => { const b = expectItem(BAD_BLOCK, i, 'repo.verify'); emit(ctx, `bad ${b.bad} ${b.file}: ${b.problem}`, b) }
          })
          if (r.bad > 0) throw new RepoVerifyFailedError(`${r.bad} of ${r.checked} block(s) are corrupt (listed above)`)
          report(ctx, `verified ${r.checked} block(s): all match their CIDs`, r)
        })
        return
      default:
        throw new UsageError('usage: cairn repo stat | repo gc | repo verify')
    }
  }
}

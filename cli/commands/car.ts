import path from 'node:path'
import { parseContentPath } from '../../core/unixfs/resolve.ts'
import { UsageError } from '../../core/util/errors.ts'
import { transferEvent, withProgress } from '../progress.ts'
import { emit, refuseTerminal, report, stringFlag, writeOut, type Command, type Context } from '../command.ts'
import { withInvoker } from '../client.ts'

export const command: Command = {
  name: 'car',
  summary: 'move DAGs offline as CAR v1 files: car export|import',
  help: `
Usage
  $ cairn car export CID [-o FILE]   the DAG under CID as a CAR v1, to FILE or stdout
  $ cairn car import FILE...|-       store every block (each checked against its CID)
                                     and pin the roots; prints 'imported <root-cid>';
                                     - reads the CAR from stdin

A CAR is binary: export refuses to write it to a terminal (use -o FILE or
redirect stdout), and -o refuses to replace an existing file without --force.

Options
  -o, --output FILE   write the CAR here (atomically) instead of stdout
  -f, --force         replace FILE if it exists

Examples
  $ cairn car export bafy... -o site.car
  $ cairn car export bafy... | ssh host cairn car import -
  $ cairn car import site.car`,
  flags: {
    output: { type: 'string', shortFlag: 'o' },
    force: { type: 'boolean', shortFlag: 'f' }
  },
  subcommands: ['export', 'import'],
  async run (ctx: Context) {
    const [verb, ...args] = ctx.input
    if (verb === 'export' && args.length === 1) {
      const { segments } = parseContentPath(args[0])
      if (segments.length > 0) throw new UsageError(`car export takes a CID, not a path (got ${args[0]})`)
      const out = stringFlag(ctx, 'output')
      if (out == null) refuseTerminal(ctx, 'car export')
      await withInvoker(ctx, { write: false }, async inv => {
        if (out == null) {
          for await (const chunk of inv.bytes('car.export', { cid: args[0] })) await writeOut(ctx, chunk)
          return
        }
        const params = { cid: args[0], output: path.resolve(out), force: ctx.flags.force === true }
        const r = await withProgress(ctx, 'car export', async progress => await inv.call('car.exportFile', params, {
          onProgress: e => { const p = transferEvent(e); if (p?.type === 'car:bytes' && p.bytes != null) progress.update(p.bytes, p.totalBytes ?? null) }
        }))
        report(ctx, `exported ${r.cid} to ${r.output} (${r.blocks} blocks, ${r.bytes} bytes)`, r)
      })
      return
    }
    if (verb === 'import' && args.length > 0) {
      if (ctx.flags.output != null) throw new UsageError('-o goes with car export, not car import')
      if (args.includes('-') && args.length > 1) throw new UsageError('car import reads either stdin (-) or files, not both')
      await withInvoker(ctx, { write: true }, async inv => {
        for (const file of args) {
          const stdin = file === '-'
          const params = stdin ? { stdin: true } : { file: path.resolve(file) }
          const r = await withProgress(ctx, 'car import', async progress => await inv.call('car.import', params, {
            onProgress: e => { const p = transferEvent(e); if (p?.type === 'car:bytes' && p.bytes != null) progress.update(p.bytes, p.totalBytes ?? null) },
            body: stdin ? ctx.stdin : undefined
          }))
          for (const root of r.roots) {
            emit(ctx, `imported ${root.cid}`, { imported: root.cid, file, blocks: r.blocks, complete: root.complete, missing: root.missing })
            if (!root.complete && !ctx.json) report(ctx, `warning: ${root.missing} block(s) of ${root.cid} are not in ${file}; reading it will fail until they are fetched`, {})
          }
        }
      })
      return
    }
    throw new UsageError('usage: cairn car export CID [-o FILE] | car import FILE...|-')
  }
}

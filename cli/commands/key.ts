import { UsageError } from '../../core/util/errors.ts'
import { emit, report, type Command } from '../command.ts'
import { withInvoker } from '../client.ts'

export const command: Command = {
  name: 'key',
  summary: 'publishing keys for names: key gen NAME | key ls | key rm NAME',
  help: `
Usage
  $ cairn key gen NAME    make an Ed25519 key; prints its IPNS name (k51…)
  $ cairn key ls          '<name> <ipns name>' per key, 'self' (the node's key) first
  $ cairn key rm NAME     delete a key (names it published stop being republished)

Keys live in the repo (keys/, mode 0600). 'self' is the node's own key: a
name published without --key is the node's peer ID.

Examples
  $ cairn key gen blog
  $ cairn name publish bafy... --key blog`,
  subcommands: ['gen', 'ls', 'rm'],
  flags: {},
  async run (ctx) {
    const [verb, name, ...extra] = ctx.input
    if (verb === 'ls' && name == null) {
      const keys = await withInvoker(ctx, { write: false }, async inv => await inv.call('key.ls', {}))
      for (const k of keys) emit(ctx, `${k.name} ${k.id}`, k)
      return
    }
    if ((verb === 'gen' || verb === 'rm') && name != null && extra.length === 0) {
      const k = await withInvoker(ctx, { write: false }, async inv => await inv.call(`key.${verb}`, { name }))
      if (verb === 'gen') emit(ctx, `${k.name} ${k.id}`, k)
      else report(ctx, `removed key ${k.name} (${k.id})`, k)
      return
    }
    throw new UsageError('usage: cairn key gen NAME | key ls | key rm NAME')
  }
}

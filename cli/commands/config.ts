import { CONFIG_KEYS, getConfigValue, parseConfigValue, setConfigValue } from '../../storage/config.ts'
import { UsageError } from '../../core/errors.ts'
import { emit, withRepo, type Command, type Context } from '../command.ts'

export const command: Command = {
  name: 'config',
  summary: 'read or change config.json',
  help: `
Usage
  $ cairn config get [KEY]
  $ cairn config set KEY VALUE

VALUE is JSON where it parses as JSON (lists, numbers), else a string.
Keys: ${CONFIG_KEYS.join(', ')}

Examples
  $ cairn config get import.profile
  $ cairn config set import.profile kubo-v1
  $ cairn config set bootstrap '["/ip4/127.0.0.1/tcp/4737/p2p/12D3Koo..."]'`,
  flags: {},
  subcommands: ['get', 'set'],
  async run (ctx: Context) {
    const [verb, key, value, ...extra] = ctx.input
    if (verb === 'get' && value == null) {
      await withRepo(ctx, false, async repo => {
        const v = key == null ? repo.config : getConfigValue(repo.config, key)
        emit(ctx, typeof v === 'string' ? v : JSON.stringify(v, null, key == null ? 2 : 0), key == null ? v : { key, value: v })
      })
      return
    }
    if (verb === 'set' && key != null && value != null && extra.length === 0) {
      const parsed = parseConfigValue(key, value)
      await withRepo(ctx, true, async repo => {
        await repo.saveConfig(setConfigValue(repo.config, key, parsed))
      })
      return
    }
    throw new UsageError('usage: cairn config get [KEY] | cairn config set KEY VALUE')
  }
}

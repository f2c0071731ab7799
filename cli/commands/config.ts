import { CONFIG_KEYS, getConfigValue, parseConfigValue, setConfigValue } from '../../storage/config.ts'
import { ConfigError, UsageError } from '../../core/util/errors.ts'
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
      // a bad key or value is the command line's fault: exit 2, config.json untouched
      let parsed: unknown
      try {
        parsed = parseConfigValue(key, value)
        const { checkConfigSetting } = await import('../../core/net/config-check.ts')
        checkConfigSetting(key, parsed)
      } catch (err) {
        if (err instanceof ConfigError) throw new UsageError(err.message)
        throw err
      }
      await withRepo(ctx, true, async repo => {
        await repo.saveConfig(setConfigValue(repo.config, key, parsed))
      })
      return
    }
    throw new UsageError('usage: cairn config get [KEY] | cairn config set KEY VALUE')
  }
}

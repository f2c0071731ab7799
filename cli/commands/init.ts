import { Repo } from '../../storage/repo.ts'
import { report, type Command, type Context } from '../command.ts'

export const command: Command = {
  name: 'init',
  summary: 'create the repo',
  help: `
Usage
  $ cairn init

Creates the repo (blocks/, datastore/, config.json). Other commands
create it on first use too.

Examples
  $ cairn init --repo /tmp/r`,
  flags: {},
  async run (ctx: Context) {
    await Repo.init(ctx.repoPath)
    report(ctx, `initialized a cairn repo at ${ctx.repoPath}`, { repo: ctx.repoPath })
  }
}

// Where the repo is: --repo, else $CAIRN_REPO, else ~/.cairn. Apart from
// repo.ts so the CLI finds the path without loading the blockstore.

import os from 'node:os'
import path from 'node:path'

/** --repo wins, then $CAIRN_REPO, then ~/.cairn. */
export function resolveRepoPath (flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag ?? env.CAIRN_REPO
  return path.resolve(chosen != null && chosen !== '' ? chosen : path.join(os.homedir(), '.cairn'))
}

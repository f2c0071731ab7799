// cairn's version, from package.json: what `--version` prints and the agent peers see.

import fs from 'node:fs'

export const CAIRN_VERSION = (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version

// cairn's version, from package.json: what `--version` prints and the agent peers see.

import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The folder of cairn's package.json: the nearest one above this module
 * named "cairn", so it is found from dist/core/ and from the bundle's
 * dist/bundle/ alike (at most as many steps as the path has folders).
 */
export const PACKAGE_ROOT: string = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown }
      if (pkg.name === 'cairn') return dir
    } catch {}
    const up = path.dirname(dir)
    if (up === dir) throw new Error(`no package.json of cairn above ${fileURLToPath(import.meta.url)}`)
    dir = up
  }
})()

export const CAIRN_VERSION = (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version

/**
 * What identify tells peers we are: `cairn/<version>`, as Kubo says
 * `kubo/<version>/<commit>`. libp2p's default ("libp2p/3.x node/24.x")
 * hid cairn nodes among every other js-libp2p program.
 */
export const AGENT_VERSION = `cairn/${CAIRN_VERSION}`

// cairn's version, from package.json: what `--version` prints and the agent peers see.

import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The folder of cairn's package.json: the nearest one above this module
 * named "cairn", so it is found from dist/core/ and from the bundle's
 * dist/bundle/ alike (at most as many steps as the path has folders).
 */
/** A string field of a package.json; undefined when it has none (a JSON error throws). */
function packageField (file: string, field: string): string | undefined {
  const pkg: unknown = JSON.parse(fs.readFileSync(file, 'utf8'))
  const value: unknown = typeof pkg === 'object' && pkg !== null ? Reflect.get(pkg, field) : undefined
  return typeof value === 'string' ? value : undefined
}

export const PACKAGE_ROOT: string = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    try {
      if (packageField(path.join(dir, 'package.json'), 'name') === 'cairn') return dir
    } catch {}
    const up = path.dirname(dir)
    if (up === dir) throw new Error(`no package.json of cairn above ${fileURLToPath(import.meta.url)}`)
    dir = up
  }
})()

export const CAIRN_VERSION: string = (() => {
  const file = path.join(PACKAGE_ROOT, 'package.json')
  const version = packageField(file, 'version')
  if (version == null) throw new Error(`${file} names no version`)
  return version
})()

/**
 * What identify tells peers we are: `cairn/<version>`, as Kubo says
 * `kubo/<version>/<commit>`. libp2p's default ("libp2p/3.x node/24.x")
 * hid cairn nodes among every other js-libp2p program.
 */
export const AGENT_VERSION = `cairn/${CAIRN_VERSION}`

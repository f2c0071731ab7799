// network.publicRanges: address ranges libp2p must treat as public.
//
// libp2p decides "private or public" in one function, isPrivateIp() in
// @libp2p/utils (a fixed list that includes the documentation ranges), and
// AutoNAT, identify's observed addresses, the address manager, UPnP and
// DCUtR each import it directly; none takes an option. So that the NAT tests
// can run in namespaces addressed from the documentation ranges, the
// launcher installs a module load hook before libp2p is imported: it wraps
// that one exported function so an address inside a declared range answers
// "public", and everything else still gets libp2p's own answer. With no
// ranges declared nothing changes.

import module from 'node:module'
import { BlockList, isIP } from 'node:net'

/** the module whose isPrivateIp we wrap, as its URL ends */
const TARGET = '/@libp2p/utils/dist/src/private-ip.js'
const EXPORT = 'export function isPrivateIp('

let declared: BlockList | null = null
let installed = false
let wrapped = false

/** Declares `cidrs` public (replacing any earlier list); [] undoes it. */
export function setPublicRanges (cidrs: string[]): void {
  if (cidrs.length === 0) {
    declared = null
    return
  }
  const list = new BlockList()
  for (const c of cidrs) {
    const [ip, bits] = c.split('/')
    list.addSubnet(ip, Number(bits), isIP(ip) === 6 ? 'ipv6' : 'ipv4')
  }
  declared = list
}

/** True when `ip` lies in a declared public range. Called by the wrapped libp2p function. */
export function isDeclaredPublic (ip: string): boolean {
  if (declared == null) return false
  const family = isIP(ip)
  if (family === 0) return false
  return declared.check(ip, family === 6 ? 'ipv6' : 'ipv4')
}

/**
 * Installs the load hook (once). Must run before anything imports
 * @libp2p/utils; returns false where this Node has no module.registerHooks.
 */
export function installPublicRangesHook (): boolean {
  if (installed) return true
  if (typeof module.registerHooks !== 'function') return false
  const self = import.meta.url
  module.registerHooks({
    load (url, context, nextLoad) {
      const result = nextLoad(url, context)
      if (!url.endsWith(TARGET) || result.source == null) return result
      const source = String(result.source)
      // a libp2p that renamed the function: leave it alone, and say so when ranges are used
      if (!source.includes(EXPORT)) return result
      wrapped = true
      return {
        ...result,
        source: source.replace(EXPORT, 'function libp2pIsPrivateIp(') +
          `\nimport { isDeclaredPublic as cairnIsDeclaredPublic } from ${JSON.stringify(self)};\n` +
          'export function isPrivateIp (ip) { return cairnIsDeclaredPublic(ip) ? false : libp2pIsPrivateIp(ip) }\n'
      }
    }
  })
  installed = true
  return true
}

/** True once libp2p's isPrivateIp has been loaded through the hook. */
export function publicRangesActive (): boolean {
  return wrapped
}

// network.publicRanges: address ranges libp2p must treat as public.
//
// libp2p decides "private or public" in one function, isPrivateIp() in
// @libp2p/utils (a fixed list that includes the documentation ranges), and
// AutoNAT, identify's observed addresses, the address manager, UPnP and
// DCUtR each import it directly; none takes an option. So that the NAT tests
// can run in namespaces addressed from the documentation ranges, that one
// exported function is wrapped so an address inside a declared range answers
// "public", and everything else still gets libp2p's own answer: in the
// bundle the cairn command runs (cli/bundle.js) when it is built, and for a
// program that loads libp2p from node_modules by a module load hook that the
// entry point installs before libp2p is imported. With no ranges declared
// nothing changes.
//
// No supported path exists (docs/upstream-bugs.md, ready to file). The wrap
// is made only on the exact file it was written against: @libp2p/utils
// 7.4.1 (package.json pins that version), recognised by its SHA-256. Any
// other file is left alone: the bundle build fails (cli/bundle.js), and a
// node started with network.publicRanges refuses to start
// (applyPublicRanges), so a changed libp2p is never wrapped blind.

import { createHash } from 'node:crypto'
import module from 'node:module'
import { BlockList, isIP } from 'node:net'

/** the module whose isPrivateIp we wrap, as its URL ends */
export const PRIVATE_IP_MODULE = '/@libp2p/utils/dist/src/private-ip.js'
const EXPORT = 'export function isPrivateIp('
/** the version the wrap was written against (package.json pins it exactly) */
export const PATCHED_UTILS_VERSION = '7.4.1'
/** SHA-256 of that version's dist/src/private-ip.js */
export const PRIVATE_IP_SHA256 = 'cd63afac8cf6984ca92687d91faa79d5fa1a06294d59dfa0326446811f396611'

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

/** True when `source` is the very private-ip.js the wrap was written against. */
export function isPatchedSource (source: string): boolean {
  return createHash('sha256').update(source).digest('hex') === PRIVATE_IP_SHA256
}

/**
 * The source of PRIVATE_IP_MODULE with isPrivateIp wrapped, importing this
 * module from `self` (a URL, or a path the bundler resolves); null for any
 * other source than @libp2p/utils PATCHED_UTILS_VERSION's (left alone:
 * applyPublicRanges then says so when ranges are used).
 */
export function wrapPrivateIpSource (source: string, self: string): string | null {
  if (!isPatchedSource(source) || !source.includes(EXPORT)) return null
  return source.replace(EXPORT, 'function libp2pIsPrivateIp(') +
    `\nimport { isDeclaredPublic as cairnIsDeclaredPublic, markPrivateIpWrapped as cairnMarkWrapped } from ${JSON.stringify(self)};\n` +
    'cairnMarkWrapped();\n' +
    'export function isPrivateIp (ip) { return cairnIsDeclaredPublic(ip) ? false : libp2pIsPrivateIp(ip) }\n'
}

/** Called by the wrapped module when it loads. */
export function markPrivateIpWrapped (): void {
  wrapped = true
}

/**
 * Installs the load hook (once). Must run before anything imports
 * @libp2p/utils from node_modules; returns false where this Node has no
 * module.registerHooks. In the bundle nothing loads through it.
 */
export function installPublicRangesHook (): boolean {
  if (installed) return true
  if (typeof module.registerHooks !== 'function') return false
  const self = import.meta.url
  module.registerHooks({
    load (url, context, nextLoad) {
      const result = nextLoad(url, context)
      if (!url.endsWith(PRIVATE_IP_MODULE) || result.source == null) return result
      const source = wrapPrivateIpSource(String(result.source), self)
      return source == null ? result : { ...result, source }
    }
  })
  installed = true
  return true
}

/** True once libp2p's isPrivateIp has been loaded wrapped. */
export function publicRangesActive (): boolean {
  return wrapped
}

// What storage's config schema cannot check without the network stack:
// that every multiaddr in a setting parses (and its /p2p/ part is a peer ID). `config set` runs it, so a bad
// address fails when it is set rather than when a seed starts.

import { parseUserMultiaddr } from './dial-error.ts'
import { ConfigError, errorMessage } from '../util/errors.ts'

/** config keys whose value is a list of multiaddrs */
const MULTIADDR_LISTS = new Set(['addresses.listen', 'bootstrap', 'nat.relays'])

/** Throws a ConfigError naming the key when a multiaddr in `value` does not parse. */
export function checkConfigSetting (key: string, value: unknown): void {
  if (!MULTIADDR_LISTS.has(key) || !Array.isArray(value)) return
  for (const v of value) {
    try {
      parseUserMultiaddr(String(v), key)
    } catch (err) {
      throw new ConfigError(`"${key}": ${errorMessage(err).slice(key.length + 1)}`)
    }
  }
}

// The table of commands: each name, its one-line summary, and its module,
// imported on demand (so local commands never load the network stack).
// Help, suggestions for mistyped names and the shell completion scripts are
// all made from this one table.

import type { Command } from './command.ts'

/** Command name → its module, imported on demand. */
export const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  init: async () => await import('./commands/init.ts'),
  add: async () => await import('./commands/add.ts'),
  cat: async () => await import('./commands/cat.ts'),
  get: async () => await import('./commands/get.ts'),
  ls: async () => await import('./commands/ls.ts'),
  pin: async () => await import('./commands/pin.ts'),
  repo: async () => await import('./commands/repo.ts'),
  car: async () => await import('./commands/car.ts'),
  config: async () => await import('./commands/config.ts'),
  seed: async () => await import('./commands/seed.ts'),
  id: async () => ({ command: (await import('./commands/net.ts')).id }),
  peers: async () => ({ command: (await import('./commands/net.ts')).peers }),
  connect: async () => ({ command: (await import('./commands/net.ts')).connect }),
  provide: async () => ({ command: (await import('./commands/net.ts')).provide }),
  findprovs: async () => ({ command: (await import('./commands/net.ts')).findprovs }),
  stats: async () => ({ command: (await import('./commands/net.ts')).stats }),
  status: async () => ({ command: (await import('./commands/net.ts')).status }),
  shutdown: async () => ({ command: (await import('./commands/net.ts')).shutdown }),
  anchor: async () => ({ command: (await import('./commands/anchor.ts')).anchor }),
  chain: async () => ({ command: (await import('./commands/anchor.ts')).chain }),
  proof: async () => ({ command: (await import('./commands/anchor.ts')).proof }),
  verify: async () => ({ command: (await import('./commands/anchor.ts')).verify }),
  name: async () => await import('./commands/name.ts'),
  key: async () => await import('./commands/key.ts'),
  completion: async () => await import('./commands/completion.ts'),
  demo: async () => await import('./commands/demo.ts')
}

/** One line per command for the general help; kept here so help loads nothing. */
export const SUMMARIES: Record<string, string> = {
  init: 'create the repo (other commands create it on first use)',
  add: 'import files or directories and print their CIDs',
  cat: "write a file's bytes to stdout",
  get: 'write a file or directory to disk, atomically',
  ls: 'list the entries of a directory',
  pin: 'keep DAGs in the repo: pin add|rm|ls',
  repo: 'repo stat|gc|verify',
  car: 'CAR v1 files: car export CID [-o FILE] | car import FILE...|-',
  config: 'read or change config.json',
  seed: 'run the node: serve and announce content (Ctrl-C stops it)',
  id: "this node's peer ID and addresses",
  peers: 'the peers the seed is connected to',
  connect: 'open a connection to a peer: connect MULTIADDR',
  provide: 'announce a CID in the DHT',
  findprovs: 'find peers that provide a CID',
  stats: "the seed's counters",
  status: 'describe the running seed',
  shutdown: 'stop the running seed',
  anchor: 'sign a manifest for a CID and queue it for anchoring',
  chain: 'the anchor chain: head, height, work, target, pending',
  proof: 'export a proof that a CID or a name\'s record is anchored: proof CID|/ipns/NAME [-o FILE]',
  verify: 'check content, its signed manifest and anchoring: verify CID|PATH | --proof FILE',
  name: 'IPNS names: name publish CID | name resolve NAME | name history NAME',
  key: 'publishing keys for names: key gen NAME | key ls | key rm NAME',
  completion: 'print a shell completion script: completion bash|zsh|fish',
  demo: 'a local swarm on 127.0.0.1, end to end (npm start)'
}

/** Names other tools use for a cairn command (Kubo's `ipfs daemon` is `cairn seed`). */
export const ALIASES: Record<string, string> = {
  daemon: 'seed',
  swarm: 'peers',
  dht: 'findprovs',
  export: 'car',
  import: 'car',
  version: '--version',
  publish: 'name',
  resolve: 'name'
}

/** a mistyped name within this many edits of a command gets it suggested */
const MAX_SUGGEST_DISTANCE = 2

/** Levenshtein distance: insertions, deletions and substitutions. */
export function editDistance (a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length]
}

/** The command a mistyped or foreign name most likely means, or null. */
export function suggestCommand (name: string): string | null {
  const lower = name.toLowerCase()
  if (Object.hasOwn(ALIASES, lower)) return ALIASES[lower]
  if (Object.hasOwn(COMMANDS, lower)) return lower
  let best: string | null = null
  let bestDistance = Infinity
  for (const c of Object.keys(COMMANDS)) {
    const d = editDistance(lower, c)
    // short names need a closer match: 'id' is one edit from many words
    if (d < bestDistance && d <= Math.min(MAX_SUGGEST_DISTANCE, Math.floor(c.length / 2))) { best = c; bestDistance = d }
  }
  return best
}

// Errors with a stable `name`: callers branch on the class, never on message
// text. The CLI maps each to one `Error: …` line and an exit code.

export class CairnError extends Error {
  /** exit code the CLI uses for this kind of failure */
  readonly exitCode: number = 1
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
  }
}

/** The command line was wrong: bad flag, missing argument. */
export class UsageError extends CairnError {
  override readonly exitCode = 2
}

/** config.json has an unknown key or a bad value, or is not JSON. */
export class ConfigError extends CairnError {}

/** Another live process holds the repo lock. */
export class RepoLockedError extends CairnError {}

/** The repo cannot be opened or written (permissions, read-only, full disk). */
export class RepoError extends CairnError {}

/** A block is not in the repo. */
export class BlockNotFoundError extends CairnError {
  constructor (readonly cid: string, message?: string) {
    super(message ?? `block ${cid} is not in the repo`)
  }
}

/** A block's bytes do not hash to its CID. */
export class CorruptBlockError extends CairnError {
  constructor (readonly cid: string, where: string) {
    super(`block ${cid} is corrupt: its bytes do not match its CID (${where})`)
  }
}

/** A multihash or codec cairn cannot verify. */
export class UnsupportedError extends CairnError {}

/** Turns a Node fs error into one readable sentence naming the path. */
export function describeFsError (err: unknown, what: string): string {
  const e = err as NodeJS.ErrnoException
  switch (e?.code) {
    case 'ENOENT': return `${what}: no such file or directory`
    case 'EACCES': case 'EPERM': return `${what}: permission denied`
    case 'EROFS': return `${what}: the file system is read-only`
    case 'ENOSPC': return `${what}: no space left on the device`
    case 'EDQUOT': return `${what}: disk quota exceeded`
    case 'EISDIR': return `${what}: is a directory`
    case 'ENOTDIR': return `${what}: a parent is not a directory`
    case 'EEXIST': return `${what}: already exists`
    case 'EIO': return `${what}: input/output error`
    default: return `${what}: ${e?.message ?? String(err)}`
  }
}

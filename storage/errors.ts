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

/** The fs errors a user can act on, in words. */
const FS_ERROR_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent is not a directory',
  EEXIST: 'already exists',
  EIO: 'input/output error'
}

/**
 * Turns a Node fs error into one readable sentence naming the path. An error
 * with no errno code (a failed child process, such as fsync.ts's `sync -f`)
 * is judged by the first errno name in its message.
 */
export function describeFsError (err: unknown, what: string): string {
  const message = errorMessage(err)
  const code = errnoCode(err) ?? /\b(E[A-Z]{2,})\b/.exec(message)?.[1]
  const text = code != null ? FS_ERROR_TEXT[code] : undefined
  return `${what}: ${text ?? message.replace(/^\w*Error: /, '')}`
}

/** A string property of a thrown value, which may be anything (an Error, a string, null). */
function thrownString (err: unknown, key: 'code' | 'message' | 'name'): string | undefined {
  if (typeof err !== 'object' || err === null || !(key in err)) return undefined
  const value: unknown = Reflect.get(err, key)
  return typeof value === 'string' ? value : undefined
}

/** The errno code of a Node system error ('ENOENT', 'EEXIST'…); undefined for anything else. */
export function errnoCode (err: unknown): string | undefined {
  return thrownString(err, 'code')
}

/** What was thrown, in words: an error's message, else the value itself as a string. */
export function errorMessage (err: unknown): string {
  return thrownString(err, 'message') ?? String(err)
}

/** An error's name ('AbortError', 'NotFoundError'…); undefined when what was thrown is no error. */
export function errorName (err: unknown): string | undefined {
  return thrownString(err, 'name')
}

// Errors with a stable `name`; storage's classes plus those of core.
export * from '../../storage/errors.ts'
import { CairnError, UsageError } from '../../storage/errors.ts'

/** A CID argument that does not parse: the command line's fault, so a usage error (exit 2). */
export class InvalidCidError extends UsageError {}

/** A path inside a DAG that does not exist. */
export class PathNotFoundError extends CairnError {}

/** A local input path that is missing, unreadable or of the wrong kind. */
export class InputError extends CairnError {}

/** The output path exists and --force was not given, or cannot be written. */
export class OutputError extends CairnError {}

/** A DAG deeper than any honest one (core/repo/dag.ts MAX_DAG_DEPTH): refused, not walked. */
export class DagTooDeepError extends CairnError {}

/** Content that would write outside the output path, or is malformed. */
export class UnsafeContentError extends CairnError {}

/** The operation was interrupted (Ctrl-C, SIGTERM). */
export class AbortedError extends CairnError {
  override readonly exitCode = 130
}

/** A dependency cairn patches at load time is not the version the patch was written for. */
export class UpstreamPatchError extends CairnError {}

/** Whatever a `catch` caught, as an Error (for APIs such as `stream.abort` that take one). */
export function toError (err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}

/** Whether `err` is an Error of this `name` (libp2p's and Node's errors are told apart by name, not class). */
export function isNamedError (err: unknown, name: string): err is Error {
  return err instanceof Error && err.name === name
}

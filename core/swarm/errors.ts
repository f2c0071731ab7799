// What can end a fetch, as classes the CLI and the API branch on.

import { CairnError } from '../util/errors.ts'
export { DagTooDeepError } from '../util/errors.ts'

/** Nobody was found who has the content (or nobody to ask at all). */
export class NoProvidersError extends CairnError {}
/** Providers were found, but no block arrived for the idle limit, or every one of them failed. */
export class FetchTimeoutError extends CairnError {}
/** A provider that misbehaved: wrong bytes, a broken frame, a stall. */
export class PeerFaultError extends CairnError {}
/** A provider that answered nothing for its stall limit, or whose request timed out or stream was lost: dropped, but asked again when nobody else has a block (a loaded seed pauses) */
export class PeerStallError extends PeerFaultError {}
/** A --peer address that cannot be dialled (refused by our own allow/deny settings, or by the peer). */
export class PeerDialError extends CairnError {}

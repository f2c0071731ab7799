// The consensus rules by name. A header, body or manifest that breaks one is
// rejected with an AnchorRuleError naming the rule, so callers (and tests)
// branch on `rule`, never on message text. docs/anchor.md lists each rule.

import { CairnError } from '../util/errors.ts'

export const RULES = [
  /** not canonical dag-cbor, a missing or extra field, a field of the wrong type or width */
  'BadEncoding',
  /** `v` is not 1 */
  'BadVersion',
  /** the header names another network's genesis */
  'WrongNetwork',
  /** the header is larger than MAX_HEADER_BYTES */
  'HeaderTooLarge',
  /** the header's hash is above its expanded target */
  'BadProofOfWork',
  /** `target` is not what the retarget rule gives for this height */
  'BadTarget',
  /** `time` is not above the median of the previous 11 blocks */
  'TimeTooOld',
  /** `height` is not the parent's height + 1 */
  'BadHeight',
  /** the body's CID is not the header's `body` */
  'BodyMismatch',
  /** more than MAX_BODY_MANIFESTS entries, or more than MAX_BODY_BYTES */
  'BodyTooLarge',
  /** a manifest listed twice in a body, or already anchored on this branch */
  'DuplicateManifest',
  /** a manifest listed in the body was not supplied, or its bytes do not hash to its CID */
  'MissingManifest',
  /** a manifest that does not decode or breaks a manifest field rule */
  'BadManifest',
  /** a manifest's signature does not verify under its publisher key */
  'BadSignature',
  /** a name manifest whose IPNS record is not its publisher's, or says something else */
  'BadRecord',
  /** a proof whose parts do not fit together (checksum, order, anchoring) */
  'BadProof'
] as const

export type Rule = typeof RULES[number]

/** A consensus rule was broken; `rule` names it. */
export class AnchorRuleError extends CairnError {
  constructor (readonly rule: Rule, message: string) {
    super(`${rule}: ${message}`)
    this.name = rule
  }
}

/** Throws AnchorRuleError(rule) unless `ok`. */
export function check (ok: boolean, rule: Rule, message: string | (() => string)): asserts ok {
  if (!ok) throw new AnchorRuleError(rule, typeof message === 'string' ? message : message())
}

/** longest piece of a peer's input quoted in an error message */
const MAX_QUOTED = 40

/** A field name from untrusted input, safe in a one-line message: escaped, cut short, quoted. */
export function quoted (text: string): string {
  const cut = text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text
  return JSON.stringify(cut).replace(/[^\x20-\x7e]/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** A chain operation that is not a rule violation: unknown network, missing block, nothing anchored. */
export class AnchorError extends CairnError {}

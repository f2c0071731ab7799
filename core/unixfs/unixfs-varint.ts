// A fix for protons-runtime, which writes UnixFS's uint64 fields (a file's
// size, its children's sizes). Its 64-bit varint writer (7.1.2, and 8.0.1,
// the newest) stores the low 32 bits as a signed int, so a value in
// [2^31, 2^32) has a negative low word: the writer then emits one byte where
// it reserved five, and the other four are whatever the (pooled) buffer held.
// Every file of 2-4 GiB got a root node with garbage in it: a CID that is
// not Kubo's and differs between runs, and now and then a node that does not
// decode ("invalid wire type 7 at offset 9", seen in 2 GiB adds and gets).
//
// Imported for its effect by everything that encodes UnixFS (core/unixfs/add.ts).
// Values up to 2^53 go through the library's own number varint writer,
// which is right (test/core/unixfs/unixfs-varint.test.ts); larger ones, which no
// file reaches, keep the original path. Remove once protons-runtime is fixed.
//
// No supported path exists: ipfs-unixfs encodes through protons-runtime's
// shared writer, with no option. The upstream bug is written up, with a
// reproduction, in docs/upstream-bugs.md. The fix is made against
// protons-runtime 7.1.2 only (package.json pins it exactly), and checked at
// load: the writer must still have both methods, and its uint64 must still
// show the bug on a probe value. Either changed means the library changed
// under the patch: loading fails with UpstreamPatchError rather than patch
// something else blind.

import { writer } from 'protons-runtime'
import { UpstreamPatchError } from '../util/errors.ts'

interface Uint64Writer {
  uint64: (value: bigint) => unknown
  uint64Number: (value: number) => unknown
}

// getPrototypeOf is typed any: the prototype of protons' Writer class is asserted to hold its methods,
// which checkProtonsWriter then checks at run time before anything is patched
const proto = Object.getPrototypeOf(writer()) as Uint64Writer & { finish?: () => Uint8Array }
const original = proto.uint64
const SAFE = BigInt(Number.MAX_SAFE_INTEGER)
/** in [2^31, 2^32): 2^31 + 5, whose varint is 85 80 80 80 08 */
const PROBE = 2n ** 31n + 5n
const PROBE_FIRST_BYTE = 0x85

/** Fails loudly when protons-runtime is not the 7.1.2 this fix was written against. */
export function checkProtonsWriter (w: { uint64?: unknown, uint64Number?: unknown, finish?: unknown }, uint64: unknown): void {
  if (typeof uint64 !== 'function' || typeof w.uint64Number !== 'function' || typeof w.finish !== 'function') {
    throw new UpstreamPatchError('protons-runtime changed: its writer has no uint64/uint64Number/finish; core/unixfs/unixfs-varint.ts was written for 7.1.2 (see docs/upstream-bugs.md)')
  }
  const probe = writer()
  uint64.call(probe, PROBE)
  if (probe.finish()[0] === PROBE_FIRST_BYTE) {
    throw new UpstreamPatchError('protons-runtime\'s uint64 writer no longer has the bug core/unixfs/unixfs-varint.ts works around: remove that patch and the exact pin in package.json (docs/upstream-bugs.md)')
  }
}

/** set on the patched method: a module loaded twice patches once */
const PATCHED = 'cairnFixed'

if (Reflect.get(original, PATCHED) !== true) {
  checkProtonsWriter(proto, original)
  const fixed = function (this: Uint64Writer, value: bigint): unknown {
    return value >= 0n && value <= SAFE ? this.uint64Number(Number(value)) : original.call(this, value)
  }
  Reflect.set(fixed, PATCHED, true)
  proto.uint64 = fixed
}

// A fix for protons-runtime, which writes UnixFS's uint64 fields (a file's
// size, its children's sizes). Its 64-bit varint writer (7.1.2, and 8.0.1,
// the newest) stores the low 32 bits as a signed int, so a value in
// [2^31, 2^32) has a negative low word: the writer then emits one byte where
// it reserved five, and the other four are whatever the (pooled) buffer held.
// Every file of 2-4 GiB got a root node with garbage in it: a CID that is
// not Kubo's and differs between runs, and now and then a node that does not
// decode ("invalid wire type 7 at offset 9", seen in 2 GiB adds and gets).
//
// Imported for its effect by everything that encodes UnixFS (core/add.ts).
// Values up to 2^53 go through the library's own number varint writer,
// which is right (test/core/unixfs-varint.test.ts); larger ones, which no
// file reaches, keep the original path. Remove once protons-runtime is fixed.

import { writer } from 'protons-runtime'

interface Uint64Writer {
  uint64: (value: bigint) => unknown
  uint64Number: (value: number) => unknown
}

const proto = Object.getPrototypeOf(writer()) as Uint64Writer
const original = proto.uint64
const SAFE = BigInt(Number.MAX_SAFE_INTEGER)

if (!(original as { cairnFixed?: boolean }).cairnFixed) {
  const fixed = function (this: Uint64Writer, value: bigint): unknown {
    return value >= 0n && value <= SAFE ? this.uint64Number(Number(value)) : original.call(this, value)
  }
  ;(fixed as { cairnFixed?: boolean }).cairnFixed = true
  proto.uint64 = fixed
}

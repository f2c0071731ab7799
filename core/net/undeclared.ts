// Reading what a library's types do not declare (kad-dht's routing table,
// what @helia/bitswap sends) as `unknown`, so the caller checks it before use
// instead of asserting a type for it.

/** A property an object's type does not declare, read at run time (undefined when absent or not an object). */
export function undeclared (obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj != null ? Reflect.get(obj, key) : undefined
}

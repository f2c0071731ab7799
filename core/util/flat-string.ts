// Strings a seed keeps for hours, made flat first.
//
// multiformats writes a CID's text one character at a time (`out += c`), and
// V8 keeps a string built so as a tree of concatenations: a 59-character
// CIDv1 is ~47 nodes, ~1.5 KiB of heap where the flat string takes ~80
// bytes. multiformats caches that string for as long as the CID lives, and a
// Map keyed by it keeps the tree as it is (V8 hashes a tree without
// flattening it). A seed following a chain of a block a second kept ~86 KiB
// more of such trees a minute, in the gossip's memory of the blocks it
// received (docs/faults.md, "Concatenated strings"). Used once as an
// object's property key, a string is internalized: V8 turns the tree, in
// place, into a ~30-byte reference to one flat copy, for every holder of
// that string (the CID's cache too). The string's value is unchanged
// whatever V8 does; only its memory is.

/** `s`, after making V8 keep it flat (see above); returns `s` for chaining. */
export function flat (s: string): string {
  const scratch: Record<string, number> = {}
  scratch[s] = 0
  return s
}

// Small byte strings a process keeps for as long as it runs (the anchor
// chain's headers and block CIDs), copied into shared slabs.
//
// Each Uint8Array of its own is an ArrayBuffer with a backing store that
// Node's allocator gets from malloc: ~100 bytes of objects and malloc's own
// header on top of the bytes, and a small long-lived chunk among the
// transfer buffers that come and go in the same heap, which keeps malloc
// from giving those pages back. A view of a slab costs the view alone. A
// slab lives while any view of it does; the chain drops none.

/** bytes a slab holds; larger byte strings get a buffer of their own */
export const SLAB_BYTES = 64 * 1024

export class ByteSlab {
  private slab = new Uint8Array(0)
  private used = 0

  /** A copy of `bytes`, as a view of a shared slab (or of its own buffer when larger than a slab). */
  keep (bytes: Uint8Array): Uint8Array {
    const n = bytes.byteLength
    if (n > SLAB_BYTES / 4) return bytes.slice()
    if (this.used + n > this.slab.byteLength) {
      this.slab = new Uint8Array(SLAB_BYTES)
      this.used = 0
    }
    const view = this.slab.subarray(this.used, this.used + n)
    view.set(bytes)
    this.used += n
    return view
  }
}

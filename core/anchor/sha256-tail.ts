// SHA-256 of a header whose only changing bytes are the nonce's low 4 bytes,
// written for the miner's inner loop. Per job it keeps the state after every
// 64-byte block before the nonce (the midstate), the state after the rounds
// of the nonce's block that use only bytes before the counter, and the
// message schedule of every later block that holds no nonce byte (the
// padding block). Per try it runs only the rest, in 32-bit integers with no
// allocation. Checked against node:crypto in test/core/anchor/hasher.test.ts.

const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
])
const IV = Int32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19])

/** Fills w[16..63] from w[0..15]. */
function expand (w: Int32Array): void {
  for (let t = 16; t < 64; t++) {
    const x = w[t - 15]
    const y = w[t - 2]
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)
    w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0
  }
}

/** Rounds `from`..`to`−1 of one block on working state `v` (a..h); `w` holds the schedule words those rounds read (rounds < 16 read only the block's own words). */
function rounds (v: Int32Array, w: Int32Array, from: number, to = 64): void {
  let a = v[0]; let b = v[1]; let c = v[2]; let d = v[3]; let e = v[4]; let f = v[5]; let g = v[6]; let h = v[7]
  for (let t = from; t < to; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[t] + w[t]) | 0
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0
  }
  v[0] = a; v[1] = b; v[2] = c; v[3] = d; v[4] = e; v[5] = f; v[6] = g; v[7] = h
}

function compress (state: Int32Array, w: Int32Array): void {
  const v = Int32Array.from(state)
  expand(w)
  rounds(v, w, 0)
  for (let i = 0; i < 8; i++) state[i] = (state[i] + v[i]) | 0
}

export class TailHasher {
  /** state after the whole blocks before the nonce's block */
  private readonly mid = new Int32Array(8)
  /** working state after the rounds of the nonce's block that precede the first changing word */
  private readonly early = new Int32Array(8)
  private readonly firstChanging: number
  /** the padded rest of the message from the nonce's block on */
  private readonly rest: Uint8Array
  private readonly restView: DataView
  private readonly counterAt: number
  /** schedules: one per block of the rest; blocks past the nonce are expanded once */
  private readonly w: Int32Array[]
  private readonly v = new Int32Array(8)
  readonly state = new Int32Array(8)

  /**
   * `bytes` is the whole header, `nonceAt` where its 8-byte nonce starts;
   * the counter is the nonce's low 4 bytes (big-endian), set per try.
   */
  constructor (bytes: Uint8Array, nonceAt: number) {
    const full = Math.floor(nonceAt / 64)
    this.mid.set(IV)
    const w0 = new Int32Array(64)
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    for (let b = 0; b < full; b++) {
      for (let i = 0; i < 16; i++) w0[i] = view.getInt32(b * 64 + i * 4)
      compress(this.mid, w0)
    }
    const tail = bytes.byteLength - full * 64
    const padded = Math.ceil((tail + 9) / 64) * 64
    this.rest = new Uint8Array(padded)
    this.rest.set(bytes.subarray(full * 64))
    this.rest[tail] = 0x80
    this.restView = new DataView(this.rest.buffer)
    this.restView.setUint32(padded - 4, (bytes.byteLength * 8) >>> 0)
    this.restView.setUint32(padded - 8, Math.floor(bytes.byteLength * 8 / 2 ** 32))
    this.counterAt = nonceAt - full * 64 + 4
    if (this.counterAt + 4 > 64) throw new RangeError('the counter crosses a block boundary')
    const lastChanging = Math.floor((this.counterAt + 3) / 4)
    this.firstChanging = Math.floor(this.counterAt / 4)
    this.w = []
    for (let b = 0; b < padded / 64; b++) {
      const w = new Int32Array(64)
      for (let i = 0; i < 16; i++) w[i] = this.restView.getInt32(b * 64 + i * 4)
      if (b * 16 > lastChanging) expand(w)
      this.w.push(w)
    }
    // rounds before the first changing word are the same for every try
    this.early.set(this.mid)
    rounds(this.early, this.w[0], 0, this.firstChanging)
  }

  /** Hashes with the given counter; the digest's words are in `state`. */
  hash (counter: number): void {
    this.restView.setUint32(this.counterAt, counter >>> 0)
    const w = this.w[0]
    const first = this.firstChanging
    w[first] = this.restView.getInt32(first * 4)
    if (first + 1 < 16) w[first + 1] = this.restView.getInt32((first + 1) * 4)
    expand(w)
    const v = this.v
    const s = this.state
    v.set(this.early)
    rounds(v, w, first)
    for (let i = 0; i < 8; i++) s[i] = (this.mid[i] + v[i]) | 0
    for (let b = 1; b < this.w.length; b++) {
      v.set(s)
      rounds(v, this.w[b], 0)
      for (let i = 0; i < 8; i++) s[i] = (s[i] + v[i]) | 0
    }
  }

  /** The digest of the last hash() as bytes. */
  digest (): Uint8Array {
    const out = new Uint8Array(32)
    const view = new DataView(out.buffer)
    for (let i = 0; i < 8; i++) view.setInt32(i * 4, this.state[i])
    return out
  }
}

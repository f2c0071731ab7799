// Noise's cipher for bulk data, with the key prepared once per session.
// @libp2p/noise's default passes the raw key to createCipheriv for every
// message (at most 64 KiB), and Node turns it into a KeyObject each time:
// profiling a 256 MiB fetch put ~40% of the cipher's CPU in that key setup
// (getKeyObjectSlots/getSlots) and another copy in joining ciphertext and
// tag. Here the KeyObject is cached per key and the tag is appended without
// a copy. Handshake operations stay the library's.

import crypto, { type KeyObject } from 'node:crypto'
import { defaultCrypto } from '@libp2p/noise/crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import type { ICryptoInterface } from '@libp2p/noise'

const ALG = 'chacha20-poly1305'
const TAG = 16
/** below this size the library's WebAssembly cipher is faster than Node's (its own measurement) */
const SMALL = 1200

// noise keeps one key array per direction of a session: the array is the cache key
const keys = new WeakMap<Uint8Array, KeyObject>()
const keyOf = (k: Uint8Array): KeyObject => {
  let key = keys.get(k)
  if (key == null) {
    key = crypto.createSecretKey(k)
    keys.set(k, key)
  }
  return key
}

export const noiseCrypto: ICryptoInterface = {
  ...defaultCrypto,
  chaCha20Poly1305Encrypt (plaintext, nonce, ad, k) {
    if (plaintext.byteLength < SMALL) return defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)
    const cipher = crypto.createCipheriv(ALG, keyOf(k), nonce, { authTagLength: TAG })
    cipher.setAAD(ad, { plaintextLength: plaintext.byteLength })
    const out = new Uint8ArrayList()
    if (plaintext instanceof Uint8Array) out.append(cipher.update(plaintext))
    else for (const buf of plaintext) out.append(cipher.update(buf))
    const final = cipher.final()
    if (final.byteLength > 0) out.append(final)
    out.append(cipher.getAuthTag())
    return out
  },
  chaCha20Poly1305Decrypt (ciphertext, nonce, ad, k, dst) {
    if (ciphertext.byteLength < SMALL) return defaultCrypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst)
    const end = ciphertext.byteLength - TAG
    const decipher = crypto.createDecipheriv(ALG, keyOf(k), nonce, { authTagLength: TAG })
    decipher.setAAD(ad, { plaintextLength: end })
    decipher.setAuthTag(ciphertext.subarray(end))
    if (ciphertext instanceof Uint8Array) {
      const out = decipher.update(ciphertext.subarray(0, end))
      const final = decipher.final()
      return final.byteLength > 0 ? Buffer.concat([out, final]) : out
    }
    const out = new Uint8ArrayList()
    for (const buf of ciphertext.sublist(0, end)) out.append(decipher.update(buf))
    const final = decipher.final()
    if (final.byteLength > 0) out.append(final)
    return out
  }
}

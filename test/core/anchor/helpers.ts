// Keys, manifests and chains for the anchor tests.

import { generateKeyPair } from '@libp2p/crypto/keys'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { signManifest, type EncodedManifest, type FileManifest } from '../../../core/anchor/manifest.ts'
import type { PrivateKey } from '@libp2p/interface'

export const PROFILE = { cidVersion: 1 as const, rawLeaves: true, chunker: 'size-1048576', width: 1024, hamt: 'block-bytes' as const }

let keys: PrivateKey[] | null = null
export async function testKeys (): Promise<PrivateKey[]> {
  keys ??= await Promise.all([1, 2, 3].map(async () => await generateKeyPair('Ed25519')))
  return keys
}

export async function rootOf (n: number): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(`content ${n}`)))
}

/** A signed manifest for pseudo content `n`. */
export async function manifestFor (n: number, key?: PrivateKey, time = 1_800_000_000_000 + n): Promise<EncodedManifest<FileManifest>> {
  const k = key ?? (await testKeys())[0]
  return await signManifest(k, { root: await rootOf(n), name: `file-${n}.txt`, type: 'file', size: 100 + n, profile: PROFILE, time })
}

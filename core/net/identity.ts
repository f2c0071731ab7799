// The node's persistent Ed25519 identity: `identity.key` in the repo (mode
// 0600), a protobuf-encoded private key, so the peer ID survives restarts.

import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { errorMessage, RepoError } from '../util/errors.ts'
import type { PrivateKey } from '@libp2p/interface'
import type { Repo } from '../../storage/repo.ts'

export const IDENTITY_FILE = 'identity.key'

export async function loadOrCreateIdentity (repo: Repo): Promise<PrivateKey> {
  const existing = await repo.readSecret(IDENTITY_FILE)
  if (existing != null) {
    try {
      return privateKeyFromProtobuf(existing)
    } catch (err) {
      throw new RepoError(`${repo.root}/${IDENTITY_FILE} is not a valid private key: ${errorMessage(err)}`)
    }
  }
  const key = await generateKeyPair('Ed25519')
  try {
    await repo.writeSecret(IDENTITY_FILE, privateKeyToProtobuf(key))
  } catch (err) {
    // another process created it meanwhile: use theirs
    const raced = await repo.readSecret(IDENTITY_FILE)
    if (raced != null) return privateKeyFromProtobuf(raced)
    throw err
  }
  return key
}

// Publishing keys (`cairn key`): Ed25519 keys kept in the repo's key store;
// `self` is the node's own identity key, so `name publish` with no --key
// publishes under the node's peer ID, as Kubo does.

import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { KeyStore, checkKeyName } from '../../storage/keystore.ts'
import { errorMessage, RepoError, UsageError } from '../util/errors.ts'
import { loadOrCreateIdentity } from '../net/identity.ts'
import { nameOfPeer } from './record.ts'
import type { PrivateKey } from '@libp2p/interface'
import type { Repo } from '../../storage/repo.ts'

/** the node's own key, as Kubo names it */
export const SELF = 'self'

export interface KeyInfo {
  name: string
  /** the IPNS name it publishes, k51… */
  id: string
}

const infoOf = (name: string, key: PrivateKey): KeyInfo => ({ name, id: nameOfPeer(peerIdFromPrivateKey(key)).text })

export async function loadKey (repo: Repo, name: string): Promise<PrivateKey> {
  if (name === SELF) return await loadOrCreateIdentity(repo)
  const bytes = await new KeyStore(repo.root).read(name)
  try {
    return privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new RepoError(`key "${name}" is not a valid private key: ${errorMessage(err)}`)
  }
}

export async function generateKey (repo: Repo, name: string): Promise<KeyInfo> {
  if (checkKeyName(name) === SELF) throw new UsageError(`"${SELF}" is the node's own key; choose another name`)
  const key = await generateKeyPair('Ed25519')
  await new KeyStore(repo.root).create(name, privateKeyToProtobuf(key))
  return infoOf(name, key)
}

/** `self` first, then the key store's keys by name. */
export async function listKeys (repo: Repo): Promise<KeyInfo[]> {
  const out = [infoOf(SELF, await loadOrCreateIdentity(repo))]
  for (const name of await new KeyStore(repo.root).list()) out.push(infoOf(name, await loadKey(repo, name)))
  return out
}

export async function removeKey (repo: Repo, name: string): Promise<KeyInfo> {
  if (name === SELF) throw new UsageError(`"${SELF}" is the node's identity and cannot be removed`)
  const info = infoOf(name, await loadKey(repo, name))
  await new KeyStore(repo.root).remove(name)
  return info
}

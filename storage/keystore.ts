// Publishing keys for names (`cairn key`): one file per key in R/keys/
// (folder 0700, files 0600), each a protobuf-encoded private key as the
// node's identity.key is. storage/ keeps the bytes; core/names/keys.ts knows
// what they are.

import fs from 'node:fs/promises'
import path from 'node:path'
import { RepoError, UsageError, describeFsError, errnoCode } from './errors.ts'
import { writeFileAtomic } from './atomic-file.ts'

export const KEYS_DIR = 'keys'
/** a key name is a file name: letters, digits, '.', '_', '-'; not hidden */
const KEY_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/

export class KeyNotFoundError extends RepoError {}
export class KeyExistsError extends RepoError {}

export function checkKeyName (name: string): string {
  if (!KEY_NAME.test(name)) throw new UsageError(`bad key name "${name.replace(/[^\x20-\x7e]/g, '?')}": 1-64 letters, digits, '.', '_' or '-', not starting with '.'`)
  return name
}

export class KeyStore {
  private readonly dir: string
  constructor (root: string) { this.dir = path.join(root, KEYS_DIR) }

  /** Key names, sorted. */
  async list (): Promise<string[]> {
    try {
      return (await fs.readdir(this.dir)).filter(n => KEY_NAME.test(n)).sort()
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return []
      throw new RepoError(describeFsError(err, `cannot read ${this.dir}`))
    }
  }

  async read (name: string): Promise<Uint8Array> {
    const file = path.join(this.dir, checkKeyName(name))
    try {
      return await fs.readFile(file)
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new KeyNotFoundError(`no key named "${name}" (cairn key ls lists them)`)
      throw new RepoError(describeFsError(err, `cannot read ${file}`))
    }
  }

  /** Writes a new key, mode 0600, durably; fails if the name is taken. */
  async create (name: string, bytes: Uint8Array): Promise<void> {
    const file = path.join(this.dir, checkKeyName(name))
    try {
      await fs.mkdir(this.dir, { recursive: true, mode: 0o700 })
      // link, not rename: fails if the name is taken, even by a racing process;
      // the temp's name starts with a dot, so key ls never lists it
      const temp = path.join(this.dir, `.${name}.${process.pid}.tmp`)
      await writeFileAtomic(file, bytes, { durability: 'fsync', replace: false, mode: 0o600, temp })
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') throw new KeyExistsError(`a key named "${name}" exists already`)
      throw new RepoError(describeFsError(err, `cannot write ${file}`))
    }
  }

  async remove (name: string): Promise<void> {
    const file = path.join(this.dir, checkKeyName(name))
    try {
      await fs.rm(file)
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new KeyNotFoundError(`no key named "${name}"`)
      throw new RepoError(describeFsError(err, `cannot remove ${file}`))
    }
  }
}

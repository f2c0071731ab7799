// The repo on disk: $CAIRN_REPO, else ~/.cairn.
//
//   config.json   validated on load
//   blocks/       blockstore-fs
//   datastore/    datastore-fs: pins, metadata, IPNS records seen (/names/)
//   repo.lock     one writer at a time
//
// and, written by core/ (storage only reads and writes them as files):
//
//   identity.key  the node's Ed25519 key, mode 0600 (core/net/identity.ts)
//   swarm.key     an optional private-network key (core/net/node.ts)
//   keys/         publishing keys for names, 0700 (keystore.ts)
//   chain/        the anchor chain, one folder per network (chain-files.ts)
//   api, api.sock a running seed's API endpoint and socket (core/api/server.ts)

import fs from 'node:fs/promises'
import path from 'node:path'
import { FsDatastore } from 'datastore-fs'
import { Blocks } from './blocks.ts'
import { DEFAULT_CONFIG, readConfig, writeConfig, type Config } from './config.ts'
import { CairnError, RepoError, describeFsError, errnoCode } from './errors.ts'
import { writeFileAtomic } from './atomic-file.ts'
import { RepoLock } from './lock.ts'
import { Pins, type PinType } from './pins.ts'
import type { CID } from 'multiformats/cid'

export { resolveRepoPath } from './repo-path.ts'

export const CONFIG_FILE = 'config.json'
export const LOCK_FILE = 'repo.lock'
/** the repo's folders: the owner only (docs/faults.md) */
export const REPO_MODE = 0o700

export interface OpenOptions {
  /** take the writer lock (everything that changes the repo) */
  write: boolean
}

export class Repo {
  private constructor (
    readonly root: string,
    readonly config: Config,
    readonly blocks: Blocks,
    readonly datastore: FsDatastore,
    readonly pins: Pins,
    private lock: RepoLock | null
  ) {}

  /**
   * Takes the writer lock on a repo opened for reading, when a reader turns
   * out to need it (a cat or get that fetches missing blocks).
   */
  async lockForWriting (): Promise<void> {
    this.lock ??= await RepoLock.acquire(path.join(this.root, LOCK_FILE), this.root)
  }

  get configFile (): string { return path.join(this.root, CONFIG_FILE) }

  /** Creates the repo's folders and config.json; fails if one exists. */
  static async init (root: string): Promise<void> {
    const configFile = path.join(root, CONFIG_FILE)
    try {
      await fs.access(configFile)
      throw new RepoError(`a repo already exists at ${root}`)
    } catch (err) {
      if (err instanceof CairnError) throw err
    }
    await Repo.create(root)
  }

  private static async create (root: string): Promise<void> {
    try {
      // the repo holds the node's private key, the swarm key and the API
      // token: only its owner may list or enter it (parents made on the way
      // get the same mode; an existing folder keeps the mode its owner chose)
      await fs.mkdir(root, { recursive: true, mode: REPO_MODE })
      await fs.mkdir(path.join(root, 'blocks'), { recursive: true, mode: REPO_MODE })
      await fs.mkdir(path.join(root, 'datastore'), { recursive: true, mode: REPO_MODE })
      // a folder the user made empty beforehand (mkdir ~/.cairn) becomes the repo too
      await fs.chmod(root, REPO_MODE)
      const configFile = path.join(root, CONFIG_FILE)
      try {
        await fs.access(configFile)
      } catch {
        await writeConfig(configFile, DEFAULT_CONFIG)
      }
    } catch (err) {
      throw new RepoError(describeFsError(err, `cannot create the repo at ${root}`))
    }
  }

  /** Opens the repo, creating it on first use. */
  static async open (root: string, options: OpenOptions): Promise<Repo> {
    let exists = true
    try {
      await fs.access(path.join(root, CONFIG_FILE))
    } catch {
      exists = false
    }
    if (!exists) await Repo.create(root)
    const config = await readConfig(path.join(root, CONFIG_FILE))
    const lock = options.write ? await RepoLock.acquire(path.join(root, LOCK_FILE), root) : null
    try {
      const blocks = new Blocks(path.join(root, 'blocks'))
      const datastore = new FsDatastore(path.join(root, 'datastore'))
      if (options.write) {
        await blocks.open()
        try {
          await datastore.open()
        } catch (err) {
          throw new RepoError(describeFsError(err, `cannot open the datastore at ${root}/datastore`))
        }
      } else {
        // the stores' open() demands write access: a reader only needs the folders
        // (a read-only mount of a repo stays readable)
        for (const dir of [blocks.dir, path.join(root, 'datastore')]) {
          try {
            await fs.access(dir)
          } catch (err) {
            throw new RepoError(describeFsError(err, `cannot open ${dir}`))
          }
        }
      }
      return new Repo(root, config, blocks, datastore, new Pins(datastore), lock)
    } catch (err) {
      await lock?.release()
      throw err
    }
  }

  /**
   * Pins DAGs whose blocks were just written: the blocks are flushed to disk
   * first, so a pin never points at a block a crash could lose. (The pin
   * itself is not flushed: losing one to a crash unpins, never corrupts.)
   */
  async pinDurably (cids: CID[], type: PinType = 'recursive'): Promise<void> {
    await this.blocks.sync()
    for (const cid of cids) await this.pins.add(cid, type)
  }

  /** A secret file in the repo (the node's key, the swarm key); null if absent. */
  async readSecret (name: string): Promise<Uint8Array | null> {
    try {
      return await fs.readFile(path.join(this.root, name))
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return null
      throw new RepoError(describeFsError(err, `cannot read ${path.join(this.root, name)}`))
    }
  }

  /** Writes a secret file, mode 0600, atomically and durably; fails if it exists. */
  async writeSecret (name: string, bytes: Uint8Array): Promise<void> {
    const file = path.join(this.root, name)
    try {
      // link, not rename: fails if another process wrote it first
      await writeFileAtomic(file, bytes, { durability: 'fsync', replace: false, mode: 0o600 })
    } catch (err) {
      throw new RepoError(describeFsError(err, `cannot write ${file}`))
    }
  }

  async saveConfig (config: Config): Promise<void> {
    try {
      await writeConfig(this.configFile, config)
    } catch (err) {
      if (err instanceof CairnError) throw err
      throw new RepoError(describeFsError(err, `cannot write ${this.configFile}`))
    }
  }

  async close (): Promise<void> {
    await this.blocks.close()
    await this.datastore.close()
    await this.lock?.release()
  }
}

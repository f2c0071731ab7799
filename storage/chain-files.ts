// The anchor chain on disk, one folder per network under R/chain/<network id>/:
//
//   objects/<xx>/<key>   headers, bodies and manifests by CID (temp file + rename)
//   index                accepted block CIDs, one a line, in the order first seen
//   head                 the best block's CID, replaced atomically after a flush
//   pending/<key>        manifests waiting to be anchored (empty marker files)
//
// Storage knows nothing of consensus: keys are CID strings, bytes are opaque.
// Whoever reads an object checks it against its CID.

import fs from 'node:fs/promises'
import path from 'node:path'
import { RepoError, describeFsError, errnoCode } from './errors.ts'
import { syncFileSystem } from './fsync.ts'
import { writeFileAtomic } from './atomic-file.ts'

const KEY = /^[a-z0-9]{8,128}$/
/**
 * object keys this process wrote lately, remembered so a repeat (every empty
 * block's body, a manifest sent again) costs no system call; the least
 * recently written go first. 65,536 cleared when full held up to ~7 MiB of
 * keys a seed kept for hours (issue 22); repeats are few and recent.
 */
export const MAX_REMEMBERED_WRITES = 1024

export class ChainFiles {
  private readonly objects: string
  private readonly pendingDir: string
  private readonly indexFile: string
  private readonly headFile: string
  /** keys written lately, oldest first (a Map keeps insertion order) */
  private readonly written = new Map<string, true>()
  /** shard directories made: their two-letter names (a path kept here held a whole path string per shard) */
  private readonly madeDirs = new Set<string>()

  constructor (readonly dir: string, private readonly writable: boolean) {
    this.objects = path.join(dir, 'objects')
    this.pendingDir = path.join(dir, 'pending')
    this.indexFile = path.join(dir, 'index')
    this.headFile = path.join(dir, 'head')
  }

  private objectPath (key: string): string {
    if (!KEY.test(key)) throw new RepoError(`not a chain object key: ${key}`)
    return path.join(this.objects, key.slice(-2), key)
  }

  private async guard<T> (what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      if (err instanceof RepoError) throw err
      throw new RepoError(describeFsError(err, what))
    }
  }

  async open (): Promise<void> {
    if (!this.writable) return
    await this.guard(`cannot create ${this.dir}`, async () => {
      await fs.mkdir(this.objects, { recursive: true })
      await fs.mkdir(this.pendingDir, { recursive: true })
    })
  }

  /** Writes an object (content-addressed: same key, same bytes, so one already on disk is replaced by itself). */
  async put (key: string, bytes: Uint8Array): Promise<void> {
    const file = this.objectPath(key)
    if (this.written.delete(key)) {
      this.written.set(key, true)
      return
    }
    await this.guard(`cannot write ${file}`, async () => {
      const shard = key.slice(-2)
      if (!this.madeDirs.has(shard)) {
        await fs.mkdir(path.dirname(file), { recursive: true })
        this.madeDirs.add(shard)
      }
      // no look first (a failed access cost more than the write: syncing 10,000 blocks spent ~0.6 s there);
      // an object already on disk is replaced by the same bytes
      // no flush here: sync() makes a batch durable with one syncfs
      await writeFileAtomic(file, bytes, { durability: 'none' })
    })
    this.written.set(key, true)
    const oldest = this.written.keys().next()
    if (this.written.size > MAX_REMEMBERED_WRITES && oldest.done !== true) this.written.delete(oldest.value)
  }

  async get (key: string): Promise<Uint8Array | null> {
    try {
      return await fs.readFile(this.objectPath(key))
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return null
      throw new RepoError(describeFsError(err, `cannot read ${this.objectPath(key)}`))
    }
  }

  /** Makes every object written so far durable (one syncfs for the lot). */
  async sync (): Promise<void> {
    await this.guard(`cannot flush ${this.dir}`, async () => { await syncFileSystem(this.dir) })
  }

  /** Appends block CIDs to the index and flushes it (one fsync for the lot: a synced batch of blocks). */
  async appendIndex (...keys: string[]): Promise<void> {
    if (keys.length === 0) return
    await this.guard(`cannot write ${this.indexFile}`, async () => {
      const fh = await fs.open(this.indexFile, 'a', 0o644)
      try {
        await fh.write(keys.map(k => k + '\n').join(''))
        await fh.sync()
      } finally {
        await fh.close()
      }
    })
  }

  /** The index's CIDs in order; a torn last line (a crash mid-append) is dropped. */
  async readIndex (): Promise<string[]> {
    let text: string
    try {
      text = await fs.readFile(this.indexFile, 'utf8')
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return []
      throw new RepoError(describeFsError(err, `cannot read ${this.indexFile}`))
    }
    const lines = text.split('\n')
    lines.pop() // after the last newline: empty, or a line torn by a crash
    return lines.filter(l => KEY.test(l))
  }

  /** Replaces the head file: temp file, fsync, rename. */
  async writeHead (key: string): Promise<void> {
    await this.guard(`cannot write ${this.headFile}`, async () => {
      await writeFileAtomic(this.headFile, key + '\n', { durability: 'fsync', mode: 0o644 })
    })
  }

  async readHead (): Promise<string | null> {
    try {
      const key = (await fs.readFile(this.headFile, 'utf8')).trim()
      return KEY.test(key) ? key : null
    } catch {
      return null
    }
  }

  async addPending (key: string): Promise<void> {
    if (!KEY.test(key)) throw new RepoError(`not a chain object key: ${key}`)
    await this.guard(`cannot write ${this.pendingDir}`, async () => { await fs.writeFile(path.join(this.pendingDir, key), '') })
  }

  async removePending (key: string): Promise<void> {
    if (!KEY.test(key)) return
    await this.guard(`cannot write ${this.pendingDir}`, async () => { await fs.rm(path.join(this.pendingDir, key), { force: true }) })
  }

  /** Pending manifest keys, oldest first. */
  async listPending (): Promise<string[]> {
    let names: string[]
    try {
      names = (await fs.readdir(this.pendingDir)).filter(n => KEY.test(n))
    } catch {
      return []
    }
    const withTime = await Promise.all(names.map(async n => ({ n, t: (await fs.stat(path.join(this.pendingDir, n)).catch(() => null))?.mtimeMs ?? 0 })))
    return withTime.sort((a, b) => a.t - b.t || (a.n < b.n ? -1 : 1)).map(x => x.n)
  }
}

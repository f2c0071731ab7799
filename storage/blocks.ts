// The block store: blockstore-fs on disk (one file per block, sharded by the
// multihash, written to a temp file and renamed), with two things it lacks:
// every read is hashed against the CID, so a block corrupted on disk is
// reported and never returned; and `sync()` makes what was written durable
// before a pin or a head is allowed to point at it.

import { createHash } from 'node:crypto'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { FsBlockstore } from 'blockstore-fs'
import { base32upper } from 'multiformats/bases/base32'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { syncFileSystem } from './fsync.ts'
import { BlockWriter, type Checked } from './block-writer.ts'
import { hashName, writeBlockFile } from './block-io.ts'
import { BlockNotFoundError, CorruptBlockError, RepoError, describeFsError, errnoCode, errorName } from './errors.ts'
interface AbortOptions { signal?: AbortSignal }

const IDENTITY = 0x00
/**
 * the largest block cairn takes in from outside (a CAR import): bitswap's
 * limit, and Kubo's; cairn's own chunks are at most 1 MiB
 */
export const MAX_BLOCK_BYTES = 2 * 1024 * 1024
/** blockstore-fs's default file suffix; kept so the layout stays its own */
const BLOCK_EXT = '.data'

/** Hashes `bytes` with the CID's hash function; throws on an unknown one. */
export function digestMatches (cid: CID, bytes: Uint8Array): boolean {
  const { code, digest } = cid.multihash
  const actual = code === IDENTITY ? bytes : createHash(hashName(cid)).update(bytes).digest()
  return Buffer.compare(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength), Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength)) === 0
}

/** What readers need (cat, get, ls, DAG walks): the repo's blocks, or those plus the network. */
export interface BlockReader {
  getBytes: (cid: CID, options?: AbortOptions) => Promise<Uint8Array>
  get: (cid: CID, options?: AbortOptions) => AsyncGenerator<Uint8Array>
  has: (cid: CID, options?: AbortOptions) => Promise<boolean>
  /** blocks a sequential reader should keep in flight (more over a network than from disk) */
  readAhead?: number
  /** the caller will read every block under `cid`: a networked store may fetch them ahead */
  prefetch?: (cid: CID) => void
}

export interface ReadOptions {
  /**
   * the caller itself checked these bytes against the CID when it wrote
   * them moments ago (a fetch reading back what it stored): skip the hash
   */
  verified?: boolean
}

/** The interface the importer, the exporter and the CAR code see. */
export interface BlockStore {
  put: (cid: CID, bytes: Uint8Array, options?: AbortOptions) => Promise<CID>
  get: (cid: CID, options?: AbortOptions) => AsyncGenerator<Uint8Array>
  has: (cid: CID, options?: AbortOptions) => Promise<boolean>
}

export class Blocks implements BlockStore {
  private readonly fs: FsBlockstore
  /** shard directories known to exist */
  private readonly shards = new Set<string>()
  /** numbers temp files, so concurrent writers never share one */
  private writes = 0
  /** the thread that checks and writes fetched blocks, once a fetch needs it */
  private writer: BlockWriter | null = null

  constructor (readonly dir: string) {
    this.fs = new FsBlockstore(dir)
  }

  async open (): Promise<void> {
    try {
      await this.fs.open()
    } catch (err) {
      throw new RepoError(describeFsError(err, `cannot open the block store at ${this.dir}`))
    }
  }

  async close (): Promise<void> {
    await this.writer?.close()
    await this.fs.close()
  }

  private blockWriter (): BlockWriter {
    this.writer ??= new BlockWriter(c => this.pathOf(c))
    return this.writer
  }

  /** A fetch or a seed is starting: the block writer's thread gets ready meanwhile. */
  warmWriter (): void { this.blockWriter().warm() }

  /**
   * A fetched block: hashed against its CID and, if it matches, stored, on
   * the block writer's thread (block-writer.ts). `owned`: nothing else refers
   * to `bytes`, which then move to the thread and back instead of being
   * copied; use the returned bytes afterwards. `hashed`: the caller made
   * the CID from these very bytes (an import), so the thread only writes.
   */
  async putChecked (cid: CID, bytes: Uint8Array, owned: boolean, hashed = false): Promise<Checked> {
    if (cid.multihash.code === IDENTITY) return { match: digestMatches(cid, bytes), bytes }
    return await this.blockWriter().write(cid, bytes, owned, hashed)
  }

  /**
   * Writes a block to a temp file and renames it into place (a reader never
   * sees a part of a block). Our own rather than blockstore-fs's put, which
   * runs mkdir -p and a steno writer per block and shares one temp name
   * between concurrent writers of the same block; this one creates each shard
   * directory once and gives every write its own temp name. Same layout.
   */
  async put (cid: CID, bytes: Uint8Array, options?: AbortOptions): Promise<CID> {
    if (cid.multihash.code === IDENTITY) return cid // the CID is the data
    options?.signal?.throwIfAborted()
    const file = this.pathOf(cid)
    try {
      writeBlockFile(file, `${file}.${process.pid}-${this.writes++}.tmp`, bytes, this.shards)
    } catch (err) {
      throw new RepoError(describeFsError(err, `cannot write block ${cid.toString()}`))
    }
    return cid
  }

  /** The whole block, verified against its CID. */
  async getBytes (cid: CID, options?: AbortOptions & ReadOptions): Promise<Uint8Array> {
    if (cid.multihash.code === IDENTITY) return cid.multihash.digest
    const file = this.pathOf(cid)
    let bytes: Uint8Array
    try {
      bytes = await fsp.readFile(file, { signal: options?.signal })
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new BlockNotFoundError(cid.toString())
      if (errorName(err) === 'AbortError') throw err
      throw new RepoError(describeFsError(err, `cannot read block ${cid.toString()}`))
    }
    if (options?.verified !== true && !digestMatches(cid, bytes)) throw new CorruptBlockError(cid.toString(), file)
    return bytes
  }

  async * get (cid: CID, options?: AbortOptions): AsyncGenerator<Uint8Array> {
    yield await this.getBytes(cid, options)
  }

  /**
   * The whole block read into `into`, verified, as a view of it; a fresh
   * buffer when the block is larger. For readers that reuse their buffers
   * (the gateway) rather than leave a fresh 1 MiB buffer per block to the
   * garbage collector, which at disk speed lets dead ones pile up to
   * hundreds of MiB. The view is valid until the caller reuses `into`.
   */
  async readInto (cid: CID, into: Uint8Array, options?: AbortOptions): Promise<Uint8Array> {
    if (cid.multihash.code === IDENTITY) return cid.multihash.digest
    options?.signal?.throwIfAborted()
    const file = this.pathOf(cid)
    let fh: fsp.FileHandle
    try {
      fh = await fsp.open(file, 'r')
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new BlockNotFoundError(cid.toString())
      throw new RepoError(describeFsError(err, `cannot read block ${cid.toString()}`))
    }
    let bytes: Uint8Array
    try {
      const { size } = await fh.stat()
      if (size > into.byteLength) return await this.getBytes(cid, options)
      let n = 0
      while (n < size) {
        const { bytesRead } = await fh.read(into, n, size - n, n)
        if (bytesRead === 0) break
        n += bytesRead
      }
      bytes = into.subarray(0, n)
    } catch (err) {
      if (err instanceof BlockNotFoundError || err instanceof CorruptBlockError || err instanceof RepoError) throw err
      throw new RepoError(describeFsError(err, `cannot read block ${cid.toString()}`))
    } finally {
      await fh.close()
    }
    if (!digestMatches(cid, bytes)) throw new CorruptBlockError(cid.toString(), file)
    return bytes
  }

  async has (cid: CID, options?: AbortOptions): Promise<boolean> {
    if (cid.multihash.code === IDENTITY) return true
    return await this.fs.has(cid, options)
  }

  async delete (cid: CID): Promise<void> { await this.fs.delete(cid) }

  // the rest of interface-blockstore, for Helia
  async * putMany (source: AsyncIterable<{ cid: CID, bytes: Uint8Array }> | Iterable<{ cid: CID, bytes: Uint8Array }>, options?: AbortOptions): AsyncGenerator<CID> {
    for await (const { cid, bytes } of source) yield await this.put(cid, bytes, options)
  }

  async * getMany (source: AsyncIterable<CID> | Iterable<CID>, options?: AbortOptions): AsyncGenerator<{ cid: CID, bytes: AsyncGenerator<Uint8Array> }> {
    for await (const cid of source) yield { cid, bytes: this.get(cid, options) }
  }

  async * deleteMany (source: AsyncIterable<CID> | Iterable<CID>): AsyncGenerator<CID> {
    for await (const cid of source) {
      await this.delete(cid)
      yield cid
    }
  }

  async * getAll (): AsyncGenerator<{ cid: CID, bytes: AsyncGenerator<Uint8Array> }> {
    for await (const { cid } of this.list()) yield { cid, bytes: this.get(cid) }
  }

  /** Where a block lives: blocks/<last 2 chars>/<BASE32UPPER(multihash)>.data */
  pathOf (cid: CID): string {
    const name = base32upper.encoder.encode(cid.multihash.bytes)
    return path.join(this.dir, name.slice(-2), name + BLOCK_EXT)
  }

  /**
   * Every block on disk, as a raw-codec CID of its multihash (the store is
   * keyed by multihash, so the codec is not recorded), with its file path.
   */
  async * list (): AsyncGenerator<{ cid: CID, file: string }> {
    let shards: string[]
    try {
      shards = await fsp.readdir(this.dir)
    } catch (err) {
      throw new RepoError(describeFsError(err, `cannot read the block store at ${this.dir}`))
    }
    for (const shard of shards.sort()) {
      const sub = path.join(this.dir, shard)
      let names: string[]
      try { names = await fsp.readdir(sub) } catch { continue }
      for (const name of names.sort()) {
        if (!name.endsWith(BLOCK_EXT) || name.startsWith('.')) continue
        try {
          const mh = Digest.decode(base32upper.decoder.decode(name.slice(0, -BLOCK_EXT.length)))
          yield { cid: CID.createV1(0x55, mh), file: path.join(sub, name) }
        } catch { /* not a block file: ignore */ }
      }
    }
  }

  /** Removes temp files left by writers that died mid-block (call with the writer lock held). */
  async removeTempFiles (): Promise<number> {
    let removed = 0
    const none: string[] = []
    for (const shard of await fsp.readdir(this.dir).catch(() => none)) {
      const sub = path.join(this.dir, shard)
      for (const name of await fsp.readdir(sub).catch(() => none)) {
        if (name.endsWith('.tmp')) {
          await fsp.rm(path.join(sub, name), { force: true })
          removed++
        }
      }
    }
    return removed
  }

  /**
   * Makes every block written so far durable: one syncfs(2) of the store's
   * file system (coreutils `sync -f`), cheaper than an fsync per block file.
   */
  async sync (): Promise<void> {
    try {
      await syncFileSystem(this.dir)
    } catch (err) {
      throw new RepoError(describeFsError(err, 'cannot flush the block store to disk'))
    }
  }
}

// AnchorChain: the blocks of one network that passed every rule, the best
// head among them (most cumulative work, first seen on ties), the pending
// pool, and the pools of blocks that cannot be judged yet (unknown parent:
// orphans; too far in the future: held back). Blocks from the local miner
// and, later, from peers all enter through submit().
//
// The last KEPT_DEPTH blocks below the head are kept in memory as objects
// (the window); below it the main chain is final: its CIDs are kept in a
// spine (core/anchor/spine.ts, 36 bytes a block), its headers and bodies
// read from the store when a peer or a proof asks, and side branches are
// dropped. A block that builds below the window's floor is `stale`: a
// reorganisation goes no deeper than the window (docs/design.md).

import { EventEmitter } from 'node:events'
import { CID } from 'multiformats/cid'
import { cborCid, decodeBody, decodeHeader, isCborCid } from './encoding.ts'
import { decodeManifest, readManifest, type EncodedManifest } from './manifest.ts'
import { ManifestIndex } from './manifest-index.ts'
import { PendingPool } from './pending.ts'
import { AnchorError, AnchorRuleError, type Rule } from './rules.ts'
import { MEDIAN_TIME_SPAN, checkBody, checkContext, checkHeader, genesisMeta, type BlockMeta } from './validate.ts'
import { KeptBlock, PrunedBlock } from './kept-block.ts'
import { MainSpine } from './spine.ts'
import type { Network } from './params.ts'
import type { ChainStore } from './store.ts'
import { blockTemplate, type Template } from './template.ts'
import { BoundedMap } from '../util/bounded-map.ts'
import { ByteSlab } from '../util/byte-slab.ts'

/** blocks below the head kept in memory as objects (the window: ~0.4 MiB); a reorganisation goes no deeper */
export const KEPT_DEPTH = 1000
/** the window is cut when it is this many blocks over KEPT_DEPTH deep: a pass over the blocks once in so many, not on each */
const PRUNE_STEP = 64
/** blocks with an unknown parent kept at most (the oldest is dropped first) */
export const MAX_ORPHANS = 256
/** blocks held back for their future time, at most */
export const MAX_HELD = 256
/** bodies kept in memory for serving peers (≤ 16 KiB each; most are the one empty body) */
const MAX_CACHED_BODIES = 256
/** CIDs remembered as invalid, so a resent bad header costs one lookup */
const MAX_INVALID_REMEMBERED = 4096
/** the manifest keys of a block that carries none */
const NO_MANIFESTS: readonly string[] = Object.freeze([])

export type SubmitResult =
  | { status: 'accepted', cid: CID, height: number, head: boolean }
  | { status: 'known', cid: CID }
  | { status: 'orphan', cid: CID, parent: CID }
  | { status: 'held', cid: CID, until: number }
  /** it builds on a block below the window's floor: a reorganisation that deep is not made */
  | { status: 'stale', cid: CID, parent: CID }
  | { status: 'invalid', cid: CID | null, rule: Rule, message: string }

export interface HeadChange { head: BlockMeta, disconnected: BlockMeta[], connected: BlockMeta[] }

export interface Anchoring {
  manifest: EncodedManifest
  /** the main-chain block that holds it; null while pending */
  block: BlockMeta | null
  pending: boolean
}

interface Parked { header: Uint8Array, body: Uint8Array, manifests: Uint8Array[] }

export interface ChainOptions {
  /** the clock, Unix ms (tests move it) */
  now?: () => number
  /** false: read-only (a command reading the chain while no seed runs) */
  writable?: boolean
  /** blocks below the head kept in memory (default KEPT_DEPTH; tests make it small) */
  keep?: number
}

/** The body and manifests of a block, as a peer asks for them. */
export interface ServedBlock { body: Uint8Array, manifests: Uint8Array[] }

/** A block's parent, walking back towards a common ancestor (two blocks of one chain meet at genesis at the latest). */
function parentOf (b: BlockMeta): BlockMeta {
  if (b.parent == null) throw new AnchorError(`block ${b.key} has no parent: the two branches share no ancestor`)
  return b.parent
}

export class AnchorChain extends EventEmitter<{ head: [HeadChange], pending: [EncodedManifest] }> {
  readonly genesis: BlockMeta
  private best: BlockMeta
  private readonly blocks = new Map<string, BlockMeta>()
  /** the manifest keys of blocks that carry any (most carry none) */
  private readonly blockManifests = new Map<string, readonly string[]>()
  /** every accepted block's CID and header bytes (core/anchor/kept-block.ts) */
  private readonly slab = new ByteSlab()
  private readonly index = new ManifestIndex()
  /** the main chain from height `base` up (main[i] is at height base + i) */
  private readonly main: BlockMeta[] = []
  /** the height of the window's bottom block: below it, blocks are pruned and the main chain is in the spine */
  private base = 0
  /** the main chain's CIDs at heights 1 to base - 1 */
  private readonly spine = new MainSpine()
  private readonly keep: number
  /** blocks below a parent that the rules read (median time, the retarget window), and one more */
  private readonly context: number
  readonly pending = new PendingPool()
  private readonly orphans = new BoundedMap<string, Parked & { parent: string }>(MAX_ORPHANS)
  private readonly held = new BoundedMap<string, Parked & { until: number }>(MAX_HELD)
  private readonly invalid = new BoundedMap<string, { rule: Rule, message: string }>(MAX_INVALID_REMEMBERED)
  private queue: Promise<unknown> = Promise.resolve()
  private heldTimer: NodeJS.Timeout | null = null
  /** inside submitBatch: block keys to index and whether the head moved, written once at its end */
  private batch: { keys: string[], head: boolean } | null = null
  private readonly recentBodies = new BoundedMap<string, Uint8Array>(MAX_CACHED_BODIES)
  private readonly now: () => number
  private readonly writable: boolean

  private constructor (readonly net: Network, private readonly store: ChainStore, o: ChainOptions) {
    super()
    this.now = o.now ?? Date.now
    this.writable = o.writable ?? true
    this.context = Math.max(MEDIAN_TIME_SPAN, net.params.window) + 1
    // the floor stays above the rules' reach, and the head above the floor
    this.keep = Math.max(o.keep ?? KEPT_DEPTH, 2 * this.context)
    this.genesis = genesisMeta(net)
    this.best = this.genesis
    this.blocks.set(this.genesis.key, this.genesis)
    this.main.push(this.genesis)
  }

  /** Loads the chain from its store (re-checking every header rule and every hash; signatures were checked when stored). */
  static async open (net: Network, store: ChainStore, o: ChainOptions = {}): Promise<AnchorChain> {
    const chain = new AnchorChain(net, store, o)
    await chain.load()
    return chain
  }

  get head (): BlockMeta { return this.best }
  /** a template to mine on the head (core/anchor/template.ts) */
  template (now = this.now()): Template { return blockTemplate(this, now) }
  get height (): number { return this.best.height }

  /** The main-chain block at a height, if it is in the window. */
  mainAt (height: number): BlockMeta | undefined { return height >= this.base ? this.main[height - this.base] : undefined }
  /** A block in the window (below it, only the main chain's CIDs are kept). */
  block (cid: CID | string): BlockMeta | undefined { return this.blocks.get(cid.toString()) }
  /** How many blocks are kept as objects (the window, its side branches, genesis until pruned). */
  get keptCount (): number { return this.blocks.size }
  /** The lowest height a new block's parent may have: below it, a branch would reorganise deeper than the window. */
  get floor (): number { return this.base === 0 ? 0 : this.base + this.context }

  /** The CID of the main-chain block at `height` (0 to the head's). */
  mainCid (height: number): CID {
    if (height === 0) return this.genesis.cid
    if (height < this.base) return this.spine.cidAt(height)
    const b = this.mainAt(height)
    if (b == null) throw new AnchorError(`no main-chain block at height ${height}`)
    return b.cid
  }

  headerBytes (cid: CID | string): Uint8Array | undefined {
    const b = this.blocks.get(cid.toString())
    return b instanceof KeptBlock ? b.header : undefined
  }

  isOnMain (b: BlockMeta): boolean {
    if (b.height >= this.base) return this.mainAt(b.height) === b
    return b.height === 0 ? b.key === this.genesis.key : this.spine.keyAt(b.height) === b.key
  }

  /** manifest CIDs in a block's body */
  manifestsOf (b: BlockMeta): readonly string[] { return this.blockManifests.get(b.key) ?? NO_MANIFESTS }
  manifest (key: string): EncodedManifest | undefined { return this.index.get(key) }
  /** The header of a block past genesis: in memory in the window, from the store below it. */
  private async headerOf (b: BlockMeta): Promise<Uint8Array> {
    if (b instanceof KeptBlock) return b.header
    if (b.height === 0) throw new AnchorError(`the header of block ${b.key} is not known`)
    return await this.storedHeader(b.key)
  }

  private async storedHeader (key: string): Promise<Uint8Array> {
    const bytes = await this.store.get(key)
    if (bytes == null) throw new AnchorError(`the header of block ${key} is not in the store`)
    return bytes
  }

  async bodyBytes (b: BlockMeta): Promise<Uint8Array> {
    return await this.bodyOf(b.key, await this.headerOf(b))
  }

  /** The body of the block `blockKey` with the stored header `header`. */
  private async bodyOf (blockKey: string, header: Uint8Array): Promise<Uint8Array> {
    // the stored header was checked when it came in: its shape is enough here
    const key = decodeHeader(header).body.toString()
    const cached = this.recentBodies.get(key)
    if (cached != null) return cached
    const bytes = await this.store.get(key)
    if (bytes == null) throw new AnchorError(`the body of block ${blockKey} is not in the store`)
    this.recentBodies.set(key, bytes)
    return bytes
  }

  get orphanCount (): number { return this.orphans.size }
  get heldCount (): number { return this.held.size }

  /** Offers a block. Results: accepted, known, orphan (parent unknown), held (future time), invalid (rule named). */
  async submit (header: Uint8Array, body: Uint8Array, manifests: Uint8Array[] = []): Promise<SubmitResult> {
    return await this.serial(async () => await this.submitNow({ header, body, manifests }))
  }

  /**
   * Offers blocks in order (a sync's batch), stopping after the first that is
   * not accepted or known. One flush, one index append and one head write
   * for the lot instead of one each per block: the index and head still name
   * only blocks whose objects are durable (a crash mid-batch loses the
   * batch's blocks, which the sync fetches again).
   */
  async submitBatch (blocks: Array<{ header: Uint8Array, body: Uint8Array, manifests: Uint8Array[] }>): Promise<SubmitResult[]> {
    return await this.serial(async () => {
      const out: SubmitResult[] = []
      this.batch = { keys: [], head: false }
      try {
        for (const b of blocks) {
          const r = await this.submitNow(b)
          out.push(r)
          if (r.status !== 'accepted' && r.status !== 'known') break
        }
      } finally {
        const batch = this.batch
        this.batch = null
        if (batch.keys.length > 0) {
          await this.store.sync()
          await this.store.appendIndex(...batch.keys)
        }
        if (batch.head && this.writable) await this.store.writeHead(this.best.key)
      }
      return out
    })
  }

  private async serial<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => {})
    return await run
  }

  private async submitNow (p: Parked): Promise<SubmitResult> {
    let cid: CID | null = null
    try {
      const c = checkHeader(p.header, this.net)
      cid = c.cid
      const key = cid.toString()
      if (this.blocks.has(key)) return { status: 'known', cid }
      const bad = this.invalid.get(key)
      if (bad != null) return { status: 'invalid', cid, ...bad }
      const parent = this.blocks.get(c.header.prev.toString())
      if (parent == null && await this.pruned(c.header.prev)) return { status: 'stale', cid, parent: c.header.prev }
      if (parent == null) {
        this.orphans.renew(key, { ...p, parent: c.header.prev.toString() })
        return { status: 'orphan', cid, parent: c.header.prev }
      }
      if (parent.height < this.floor) return { status: 'stale', cid, parent: c.header.prev }
      let ctx
      try {
        ctx = checkContext(c.header, parent, this.net, this.now())
      } catch (err) {
        if (err instanceof AnchorRuleError) this.rememberInvalid(key, err)
        throw err
      }
      if (!ctx.ok) {
        this.held.renew(key, { ...p, until: ctx.heldUntil })
        this.scheduleHeld()
        return { status: 'held', cid, until: ctx.heldUntil }
      }
      const supplied = new Map<string, Uint8Array>()
      for (const m of p.manifests) supplied.set(cborCid(m).toString(), m)
      const { manifests } = await checkBody(c.header, p.body, m => supplied.get(m.toString()) ?? this.index.get(m.toString())?.bytes, m => this.onBranch(m.toString(), parent))
      if (!this.writable) throw new AnchorError('this chain was opened read-only')
      // durable before it is indexed, indexed before it can become the head
      await this.store.put(key, p.header)
      await this.store.put(c.header.body.toString(), p.body)
      for (const m of manifests) await this.store.put(m.cid.toString(), m.bytes)
      if (this.batch != null) {
        this.batch.keys.push(key)
      } else {
        await this.store.sync()
        await this.store.appendIndex(key)
      }
      const meta = new KeptBlock(c, p.header, parent, this.slab)
      this.link(meta, manifests)
      const isHead = meta.work > this.best.work
      if (isHead) await this.setHead(meta)
      await this.adoptOrphans(key)
      return { status: 'accepted', cid, height: meta.height, head: isHead }
    } catch (err) {
      if (err instanceof AnchorRuleError) return { status: 'invalid', cid, rule: err.rule, message: err.message }
      throw err
    }
  }

  /** Whether `cid` is a block this chain had and pruned (genesis, or a header in the store but not in the window). */
  private async pruned (cid: CID): Promise<boolean> {
    if (this.base === 0) return false
    if (cid.equals(this.genesis.cid)) return true
    return isCborCid(cid) && (await this.store.get(cid.toString())) != null
  }

  private rememberInvalid (key: string, err: AnchorRuleError): void {
    this.invalid.set(key, { rule: err.rule, message: err.message })
  }

  /** Orphans waiting for `parentKey` are tried now, and theirs after them. */
  private async adoptOrphans (parentKey: string): Promise<void> {
    const todo = [parentKey]
    for (let parent = todo.shift(); parent != null; parent = todo.shift()) {
      for (const [key, o] of [...this.orphans]) {
        if (o.parent !== parent) continue
        this.orphans.delete(key)
        const r = await this.submitNow(o)
        if (r.status === 'accepted') todo.push(key)
      }
    }
  }

  /** Retries held-back blocks whose time has come; runs on a timer too. */
  async retryHeld (): Promise<SubmitResult[]> {
    return await this.serial(async () => {
      const now = this.now()
      const out: SubmitResult[] = []
      for (const [key, h] of [...this.held]) {
        if (h.until > now) continue
        this.held.delete(key)
        out.push(await this.submitNow(h))
      }
      this.scheduleHeld()
      return out
    })
  }

  private scheduleHeld (): void {
    if (this.heldTimer != null) clearTimeout(this.heldTimer)
    this.heldTimer = null
    if (this.held.size === 0) return
    const next = Math.min(...[...this.held.values()].map(h => h.until))
    this.heldTimer = setTimeout(() => { void this.retryHeld().catch(() => {}) }, Math.max(0, next - this.now()) + 10)
    this.heldTimer.unref()
  }

  close (): void {
    if (this.heldTimer != null) clearTimeout(this.heldTimer)
    this.heldTimer = null
  }

  private link (meta: KeptBlock, manifests: EncodedManifest[]): void {
    this.blocks.set(meta.key, meta)
    if (manifests.length > 0) this.blockManifests.set(meta.key, manifests.map(m => m.cid.toString()))
    for (const m of manifests) this.index.carriedBy(m, meta)
  }

  /** Whether a manifest is in `tip` or a block below it. */
  onBranch (manifestKey: string, tip: BlockMeta): boolean {
    return this.index.carriersOf(manifestKey).some(b => this.isAncestor(b, tip))
  }

  private isAncestor (b: BlockMeta, tip: BlockMeta): boolean {
    let cur: BlockMeta | null = tip
    while (cur != null && cur.height >= b.height) {
      if (cur === b) return true
      // once on the main chain, the main chain answers in one lookup
      if (this.mainAt(cur.height) === cur) return this.isOnMain(b)
      cur = cur.parent
    }
    return false
  }

  /** Moves the head, returning abandoned blocks' manifests to the pending pool. */
  private async setHead (next: BlockMeta): Promise<void> {
    let a: BlockMeta = this.best
    let b: BlockMeta = next
    const disconnected: BlockMeta[] = []
    const connected: BlockMeta[] = []
    while (a.height > b.height) { disconnected.push(a); a = parentOf(a) }
    while (b.height > a.height) { connected.push(b); b = parentOf(b) }
    while (a !== b) {
      disconnected.push(a); a = parentOf(a)
      connected.push(b); b = parentOf(b)
    }
    connected.reverse()
    // new blocks build at or above the floor, so every branch meets the main chain in the window
    if (a.height < this.base) throw new AnchorError(`block ${next.key} forks below the window, at height ${a.height}`)
    this.main.length = a.height + 1 - this.base
    for (const c of connected) this.main.push(c)
    this.best = next
    if (this.batch != null) this.batch.head = true
    else if (this.writable) await this.store.writeHead(next.key)
    const nowAnchored = new Set(connected.flatMap(c => this.manifestsOf(c)))
    for (const k of nowAnchored) {
      if (this.pending.remove(k) != null && this.writable) await this.store.removePending(k)
    }
    for (const d of disconnected) {
      for (const k of this.manifestsOf(d)) {
        if (nowAnchored.has(k) || this.pending.has(k)) continue
        const m = this.index.get(k)
        if (m == null) continue
        try {
          this.pending.add(m)
          if (this.writable) await this.store.addPending(k)
        } catch { /* pool full: dropped, as a full pool drops any newcomer */ }
      }
    }
    this.emit('head', { head: next, disconnected, connected })
    if (next.height - this.keep - this.base >= PRUNE_STEP) this.pruneBelow(next.height - this.keep)
  }

  /**
   * Makes `height` the window's bottom: the main chain below it goes into the
   * spine, every block below it is dropped, and so is every branch that
   * leaves the main chain below it. A dropped main-chain block that carries
   * manifests stays as a PrunedBlock in the manifest index.
   */
  private pruneBelow (height: number): void {
    if (height <= this.base) return
    for (let h = Math.max(this.base, 1); h < height; h++) this.spine.push(this.main[h - this.base].cid)
    this.main.splice(0, height - this.base)
    this.base = height
    const bottom = this.main[0]
    for (const [key, b] of this.blocks) {
      if (this.meetsWindow(b)) continue
      this.blocks.delete(key)
      this.dropCarried(b)
    }
    if (bottom instanceof KeptBlock) bottom.parent = new PrunedBlock(bottom.parent, false)
  }

  /** Whether `b`'s branch meets the main chain at or above the window's bottom. */
  private meetsWindow (b: BlockMeta): boolean {
    for (let cur: BlockMeta | null = b; cur != null && cur.height >= this.base; cur = cur.parent) {
      if (this.mainAt(cur.height) === cur) return true
    }
    return false
  }

  /** A pruned block's manifests: carried by a PrunedBlock from now on if it is on the main chain, by nothing if not. */
  private dropCarried (b: BlockMeta): void {
    const keys = this.blockManifests.get(b.key)
    if (keys == null) return
    const onMain = this.isOnMain(b)
    const kept = onMain ? new PrunedBlock(b, true) : null
    for (const k of keys) this.index.replaceCarrier(k, b, kept)
    if (!onMain) this.blockManifests.delete(b.key)
  }

  /** Queues a manifest for anchoring (checked, signature verified). */
  async addPending (bytes: Uint8Array): Promise<{ status: 'pending' | 'known' | 'anchored', cid: CID, block?: BlockMeta }> {
    const m = await readManifest(bytes)
    return await this.serial(async () => {
      const key = m.cid.toString()
      const at = this.index.carriersOf(key).find(b => this.isOnMain(b))
      if (at != null) return { status: 'anchored' as const, cid: m.cid, block: at }
      if (this.pending.has(key)) return { status: 'known' as const, cid: m.cid }
      this.pending.add(m)
      this.index.remember(m)
      if (this.writable) {
        await this.store.put(key, bytes)
        await this.store.sync()
        await this.store.addPending(key)
      }
      this.emit('pending', m)
      return { status: 'pending' as const, cid: m.cid }
    })
  }

  /** Every manifest known for a root, and where it is anchored on the main chain. */
  anchorings (root: CID): Anchoring[] {
    return this.anchoringsOf(this.index.forRoot(root))
  }

  /** Every name manifest known for the name of `publisher` (a protobuf public key). */
  nameAnchorings (publisher: Uint8Array): Anchoring[] {
    return this.anchoringsOf(this.index.forName(publisher))
  }

  private anchoringsOf (keys: Set<string> = new Set()): Anchoring[] {
    return [...keys].flatMap(k => {
      const manifest = this.index.get(k)
      if (manifest == null) return []
      const block = this.index.carriersOf(k).find(b => this.isOnMain(b)) ?? null
      return [{ manifest, block, pending: this.pending.has(k) }]
    })
  }

  /** Profiles of every known manifest (to rebuild a path's CID). */
  knownManifests (): IterableIterator<EncodedManifest> { return this.index.values() }

  /** CIDs from the head back (dense for 10, then doubling steps), for headers-first sync. */
  locator (): CID[] {
    const out: CID[] = []
    let step = 1
    // the floor's block too: a peer whose branch leaves ours above the floor then answers from a block we keep
    let floorIn = this.floor === 0
    for (let h = this.best.height; h > 0; h -= step) {
      if (!floorIn && h <= this.floor) {
        if (h < this.floor) out.push(this.mainCid(this.floor))
        floorIn = true
      }
      out.push(this.mainCid(h))
      if (out.length >= 10) step *= 2
    }
    out.push(this.genesis.cid)
    return out
  }

  /** Main-chain headers after the first locator CID on the main chain (genesis when none); below the window, read from the store. */
  async headersAfter (locator: CID[], max = 2000): Promise<Uint8Array[]> {
    let start = 0
    for (const c of locator) {
      const h = await this.mainHeightOf(c)
      if (h != null) { start = h; break }
    }
    const out: Uint8Array[] = []
    for (let h = start + 1; h <= Math.min(this.best.height, start + max); h++) {
      out.push(h >= this.base ? await this.headerOf(this.main[h - this.base]) : await this.storedHeader(this.spine.keyAt(h)))
    }
    return out
  }

  /** The height of `cid` if it is on the main chain (a block below the window: its header read from the store). */
  private async mainHeightOf (cid: CID): Promise<number | null> {
    const key = cid.toString()
    const b = this.blocks.get(key)
    if (b != null) return this.isOnMain(b) ? b.height : null
    if (key === this.genesis.key) return 0
    return (await this.belowWindow(cid))?.height ?? null
  }

  /** A main-chain block below the window: its height and its header, read from the store; null if `cid` is none. */
  private async belowWindow (cid: CID): Promise<{ height: number, header: Uint8Array } | null> {
    if (this.base === 0 || !isCborCid(cid)) return null
    const key = cid.toString()
    const header = await this.store.get(key)
    if (header == null) return null
    let height: number
    try {
      height = decodeHeader(header).height
    } catch {
      return null
    }
    return height > 0 && height < this.base && this.spine.keyAt(height) === key ? { height, header } : null
  }

  /** A main-chain or window block's body and manifests, for a peer (below the window, read from the store); null if not known. */
  async served (cid: CID): Promise<ServedBlock | null> {
    const key = cid.toString()
    const b = this.blocks.get(key)
    if (b != null) return b.height === 0 ? null : { body: await this.bodyBytes(b), manifests: this.manifestBytes(this.manifestsOf(b)) }
    const below = await this.belowWindow(cid)
    if (below == null) return null
    const body = await this.bodyOf(key, below.header)
    // below the window: its manifests from its body (the index knows every manifest it has stored)
    return { body, manifests: this.manifestBytes(decodeBody(body).map(m => m.toString())) }
  }

  private manifestBytes (keys: readonly string[]): Uint8Array[] {
    return keys.map(k => this.index.get(k)?.bytes).filter(m => m != null)
  }

  private async load (): Promise<void> {
    const keys = await this.store.readIndex()
    for (const key of keys) {
      const header = await this.store.get(key)
      // a block whose objects a crash lost is skipped, and so are its descendants
      if (header == null || cborCid(header).toString() !== key || this.blocks.has(key)) continue
      try {
        const c = checkHeader(header, this.net)
        const parent = this.blocks.get(c.header.prev.toString())
        if (parent == null) continue
        checkContext(c.header, parent, this.net, Number.MAX_SAFE_INTEGER)
        const body = await this.store.get(c.header.body.toString())
        if (body == null || !cborCid(body).equals(c.header.body)) continue
        const manifests: EncodedManifest[] = []
        for (const m of decodeBody(body)) {
          const bytes = await this.store.get(m.toString())
          if (bytes == null || !cborCid(bytes).equals(m)) throw new AnchorError('missing manifest')
          manifests.push({ manifest: decodeManifest(bytes), bytes, cid: m })
        }
        const meta = new KeptBlock(c, header, parent, this.slab)
        this.link(meta, manifests)
        if (meta.work > this.best.work) this.best = meta
      } catch (err) {
        if (!(err instanceof AnchorRuleError || err instanceof AnchorError)) throw err
      }
    }
    const recorded = await this.store.readHead()
    const head = recorded != null ? this.blocks.get(recorded) : undefined
    if (head != null && head.work === this.best.work) this.best = head
    this.main.length = 0
    for (let b: BlockMeta | null = this.best; b != null; b = b.parent) this.main.push(b)
    this.main.reverse()
    this.pruneBelow(this.best.height - this.keep)
    for (const key of await this.store.listPending()) {
      const bytes = await this.store.get(key)
      if (bytes == null || cborCid(bytes).toString() !== key) continue
      let m: EncodedManifest
      try {
        m = { manifest: decodeManifest(bytes), bytes, cid: CID.parse(key) }
      } catch { continue }
      this.index.remember(m)
      const anchored = this.index.carriersOf(key).some(b => this.isOnMain(b))
      if (anchored) {
        if (this.writable) await this.store.removePending(key)
        continue
      }
      try { this.pending.add(m) } catch { /* over the bound: left on disk */ }
    }
  }
}

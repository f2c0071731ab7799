// The manifests a chain knows and where they stand: each by its CID, the
// blocks that carry it (on any branch), and the keys of content manifests
// by root and of name manifests by publisher. AnchorChain keeps one; which
// carrying block is on the main chain is the chain's to say.

import type { CID } from 'multiformats/cid'
import { publisherId, type EncodedManifest } from './manifest.ts'
import { flat } from '../util/flat-string.ts'
import type { BlockMeta } from './validate.ts'

/** The same content named by CIDv0 or CIDv1 is one root. */
const rootKey = (root: CID): string => root.toV1().toString()

export class ManifestIndex {
  private readonly manifests = new Map<string, EncodedManifest>()
  private readonly carriers = new Map<string, BlockMeta[]>()
  private readonly byRoot = new Map<string, Set<string>>()
  /** name manifests by their publisher key (base64 of its protobuf) */
  private readonly byName = new Map<string, Set<string>>()

  get (key: string): EncodedManifest | undefined { return this.manifests.get(key) }

  values (): IterableIterator<EncodedManifest> { return this.manifests.values() }

  /** Knows `m` from now on (once; a manifest seen again changes nothing). */
  remember (m: EncodedManifest): void {
    // kept for the chain's life: flat (util/flat-string.ts); the chain's own
    // lists of a block's manifests hold the same strings
    const k = flat(m.cid.toString())
    if (this.manifests.has(k)) return
    this.manifests.set(k, m)
    const [index, r] = m.manifest.type === 'ipns' ? [this.byName, publisherId(m.manifest)] : [this.byRoot, rootKey(m.manifest.root)]
    flat(r)
    const set = index.get(r) ?? new Set()
    set.add(k)
    index.set(r, set)
  }

  /** `m` is carried by the block `meta`. */
  carriedBy (m: EncodedManifest, meta: BlockMeta): void {
    this.remember(m)
    const k = m.cid.toString()
    const list = this.carriers.get(k) ?? []
    list.push(meta)
    this.carriers.set(k, list)
  }

  /** `from`, a carrier of the manifest `key`, is `to` from now on (the chain pruned it); `to` null: it carries it no more (a pruned branch). */
  replaceCarrier (key: string, from: BlockMeta, to: BlockMeta | null): void {
    const list = this.carriers.get(key)
    if (list == null) return
    const rest = list.flatMap(b => b !== from ? [b] : to != null ? [to] : [])
    if (rest.length > 0) this.carriers.set(key, rest)
    else this.carriers.delete(key)
  }

  /** The blocks that carry the manifest `key`, on any branch. */
  carriersOf (key: string): readonly BlockMeta[] { return this.carriers.get(key) ?? [] }

  /** Keys of the content manifests of `root`. */
  forRoot (root: CID): Set<string> | undefined { return this.byRoot.get(rootKey(root)) }

  /** Keys of the name manifests of `publisher` (a protobuf public key). */
  forName (publisher: Uint8Array): Set<string> | undefined { return this.byName.get(Buffer.from(publisher).toString('base64')) }
}

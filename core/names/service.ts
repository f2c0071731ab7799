// Names: publish an IPNS record to the DHT (and, on a seed, the name's
// pubsub topic), anchor it in the chain, and resolve a name through the
// cache, pubsub, then the DHT, taking the highest valid sequence — never one
// below a sequence seen anchored for the name, so a peer that replays an old
// record cannot roll the name back.

import { setTimeout as sleep } from 'node:timers/promises'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { unmarshalIPNSRecord, type IPNSRecord } from 'ipns'
import { CID } from 'multiformats/cid'
import { NameRecords } from '../../storage/name-records.ts'
import { signNameManifest } from '../anchor/manifest.ts'
import { queueInRepo } from '../anchor/service.ts'
import { AbortedError, CairnError, errorMessage, UsageError } from '../util/errors.ts'
import { loadKey } from './keys.ts'
import { newer, type NamePubSub } from './pubsub.ts'
import {
  BadRecordError, NameNotFoundError, createRecord, describeRecord, nameOfPeer, parseName, validateRecord,
  DEFAULT_LIFETIME_MS, DEFAULT_TTL_MS, type IpnsName
} from './record.ts'
import type { AnchorChain } from '../anchor/chain.ts'
import type { CairnNode } from '../net/node.ts'
import type { Repo } from '../../storage/repo.ts'

/** how long `name resolve` waits for the DHT by default */
export const RESOLVE_TIMEOUT_MS = 30_000
/** how long `name publish` waits for the DHT's PUT_VALUE answers */
export const PUBLISH_TIMEOUT_MS = 30_000
/** an empty DHT lookup is run again after this, doubling up to RELOOKUP_MAX_MS (as findprovs) */
const RELOOKUP_FIRST_MS = 500
const RELOOKUP_MAX_MS = 8_000

export interface NameServiceInit {
  repo: Repo
  /** the seed's node, or one started for this command */
  node: () => Promise<CairnNode>
  /** the seed's chain, or the repo's opened for this command */
  chain: () => Promise<AnchorChain>
  /** true in the seed: manifests go into its chain; else they are queued in the repo */
  online: boolean
  /** the seed's name topics; null without a seed */
  pubsub: NamePubSub | null
}

export interface PublishOptions {
  key?: string
  lifetimeMs?: number
  ttlMs?: number
  timeoutMs?: number
  signal?: AbortSignal
}

export interface Published {
  name: string
  key: string
  value: string
  seq: number
  /** Unix ms */
  expires: number
  /** DHT peers that stored the record, and why none did */
  dht: { peers: number, error: string | null }
  /** pubsub peers it was sent to; null without a seed */
  pubsub: number | null
  /** 'pending' (queued for anchoring) or why not */
  anchor: string
}

export interface ResolveOptions { nocache?: boolean, timeoutMs?: number, signal?: AbortSignal }

export interface Resolved {
  name: string
  value: string
  seq: number
  expires: number
  /** how long the record may be cached (its TTL) */
  ttlMs: number
  source: 'cache' | 'pubsub' | 'dht' | 'anchored' | 'local'
  /** e.g. a DHT record older than the anchored one */
  warnings: string[]
}

export interface HistoryEntry {
  seq: number
  value: string
  manifest: string
  /** null while pending */
  height: number | null
  /** the anchoring block's time (Unix ms), or the manifest's while pending */
  time: number
  confirmations: number
}

interface Candidate { record: IPNSRecord, bytes: Uint8Array, source: Resolved['source'] }

/** '/ipfs/<cid>[/path]' from a CID or a path; anything else is a usage error. */
export function valuePath (value: string): { path: string, cid: CID } {
  const text = value.startsWith('/ipfs/') ? value.slice('/ipfs/'.length) : value
  const [head, ...rest] = text.split('/')
  let cid: CID
  try {
    cid = CID.parse(head)
  } catch {
    throw new UsageError(`name publish takes a CID or /ipfs/CID[/path] (got "${value.replace(/[^\x20-\x7e]/g, '?').slice(0, 100)}")`)
  }
  const segments = rest.filter(s => s !== '')
  return { path: ['/ipfs', cid.toString(), ...segments].join('/'), cid }
}

const recordSeq = (r: IPNSRecord): number => {
  if (r.sequence > BigInt(Number.MAX_SAFE_INTEGER)) throw new BadRecordError(`sequence ${r.sequence} is beyond what cairn anchors (2^53)`)
  return Number(r.sequence)
}

export class NameService {
  readonly records: NameRecords
  readonly repo: Repo

  constructor (private readonly s: NameServiceInit) {
    this.repo = s.repo
    this.records = new NameRecords(s.repo.datastore)
  }

  async publish (value: string, o: PublishOptions = {}): Promise<Published> {
    const keyName = o.key ?? 'self'
    const key = await loadKey(this.s.repo, keyName)
    const name = nameOfPeer(peerIdFromPrivateKey(key))
    const { path, cid } = valuePath(value)
    const lifetimeMs = o.lifetimeMs ?? DEFAULT_LIFETIME_MS
    const ttlMs = o.ttlMs ?? DEFAULT_TTL_MS
    // the next sequence is above every one this repo stored or saw anchored,
    // so a repo that lost its records still publishes above its history
    const stored = await this.records.get(name.text)
    let seq = stored != null ? recordSeq(unmarshalIPNSRecord(stored.record)) + 1 : 0
    seq = Math.max(seq, this.anchoredFloor(await this.s.chain(), name) + 1)
    const bytes = await createRecord(key, path, BigInt(seq), { lifetimeMs, ttlMs })
    const record = unmarshalIPNSRecord(bytes)
    await this.records.put({ name: name.text, record: bytes, seen: Date.now(), publishing: { key: keyName, lifetimeMs, ttlMs } })

    const dht = await this.putToDht(name, bytes, o)
    const pubsub = this.s.pubsub != null ? await this.s.pubsub.publish(name, bytes, record) : null
    let anchor = 'pending'
    try {
      const manifest = await signNameManifest(key, { root: cid, seq, record: bytes, time: Date.now() })
      if (this.s.online) anchor = (await (await this.s.chain()).addPending(manifest.bytes)).status
      else await queueInRepo(this.s.repo, manifest)
    } catch (err) {
      if (!(err instanceof CairnError) || err instanceof AbortedError) throw err
      anchor = `not queued: ${err.message}`
    }
    return { name: name.text, key: keyName, value: path, seq, expires: describeRecord(record).expires, dht, pubsub, anchor }
  }

  /**
   * Puts the record to the DHT's closest peers; what failed is said, not
   * thrown. A put that reached nobody is tried again until the time limit: a
   * fresh node's first lookup may run before its bootstrap peer is in its
   * routing table.
   */
  async putToDht (name: IpnsName, bytes: Uint8Array, o: { timeoutMs?: number, signal?: AbortSignal } = {}): Promise<Published['dht']> {
    const node = await this.s.node()
    const timeoutMs = o.timeoutMs ?? PUBLISH_TIMEOUT_MS
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(o.signal != null ? [o.signal] : [])])
    let peers = 0
    let lastError: string | null = null
    for (let pause = RELOOKUP_FIRST_MS; peers === 0 && !signal.aborted; pause = Math.min(pause * 2, RELOOKUP_MAX_MS)) {
      if (node.libp2p.getConnections().length === 0 && node.settings.bootstrap.length === 0) return { peers: 0, error: 'no peers connected and no bootstrap peer configured' }
      try {
        for await (const e of node.libp2p.services.dht.put(name.routingKey, bytes, { signal })) {
          if (e.name === 'PEER_RESPONSE' && e.messageName === 'PUT_VALUE') peers++
          if (e.name === 'QUERY_ERROR') lastError = e.error.message
        }
      } catch (err) {
        if (o.signal?.aborted === true) throw new AbortedError('interrupted')
        if (!signal.aborted) lastError = errorMessage(err)
      }
      if (peers === 0) await sleep(pause, undefined, { signal }).catch(() => {})
    }
    if (o.signal?.aborted === true) throw new AbortedError('interrupted')
    if (peers > 0) return { peers, error: null }
    return { peers, error: `no DHT server stored it within ${timeoutMs / 1000} s${lastError != null ? ` (the last attempt: ${lastError})` : ''}` }
  }

  /** The highest sequence anchored for the name on the main chain; -1 when none. */
  anchoredFloor (chain: AnchorChain, name: IpnsName): number {
    const anchored = this.anchored(chain, name).filter(a => a.height != null)
    return anchored.reduce((m, a) => Math.max(m, a.seq), -1)
  }

  private anchored (chain: AnchorChain, name: IpnsName): Array<HistoryEntry & { bytes: Uint8Array }> {
    const key = name.peerId.publicKey
    if (key == null) return [] // RSA names carry no key; only Ed25519 names are anchored
    return chain.nameAnchorings(publicKeyToProtobuf(key)).map(a => {
      const m = a.manifest.manifest
      if (m.type !== 'ipns') throw new Error('a file manifest indexed by name')
      return {
        seq: m.seq,
        value: unmarshalIPNSRecord(m.record).value,
        manifest: a.manifest.cid.toString(),
        height: a.block?.height ?? null,
        time: a.block?.time ?? m.time,
        confirmations: a.block != null ? chain.height - a.block.height + 1 : 0,
        bytes: m.record
      }
    })
  }

  /** The anchored records of a name, oldest first; pending ones last. */
  async history (nameText: string): Promise<{ name: string, entries: HistoryEntry[] }> {
    const name = parseName(nameText)
    const entries = this.anchored(await this.s.chain(), name)
      .sort((a, b) => (a.height ?? Infinity) - (b.height ?? Infinity) || a.seq - b.seq)
      .map(({ bytes: _b, ...e }) => e)
    return { name: name.text, entries }
  }

  async resolve (nameText: string, o: ResolveOptions = {}): Promise<Resolved> {
    return (await this.resolveRecord(nameText, o)).resolved
  }

  /** As resolve, with the winning record's bytes (the gateway's ?format=ipns-record). */
  async resolveRecord (nameText: string, o: ResolveOptions = {}): Promise<{ resolved: Resolved, record: Uint8Array }> {
    const name = parseName(nameText)
    const warnings: string[] = []
    const found: Candidate[] = []
    const now = Date.now()

    const stored = await this.records.get(name.text)
    if (stored != null) {
      try {
        const record = await validateRecord(name, stored.record)
        // our own names are always fresh here; others' within their TTL
        const fresh = stored.publishing != null || stored.seen + describeRecord(record).ttlMs > now
        if (fresh && o.nocache !== true) return this.answer(name, { record, bytes: stored.record, source: stored.publishing != null ? 'local' : 'cache' }, warnings)
        found.push({ record, bytes: stored.record, source: 'cache' })
      } catch (err) {
        if (!(err instanceof BadRecordError)) throw err
      }
    }

    const pubsub = this.s.pubsub
    if (pubsub != null) {
      pubsub.watch(name) // from now on this seed hears every update at once
      const latest = pubsub.latest(name)
      if (latest != null) found.push({ record: unmarshalIPNSRecord(latest), bytes: latest, source: 'pubsub' })
    }

    const chain = await this.s.chain()
    const floor = this.anchoredFloor(chain, name)
    for (const a of this.anchored(chain, name)) {
      if (a.height == null || a.seq !== floor) continue
      // the anchored record itself answers while it is valid
      try { found.push({ record: await validateRecord(name, a.bytes), bytes: a.bytes, source: 'anchored' }) } catch {}
    }

    for (const c of await this.fromDht(name, o, found.length > 0)) {
      if (c.record.sequence < BigInt(floor)) {
        warnings.push(`the DHT returned sequence ${c.record.sequence} for ${name.text}, older than sequence ${floor} anchored in the chain: ignored`)
        continue
      }
      found.push(c)
    }

    let best: Candidate | null = null
    for (const c of found) if (c.record.sequence >= BigInt(floor) && (best == null || newer(c.record, best.record))) best = c
    if (best == null) {
      const why = floor >= 0 ? ` (sequence ${floor} is anchored, but no valid record at or above it was found)` : ''
      throw new NameNotFoundError(`${name.text} did not resolve within ${(o.timeoutMs ?? RESOLVE_TIMEOUT_MS) / 1000} s${why}`)
    }
    if (best.source !== 'cache' || stored == null) {
      await this.records.put({ name: name.text, record: best.bytes, seen: now, ...(stored?.publishing != null ? { publishing: stored.publishing } : {}) })
    }
    return this.answer(name, best, warnings)
  }

  private answer (name: IpnsName, c: Candidate, warnings: string[]): { resolved: Resolved, record: Uint8Array } {
    const d = describeRecord(c.record)
    return { resolved: { name: name.text, value: d.value, seq: Number(d.seq), expires: d.expires, ttlMs: d.ttlMs, source: c.source, warnings }, record: c.bytes }
  }

  /**
   * Every valid record the DHT holds for the name (ours, stored locally,
   * included). While nothing else answered, an empty lookup is run again
   * until the time limit, as findprovs does.
   */
  private async fromDht (name: IpnsName, o: { timeoutMs?: number, signal?: AbortSignal }, haveOthers: boolean): Promise<Candidate[]> {
    const node = await this.s.node()
    const timeoutMs = o.timeoutMs ?? RESOLVE_TIMEOUT_MS
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(o.signal != null ? [o.signal] : [])])
    const out: Candidate[] = []
    for (let pause = RELOOKUP_FIRST_MS; out.length === 0 && !signal.aborted; pause = Math.min(pause * 2, RELOOKUP_MAX_MS)) {
      try {
        for await (const e of node.libp2p.services.dht.get(name.routingKey, { signal })) {
          if (e.name !== 'VALUE') continue
          try {
            out.push({ record: await validateRecord(name, e.value), bytes: e.value, source: 'dht' })
          } catch (err) {
            if (!(err instanceof BadRecordError)) throw err
          }
        }
      } catch (err) {
        if (o.signal?.aborted === true) throw new AbortedError('interrupted')
        // kad-dht ends a lookup that found nothing with an error: no record is an answer here
      }
      if (haveOthers || (node.libp2p.getConnections().length === 0 && node.settings.bootstrap.length === 0)) break
      if (out.length === 0) await sleep(pause, undefined, { signal }).catch(() => {})
    }
    if (o.signal?.aborted === true) throw new AbortedError('interrupted')
    return out
  }
}

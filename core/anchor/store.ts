// Where an AnchorChain keeps its blocks: storage/chain-files.ts in a repo, or
// memory (tests, the bench, `verify --proof`).

import type { ChainFiles } from '../../storage/chain-files.ts'

export type ChainStore = Pick<ChainFiles, 'put' | 'get' | 'sync' | 'appendIndex' | 'readIndex' | 'writeHead' | 'readHead' | 'addPending' | 'removePending' | 'listPending'>

export class MemoryChainStore implements ChainStore {
  readonly objects = new Map<string, Uint8Array>()
  readonly index: string[] = []
  head: string | null = null
  readonly pending = new Set<string>()

  async put (key: string, bytes: Uint8Array): Promise<void> { if (!this.objects.has(key)) this.objects.set(key, bytes) }
  async get (key: string): Promise<Uint8Array | null> { return this.objects.get(key) ?? null }
  async sync (): Promise<void> {}
  async appendIndex (...keys: string[]): Promise<void> { this.index.push(...keys) }
  async readIndex (): Promise<string[]> { return [...this.index] }
  async writeHead (key: string): Promise<void> { this.head = key }
  async readHead (): Promise<string | null> { return this.head }
  async addPending (key: string): Promise<void> { this.pending.add(key) }
  async removePending (key: string): Promise<void> { this.pending.delete(key) }
  async listPending (): Promise<string[]> { return [...this.pending] }
}

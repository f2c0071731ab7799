// A long chain on the `test` network written straight into a repo's chain
// folder (the test miner, in this process), for the sync bench and the
// sync fault tests: a seed started on the repo then serves it.

import path from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { AnchorChain } from '../../core/anchor/chain.ts'
import { signManifest, type EncodedManifest } from '../../core/anchor/manifest.ts'
import { TEST } from '../../core/anchor/params.ts'
import { CHAIN_DIR } from '../../core/anchor/service.ts'
import { metaAfter, mineBlock, type MinedBlock } from '../../core/anchor/test-miner.ts'
import { ChainFiles } from '../../storage/chain-files.ts'
import { cairn } from '../helpers.ts'

/** blocks written per batch while building */
const BUILD_BATCH = 500
const PROFILE = { cidVersion: 1 as const, rawLeaves: true, chunker: 'size-1048576', width: 1024, hamt: 'block-bytes' as const }

/** Sets the repo on the `test` network. */
export async function configured (repo: string): Promise<void> {
  const r = await cairn(['--repo', repo, 'config', 'set', 'anchor.network', 'test'])
  if (r.code !== 0) throw new Error(`config set: ${r.stderr}`)
}

/** Builds `blocks` blocks (a signed manifest every `manifestEvery`) into `repo`'s chain folder; returns the head CID. */
export async function buildChain (repo: string, blocks: number, manifestEvery = 100): Promise<string> {
  const files = new ChainFiles(path.join(repo, CHAIN_DIR, TEST.id.toString()), true)
  await files.open()
  const chain = await AnchorChain.open(TEST, files)
  const key = await generateKeyPair('Ed25519')
  let batch: MinedBlock[] = []
  let parent = chain.head
  for (let i = 1; i <= blocks; i++) {
    const manifests: EncodedManifest[] = []
    if (i % manifestEvery === 0) {
      const root = CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(`bench content ${i}`)))
      manifests.push(await signManifest(key, { root, name: `file-${i}.bin`, type: 'file', size: i, profile: PROFILE, time: TEST.genesis.time + i }))
    }
    // one interval apart from genesis: the target never moves, ~256 hashes a block
    const b = mineBlock(TEST, parent, manifests)
    parent = metaAfter(b, parent)
    batch.push(b)
    if (batch.length === BUILD_BATCH || i === blocks) {
      const r = await chain.submitBatch(batch)
      if (r.length !== batch.length || r.some(x => x.status !== 'accepted')) throw new Error(`building the chain: ${JSON.stringify(r.find(x => x.status !== 'accepted'))}`)
      batch = []
    }
  }
  chain.close()
  return chain.head.key
}

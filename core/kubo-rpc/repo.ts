// Kubo RPC: repo/stat and repo/gc, through core/repo/maintenance.ts.

import fs from 'node:fs/promises'
import { repoGc, repoStat } from '../repo/maintenance.ts'
import { sendJson, sendStream, whileRunning } from './wire.ts'
import type { Repo } from '../../storage/repo.ts'
import type { Call, Endpoint, RpcContext } from './call.ts'

/**
 * Kubo's Datastore.StorageMax, which Cluster reads as the space a node may
 * still fill (StorageMax - RepoSize). cairn sets no cap of its own: the
 * bound is the disk, so this is what the repo holds plus what its file
 * system has free.
 */
export async function storageMax (repo: Repo, repoSize?: number): Promise<number> {
  const size = repoSize ?? (await repoStat(repo)).size
  const st = await fs.statfs(repo.root)
  return size + st.bavail * st.bsize
}

export function repoEndpoints (ctx: RpcContext): Record<string, Endpoint> {
  const s = ctx.services
  return {
    async 'repo/stat' (c: Call) {
      const st = await repoStat(s.repo)
      const max = await storageMax(s.repo, st.size)
      if (c.params.bool(['size-only'], false)) return sendJson(c.res, { RepoSize: st.size, StorageMax: max })
      sendJson(c.res, { RepoSize: st.size, StorageMax: max, NumObjects: st.blocks, RepoPath: st.path, Version: 'cairn' })
    },

    async 'repo/gc' (c: Call) {
      const quiet = c.params.bool(['quiet', 'q'], false)
      // gc runs under the writer lock while the stream passes on what it removed
      await sendStream(c.res, whileRunning<unknown>(async push => {
        await s.lock.exclusive(async () => await repoGc(s.repo, {
          signal: c.signal,
          alsoKeep: s.fetching,
          onRemoved: cid => { if (!quiet) push({ Key: { '/': cid.toString() } }) }
        }))
      }))
    }
  }
}

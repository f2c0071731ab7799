import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'

/** coreutils' sync, by absolute path so a bare PATH does not break durability */
const SYNC = ['/usr/bin/sync', '/bin/sync'].find(p => existsSync(p)) ?? 'sync'

/**
 * Flushes the whole file system holding `dir` to disk with one syncfs(2)
 * (coreutils `sync -f`; Node has no binding for it): one call instead of an
 * fsync per file and per directory written.
 */
export async function syncFileSystem (dir: string): Promise<void> {
  await promisify(execFile)(SYNC, ['-f', dir])
}

// repo.lock: one writer at a time. The file holds the owner's pid and its
// start time; a lock whose process is gone (or whose pid now belongs to a
// different process) is taken over, so SIGKILL never leaves a dead lock.

import fs from 'node:fs'
import fsp from 'node:fs/promises'
import { RepoError, RepoLockedError, describeFsError, errnoCode } from './errors.ts'
import { writeFileAtomic } from './atomic-file.ts'
import * as v from 'valibot'
import { parseStored } from './stored-json.ts'

/**
 * What repo.lock holds. A start time that is missing or not text reads as
 * unknown, which keeps a live pid's lock (never takes it from a writer).
 */
const LOCK_INFO = v.object({ pid: v.pipe(v.number(), v.integer()), start: v.fallback(v.nullable(v.string()), null) })
type LockInfo = v.InferOutput<typeof LOCK_INFO>

/** Start time of a process from /proc (Linux); null where unknown. */
function processStart (pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // field 22 (starttime); the command name in field 2 may contain spaces
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null
  } catch {
    return null
  }
}

function isAlive (info: LockInfo): boolean {
  try {
    process.kill(info.pid, 0)
  } catch (err) {
    if (errnoCode(err) === 'ESRCH') return false
  }
  // the pid exists: it is the owner unless its start time says it is a newcomer
  const start = processStart(info.pid)
  return info.start == null || start == null || start === info.start
}

function readLock (file: string): LockInfo | null {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    return null
  }
  return parseStored(LOCK_INFO, text)
}

export class RepoLock {
  private constructor (private readonly file: string) {}

  /**
   * Takes the lock or throws RepoLockedError naming the holder. Bounded: at
   * most a few rounds of take-over races before giving up.
   */
  static async acquire (file: string, repoPath: string): Promise<RepoLock> {
    const mine: LockInfo = { pid: process.pid, start: processStart(process.pid) }
    const text = JSON.stringify(mine)
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await fsp.writeFile(file, text, { flag: 'wx', mode: 0o644 })
        return new RepoLock(file)
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') {
          throw new RepoError(describeFsError(err, `cannot lock the repo at ${repoPath}`))
        }
      }
      const holder = readLock(file)
      if (holder != null && holder.pid === process.pid) return new RepoLock(file)
      if (holder != null && isAlive(holder)) {
        throw new RepoLockedError(`the repo at ${repoPath} is in use by another cairn process (pid ${holder.pid}); stop it, or wait for it to finish`)
      }
      // stale (or half-written by a process killed mid-write): replace it
      // atomically, then check we are the one that won the race
      await writeFileAtomic(file, text, { durability: 'none' })
      if (readLock(file)?.pid === process.pid) return new RepoLock(file)
    }
    throw new RepoLockedError(`the repo at ${repoPath} is in use: could not take its lock`)
  }

  async release (): Promise<void> {
    if (readLock(this.file)?.pid === process.pid) {
      await fsp.rm(this.file, { force: true })
    }
  }
}

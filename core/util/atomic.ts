// Output files are written under a temp name beside their destination,
// flushed, then renamed into place (storage/atomic-file.ts): the destination
// holds the old content or the whole new content, never a part.
//
// The temp name carries the writer's PID (`.NAME.cairn-PID-RANDOM.tmp`): a
// writer killed with SIGKILL cannot remove its temp file, so the next write
// to the same destination removes every temp of it whose process is gone.

import fs from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { CairnError, OutputError, describeFsError, errnoCode, errorName } from './errors.ts'
import { writeFileAtomic as writeFileInPlace } from '../../storage/atomic-file.ts'

export function tempNameFor (dest: string): string {
  return path.join(path.dirname(dest), `.${path.basename(dest)}.cairn-${process.pid}-${randomBytes(4).toString('hex')}.tmp`)
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Whether a process with this PID is running (EPERM: it is, under another user). */
function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return errnoCode(err) === 'EPERM'
  }
}

/**
 * Removes the temp files and trees (and their `.old` siblings) that killed
 * writers left beside `dest`. A live writer's temp is left alone: two
 * commands may write the same destination at once. Returns what it removed.
 */
export async function removeStaleTemps (dest: string): Promise<string[]> {
  const dir = path.dirname(dest)
  const pattern = new RegExp(`^\\.${escapeRegExp(path.basename(dest))}\\.cairn-(\\d+)-[0-9a-f]{8}\\.tmp(\\.old)?$`)
  let names: string[]
  try {
    names = await fs.readdir(dir)
  } catch {
    return [] // no parent yet: nothing left behind; the write reports the real error
  }
  const removed: string[] = []
  for (const name of names) {
    const m = pattern.exec(name)
    if (m == null || Number(m[1]) === process.pid || alive(Number(m[1]))) continue
    await fs.rm(path.join(dir, name), { recursive: true, force: true })
    removed.push(name)
  }
  return removed
}

export interface AtomicWriteOptions {
  /** replace an existing destination (default true); false: fail with OutputError */
  replace?: boolean
}

/** The error for an existing destination without --force. */
export function existsError (dest: string): OutputError {
  return new OutputError(`${dest} already exists (use --force to replace it)`)
}

/** Runs `fill` on a temp file, then fsyncs and renames (or, without replace, links) it to `dest`. */
export async function writeFileAtomic (dest: string, fill: (fh: fs.FileHandle) => Promise<void>, o: AtomicWriteOptions = {}): Promise<void> {
  const replace = o.replace ?? true
  if (!replace && await fs.lstat(dest).then(() => true, () => false)) throw existsError(dest)
  await removeStaleTemps(dest)
  try {
    await writeFileInPlace(dest, fill, { durability: 'fsync', replace, mode: 0o644, temp: tempNameFor(dest), freshTemp: true })
  } catch (err) {
    if (err instanceof CairnError || errorName(err) === 'AbortError') throw err
    // link(2) fails on an existing name: nothing that appeared meanwhile is replaced
    if (!replace && errnoCode(err) === 'EEXIST') throw existsError(dest)
    if (errnoCode(err) != null) throw new OutputError(describeFsError(err, `cannot write ${dest}`))
    throw err
  }
}

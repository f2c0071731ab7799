// Output files are written under a temp name beside their destination,
// flushed, then renamed into place: the destination holds the old content or
// the whole new content, never a part.

import fs from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { CairnError, OutputError, describeFsError } from './errors.ts'

export function tempNameFor (dest: string): string {
  return path.join(path.dirname(dest), `.${path.basename(dest)}.cairn-${randomBytes(4).toString('hex')}.tmp`)
}

/** Runs `fill` on a temp file, then fsyncs and renames it to `dest`. */
export async function writeFileAtomic (dest: string, fill: (fh: fs.FileHandle) => Promise<void>): Promise<void> {
  const tmp = tempNameFor(dest)
  let fh: fs.FileHandle
  try {
    fh = await fs.open(tmp, 'wx', 0o644)
  } catch (err) {
    throw new OutputError(describeFsError(err, `cannot write ${dest}`))
  }
  try {
    try {
      await fill(fh)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await fs.rename(tmp, dest)
  } catch (err) {
    await fs.rm(tmp, { force: true })
    if (err instanceof CairnError || (err as Error).name === 'AbortError') throw err
    if ((err as NodeJS.ErrnoException).code != null) throw new OutputError(describeFsError(err, `cannot write ${dest}`))
    throw err
  }
}

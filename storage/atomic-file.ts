// A file written under a temp name beside it, then given its name in one
// step: a reader sees the old content or the whole new one, never a part.
// Every writer of a whole file in the repo (config, head, chain objects,
// keys, the lock, the API endpoint) and core's output files go through here,
// each saying how durable it must be and whether it may replace a file.

import fs from 'node:fs/promises'

export interface AtomicFileOptions {
  /**
   * 'fsync': the file's bytes reach the disk before it takes its name (a
   * crash leaves the old file or the whole new one). 'none': no flush, where
   * a later syncfs covers the write (chain objects) or the file is worthless
   * after a crash (the lock, the API endpoint).
   */
  durability: 'fsync' | 'none'
  /**
   * true (default): rename(2) over whatever holds the name. false: link(2),
   * which fails with EEXIST if the name is taken, even by a racing process.
   */
  replace?: boolean
  /** the new file's mode before the umask (default 0o666, as fs.writeFile) */
  mode?: number
  /** the temp file (default `DEST.PID.tmp`, beside it: a rename never crosses file systems) */
  temp?: string
  /**
   * The temp name is unique to this write (a random part): create it with
   * O_EXCL, so nothing planted at it is followed. Without, a temp a dead
   * writer with our PID left is overwritten.
   */
  freshTemp?: boolean
}

/**
 * Writes `data` (or what `fill` writes to the open file) to a temp file and
 * moves it to `dest`. On failure the temp is removed and the fs error thrown
 * as it is: callers map it to their own error class.
 */
export async function writeFileAtomic (
  dest: string,
  data: string | Uint8Array | ((fh: fs.FileHandle) => Promise<void>),
  o: AtomicFileOptions
): Promise<void> {
  const tmp = o.temp ?? `${dest}.${process.pid}.tmp`
  try {
    const fh = await fs.open(tmp, o.freshTemp === true ? 'wx' : 'w', o.mode ?? 0o666)
    try {
      if (typeof data === 'function') await data(fh)
      else await fh.writeFile(data)
      if (o.durability === 'fsync') await fh.sync()
    } finally {
      await fh.close()
    }
    if (o.replace ?? true) {
      await fs.rename(tmp, dest)
    } else {
      await fs.link(tmp, dest)
      await fs.rm(tmp, { force: true })
    }
  } catch (err) {
    await fs.rm(tmp, { force: true })
    throw err
  }
}

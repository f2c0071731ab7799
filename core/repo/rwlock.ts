// A readers-writer lock for operations inside one process: adds, pins and
// imports share it; gc takes it alone, so it never deletes blocks that an
// operation in flight has written but not pinned yet.

export class RwLock {
  private readers = 0
  private writer = false
  private readonly waiting: Array<{ write: boolean, go: () => void }> = []

  async shared<T> (fn: () => Promise<T>): Promise<T> {
    await this.acquire(false)
    try { return await fn() } finally { this.release(false) }
  }

  async exclusive<T> (fn: () => Promise<T>): Promise<T> {
    await this.acquire(true)
    try { return await fn() } finally { this.release(true) }
  }

  private async acquire (write: boolean): Promise<void> {
    // writers wait for readers to drain; new readers queue behind a waiting writer
    if (!this.writer && (write ? this.readers === 0 : !this.waiting.some(w => w.write)) && this.waiting.length === 0) {
      if (write) this.writer = true
      else this.readers++
      return
    }
    await new Promise<void>(resolve => this.waiting.push({ write, go: resolve }))
  }

  private release (write: boolean): void {
    if (write) this.writer = false
    else this.readers--
    while (this.waiting.length > 0 && !this.writer) {
      const next = this.waiting[0]
      if (next.write) {
        if (this.readers > 0) break
        this.waiting.shift()
        this.writer = true
        next.go()
        break
      }
      this.waiting.shift()
      this.readers++
      next.go()
    }
  }
}

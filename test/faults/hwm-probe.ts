// Preloaded into a cairn process by the fault tests (NODE_OPTIONS=--import):
// at exit, appends the process's peak resident memory (VmHWM, KiB) to the
// file named by CAIRN_TEST_HWM_FILE. A memory bound, not a speed figure.

import fs from 'node:fs'

const file = process.env.CAIRN_TEST_HWM_FILE
if (file != null) {
  process.on('exit', () => {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1]
    if (hwm != null) fs.appendFileSync(file, `${process.pid} ${hwm}\n`)
  })
}

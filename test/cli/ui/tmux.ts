// tmux helpers for the dashboard tests in a real terminal.

import { execFileSync, spawnSync } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'

export const hasTmux = spawnSync('tmux', ['-V']).status === 0

/** Polls the pane of `session` every 200 ms until `test` accepts it, at most `seconds`. */
export async function screenUntil (session: string, test: (screen: string) => boolean, what: string, seconds = 30): Promise<string> {
  let screen = ''
  for (let i = 0; i < seconds * 5; i++) {
    screen = execFileSync('tmux', ['capture-pane', '-p', '-t', session]).toString()
    if (test(screen)) return screen
    await sleep(200)
  }
  throw new Error(`no ${what} on screen within ${seconds} s:\n${screen}`)
}

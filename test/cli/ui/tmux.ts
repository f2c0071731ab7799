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

/** Lines the pane has scrolled into its history (tmux #{history_size}): a dashboard that fits adds none. */
export function historySize (session: string): number {
  return Number(execFileSync('tmux', ['display-message', '-p', '-t', session, '#{history_size}']).toString().trim())
}

/** The pane's top line as it is on screen now. */
export function topLine (session: string): string {
  return execFileSync('tmux', ['capture-pane', '-p', '-t', session]).toString().split('\n')[0]
}

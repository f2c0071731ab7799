// The live seeding dashboard: redraws from the monitor at most
// FRAMES_PER_SECOND times a second and handles the keys.

import { useEffect, useState } from 'react'
import { Box, useApp, useInput, useWindowSize } from 'ink'
import { Dashboard, PANES, type Pane } from './Dashboard.tsx'
import { FRAMES_PER_SECOND } from '../progress.ts'
import type { SeedSnapshot } from '../../core/daemon/monitor.ts'

export interface SeedAppProps {
  snapshot: () => SeedSnapshot
  onQuit: () => void
  onMine: () => void
}

/** The dashboard as an element, for render() in cli/commands/seed.ts (which so needs no React of its own). */
export const seedApp = (props: SeedAppProps) => <SeedApp {...props} />

export function SeedApp ({ snapshot, onQuit, onMine }: SeedAppProps) {
  const [snap, setSnap] = useState(snapshot)
  const [focus, setFocus] = useState<Pane>('peers')
  const [help, setHelp] = useState(false)
  const { exit } = useApp()
  // re-renders on resize, so the frame follows the terminal's size
  const { rows } = useWindowSize()

  useEffect(() => {
    const t = setInterval(() => setSnap(snapshot()), 1000 / FRAMES_PER_SECOND)
    return () => clearInterval(t)
  }, [snapshot])

  useInput((input, key) => {
    if (help) { setHelp(false); return }
    if (input === 'q' || (key.ctrl && input === 'c')) { onQuit(); exit(); return }
    if (input === '?') { setHelp(true); return }
    if (input === 'm') { onMine(); return }
    const step = key.tab || key.rightArrow || key.downArrow ? 1 : key.leftArrow || key.upArrow || (key.shift && key.tab) ? -1 : 0
    if (step !== 0) setFocus(f => PANES[(PANES.indexOf(f) + step + PANES.length) % PANES.length])
  })

  // the whole terminal, so the header is its top line (what was printed before the dashboard scrolls up once, at the start)
  return <Box flexDirection='column' height={rows}><Dashboard snap={snap} focus={focus} help={help} height={rows} /></Box>
}

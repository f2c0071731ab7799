// A transfer's progress: bar, bytes, rate and ETA. Pure: a function of its
// props, so the add/get/car bars and the seeding dashboard share it.

import { Box, Text } from 'ink'
import { formatBytes, formatDuration } from '../format.ts'

export interface ProgressBarProps {
  label: string
  bytes: number
  /** null when the total is unknown: no bar, no ETA */
  total: number | null
  /** bytes per second, recent */
  rate: number
  done?: boolean
  /** characters of bar */
  width?: number
}

export function barText (fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, fraction))
  const full = Math.round(f * width)
  return '█'.repeat(full) + '░'.repeat(width - full)
}

export function ProgressBar ({ label, bytes, total, rate, done = false, width = 24 }: ProgressBarProps) {
  const known = total != null && total > 0
  const fraction = known ? bytes / total : (done ? 1 : 0)
  const eta = known && rate > 0 ? (total - bytes) / rate : Number.NaN
  return (
    <Box>
      <Text bold>{label} </Text>
      {known || done ? <Text color={done ? 'green' : 'cyan'}>{barText(fraction, width)} </Text> : null}
      {known ? <Text>{String(Math.floor(fraction * 100)).padStart(3)}% </Text> : null}
      <Text>{formatBytes(bytes)}{known ? ` / ${formatBytes(total)}` : ''}</Text>
      <Text dimColor>{`  ${formatBytes(rate)}/s`}</Text>
      {done ? <Text color='green'>  done</Text> : known ? <Text dimColor>{`  ETA ${formatDuration(eta)}`}</Text> : null}
    </Box>
  )
}

/** The bar as an element, for render() in cli/progress.ts (which so needs no React of its own). */
export const progressBar = (props: ProgressBarProps) => <ProgressBar {...props} />

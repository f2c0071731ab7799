// The bench's printed table: one row per figure, beside its baseline.

export interface Row { what: string, figure: string, baseline: string, ratio: string, note: string }

export function printTable (rows: Row[]): void {
  const cols: Array<keyof Row> = ['what', 'figure', 'baseline', 'ratio', 'note']
  const width = cols.map(c => Math.max(c.length, ...rows.map(r => r[c].length)))
  const line = (r: Record<string, string>): string => '| ' + cols.map((c, i) => r[c].padEnd(width[i])).join(' | ') + ' |'
  console.log(line(Object.fromEntries(cols.map(c => [c, c]))))
  console.log('|' + width.map(w => '-'.repeat(w + 2)).join('|') + '|')
  for (const r of rows) console.log(line(r as unknown as Record<string, string>))
}

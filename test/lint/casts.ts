// Counts the type assertions (`x as T`, `<T>x`) in the product's source
// (cli/, core/, storage/), `as const` excepted: each is a place where the
// compiler takes our word instead of checking. Issue 23 asked to halve them;
// casts.test.ts holds the count under a ceiling so they do not creep back.
//
//   npm run build && node dist/test/lint/casts.js [--files]

import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const DIRS = ['cli', 'core', 'storage']

function * sources (dir: string): Generator<string> {
  for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name)
    if (entry.isDirectory()) yield * sources(rel)
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) yield rel
  }
}

function isAsConst (node: ts.AsExpression | ts.TypeAssertion): boolean {
  return ts.isTypeReferenceNode(node.type) && node.type.typeName.getText() === 'const'
}

/** The number of type assertions in each source file that has any. */
export function countCasts (): Map<string, number> {
  const counts = new Map<string, number>()
  for (const dir of DIRS) {
    for (const file of sources(dir)) {
      const text = readFileSync(path.join(ROOT, file), 'utf8')
      const kind = file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS
      const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind)
      let n = 0
      const visit = (node: ts.Node): void => {
        if ((ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) && !isAsConst(node)) n++
        ts.forEachChild(node, visit)
      }
      visit(source)
      if (n > 0) counts.set(file, n)
    }
  }
  return counts
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const counts = countCasts()
  const total = [...counts.values()].reduce((a, b) => a + b, 0)
  if (process.argv.includes('--files')) {
    for (const [file, n] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`${String(n).padStart(4)} ${file}`)
  }
  console.log(`${total} casts in ${counts.size} files`)
}

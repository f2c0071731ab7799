// Counts V8 heap objects of this process by kind, from a heap snapshot
// (which collects garbage first): for tests that a structure keeps no more
// objects than it should. Counts, not sizes: sizes are for benches.

import v8 from 'node:v8'

interface Snapshot { snapshot: { meta: { node_fields: string[], node_types: [string[]] } }, nodes: number[], strings: string[] }

/**
 * How many live objects of each kind: `type:name`, e.g.
 * "concatenated string:" or "object:ArrayBuffer" (names only for objects).
 */
export async function heapCounts (): Promise<Map<string, number>> {
  const chunks: Buffer[] = []
  for await (const chunk of v8.getHeapSnapshot()) chunks.push(Buffer.from(chunk))
  // joined as bytes before decoding: a character may be split between chunks
  const s = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Snapshot
  const fields = s.snapshot.meta.node_fields
  const types = s.snapshot.meta.node_types[0]
  const type = fields.indexOf('type')
  const name = fields.indexOf('name')
  const out = new Map<string, number>()
  for (let i = 0; i < s.nodes.length; i += fields.length) {
    const t = types[s.nodes[i + type]]
    const key = `${t}:${t === 'object' ? s.strings[s.nodes[i + name]] : ''}`
    out.set(key, (out.get(key) ?? 0) + 1)
  }
  return out
}

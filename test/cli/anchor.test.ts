// The anchor commands without a seed: what add queues, anchor CID, chain,
// and how verify and proof fail (one Error line naming the check).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { cairn, failed, ok, run, withTemp } from '../helpers.ts'

const pendingOf = async (repo: string): Promise<number> => {
  const r = await run(repo, 'chain', '--json')
  ok(r, 'chain')
  return (JSON.parse(r.stdout) as { pending: number }).pending
}

test('add queues a signed manifest per root; --no-anchor and -n do not; anchor CID queues one for content in the repo', async () => {
  await withTemp('cairn-anchor-cli-', async dir => {
    const repo = path.join(dir, 'repo')
    const a = path.join(dir, 'a.txt')
    const b = path.join(dir, 'b.txt')
    await fs.writeFile(a, 'alpha\n')
    await fs.writeFile(b, 'beta\n')
    ok(await run(repo, 'add', a, b), 'add two files')
    assert.equal(await pendingOf(repo), 2)
    ok(await run(repo, 'add', '--no-anchor', path.join(dir, 'a.txt')), 'add --no-anchor')
    ok(await run(repo, 'add', '-n', b), 'add -n')
    assert.equal(await pendingOf(repo), 2)

    const c = await run(repo, 'add', '-Q', '--no-anchor', path.join(dir, 'b.txt'), '--cid-version', '0')
    ok(c, 'add v0')
    const anchored = await run(repo, 'anchor', c.stdout.trim())
    ok(anchored, 'anchor CID')
    assert.match(anchored.stdout, /^queued manifest bafyrei\w+ for Qm\w+$/m)
    assert.equal(await pendingOf(repo), 3)

    const chain = await run(repo, 'chain')
    ok(chain, 'chain')
    assert.match(chain.stdout, /^network +local \(bafyrei\w+\)$/m)
    assert.match(chain.stdout, /^height +0$/m)
    assert.match(chain.stdout, /^pending +3 manifest\(s\)$/m)
    assert.match(chain.stdout, /^mining +no$/m)

    const missing = await run(repo, 'anchor', 'bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4')
    assert.match(failed(missing, 'anchor of content not in the repo'), /not in the repo/)
  })
})

test('verify names the check that fails: anchored (pending), content (a corrupt block), manifest (none); proof of pending content fails', async () => {
  await withTemp('cairn-anchor-cli-', async dir => {
    const repo = path.join(dir, 'repo')
    const file = path.join(dir, 'f.bin')
    await fs.writeFile(file, 'some bytes to verify\n')
    const added = await run(repo, 'add', '-Q', file)
    ok(added, 'add')
    const cid = added.stdout.trim()

    const pending = await run(repo, 'verify', cid)
    assert.match(failed(pending, 'verify of pending content'), /^Error: verify failed: anchored: not anchored yet/)
    assert.match(pending.stdout, /^content +ok: /m)
    assert.match(pending.stdout, /^signature +ok: signed by 12D3Koo/m)
    const byPath = await run(repo, 'verify', file)
    assert.match(failed(byPath, 'verify PATH of pending content'), /anchored/)
    assert.match(failed(await run(repo, 'proof', cid), 'proof of pending content'), /not anchored yet/)

    const other = path.join(dir, 'other.txt')
    await fs.writeFile(other, 'never added\n')
    assert.match(failed(await run(repo, 'verify', other), 'verify of unknown content'), /^Error: verify failed: manifest: /)

    // corrupt the file's only block on disk
    const blocks: string[] = []
    for (const rel of await fs.readdir(path.join(repo, 'blocks'), { recursive: true })) if (rel.endsWith('.data')) blocks.push(path.join(repo, 'blocks', rel))
    assert.equal(blocks.length, 1)
    await fs.writeFile(blocks[0], 'tampered')
    assert.match(failed(await run(repo, 'verify', cid), 'verify of a corrupt block'), /^Error: verify failed: content: .*corrupt/)
  })
})

test('verify and proof: bad arguments are one Error line and a usage exit', async () => {
  await withTemp('cairn-anchor-cli-', async dir => {
    const repo = path.join(dir, 'repo')
    const notCid = await run(repo, 'verify', 'not-a-cid-or-path')
    assert.equal(notCid.code, 2)
    assert.match(failed(notCid, 'verify of nonsense'), /neither a CID nor a file/)
    assert.match(failed(await run(repo, 'verify', '--proof', path.join(dir, 'none.proof')), 'verify of a missing proof'), /no such file/)
    await fs.writeFile(path.join(dir, 'junk.proof'), 'junk')
    assert.match(failed(await run(repo, 'verify', '--proof', path.join(dir, 'junk.proof')), 'verify of junk'), /^Error: BadProof: /)
    assert.equal((await run(repo, 'proof')).code, 2)
    const help = await cairn(['--help'])
    for (const c of ['anchor', 'chain', 'proof', 'verify']) assert.match(help.stdout, new RegExp(`^  ${c} `, 'm'))
    const seedHelp = await cairn(['seed', '--help'])
    assert.match(seedHelp.stdout, /--mine/)
    assert.match(seedHelp.stdout, /--miner-threads N/)
    assert.match((await cairn(['add', '--help'])).stdout, /--no-anchor/)
  })
})

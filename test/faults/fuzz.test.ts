// Fuzzing with fast-check, in process so that 10,000 cases per input kind
// run in seconds: CAR import (random bytes and mutations of the real CAR
// fixtures), config.json loading, CID[/path] arguments (parsed, then
// resolved through a real repo) and allow/deny entries. For every case: no
// crash, no hang (each case bounded in time), and any failure is one of
// cairn's own errors (a CairnError subclass) — never a TypeError, a
// RangeError or a library's raw error. A CAR import never stores a block
// whose bytes do not match its CID.

import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import fc from 'fast-check'
import { carImportFrom } from '../../core/repo/car.ts'
import { checkEntryName } from '../../core/unixfs/get.ts'
import { repoVerify } from '../../core/repo/maintenance.ts'
import { parseRule } from '../../core/net/peer-guard.ts'
import { parseContentPath, resolveEntry } from '../../core/unixfs/resolve.ts'
import { CONFIG_KEYS, parseConfigText, validateConfig } from '../../storage/config.ts'
import { CairnError } from '../../storage/errors.ts'
import { Repo } from '../../storage/repo.ts'
import { FIXTURES, cairn, ok, tempDir } from '../helpers.ts'

/** cases per input kind (the issue asks for at least 10,000) */
const RUNS = 10_000
/** one case's time limit: a hang fails the case instead of the suite's timeout */
const CASE_TIMEOUT_MS = 5_000

let dir = ''
let cleanup: () => Promise<void> = async () => {}
before(async () => { ({ dir, cleanup } = await tempDir('cairn-fuzz-')) })
after(async () => { await cleanup() })

/** Runs `fn`; fails on a hang or an error that is not a CairnError. Returns the CairnError, if any. */
async function clean<T> (what: string, fn: () => Promise<T> | T): Promise<CairnError | null> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      Promise.resolve().then(fn),
      new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what}: hung for ${CASE_TIMEOUT_MS} ms`)), CASE_TIMEOUT_MS) })
    ])
    return null
  } catch (err) {
    if (err instanceof CairnError) {
      assert.ok(err.message.length > 0 && !err.message.includes('\n'), `${what}: a one-line message, got ${JSON.stringify(err.message)}`)
      return err
    }
    throw new Error(`${what}: not a clean error: ${(err as Error)?.name}: ${(err as Error)?.message}`, { cause: err })
  } finally {
    clearTimeout(timer)
  }
}

async function carFixtures (): Promise<Buffer[]> {
  const out: Buffer[] = []
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.name.endsWith('.car') && (await fs.stat(p)).size <= 64 * 1024) out.push(await fs.readFile(p))
    }
  }
  await walk(path.join(FIXTURES, 'car'))
  return out
}

/** A mutation of `bytes`: bit flips, a cut, an insertion, a splice of its own bytes, or a huge varint up front. */
function mutated (fixtures: Buffer[]): fc.Arbitrary<Uint8Array> {
  return fc.record({
    i: fc.nat({ max: fixtures.length - 1 }),
    kind: fc.constantFrom('flip', 'cut', 'insert', 'splice', 'varint'),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    at2: fc.double({ min: 0, max: 1, noNaN: true }),
    junk: fc.uint8Array({ minLength: 1, maxLength: 64 }),
    flips: fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 })
  }).map(({ i, kind, at, at2, junk, flips }) => {
    const src = fixtures[i]
    const pos = Math.floor(at * src.length)
    switch (kind) {
      case 'flip': {
        const b = Buffer.from(src)
        for (const [where, mask] of flips) b[Math.floor(where * b.length) % b.length] ^= mask
        return b
      }
      case 'cut': return src.subarray(0, pos)
      case 'insert': return Buffer.concat([src.subarray(0, pos), junk, src.subarray(pos)])
      case 'splice': {
        const from = Math.floor(at2 * src.length)
        return Buffer.concat([src.subarray(0, pos), src.subarray(from, from + junk.length * 8), src.subarray(pos)])
      }
      default: return Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), src.subarray(Math.min(pos, 16))])
    }
  })
}

describe('fuzzing', { concurrency: 1, timeout: 300_000 }, () => {
  test(`CAR import: ${RUNS} random and mutated CARs, clean errors only, no bad block stored`, async () => {
    const fixtures = await carFixtures()
    assert.ok(fixtures.length >= 10, `${fixtures.length} CAR fixtures`)
    const repo = await Repo.open(path.join(dir, 'car-repo'), { write: true })
    let imported = 0
    let refused = 0
    try {
      await fc.assert(fc.asyncProperty(fc.oneof(
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 1024 }) },
        // a real header with a random body: gets past the header, into the blocks
        { weight: 1, arbitrary: fc.tuple(fc.nat({ max: fixtures.length - 1 }), fc.uint8Array({ maxLength: 512 })).map(([i, body]) => Buffer.concat([fixtures[i].subarray(0, 1 + fixtures[i][0]), body])) },
        { weight: 4, arbitrary: mutated(fixtures) }
      ), async bytes => {
        // carImport's own path minus the file read: the same code from the bytes on
        const err = await clean('car import', async () => await carImportFrom(repo, (async function * () { yield bytes })(), 'fuzz.car', bytes.byteLength, { pin: false }))
        if (err == null) imported++
        else refused++
      }), { numRuns: RUNS })
      // every block any case managed to store matches its CID
      const v = await repoVerify(repo)
      assert.deepEqual(v.bad, [], 'no bad block stored')
      assert.ok(imported > 0 && refused > 0, `both outcomes seen: ${imported} imported, ${refused} refused`)
    } finally {
      await repo.close()
    }
  })

  test(`config.json: ${RUNS} arbitrary texts and values, ConfigError or a config that validates again`, async () => {
    const keyed = fc.dictionary(fc.constantFrom(...CONFIG_KEYS.map(k => k.split('.')[0]), '__proto__', 'constructor', 'toString'), fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.dictionary(fc.constantFrom(...CONFIG_KEYS.map(k => k.split('.').slice(1).join('.')).filter(k => k !== ''), '__proto__', 'x'), fc.jsonValue({ maxDepth: 2 }))
    ))
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.jsonValue({ maxDepth: 4 }).map(v => JSON.stringify(v)),
      keyed.map(v => JSON.stringify(v)),
      // the same, with __proto__ as an own key the way JSON.parse makes it
      keyed.map(v => JSON.stringify(v).replace('"constructor"', '"__proto__"'))
    )
    let valid = 0
    await fc.assert(fc.asyncProperty(text, async t => {
      let config: ReturnType<typeof parseConfigText> | null = null
      const err = await clean('config', () => { config = parseConfigText(t, 'fuzz.json') })
      if (err != null) {
        assert.equal(err.name, 'ConfigError')
        return
      }
      valid++
      assert.deepEqual(validateConfig(JSON.parse(JSON.stringify(config))), config, 'a loaded config validates again unchanged')
      assert.equal(({} as Record<string, unknown>).polluted, undefined)
    }), { numRuns: RUNS })
    assert.ok(valid > 0, 'some cases were valid configs')
  })

  test(`CID[/path] arguments: ${RUNS} strings parsed and resolved in a real repo, clean errors only`, async () => {
    const repoDir = path.join(dir, 'path-repo')
    const tree = path.join(dir, 'tree')
    await fs.mkdir(path.join(tree, 'sub'), { recursive: true })
    await fs.writeFile(path.join(tree, 'a.txt'), 'a\n')
    await fs.writeFile(path.join(tree, 'sub', 'b.txt'), 'b\n')
    const add = await cairn(['add', '-Q', '-r', '--repo', repoDir, tree])
    ok(add, 'add')
    const root = add.stdout.trim()
    const repo = await Repo.open(repoDir, { write: false })
    const segment = fc.oneof(fc.constantFrom('a.txt', 'sub', 'b.txt', '..', '.', '', 'nope', '%2F', '\0'), fc.string({ maxLength: 12 }))
    const arg = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.array(segment, { maxLength: 4 }).map(s => [root, ...s].join('/')),
      fc.array(segment, { maxLength: 3 }).map(s => ['/ipfs', root, ...s].join('/')),
      // a damaged CID: one character changed
      fc.tuple(fc.nat({ max: root.length - 1 }), fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz234567QmX0O!')).map(([i, c]) => root.slice(0, i) + c + root.slice(i + 1)),
      fc.constantFrom('Qm', 'bafy', 'k51', '/ipfs/', '/ipfs//', 'z', 'f01', root.toUpperCase())
    )
    let resolved = 0
    try {
      await fc.assert(fc.asyncProperty(arg, async a => {
        let p: ReturnType<typeof parseContentPath> | null = null
        const perr = await clean(`parse ${JSON.stringify(a)}`, () => { p = parseContentPath(a) })
        if (perr != null) {
          assert.equal(perr.name, 'InvalidCidError')
          return
        }
        const rerr = await clean(`resolve ${JSON.stringify(a)}`, async () => await resolveEntry(repo.blocks, p as never, AbortSignal.timeout(CASE_TIMEOUT_MS)))
        if (rerr == null) resolved++
      }), { numRuns: RUNS })
    } finally {
      await repo.close()
    }
    assert.ok(resolved > 0, 'some paths resolved')
  })

  test(`entry names and allow/deny entries: ${RUNS} strings each, refused cleanly or accepted safely`, async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('..', '.', '', 'a/b', 'a\0', '../x')), async name => {
      const err = await clean('entry name', () => { checkEntryName(name, 'fuzz') })
      if (err == null) assert.ok(name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0'), `accepted ${JSON.stringify(name)}`)
      else assert.equal(err.name, 'UnsafeContentError')
    }), { numRuns: RUNS })
    const entry = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.tuple(fc.ipV4(), fc.integer({ min: -2, max: 40 })).map(([ip, n]) => `${ip}/${n}`),
      fc.tuple(fc.ipV6(), fc.integer({ min: -2, max: 140 })).map(([ip, n]) => `${ip}/${n}`),
      fc.constantFrom('12D3KooW', 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N', '/ip4/1.2.3.4/ipcidr/8')
    )
    await fc.assert(fc.asyncProperty(entry, async e => {
      const err = await clean('allow/deny entry', () => parseRule([e], 'security.allow'))
      if (err != null) assert.equal(err.name, 'ConfigError')
    }), { numRuns: RUNS })
  })
})

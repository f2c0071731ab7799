// The anchor chain's commands: anchor CID | chain | proof CID [-o FILE] |
// verify CID|PATH | verify --proof FILE.

import fs from 'node:fs/promises'
import path from 'node:path'
import { CairnError, UsageError } from '../../core/util/errors.ts'
import { emit, numberFlag, refuseTerminal, report, stringFlag, writeOut, type Command, type Context } from '../command.ts'
import { withInvoker } from '../client.ts'
import { formatHashRate, minedLine } from '../format.ts'
import { FETCH_FLAGS, FETCH_HELP, fetchInvokeOptions, fetchParams } from '../fetch-flags.ts'
import { escapeTerminal } from '../../core/util/escape.ts'
import type { Anchored } from '../../core/anchor/proof.ts'

/** One of verify's checks failed; the report says which. */
export class VerificationFailedError extends CairnError {}

const one = (ctx: Context, what: string): string => {
  if (ctx.input.length !== 1) throw new UsageError(`${what} (see cairn ${what.split(' ')[0]} --help)`)
  return ctx.input[0]
}

export const anchor: Command = {
  name: 'anchor',
  summary: 'sign a manifest for content in the repo and queue it for anchoring',
  help: `
Usage
  $ cairn anchor CID

Signs a manifest (root, type, size, import profile, time) with this node's
key and queues it; a seed running with --mine anchors it in its next block.
'cairn add' does this for what it adds unless --no-anchor. Anchoring
publishes the manifest: the CID, its size and (from add) its name.
A root this key has anchored, or queued, already gets nothing new: the
command says where it is (--force queues another manifest anyway).

Options
  -f, --force   sign and queue a new manifest even if one is anchored or queued

Examples
  $ cairn anchor bafybei...`,
  flags: { force: { type: 'boolean', shortFlag: 'f' } },
  async run (ctx) {
    const cid = one(ctx, 'anchor needs one CID')
    const r = await withInvoker(ctx, { write: true }, async inv => await inv.call('anchor', { cid, force: ctx.flags.force === true }))
    if (r.status === 'already-anchored') {
      emit(ctx, `${r.root} is already anchored at height ${String(r.height)} (manifest ${r.manifest}); nothing queued (--force queues another manifest)`, r)
    } else if (r.status === 'already-pending') emit(ctx, `a manifest for ${r.root} is already queued (${r.manifest}); nothing queued (--force queues another)`, r)
    else emit(ctx, `${r.status === 'anchored' ? 'anchored' : 'queued'} manifest ${r.manifest} for ${r.root}`, r)
  }
}

export const chain: Command = {
  name: 'chain',
  summary: 'the anchor chain: head, height, work, target, recent blocks, pending',
  help: `
Usage
  $ cairn chain

Examples
  $ cairn chain
  $ cairn chain --json`,
  flags: {},
  async run (ctx) {
    if (ctx.input.length > 0) throw new UsageError('chain takes no arguments')
    const s = await withInvoker(ctx, { write: false }, async inv => await inv.call('chain', {}))
    if (ctx.json) { emit(ctx, '', s); return }
    const lines = [
      `network  ${s.network} (${s.id})`,
      `head     ${s.head}`,
      `height   ${s.height}${s.height > 0 ? ` (block time ${new Date(s.time).toISOString()})` : ''}`,
      `work     ${s.work} (2^${s.work === '0' ? '0' : Math.log2(Number(s.work)).toFixed(2)} hashes)`,
      `target   ${s.target} (next block: ~2^${s.difficultyBits} hashes)`,
      `pending  ${s.pending} manifest(s)${s.orphans + s.held > 0 ? `, ${s.orphans} orphan(s), ${s.held} held back` : ''}`,
      `memory   ${s.kept} block(s)${s.floor > 0 ? `; final below height ${s.floor}` : ''}`,
      `mining   ${s.miner?.mining === true ? `${s.miner.threads} thread(s), ${formatHashRate(s.miner.hashRate)}, ${minedLine(s.miner)}` : 'no'}`
    ]
    if (s.recent.length > 0) {
      lines.push('recent', ...s.recent.map(b => `  ${String(b.height).padStart(6)}  ${b.cid}  ${new Date(b.time).toISOString()}  ${b.manifests} manifest(s)`))
    }
    ctx.stdout.write(lines.join('\n') + '\n')
  }
}

export const proof: Command = {
  name: 'proof',
  summary: 'export a proof that a CID is anchored, checkable with no repo',
  help: `
Usage
  $ cairn proof CID [-o FILE]
  $ cairn proof /ipns/NAME [--seq N] [-o FILE]

Writes the manifest, the anchoring block, its body and every header to the
head (dag-cbor) to FILE, or to stdout (not to a terminal: it is binary).
'cairn verify --proof FILE' checks it anywhere, with no repo and no network.
For a name, the proof holds the name's IPNS record anchored with sequence N
(default: the highest anchored): what the name pointed at no later than the
block's time.

Options
  -o, --output FILE    write here (atomically) instead of stdout
  --seq N              the record of a name with this sequence number

Examples
  $ cairn proof bafybei... -o photo.proof`,
  flags: { output: { type: 'string', shortFlag: 'o' }, seq: { type: 'number' } },
  async run (ctx) {
    const cid = one(ctx, 'proof needs one CID or /ipns/NAME')
    const outputFlag = stringFlag(ctx, 'output')
    const output = outputFlag != null ? path.resolve(outputFlag) : undefined
    if (output == null) refuseTerminal(ctx, 'proof')
    const seq = numberFlag(ctx, 'seq')
    if (seq != null && (!Number.isSafeInteger(seq) || seq < 0 || !cid.startsWith('/ipns/'))) throw new UsageError('--seq takes a whole number, for a proof of /ipns/NAME')
    const r = await withInvoker(ctx, { write: false }, async inv => await inv.call('proof', { cid, output, seq }))
    if ('proof' in r) {
      await writeOut(ctx, Buffer.from(r.proof, 'base64'))
      return
    }
    report(ctx, `proof for ${r.cid} (anchored at height ${r.height}, head ${r.head}) written to ${r.output} (${r.bytes} bytes)`, r)
  }
}

function printAnchored (ctx: Context, a: Anchored): void {
  const lines = [
    // a proof file names its network, a manifest its content: both anyone's strings
    `network    ${escapeTerminal(a.network.name)} (${a.network.id})${a.network.builtin ? '' : ' — not a built-in network: the work is only that chain\'s'}`,
    a.manifest.type === 'ipns'
      ? `name       /ipns/${a.manifest.name ?? ''} pointed at ${escapeTerminal(a.manifest.value ?? '')} (sequence ${a.manifest.seq ?? '?'})`
      : `content    ${a.manifest.root}${a.manifest.name != null ? ` "${escapeTerminal(a.manifest.name)}"` : ''}, ${a.manifest.type}, ${a.manifest.size} bytes`,
    `signature  ok: manifest ${a.manifest.cid} signed by ${a.manifest.publisher}`,
    `anchored   at height ${a.block.height} (block ${a.block.cid}), ${a.confirmations} confirmation(s), work ${a.work} on top, block time ${new Date(a.block.time).toISOString()}`
  ]
  ctx.stdout.write(lines.join('\n') + '\n')
}

export const verify: Command = {
  name: 'verify',
  summary: 'check content, its signed manifest and its anchoring (or a proof file)',
  help: `
Usage
  $ cairn verify CID
  $ cairn verify PATH
  $ cairn verify --proof FILE

For a CID: its blocks are all in the repo and match (blocks the repo lacks
are fetched first, as cat fetches them; --offline: the repo only); a
manifest for it is signed by its publisher key; it is anchored at height h with c
confirmations and w work on top, at block time t. For a PATH: its CID is
rebuilt from the file with the profile a manifest records, then the same.
With --proof: the proof file alone, no repo. Exits non-zero naming the
check that fails.

Options
  --proof FILE   verify a proof written by 'cairn proof'

Examples
  $ cairn verify bafybei...
  $ cairn verify photo.jpg
  $ cairn verify --proof photo.proof
${FETCH_HELP}`,
  flags: { proof: { type: 'string' }, ...FETCH_FLAGS },
  async run (ctx) {
    const proof = stringFlag(ctx, 'proof')
    if (proof != null) {
      if (ctx.input.length > 0) throw new UsageError('verify --proof FILE takes no other argument')
      const { verifyProof } = await import('../../core/anchor/proof.ts')
      const { describeFsError, InputError } = await import('../../core/util/errors.ts')
      let bytes: Uint8Array
      try {
        bytes = await fs.readFile(proof)
      } catch (err) {
        throw new InputError(describeFsError(err, proof))
      }
      const a = await verifyProof(bytes)
      if (ctx.json) emit(ctx, '', { ok: true, ...a })
      else printAnchored(ctx, a)
      return
    }
    const arg = one(ctx, 'verify needs one CID or PATH, or --proof FILE')
    const isPath = await fs.lstat(arg).then(() => true, () => false)
    let params: { path: string } | { cid: string }
    if (isPath) params = { path: path.resolve(arg) }
    else {
      const { CID } = await import('multiformats/cid')
      try { CID.parse(arg) } catch { throw new UsageError(`${arg} is neither a CID nor a file or directory`) }
      params = { cid: arg }
    }
    const r = await withInvoker(ctx, fetchInvokeOptions(ctx), async inv => await inv.call('verify', isPath ? params : { ...params, ...fetchParams(ctx) }))
    if (ctx.json) emit(ctx, '', r)
    else {
      // a detail quotes the manifest's name, which its publisher chose
      for (const c of r.checks) ctx.stdout.write(`${c.check.padEnd(10)} ${c.ok ? 'ok' : 'FAILED'}: ${escapeTerminal(c.detail)}\n`)
    }
    const failed = r.checks.find(c => !c.ok)
    if (failed != null) throw new VerificationFailedError(`verify failed: ${failed.check}: ${failed.detail}`)
  }
}

// The simulation's pure pieces (sim-model.ts, sim-plot.ts): the line fit
// recovers a line, the sweep model agrees with a count of non-empty regions
// for keys spread at random, the hop model's one-hop plateau, and the plot's
// scales map their ends and place their ticks.

import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import fc from 'fast-check'
import { compareKeys, groupByRegion, regionDepth } from '../../core/net/keyspace.ts'
import { fitLine, hopsModel, nonEmptyRegions, regionCount, sweepLookups, tableCapacity } from './sim-model.ts'
import { linearScale, logScale, simSvg } from './sim-plot.ts'

test('fitLine recovers the line through exact points', () => {
  fc.assert(fc.property(fc.double({ min: -50, max: 50, noNaN: true }), fc.double({ min: -5, max: 5, noNaN: true }), (a, b) => {
    const xs = [1, 2, 3, 5, 8]
    const fit = fitLine(xs, xs.map(x => a + b * x))
    assert.ok(Math.abs(fit.a - a) < 1e-6 && Math.abs(fit.b - b) < 1e-6, `${JSON.stringify(fit)} vs ${a}, ${b}`)
  }))
  assert.throws(() => fitLine([1, 2], [1]), RangeError)
})

test('sweep model: regions follow cairn\'s depth, lookups the non-empty regions', () => {
  assert.equal(regionCount(50, 20), 2 ** regionDepth(50, 20))
  assert.equal(regionCount(10_000, 20), 256)
  assert.equal(regionCount(30, 20), 1)
  // few CIDs: about one lookup each; many: one per region; plus the sizing lookup
  assert.ok(Math.abs(nonEmptyRegions(10_000, 3, 20) - 3) < 0.05)
  assert.ok(Math.abs(nonEmptyRegions(10_000, 100_000, 20) - 256) < 1e-6)
  assert.ok(Math.abs(sweepLookups(10_000, 100_000, 20) - 257) < 1e-6)
  // one region: the sizing lookup is the region's own
  assert.equal(sweepLookups(30, 1000, 20), 1)
  assert.equal(sweepLookups(10_000, 0, 20), 0)
  // against a count over random keys, cut by keyspace.ts itself
  for (const [nodes, cids] of [[2000, 100], [2000, 300], [640, 40]]) {
    let sum = 0
    const runs = 40
    for (let r = 0; r < runs; r++) {
      const keys = Array.from({ length: cids }, () => new Uint8Array(randomBytes(32))).sort(compareKeys)
      sum += groupByRegion(keys, regionDepth(nodes, 20)).length
    }
    const model = nonEmptyRegions(nodes, cids, 20)
    assert.ok(Math.abs(sum / runs - model) / model < 0.05, `N=${nodes}, C=${cids}: counted ${sum / runs}, model ${model}`)
  }
})

test('hop model: one hop while a table holds everyone, the fitted line past it', () => {
  const cap = tableCapacity(6, 20)
  assert.equal(cap, 1280)
  const fit = { a: -4, b: 0.5 }
  assert.equal(hopsModel(1000, cap, fit), 1)
  assert.equal(hopsModel(1281, cap, fit), 1)
  assert.equal(hopsModel(4096, cap, fit), 2)
  // never below one hop
  assert.equal(hopsModel(2000, cap, { a: -10, b: 0.1 }), 1)
  // past the capacity, no fit or one that does not grow: nothing to say
  assert.ok(Number.isNaN(hopsModel(4096, cap, null)))
  assert.ok(Number.isNaN(hopsModel(4096, cap, { a: 2, b: -0.1 })))
})

test('plot scales map their ends and place their ticks', () => {
  const lin = linearScale(0, 10, 100, 300, 2)
  assert.equal(lin(0), 100)
  assert.equal(lin(10), 300)
  assert.equal(lin(5), 200)
  assert.deepEqual(lin.ticks, [0, 2, 4, 6, 8, 10])
  // an upward y axis: range reversed
  const y = linearScale(0, 4, 400, 40, 1)
  assert.equal(y(0), 400)
  assert.equal(y(4), 40)
  const lg = logScale(10, 10_000, 0, 300)
  assert.equal(lg(10), 0)
  assert.equal(lg(10_000), 300)
  assert.ok(Math.abs(lg(100) - 100) < 1e-9)
  assert.deepEqual(lg.ticks, [10, 100, 1000, 10_000])
  assert.deepEqual(logScale(50, 10_000, 0, 1).ticks, [100, 1000, 10_000])
  assert.throws(() => logScale(0, 10, 0, 1), RangeError)
})

test('the plot is one SVG with both panels and escaped text', () => {
  const svg = simSvg({
    hops: [{ nodes: 50, hops: 1, maxHops: 1 }, { nodes: 500, hops: 1, maxHops: 2 }],
    hopsModel: () => 1,
    sweep: [{ nodes: 50, cids: 1000, lookups: 3 }, { nodes: 500, cids: 1000, lookups: 17 }],
    sweepModel: (n, c) => sweepLookups(n, c, 20),
    cidCounts: [1000],
    capacity: 1280,
    maxNodes: 10_000,
    caption: 'a < b & c'
  })
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/)
  assert.match(svg, /Lookup hops against log2\(N\)/)
  assert.match(svg, /Lookups per announcement round/)
  assert.match(svg, /a &lt; b &amp; c/)
  assert.equal((svg.match(/<circle /g) ?? []).length, 4)
  assert.doesNotMatch(svg, /NaN|Infinity/)
})

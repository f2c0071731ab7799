// The project pins Node 24 through the `node` npm package; tests that run on
// any other Node would prove nothing about what CI and users get.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PINNED_NODE_MAJOR } from './helpers.ts'

test(`tests run on the pinned Node ${PINNED_NODE_MAJOR}`, () => {
  const major = Number(process.versions.node.split('.')[0])
  assert.equal(major, PINNED_NODE_MAJOR,
    `FATAL: tests are running on Node ${process.versions.node}, not the pinned Node ${PINNED_NODE_MAJOR}. ` +
    'Run them with `npm test`, which puts node_modules/.bin (the pinned node) first on PATH.')
})

// eslint with neostandard: the js-standard style the helia and js-libp2p
// codebases follow, for TypeScript and TSX (npm run lint, part of npm test).
import neostandard from 'neostandard'

export default [
  { ignores: ['dist/', 'node_modules/'] },
  ...neostandard({ ts: true }),
  {
    rules: {
      // `void promise.catch(...)` marks a call deliberately not awaited (libp2p and helia do the same)
      'no-void': ['error', { allowAsStatement: true }]
    }
  }
]

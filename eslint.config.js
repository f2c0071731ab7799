// eslint with neostandard: the js-standard style the helia and js-libp2p
// codebases follow, for TypeScript and TSX.
import neostandard from 'neostandard'

export default [
  { ignores: ['dist/', 'node_modules/'] },
  ...neostandard({ ts: true })
]

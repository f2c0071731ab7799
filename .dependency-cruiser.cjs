// The import graph's rules, checked by `npm run lint`: arrows point one way,
// cli → core → storage (DESIGN.md), the anchor chain stands apart from the
// swarm and the CLI, and no module imports itself back through others.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'a cycle makes load order matter and hides which module owns what (a lazy import() on demand, as the CLI\'s command table makes, loads nothing at start and is not counted)',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only', 'dynamic-import'] } }
    },
    {
      name: 'storage-knows-only-storage',
      severity: 'error',
      comment: 'storage/ is the repo on disk: it knows nothing of the node or the CLI',
      from: { path: '^storage/' },
      to: { path: '^(core|cli)/' }
    },
    {
      name: 'core-knows-no-cli',
      severity: 'error',
      comment: 'core/ knows nothing of Ink or argv',
      from: { path: '^core/' },
      to: { path: '^cli/' }
    },
    {
      name: 'core-has-no-ink',
      severity: 'error',
      comment: 'the terminal UI lives in cli/ui/',
      from: { path: '^(core|storage)/' },
      to: { path: 'node_modules/(ink|react|meow)/' }
    },
    {
      name: 'anchor-stands-apart',
      severity: 'error',
      comment: 'the anchor chain imports nothing from the swarm or the CLI',
      from: { path: '^core/anchor/' },
      to: { path: '^(core/swarm|cli)/' }
    },
    {
      name: 'product-imports-no-tests',
      severity: 'error',
      from: { path: '^(cli|core|storage)/' },
      to: { path: '^test/' }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js'] }
  }
}

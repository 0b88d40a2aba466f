/**
 * The layering (docs/architecture.md), checked by `npm run lint`:
 * - folders import only their own layer and those below (LAYERS): the low shared layer (config,
 *   clock, db, storage, keys, metrics) nothing above it;
 * - nothing in src/ imports tests, benchmarks or test helpers;
 * - no import cycles.
 * Violations that predate these rules are listed in .dependency-cruiser-known-violations.json
 * (issue 13 removes them); a new one fails the lint.
 */
/** Bottom to top; a folder may import its own layer and those below it. */
const LAYERS = [
  ['config', 'clock', 'db', 'storage', 'keys', 'metrics', 'ops', 'principal'],
  ['audit'],
  ['policy'],
  ['auth', 'datasets', 'teams'],
  ['grants', 'jobs'],
  ['data-plane', 'egress', 'ingest', 's3-api'],
  ['leaderboard'],
  ['demo', 'ui', 'cli', 'bench'],
];
const folders = (layers) => `^src/(${layers.flat().join('|')})/`;
const TOP_FILES = '^src/(gateway|main|write-openapi|[a-z-]+\\.module|listener\\.providers)\\.ts$';
const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${i}-imports-nothing-above`,
  comment: `${layer.join(', ')} may import only ${LAYERS.slice(0, i + 1)
    .flat()
    .join(', ')}.`,
  severity: 'error',
  // Controllers, guards and passport strategies are the top of their folder: they may use
  // anything below the apps.
  from: { path: folders([layer]), pathNot: '\\.(controllers?|guard|strategy|spec)\\.ts$' },
  to: { path: `${folders(LAYERS.slice(i + 1))}|${TOP_FILES}` },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'no-cycles',
      comment: 'Modules form a directed graph: two modules never import each other, even through others.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'production-code-imports-no-tests-or-benches',
      comment: 'Tests, benchmarks and their helpers stay out of what ships.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/bench/|\\.spec\\.ts$|^src/audit/merkle/(reference|test-support)\\.ts$' },
      to: { path: '^test/|^src/bench/|\\.spec\\.ts$|^src/audit/merkle/(reference|test-support)\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|\\.bench-dist|node_modules)/' },
  },
};

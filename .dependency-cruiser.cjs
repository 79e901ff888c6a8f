// katabot's layers, checked by `npm run lint` (part of `npm test`), type imports included: every import goes down
// this order, so no folder imports one above it and no two folders import each other. DEVELOPERS.md explains the
// order; change both together.
const ORDER = [
  ['config'], // katabot's and Prow's configuration: types, schemas, decoding (loaders do I/O)
  ['commands'], // slash-command parsing
  ['trace'], // the trace format and its pure analysis: profiles, diffs, policies, API usage
  ['bpf'], // eBPF packages
  ['policy'], // who may do what
  ['jobs'], // Prow's jobs: selection, ProwJobs, GitHub Actions job names
  ['render'], // everything katabot writes for people: comments, check runs, reports
  ['dashboard'], // the dashboard's view models
  ['plan'], // one pure planner per event
  ['artifacts'], // artifact storage
  ['adapters'], // GitHub, Kubernetes, Redis, queue, metrics
  ['tracer'], // the eBPF agent
  ['behavior'], // traced runs → baselines and behavior reports
  ['reporter'], // the leader-elected ProwJob reporter
  ['handlers'], // webhook handlers: facts → plan → effects
  ['server', 'cli'], // entry points
];

/** Folders that do no I/O: data in, data out. Only config's loaders (load*.ts) may. */
const PURE = ['config', 'commands', 'trace', 'bpf', 'policy', 'jobs', 'render', 'dashboard', 'plan'];
const IO_MODULES = '^(node:)?(fs|fs/promises|net|http|https|http2|child_process|dgram|dns|tls|worker_threads|cluster|readline)$|^(ioredis|bullmq|probot|express|@kubernetes/client-node|@octokit/.*|@aws-sdk/.*|@google-cloud/.*)$';

/** What the dashboard's browser bundle (web/) may import from src at run time, and what those may import. */
const BROWSER = '^src/(dashboard/(query|required-text|weather)|render/(graph-viewer|html|mermaid|service-graph|sunburst))\\.ts$';

const forbidden = [];
ORDER.forEach((level, i) => {
  const above = ORDER.slice(i + 1).flat();
  if (above.length === 0) return;
  for (const folder of level) {
    forbidden.push({
      name: `${folder}-imports-above`,
      comment: `src/${folder} may import only folders below it (.dependency-cruiser.cjs ORDER)`,
      severity: 'error',
      from: { path: `^src/${folder}/` },
      to: { path: `^src/(${above.join('|')})/` },
    });
  }
});
forbidden.push(
  {
    name: 'pure-folder-does-io',
    comment: 'pure folders import no I/O module (type-only imports of client types are fine)',
    severity: 'error',
    from: { path: `^src/(${PURE.join('|')})/`, pathNot: '^src/config/load[^/]*\\.ts$' },
    to: { path: IO_MODULES, dependencyTypesNot: ['type-only'] },
  },
  {
    name: 'pure-folder-imports-loader',
    comment: "pure folders do not import config's loaders (they read files)",
    severity: 'error',
    from: { path: `^src/(${PURE.join('|')})/`, pathNot: '^src/config/load[^/]*\\.ts$' },
    to: { path: '^src/config/load[^/]*\\.ts$', dependencyTypesNot: ['type-only'] },
  },
  {
    name: 'no-circular',
    comment: 'no import cycles, not even through type imports',
    severity: 'error',
    from: { path: '^src/' },
    to: { circular: true },
  },
  {
    name: 'no-orphans',
    comment: 'every source file is imported by something (or is an entry point)',
    severity: 'error',
    from: { orphan: true, path: '^src/', pathNot: ['^src/cli/(main|guest-main)\\.ts$', '\\.d\\.ts$'] },
    to: {},
  },
  {
    name: 'browser-imports-server-code',
    comment: 'the dashboard bundle imports at run time only the dependency-free modules it shares with the server',
    severity: 'error',
    from: { path: '^web/src/' },
    to: { path: '^src/', pathNot: BROWSER, dependencyTypesNot: ['type-only'] },
  },
  {
    name: 'browser-module-imports-more',
    comment: 'a module the browser bundle shares imports only other shared modules at run time',
    severity: 'error',
    from: { path: BROWSER },
    to: { path: '^src/', pathNot: BROWSER, dependencyTypesNot: ['type-only'] },
  },
);

module.exports = {
  forbidden,
  options: {
    // swc parses the TypeScript as written, so type imports count (test/unit/lint.test.ts shows one caught);
    // dependency-cruiser cannot use TypeScript 7's compiler API, which tsPreCompilationDeps would need.
    parser: 'swc',
    tsPreCompilationDeps: false,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
  },
};

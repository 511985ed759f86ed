// The dependency rule, checked in CI (npm run depcheck): every import points down.
//
//   functions ─▶ composition ─▶ adapters ─▶ ports ─▶ domain ─▶ lib
//        └──────▶ http ─────────▶ pipeline ─▶ ports
//
// domain is pure and imports only domain (and lib, zod, node:crypto); lib imports nothing of the
// project; ports describe what the use cases need in domain terms; pipeline (the use cases) knows
// domain and ports only — no SDK, no config, no HTTP; http (the API's contracts and views) sits on
// top of pipeline; adapters implement ports and never call a use case; only functions/ and local/
// may use the composition root. No file of the project's library may do network or file I/O
// outside adapters (and config, which reads the environment). No cycles anywhere in shared/.
// docs/architecture.md says where each kind of change goes.
const IO_MODULES =
  '^(node:)?(http|https|http2|net|tls|dgram|dns|fs|fs/promises|child_process|cluster|worker_threads|readline|repl|inspector)$';

/** Paths a layer may not import, as a `to.path` pattern. */
const layer = (name, comment, fromPath, forbiddenTo) => ({
  name,
  comment,
  severity: 'error',
  from: { path: fromPath },
  to: forbiddenTo,
});

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'A cycle makes two modules one: neither can change or be understood alone.',
      severity: 'error',
      from: { path: '^(shared|functions)/' },
      to: { circular: true },
    },
    layer(
      'lib-imports-nothing',
      'shared/lib holds helpers that know nothing of SMS: they import nothing of the project.',
      '^shared/lib/',
      { path: '^(shared/(?!lib/)|functions/|local/|bench/|test/)' },
    ),
    layer(
      'domain-is-pure',
      'shared/domain imports only domain and lib (and zod, node:crypto): no ports, no settings, no SDK.',
      '^shared/domain/',
      {
        path: '^(shared/(?!domain/|lib/)|functions/|local/|bench/|test/)|node_modules/(?!zod/)',
        pathNot: '^node_modules/@types/',
      },
    ),
    layer(
      'ports-speak-domain',
      'shared/ports describe what use cases need, in domain terms: they import domain, lib and other ports only.',
      '^shared/ports/',
      { path: '^(shared/(?!domain/|lib/|ports/)|functions/|local/|bench/|test/)|node_modules/' },
    ),
    layer(
      'pipeline-knows-ports-only',
      'Use cases depend on domain, ports and lib only: never on an adapter, an SDK, the settings or HTTP.',
      '^shared/pipeline/',
      { path: '^(shared/(?!domain/|lib/|ports/|pipeline/)|functions/|local/|bench/|test/)|node_modules/' },
    ),
    layer(
      'http-above-pipeline',
      'shared/http (contracts, problems, views, the idempotency middleware) may use pipeline, ports, domain and lib — never adapters, settings or the composition root.',
      '^shared/http/',
      {
        path: '^(shared/(adapters|dashboard)/|shared/(config|settings|composition)\\.ts$|functions/|local/|bench/|test/)|node_modules/(?!zod/)',
      },
    ),
    layer(
      'adapters-never-call-use-cases',
      'Adapters implement ports; they never import a use case. Only the Functions glue (adapters/functions, the driving side) knows the API.',
      '^shared/adapters/',
      { path: '^(shared/pipeline/|shared/composition\\.ts$|functions/|local/|bench/|test/)' },
    ),
    layer(
      'adapters-below-the-api',
      'Driven adapters (storage, queues, ACS, Event Grid, webhooks) know nothing of the HTTP API.',
      '^shared/adapters/(?!functions/)',
      { path: '^shared/http/' },
    ),
    layer(
      'composition-for-the-app-only',
      'The composition root is for functions/, local/ and bench/ only.',
      '^shared/(?!composition\\.ts$)',
      { path: '^shared/composition\\.ts$' },
    ),
    {
      name: 'no-io-in-the-core',
      comment: 'Network and file I/O belong in adapters: domain, lib, ports, pipeline and http must stay testable without it.',
      severity: 'error',
      from: { path: '^shared/(domain|lib|ports|pipeline|http)/' },
      to: { dependencyTypes: ['core'], path: IO_MODULES },
    },
    {
      name: 'functions-are-thin',
      comment:
        'A function file reaches the world through the composition root and its Functions glue (adapters/functions), never an adapter directly.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^shared/adapters/(?!functions/)' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|coverage|\\.azurite)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js'],
    },
    moduleSystems: ['es6', 'cjs'],
  },
};

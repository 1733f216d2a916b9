/**
 * The module layering, checked in CI (`npm run depcheck`, run by .ci/run) over the compiled output:
 * dependency-cruiser 16 (the last line that runs on Node 20) does not read TypeScript 7 sources, and the
 * compiled JavaScript has exactly the runtime imports (type-only imports are erased, which is what matters
 * for start-up and cycles).
 *
 * Layers, lowest first: leaves (env, errors, clock, log, fs-private, domain) → shared (Redis, sealing) → http, auth → vendors, audit,
 * credits → workflows, confirm → tools, tool-runtime, server, resources, prompts → http-server, main, demo.
 * The sandbox is loaded only by main (dynamically, under --sandbox) and the demo.
 */
const layer = (name, from, forbidden) => ({ name, severity: 'error', from: { path: from }, to: { path: forbidden } });

module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'Import cycles make start-up order and refactoring fragile.', from: {}, to: { circular: true } },
    {
      name: 'undici-only-in-http-core',
      severity: 'error',
      comment: 'Every vendor request goes through src/http (pools, timeouts, limiter, retries, redaction).',
      from: { path: '^dist/src/', pathNot: '^dist/src/http/' },
      to: { path: 'node_modules/undici/' },
    },
    {
      name: 'sandbox-only-under-sandbox',
      severity: 'error',
      comment: 'The simulators are loaded only by --sandbox (main, dynamically) and the demo, never by a production module.',
      from: { path: '^dist/(src|tools)/', pathNot: ['^dist/src/sandbox/', '^dist/src/main\\.js$', '^dist/src/demo\\.js$'] },
      to: { path: '^dist/src/sandbox/' },
    },
    {
      name: 'main-loads-sandbox-dynamically',
      severity: 'error',
      comment: 'A static import would load the simulators at every production start.',
      from: { path: '^dist/src/main\\.js$' },
      to: { path: '^dist/src/sandbox/', dynamic: false },
    },
    layer('leaves-import-no-project-module', '^dist/src/(env|errors|clock|fs-private|html)\\.js$', '^dist/(src|tools)/'),
    layer('domain-is-types-and-leaves', '^dist/src/domain/', '^dist/(tools/|src/(http|auth|vendors|audit|credits|workflows|confirm|sandbox)/)'),
    layer('shared-below-auth', '^dist/src/shared/', '^dist/(tools/|src/(http|auth|vendors|audit|credits|workflows|confirm|sandbox|jobs|apps)/|src/(config|deps|server|main)\\.js)'),
    layer('http-core-below-vendors', '^dist/src/http/', '^dist/(tools/|src/(auth|vendors|audit|credits|workflows|confirm|sandbox)/)'),
    layer('auth-below-vendors', '^dist/src/auth/', '^dist/(tools/|src/(vendors|audit|credits|workflows|confirm|sandbox)/)'),
    layer('vendors-below-workflows', '^dist/src/vendors/', '^dist/(tools/|src/(workflows|confirm|audit|credits|sandbox|server|tool-runtime|resources)\\b)'),
    layer('workflows-below-tools', '^dist/src/(workflows|confirm|audit|credits)/', '^dist/(tools/|src/(server|tool-runtime|resources|prompts|http-server|main|demo)\\.js)'),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/(test|bench)/' },
    tsPreCompilationDeps: false,
    combinedDependencies: false,
  },
};

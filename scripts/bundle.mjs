/**
 * `npm run build`, second step: bundles the compiled server (dist/src/main.js) into one ES module,
 * dist/sales-access-mcp.mjs, the file `npx sales-access-mcp` runs. Loading one file instead of a few hundred
 * modules roughly halves the cold start to the first tools/list (`npm run bench -- cold_start`).
 * undici and oauth4webapi stay external: the server imports them lazily (the first vendor request, the
 * `auth` command), so a start that only lists tools never parses them.
 */
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/src/main.js'],
  outfile: 'dist/sales-access-mcp.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  external: ['undici', 'oauth4webapi'],
  // Bundled CommonJS dependencies (pino) call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
});

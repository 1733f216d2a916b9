/**
 * `npm run build`, second step: bundles the compiled server (dist/src/main.js) into one ES module,
 * dist/sales-access-mcp.mjs, the file `npx sales-access-mcp` runs. Loading one file instead of a few hundred
 * modules roughly halves the cold start to the first tools/list (`npm run bench -- cold_start`).
 * undici, oauth4webapi, ioredis and bottleneck stay external: the server imports them lazily (the first vendor
 * request, the `auth` command, SALES_ACCESS_REDIS_URL), so a start that only lists tools never parses them.
 */
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/src/main.js'],
  outfile: 'dist/sales-access-mcp.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  external: ['undici', 'oauth4webapi', 'ioredis', 'bottleneck'],
  // Bundled CommonJS dependencies (pino) call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
});

// ---------------------------------------------------------------------------------------------------------
// The in-chat views (MCP Apps): each one self-contained HTML file, dist/views/<name>.html, served as a
// `ui://` resource (src/apps/register.ts). Script and style are inline, allowed by hash in the page's own CSP,
// which allows nothing else: no network, no other script, no plugin, no form target.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const VIEWS = [
  { entry: 'views/review.ts', out: 'dist/views/access-review.html', title: 'Access review' },
  { entry: 'views/offboarding.ts', out: 'dist/views/offboarding.html', title: 'Offboarding plan' },
];
const css = readFileSync('views/views.css', 'utf8');
// zod re-exports every locale as a namespace (`z.locales`), which no bundler can drop: half of each view.
// The views (and the ext-apps App they bundle) use zod's default English messages only, so the namespace is
// built with English alone; zod itself loads English directly, not through this index.
const englishOnlyZodLocales = {
  name: 'zod-locales-en-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => (args.resolveDir.includes('node_modules/zod/') ? { path: join(args.resolveDir, '../locales/en.js'), namespace: 'zod-locales' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({ contents: `export { default as en } from ${JSON.stringify(args.path)};`, resolveDir: dirname(args.path) }));
  },
};
const sha = (s) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
mkdirSync('dist/views', { recursive: true });
for (const v of VIEWS) {
  const out = await build({
    entryPoints: [v.entry],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [englishOnlyZodLocales],
  });
  // Inline in <script>: a "</script" inside a string of the bundle would end the element early.
  const js = out.outputFiles[0].text.replace(/<\/(script)/gi, '<\\/$1');
  const csp = `default-src 'none'; script-src ${sha(js)}; style-src ${sha(css)}; img-src data:; base-uri 'none'; form-action 'none'`;
  const html =
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta http-equiv="Content-Security-Policy" content="${csp}"><title>${v.title}</title><style>${css}</style></head>` +
    `<body><main id="root"></main><script>${js}</script></body></html>\n`;
  writeFileSync(v.out, html);
}

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { assertBuilt } from '../support/spawn.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('the npm package', () => {
  it('ships the bundled server, the README, its credentials guide and mcp.json, and no test or benchmark', async () => {
    assertBuilt();
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['dist/sales-access-mcp.mjs', 'dist/views/access-review.html', 'dist/views/offboarding.html', 'README.md', 'docs/credentials.md', 'mcp.json', 'package.json']));
    // The bundle is the server: the compiled modules it was made from are not shipped twice.
    expect(files.filter((f) => f.startsWith('dist/src/') || f.startsWith('dist/tools/'))).toEqual([]);
    expect(files.filter((f) => /(^|\/)(test|bench)\//.test(f) || /\.test\.js/.test(f))).toEqual([]);
  }, 60_000);

  it('says where it comes from, and its README image resolves off GitHub (the registry page)', () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as Record<string, unknown>;
    expect(pkg.repository).toMatchObject({ type: 'git', url: expect.stringMatching(/^git\+https:\/\/github\.com\//) });
    expect(pkg.homepage).toMatch(/^https:\/\//);
    expect(pkg.keywords).toEqual(expect.arrayContaining(['mcp', 'scim']));
    const images = [...readFileSync(`${ROOT}README.md`, 'utf8').matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
    expect(images.length).toBeGreaterThan(0);
    for (const src of images) expect(src).toMatch(/^https:\/\//);
  });
});

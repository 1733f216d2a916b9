import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { runAccessReview } from '../../src/workflows/access-review.js';
import { startStack, type Stack } from '../support/stack.js';

const noProgress = async () => {};

describe('runAccessReview', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ flags: ['--vendors', 'outreach,apollo'] });
  });
  afterAll(() => stack.close());

  it('reviews only the configured vendors asked for, writes the evidence and returns the compact result', async () => {
    const pages: string[] = [];
    const out = await runAccessReview(stack.deps, {
      roster: ['nobody@acme.example', 'not an email'],
      vendors: ['apollo', 'zoominfo'],
      progress: async (m) => void pages.push(m),
    });
    expect(out.reviewId).toMatch(/^\d{4}-\d{2}-\d{2}-[0-9a-f]{8}$/);
    expect(Object.keys(out.compact.summary.by_vendor)).toEqual(['apollo']);
    expect(out.compact.roster).toMatchObject({ provided: true, entries: 1 });
    expect(out.rosterWarnings.length).toBeGreaterThan(0);
    expect(pages.length).toBeGreaterThan(0);
    for (const p of Object.values(out.evidence)) expect(existsSync(p)).toBe(true);
  });

  it('refuses a roster given twice before listing anything', async () => {
    await expect(runAccessReview(stack.deps, { roster: [], rosterPath: 'x.csv', progress: noProgress })).rejects.toThrow(/not both/);
  });
});

describe('runAccessReview over HTTP', () => {
  it('refuses roster_path: the server reads no files for remote clients', async () => {
    const stack = await startStack({ configure: (c: Config) => ({ ...c, transport: 'http' }) });
    try {
      await expect(runAccessReview(stack.deps, { rosterPath: 'roster.csv', progress: noProgress })).rejects.toThrow(/over HTTP only an inline roster/);
    } finally {
      await stack.close();
    }
  });
});

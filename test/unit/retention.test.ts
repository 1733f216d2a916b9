import { mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseCliArgs } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { pruneStateFiles } from '../../src/retention.js';

const DAY = 86_400_000;

function file(dir: string, name: string, ageMs: number): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), '{}');
  const t = (Date.now() - ageMs) / 1000;
  utimesSync(join(dir, name), t, t);
}

describe('retention of evidence and stored results', () => {
  it('defaults: evidence 90 days, results a day; 0 keeps them', () => {
    const load = (env: Record<string, string>) => loadConfig(parseCliArgs([]), { SALES_ACCESS_STATE_DIR: '/tmp/sam-ret', ...env }).retention;
    expect(load({})).toEqual({ evidenceMs: 90 * DAY, resultsMs: DAY });
    expect(load({ SALES_ACCESS_EVIDENCE_RETENTION_DAYS: '400', SALES_ACCESS_RESULT_RETENTION_HOURS: '0' })).toEqual({ evidenceMs: 400 * DAY, resultsMs: 0 });
    expect(() => load({ SALES_ACCESS_EVIDENCE_RETENTION_DAYS: 'ninety' })).toThrow(/SALES_ACCESS_EVIDENCE_RETENTION_DAYS must be a whole number/);
  });

  it('at start-up removes evidence and results past their retention, and nothing else', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'sam-ret-'));
    const evidence = join(stateDir, 'evidence');
    const results = join(stateDir, 'results');
    file(evidence, 'access-review-2026-01-01-aaaa.csv', 100 * DAY);
    file(evidence, 'access-review-2026-01-01-aaaa.html', 100 * DAY);
    file(evidence, 'access-review-2026-11-01-bbbb.csv', 30 * DAY);
    file(evidence, 'notes.txt', 100 * DAY);
    file(results, 'outreach_list_users-old-000000000000.json', 2 * DAY);
    file(results, 'outreach_list_users-new-000000000000.json', 60_000);
    file(stateDir, 'audit.log', 400 * DAY);

    const removed = await pruneStateFiles({ stateDir, retention: { evidenceMs: 90 * DAY, resultsMs: DAY } }, silentLogger);
    expect(removed).toEqual({ evidence: 2, results: 1 });
    expect(readdirSync(evidence).sort()).toEqual(['access-review-2026-11-01-bbbb.csv', 'notes.txt']);
    expect(readdirSync(results)).toEqual(['outreach_list_users-new-000000000000.json']);
    expect(readdirSync(stateDir)).toContain('audit.log');

    // 0 keeps everything; a state directory without these folders is fine.
    expect(await pruneStateFiles({ stateDir, retention: { evidenceMs: 0, resultsMs: 0 } }, silentLogger)).toEqual({ evidence: 0, results: 0 });
    expect(await pruneStateFiles({ stateDir: mkdtempSync(join(tmpdir(), 'sam-ret-')), retention: { evidenceMs: DAY, resultsMs: DAY } }, silentLogger)).toEqual({ evidence: 0, results: 0 });
  });
});

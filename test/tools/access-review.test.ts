import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { generatePeople } from '../../src/sandbox/people.js';
import { sampleRosterCsv } from '../../src/sandbox/roster.js';
import { startStack, structured, textOf, type Stack } from '../support/stack.js';
import { withSettings } from '../../src/vendors/connection.js';
import { zoominfoAdapter } from '../../src/vendors/zoominfo/adapter.js';

const rosterDir = mkdtempSync(join(tmpdir(), 'sam-roster-'));
writeFileSync(join(rosterDir, 'roster.csv'), sampleRosterCsv());
const outside = mkdtempSync(join(tmpdir(), 'sam-outside-'));
writeFileSync(join(outside, 'secret.csv'), 'email\nboss@acme.example\n');
symlinkSync(join(outside, 'secret.csv'), join(rosterDir, 'escape.csv'));

describe('access_review on the sandbox', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { SALES_ACCESS_ROSTER_DIR: rosterDir } });
  });
  afterAll(() => stack.close());

  it('flags, in every vendor where they hold an active account, the people absent from the roster', async () => {
    const employed = generatePeople(300).filter((p) => p.employment === 'active').map((p) => p.email);
    const progress: string[] = [];
    const r = await stack.call('access_review', { roster: employed }, { onprogress: (p) => progress.push(p.message ?? '') });
    const s = structured(r);
    expect(Buffer.byteLength(JSON.stringify(s))).toBeLessThanOrEqual(25_000);
    expect(progress.length).toBeGreaterThan(4);
    expect(Object.keys(s.summary.by_vendor).sort()).toEqual(['apollo', 'outreach', 'salesloft', 'zoominfo']);
    expect(s.summary.by_finding.ORPHANED_ACCOUNT).toBeGreaterThan(0);

    // Evidence: resource links to the CSV, JSON and HTML, readable through resources/read.
    const links = r.content.filter((c) => c.type === 'resource_link') as { uri: string; mimeType: string }[];
    expect(links.map((l) => l.mimeType).sort()).toEqual(['application/json', 'text/csv', 'text/html']);
    const json = JSON.parse(((await stack.client.readResource({ uri: s.evidence.json })).contents[0] as { text: string }).text);
    const orphans = json.result?.findings ?? json.findings;
    const orphaned = orphans.filter((f: any) => f.code === 'ORPHANED_ACCOUNT');
    // Every orphaned account belongs to someone not on the roster.
    const onRoster = new Set(employed);
    for (const f of orphaned) for (const a of f.accounts) expect(onRoster.has(String(a.email).toLowerCase())).toBe(false);
    // And every vendor where a leaver still has an active account is flagged.
    const leaver = generatePeople(300).find((p) => p.employment === 'terminated' && stack.sandbox.outreach.users().some((u) => u.email.toLowerCase() === p.email && u.active && !u.locked))!;
    expect(orphaned.some((f: any) => f.vendor === 'outreach' && f.accounts.some((a: any) => String(a.email).toLowerCase() === leaver.email))).toBe(true);
    for (const vendor of ['salesloft', 'apollo', 'zoominfo'] as const) {
      const active = stack.sandbox.scim[vendor].users().some((u: any) => String(u.userName).toLowerCase() === leaver.email && u.active !== false);
      if (active) expect(orphaned.some((f: any) => f.vendor === vendor && f.accounts.some((a: any) => String(a.email).toLowerCase() === leaver.email))).toBe(true);
    }

    const html = ((await stack.client.readResource({ uri: s.evidence.html })).contents[0] as { text: string }).text;
    expect(html).toMatch(/http-equiv="Content-Security-Policy" content="default-src (&#39;|')none/);
    expect(html).toContain('<svg');
    const csv = ((await stack.client.readResource({ uri: s.evidence.csv })).contents[0] as { text: string }).text;
    expect(csv.split('\n').length).toBeGreaterThan(100);
  });

  it('reads a CSV roster inside SALES_ACCESS_ROSTER_DIR and refuses a symlink leading outside it', async () => {
    const ok = structured(await stack.call('access_review', { roster_path: join(rosterDir, 'roster.csv'), vendors: ['outreach'] }));
    expect(ok.roster).toMatchObject({ provided: true, entries: 300 });
    expect(ok.roster.terminated).toBeGreaterThan(0);
    const escape = await stack.call('access_review', { roster_path: join(rosterDir, 'escape.csv') });
    expect(escape.isError).toBe(true);
    expect(textOf(escape)).toMatch(/SALES_ACCESS_ROSTER_DIR|outside/);
    expect(textOf(escape)).not.toContain('boss@acme.example');
  });

  it('exceptions suppress findings and list what they suppressed', async () => {
    const employed = generatePeople(300).filter((p) => p.employment === 'active').map((p) => p.email);
    const all = structured(await stack.call('access_review', { roster: employed, vendors: ['outreach'] }));
    const some = structured(await stack.call('access_review', { roster: employed, vendors: ['outreach'], exceptions: ['*bot@acme.example', 'integration.*@acme.example'] }));
    expect(some.suppressed_total).toBeGreaterThanOrEqual(0);
    expect(some.summary.findings_total + some.suppressed_total).toBe(all.summary.findings_total + all.suppressed_total);
  });

  it('without a roster, orphaned accounts are undetermined rather than guessed', async () => {
    const s = structured(await stack.call('access_review', { vendors: ['outreach'] }));
    expect(s.summary.by_finding.ORPHANED_ACCOUNT).toBe(0);
    expect(s.undetermined.some((u: any) => u.code === 'ORPHANED_ACCOUNT')).toBe(true);
  });
});

describe('access_review when a vendor cannot be listed', () => {
  it('ZoomInfo without SCIM is NOT_AUDITABLE, never zero accounts', async () => {
    const stack = await startStack({ configure: (c: Config) => withSettings(c, zoominfoAdapter, (s) => s, null) });
    try {
      const s = structured(await stack.call('access_review', { roster: ['someone@acme.example'] }));
      expect(s.not_auditable.map((n: any) => n.vendor)).toEqual(['zoominfo']);
      expect(s.not_auditable[0].reason).toMatch(/SCIM/);
      expect(s.summary.by_vendor.zoominfo.auditable).toBe(false);
      expect(s.summary.by_vendor.zoominfo.accounts).toBeUndefined();
    } finally {
      await stack.close();
    }
  });
});

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { AccountStatus } from '../../src/domain/account.js';
import type { SandboxVendor as Vendor } from '../../src/sandbox/index.js';
import { reviewAccess } from '../../src/workflows/review/engine.js';
import { escapeHtml } from '../../src/html.js';
import { CSV_COLUMNS, csvCell, renderHtmlReport, writeEvidence } from '../../src/workflows/report.js';
import type { ReviewAccount, VendorInventory } from '../../src/domain/review.js';

const NOW = new Date('2026-11-02T09:00:00Z');
const FORMULA = "=cmd|' /C calc'!A0";
const XSS = '<script>alert(1)</script>';

function acct(vendor: Vendor, id: string, email: string | null, status: AccountStatus, extra: Partial<ReviewAccount> = {}): ReviewAccount {
  return { vendor, id, email, name: null, status, role: 'User', created_at: '2025-01-01T00:00:00Z', updated_at: null, source: 'rest', is_admin: false, ...extra };
}

function sample(): VendorInventory[] {
  return [
    {
      vendor: 'outreach',
      auditable: true,
      sources: ['rest'],
      scim_configured: false,
      accounts: [
        acct('outreach', '1', 'dana@acme.example', 'active', { name: XSS, is_admin: true }),
        acct('outreach', '2', 'wei@acme.example', 'locked', { name: FORMULA, locked: true }),
        acct('outreach', '3', '@evil.example', 'active', { name: '+SUM(1,2)', role: '-2+3' }),
        acct('outreach', '4', 'tab@acme.example', 'active', { name: '\tTabbed', role: '\rCR' }),
        acct('outreach', '5', 'q@acme.example', 'active', { name: 'Say "hi", then\nleave' }),
      ],
      invitations: null,
      admin_known: true,
    },
    {
      vendor: 'apollo',
      auditable: true,
      sources: ['rest'],
      scim_configured: false,
      accounts: [
        acct('apollo', 'a1', 'dana@acme.example', 'active', { is_admin: true, name: `"><img src=x onerror=alert(2)>` }),
        acct('apollo', 'a2', 'old@acme.example', 'deactivated', { name: "O'Brien & Co" }),
      ],
      invitations: null,
      admin_known: true,
    },
    {
      vendor: 'zoominfo',
      auditable: false,
      not_auditable_reason: "ZoomInfo's REST API has no seat list; configure SCIM <b>now</b>",
      sources: [],
      scim_configured: false,
      accounts: [],
      invitations: null,
      admin_known: false,
    },
  ];
}

describe('csvCell', () => {
  it('neutralises formula-looking cells and quotes per RFC 4180', () => {
    expect(csvCell(FORMULA)).toBe(`'${FORMULA}`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-1')).toBe("'-1");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tx')).toBe("'\tx");
    expect(csvCell('\rx')).toBe(`"'\rx"`);
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(null)).toBe('');
    expect(csvCell(true)).toBe('true');
  });

  it('escapeHtml escapes the five characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });
});

describe('writeEvidence', () => {
  it('writes CSV, JSON and HTML with mode 0600 in a 0700 directory', async () => {
    const inventories = sample();
    const result = reviewAccess(inventories, [{ email: 'dana@acme.example', status: 'active', terminated_on: null }], { now: NOW });
    const dir = join(mkdtempSync(join(tmpdir(), 'sam-report-')), 'reviews');
    const paths = await writeEvidence(result, inventories, dir, { generatedAt: NOW, reviewId: 'r-2026-11-02' });
    expect(paths.csv).toBe(join(dir, 'access-review-r-2026-11-02.csv'));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const p of [paths.csv, paths.json, paths.html]) expect(statSync(p).mode & 0o777).toBe(0o600);

    // CSV: header, one row per account per vendor, not-auditable row, every dangerous cell neutralised.
    const csv = readFileSync(paths.csv, 'utf8');
    const rows = parse(csv) as string[][];
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(1 + 7 + 1);
    const col = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);
    for (const row of rows.slice(1)) for (const cell of row) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    const wei = rows.find((r) => r[col('email')] === 'wei@acme.example')!;
    expect(wei[col('name')]).toBe(`'${FORMULA}`);
    expect(wei[col('findings')]).toBe('LOCKED_STILL_BILLED');
    expect(rows.find((r) => r[col('account_id')] === '3')![col('email')]).toBe("'@evil.example");
    expect(rows.find((r) => r[col('account_id')] === '5')![col('name')]).toBe('Say "hi", then\nleave');
    const za = rows.find((r) => r[col('vendor')] === 'zoominfo')!;
    expect(za[col('kind')]).toBe('not_auditable');
    expect(za[col('notes')]).toMatch(/^NOT_AUDITABLE: ZoomInfo's REST API has no seat list/);

    // JSON: the full result and the inventories.
    const json = JSON.parse(readFileSync(paths.json, 'utf8'));
    expect(json.review_id).toBe('r-2026-11-02');
    expect(json.result.findings).toEqual(JSON.parse(JSON.stringify(result.findings)));
    expect(json.result.accounts).toHaveLength(7);
    expect(json.inventories.map((i: VendorInventory) => i.vendor)).toEqual(['outreach', 'apollo', 'zoominfo']);

    // HTML: escaped, CSP with the style hash, no script, no external reference, a chart.
    const html = readFileSync(paths.html, 'utf8');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>now</b>');
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;');
    expect(html).toContain('O&#39;Brien &amp; Co');
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
    expect(csp).not.toBeNull();
    const policy = csp![1].replace(/&#39;/g, "'");
    expect(policy.startsWith("default-src 'none'; style-src 'sha256-")).toBe(true);
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
    expect(html.match(/<style/g)).toHaveLength(1);
    const hash = createHash('sha256').update(style, 'utf8').digest('base64');
    expect(policy).toContain(`style-src 'sha256-${hash}'`);
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/url\(/i);
    // Real tags (escaped vendor text has no '<') carry no loading, event-handler or inline-style attribute.
    const tags = html.match(/<[a-zA-Z][^>]*>/g) ?? [];
    expect(tags.length).toBeGreaterThan(50);
    for (const tag of tags) expect(tag).not.toMatch(/\s(src|href|xlink:href|srcset|action|style|on[a-z]+)\s*=/i);
    expect(tags.filter((t) => /^<(script|img|iframe|object|embed|link|base|form|image|use|foreignObject)\b/i.test(t))).toEqual([]);
    expect(html).toContain('<svg class="seats-chart"');
    expect(html.match(/class="bar-group[^"]*" data-vendor="/g)).toHaveLength(3);
    expect(html).toContain('not auditable');
    expect(html).toContain('<title id="chart-title">Seats by vendor and status</title>');
    for (const code of ['LOCKED_STILL_BILLED', 'DEACTIVATED_SEAT_NOT_FREED', 'NO_AUTOMATED_OFFBOARDING', 'ORPHANED_ACCOUNT']) expect(html).toContain(code);
  });

  it('refuses a review id that is not file-name safe', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sam-report-'));
    const result = reviewAccess([], null, { now: NOW });
    await expect(writeEvidence(result, [], dir, { generatedAt: NOW, reviewId: '../escape' })).rejects.toThrow(/reviewId/);
  });

  it('writes the evidence of 4 vendors x 10,000 accounts, the HTML staying bounded', async () => {
    const n = 10_000;
    const inventories: VendorInventory[] = (['outreach', 'salesloft', 'apollo', 'zoominfo'] as const).map((vendor) => ({
      vendor,
      auditable: true,
      sources: ['rest'],
      scim_configured: vendor !== 'apollo',
      accounts: Array.from({ length: n }, (_, i) => acct(vendor, `${vendor}-${i}`, `user${i}@acme.example`, i % 9 === 0 ? 'deactivated' : 'active', { name: `User ${i}`, is_admin: i < 3 })),
      invitations: [],
      admin_known: true,
    }));
    const roster = Array.from({ length: n }, (_, i) => ({ email: `user${i}@acme.example`, status: i % 8 === 0 ? ('terminated' as const) : ('active' as const), terminated_on: null }));
    const result = reviewAccess(inventories, roster, { now: NOW });
    const dir = mkdtempSync(join(tmpdir(), 'sam-report-big-'));
    const t0 = performance.now();
    const paths = await writeEvidence(result, inventories, dir, { generatedAt: NOW, reviewId: 'big' });
    console.log(`writeEvidence 4 x ${n}: ${(performance.now() - t0).toFixed(0)} ms; csv ${statSync(paths.csv).size} B, json ${statSync(paths.json).size} B, html ${statSync(paths.html).size} B`);
    const csvLines = readFileSync(paths.csv, 'utf8').split('\r\n').filter(Boolean);
    expect(csvLines).toHaveLength(1 + 4 * n);
    const json = JSON.parse(readFileSync(paths.json, 'utf8'));
    expect(json.result.accounts).toHaveLength(4 * n);
    expect(json.inventories[3].accounts).toHaveLength(n);
    expect(statSync(paths.html).size).toBeLessThan(1_000_000);
    // Grouped by code and vendor, with a bounded number of account rows.
    const html = renderHtmlReport(result, inventories, { generatedAt: NOW, reviewId: 'big' });
    const cards = html.match(/<article class="finding/g) ?? [];
    expect(cards.length).toBeGreaterThan(3);
    expect(cards.length).toBeLessThanOrEqual(4 * 7 * 3);
    expect((html.match(/<tr>/g) ?? []).length).toBeLessThan(500);
    expect(html).toMatch(/more accounts in the CSV and JSON evidence/);
  });
});

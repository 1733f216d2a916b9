import { chmodSync, existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { AccountStatus } from '../../src/domain/account.js';
import type { SandboxVendor as Vendor } from '../../src/sandbox/index.js';
import { reviewAccess } from '../../src/workflows/review/engine.js';
import { writeEvidence } from '../../src/workflows/report.js';
import type { ReviewAccount, RosterEntry, VendorInventory } from '../../src/domain/review.js';

/**
 * The HTML evidence report rendered by a real browser: Debian's Chromium driven by playwright-core. CI
 * installs `chromium`; where it is missing this test is reported as skipped, with the reason in its name.
 */

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const NOW = new Date('2026-11-02T09:00:00Z');
const DAY = 86_400_000;
const XSS_SCRIPT = '<script>window.__pwned = 1</script>';
const XSS_IMG = '<img src=x onerror="window.__pwned2 = 1">';

function acct(vendor: Vendor, id: string, email: string, status: AccountStatus, extra: Partial<ReviewAccount> = {}): ReviewAccount {
  return { vendor, id, email, name: email.split('@')[0], status, role: 'User', created_at: '2025-03-01T00:00:00Z', updated_at: null, source: 'rest', is_admin: false, ...extra };
}

function fixture(): { inventories: VendorInventory[]; roster: RosterEntry[] } {
  const roster: RosterEntry[] = [];
  const outreach: ReviewAccount[] = [];
  const salesloft: ReviewAccount[] = [];
  const apollo: ReviewAccount[] = [];
  for (let i = 0; i < 240; i++) {
    const email = `person${i}@acme.example`;
    roster.push({ email, status: i % 9 === 0 ? 'terminated' : 'active', terminated_on: i % 9 === 0 ? '2026-08-01' : null });
    const status: AccountStatus = i % 13 === 0 ? 'locked' : i % 17 === 0 ? 'deactivated' : 'active';
    outreach.push(acct('outreach', String(1000 + i), email, status, { locked: status === 'locked', active: status !== 'deactivated', is_admin: i < 3 }));
    outreach.push(acct('outreach', `scim-${i}`, email, status === 'locked' ? 'active' : status, { source: 'scim', is_admin: null, active: status !== 'deactivated' }));
    if (i % 2 === 0) salesloft.push(acct('salesloft', `sl-${i}`, email, i % 11 === 0 ? 'deactivated' : 'active', { is_admin: i < 4 }));
    if (i % 3 === 0) apollo.push(acct('apollo', `ap-${i}`, email, i % 7 === 0 ? 'deactivated' : 'active', { is_admin: i === 3, seat_held: true }));
  }
  // Untrusted vendor data that must stay text.
  outreach.push(acct('outreach', '9001', 'intruder@evil.example', 'active', { name: XSS_SCRIPT }));
  salesloft.push(acct('salesloft', 'sl-x', 'img@evil.example', 'active', { name: XSS_IMG, role: "'; background:url(https://evil.example/x)" }));
  salesloft.push(acct('salesloft', 'sl-p', 'pending@acme.example', 'pending', { source: 'scim', is_admin: null, invited_at: new Date(NOW.getTime() - 50 * DAY).toISOString() }));
  outreach.push(acct('outreach', '9002', 'Person5@acme.example', 'active'));
  return {
    roster,
    inventories: [
      { vendor: 'outreach', auditable: true, sources: ['rest', 'scim'], scim_configured: true, accounts: outreach, invitations: null, admin_known: true },
      {
        vendor: 'salesloft',
        auditable: true,
        sources: ['rest', 'scim'],
        scim_configured: true,
        accounts: salesloft,
        invitations: [{ email: 'newhire@acme.example', invited_at: new Date(NOW.getTime() - 45 * DAY).toISOString() }],
        admin_known: true,
      },
      { vendor: 'apollo', auditable: true, sources: ['rest'], scim_configured: false, accounts: apollo, invitations: null, admin_known: true },
      {
        vendor: 'zoominfo',
        auditable: false,
        not_auditable_reason: "ZoomInfo's REST API has no seat list, so its seats can only be audited through SCIM: set ZOOMINFO_SCIM_URL and ZOOMINFO_SCIM_TOKEN.",
        sources: [],
        scim_configured: false,
        accounts: [],
        invitations: null,
        admin_known: false,
      },
    ],
  };
}

describe('HTML access-review report in headless Chromium', () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
  });

  const title = HAVE_CHROMIUM
    ? 'renders with its chart visible, no CSP violation, and vendor data inert'
    : `renders with its chart visible (skipped: ${CHROMIUM} is missing; install Debian's chromium package)`;

  it.skipIf(!HAVE_CHROMIUM)(title, async () => {
    const { inventories, roster } = fixture();
    const result = reviewAccess(inventories, roster, { now: NOW, exceptions: ['svc-*@*'] });
    const stateDir = process.env.SALES_ACCESS_STATE_DIR || mkdtempSync(join(tmpdir(), 'sam-report-e2e-'));
    const dir = join(stateDir, 'reviews');
    const reviewId = `e2e-${NOW.toISOString().slice(0, 10)}-${process.pid}`;
    const paths = await writeEvidence(result, inventories, dir, { generatedAt: new Date(), reviewId });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 });
    const page = await context.newPage();

    const consoleProblems: string[] = [];
    const pageErrors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') consoleProblems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('request', (r) => requests.push(r.url()));
    // Injected through the DevTools protocol (outside the page's CSP) to record any violation the page reports.
    // Browser-side code is passed as strings: the project compiles without the DOM library.
    await page.addInitScript({
      content: "window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));",
    });

    const url = pathToFileURL(paths.html).href;
    await page.goto(url, { waitUntil: 'load' });

    // The chart: visible, non-zero size, one bar group per vendor reviewed (ZoomInfo drawn as not auditable).
    const svg = page.locator('svg.seats-chart');
    expect(await svg.isVisible()).toBe(true);
    const box = await svg.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.width).toBeGreaterThan(300);
    expect(box!.height).toBeGreaterThan(100);
    const groups = page.locator('svg.seats-chart g.bar-group');
    expect(await groups.count()).toBe(inventories.length);
    expect(await groups.evaluateAll((gs) => gs.map((g) => g.getAttribute('data-vendor')))).toEqual(['outreach', 'salesloft', 'apollo', 'zoominfo']);
    for (const vendor of ['outreach', 'salesloft', 'apollo']) {
      const seg = page.locator(`svg.seats-chart g.bar-group[data-vendor="${vendor}"] rect.seg`).first();
      const b = await seg.boundingBox();
      expect(b && b.width > 0 && b.height > 0, `${vendor} bar has a size`).toBe(true);
    }
    expect(await page.locator('svg.seats-chart g.bar-group.not-auditable[data-vendor="zoominfo"]').isVisible()).toBe(true);

    // The hashed stylesheet applied (it would be blocked, and the page unstyled, if the hash were wrong).
    const styled = await page.evaluate<{ maxWidth: string; font: string }>(
      "({ maxWidth: getComputedStyle(document.querySelector('main')).maxWidth, font: getComputedStyle(document.body).fontFamily })",
    );
    expect(styled.maxWidth).toBe('1080px');
    expect(styled.font).toMatch(/system-ui/);

    // Vendor data stayed text: no script ran, the markup shows literally, no element was injected.
    const state = await page.evaluate<{ pwned: unknown; pwned2: unknown; scripts: number; imgs: number; text: string; csp: string[] }>(
      `({
        pwned: window.__pwned ?? null,
        pwned2: window.__pwned2 ?? null,
        scripts: document.querySelectorAll('script').length,
        imgs: document.querySelectorAll('img').length,
        text: document.body.innerText,
        csp: window.__csp ?? ['(violation listener missing)'],
      })`,
    );
    expect(state.pwned).toBeNull();
    expect(state.pwned2).toBeNull();
    expect(state.scripts).toBe(0);
    expect(state.imgs).toBe(0);
    expect(state.text).toContain(XSS_SCRIPT);
    expect(state.csp).toEqual([]);
    expect(consoleProblems).toEqual([]);
    expect(pageErrors).toEqual([]);
    // Only the report itself was loaded: no asset, font or image request.
    expect(requests).toEqual([url]);

    const screenshot = join(dir, `access-review-${reviewId}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    chmodSync(screenshot, 0o600);
    expect(statSync(screenshot).size).toBeGreaterThan(10_000);
    console.log(`report: ${paths.html}\nscreenshot: ${screenshot}`);
    await context.close();
  });
});

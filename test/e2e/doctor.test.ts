import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { RECORD_SCOPES } from '../../src/vendors/outreach/records.js';
import { freePort } from '../support/http-stack.js';
import { startIssuer } from '../support/issuer.js';
import { assertBuilt, cleanEnv, spawnServer, tempStateDir } from '../support/spawn.js';

/** `sales-access-mcp doctor`, spawned as an admin runs it. */
describe('sales-access-mcp doctor', () => {
  it('--sandbox: every vendor checks out, exit 0, table on stdout', async () => {
    assertBuilt();
    const s = spawnServer(['doctor', '--sandbox'], cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir(), LOG_LEVEL: 'warn' }));
    expect(await s.exited).toBe(0);
    const out = s.stdout();
    expect(out).toMatch(/^STATUS\s+VENDOR\s+API\s+CHECK\s+DETAIL$/m);
    for (const label of ['Outreach', 'SalesLoft', 'Apollo.io', 'ZoomInfo']) {
      expect(out).toMatch(new RegExp(`^ok\\s+${label.replace('.', '\\.')}\\s+REST\\s+credential`, 'm'));
      expect(out).toMatch(new RegExp(`^ok\\s+${label.replace('.', '\\.')}\\s+SCIM\\s+token`, 'm'));
    }
    expect(out).toMatch(/Apollo\.io\s+REST\s+master key\s+teammates can be listed/);
    expect(out).toMatch(/Outreach\s+REST\s+rate limit\s+\d+ of 10000 left this hour/);
    expect(out).not.toMatch(/^problem/m);
    expect(out).toMatch(/doctor: all checks passed/);
    // The simulators' keys start with sim_; none may be printed.
    expect(out + s.stderr()).not.toMatch(/sim_(master|scoped)_|oat_/);
  });

  it('--json: the same report for scripts', async () => {
    assertBuilt();
    const s = spawnServer(['doctor', '--sandbox', '--json'], cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir(), LOG_LEVEL: 'warn' }));
    expect(await s.exited).toBe(0);
    const report = JSON.parse(s.stdout());
    expect(report).toMatchObject({ ok: true, sandbox: true, problems: [] });
    expect(report.vendors.map((v: { vendor: string; status: string }) => [v.vendor, v.status])).toEqual([
      ['outreach', 'ok'],
      ['salesloft', 'ok'],
      ['apollo', 'ok'],
      ['zoominfo', 'ok'],
    ]);
    const apollo = report.vendors.find((v: { vendor: string }) => v.vendor === 'apollo');
    expect(apollo.rest.key_kind).toBe('master API key');
    expect(apollo.credits.vendor.remaining).toBeGreaterThan(0);
  });

  describe('against vendors that refuse', () => {
    let sandbox: Sandbox;
    let outreachToken: string;
    beforeAll(async () => {
      sandbox = await startSandbox();
      // An Outreach token granted what the workflows need (users and the records an offboarding hands over), but
      // not roles.read or profiles.read: the reads only the Outreach tools make are refused.
      const res = await request(sandbox.outreach.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: sandbox.outreach.clientId, client_secret: sandbox.outreach.clientSecret, scope: ['users.read', 'users.write', ...RECORD_SCOPES].join(' ') }).toString(),
      });
      outreachToken = ((await res.body.json()) as { access_token: string }).access_token;
    });
    afterAll(() => sandbox?.close());

    it('names each problem (missing scope, scoped key, rejected key), exits 1, and prints no secret', async () => {
      assertBuilt();
      const wrongKey = 'sl_key_that_salesloft_rejects_0123456789';
      const secrets = [outreachToken, sandbox.apollo.scopedKey, wrongKey];
      const env = cleanEnv({
        SALES_ACCESS_STATE_DIR: tempStateDir(),
        LOG_LEVEL: 'warn',
        OUTREACH_BASE_URL: sandbox.outreach.baseUrl,
        OUTREACH_ACCESS_TOKEN: outreachToken,
        SALESLOFT_BASE_URL: sandbox.salesloft.baseUrl,
        SALESLOFT_API_KEY: wrongKey,
        APOLLO_BASE_URL: sandbox.apollo.baseUrl,
        APOLLO_API_KEY: sandbox.apollo.scopedKey,
      });
      const table = spawnServer(['doctor'], env);
      expect(await table.exited).toBe(1);
      const out = table.stdout();
      expect(out).toMatch(/^PROBLEM +Outreach REST scope roles\.read: the token lacks roles\.read \(a read that needs it was refused \(403\)\), needed by outreach/m);
      expect(out).toMatch(/^PROBLEM +Outreach REST scope profiles\.read/m);
      expect(out).toMatch(/^PROBLEM +SalesLoft REST credential: SalesLoft rejected the credentials \(401\).*Check SALESLOFT_API_KEY/m);
      expect(out).toMatch(/^PROBLEM +Apollo\.io REST master key: .*master/m);
      expect(out).toMatch(/^-\s+ZoomInfo\s+not configured\s+set ZOOMINFO_USERNAME or ZOOMINFO_PASSWORD/m);
      expect(out).toMatch(/doctor: 4 problems/);

      const json = spawnServer(['doctor', '--json'], env);
      expect(await json.exited).toBe(1);
      const report = JSON.parse(json.stdout());
      expect(report.ok).toBe(false);
      const outreach = report.vendors.find((v: { vendor: string }) => v.vendor === 'outreach');
      expect(outreach.rest.scopes.missing).toEqual(['roles.read', 'profiles.read']);
      expect(report.vendors.find((v: { vendor: string }) => v.vendor === 'apollo').rest.key_kind).toBe('scoped API key (not a master key)');

      for (const s of [table, json]) for (const secret of secrets) expect(s.stdout() + s.stderr()).not.toContain(secret);
    });

    it('a problem only a toolset not served would hit is a warning: --toolsets workflows does not need roles.read', async () => {
      assertBuilt();
      const env = cleanEnv({ SALES_ACCESS_STATE_DIR: tempStateDir(), LOG_LEVEL: 'warn', OUTREACH_BASE_URL: sandbox.outreach.baseUrl, OUTREACH_ACCESS_TOKEN: outreachToken });
      const s = spawnServer(['doctor', '--json', '--toolsets', 'workflows', '--vendors', 'outreach'], env);
      expect(await s.exited).toBe(0);
      const report = JSON.parse(s.stdout());
      expect(report.problems).toEqual([]);
      expect(report.warnings.join('\n')).toMatch(/scope roles\.read: .*not served here: only outreach need it/);
    });
  });

  it('with sign-in configured, checks that the identity provider\'s signing keys can be read', async () => {
    assertBuilt();
    const resource = 'http://127.0.0.1:1/mcp';
    const issuer = await startIssuer({ audience: resource });
    try {
      const base = { SALES_ACCESS_STATE_DIR: tempStateDir(), LOG_LEVEL: 'warn', SALES_ACCESS_RESOURCE_URL: resource };
      const good = spawnServer(['doctor', '--sandbox'], cleanEnv({ ...base, SALES_ACCESS_OAUTH_ISSUER: issuer.issuer }));
      expect(await good.exited).toBe(0);
      expect(good.stdout()).toMatch(new RegExp(`^ok\\s+Sign-in\\s+OAuth\\s+identity provider\\s+2 signing keys read from ${issuer.jwksUrl}`, 'm'));
      expect(good.stdout()).not.toMatch(/approval page/);
      // With the approval page's sign-in: its endpoints are checked too.
      const page = spawnServer(['doctor', '--sandbox'], cleanEnv({ ...base, SALES_ACCESS_OAUTH_ISSUER: issuer.issuer, SALES_ACCESS_APPROVAL_CLIENT_ID: 'approval-page' }));
      expect(await page.exited).toBe(0);
      expect(page.stdout()).toMatch(new RegExp(`^ok\\s+Sign-in\\s+OIDC\\s+approval page\\s+people sign in at ${new URL(issuer.issuer).origin} \\(authorization code with PKCE\\)`, 'm'));

      const port = await freePort();
      const bad = spawnServer(['doctor', '--sandbox', '--json'], cleanEnv({ ...base, SALES_ACCESS_OAUTH_ISSUER: `http://127.0.0.1:${port}/realms/gone` }));
      expect(await bad.exited).toBe(1);
      const report = JSON.parse(bad.stdout());
      expect(report.sign_in).toMatchObject({ status: 'problem' });
      expect(report.problems).toEqual([expect.stringMatching(/^Sign-in \(identity provider http:\/\/127\.0\.0\.1:\d+\/realms\/gone\): the signing keys could not be read \(.*\); people cannot sign in until they can: check SALES_ACCESS_OAUTH_ISSUER/)]);
    } finally {
      await issuer.close();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { loadConfig, parseCliArgs } from '../../src/config.js';
import { startupWarnings } from '../../src/startup-warnings.js';

const warn = (env: Record<string, string>, argv: string[] = []) => {
  const full = { SALES_ACCESS_STATE_DIR: '/tmp/sam-warn', ...env };
  return startupWarnings(full, loadConfig(parseCliArgs(argv), full));
};

describe('start-up warnings', () => {
  it('a complete vendor: nothing to say', () => {
    expect(warn({ OUTREACH_ACCESS_TOKEN: 'tok' })).toEqual([]);
  });

  it('sign-in with the identity provider set for a stdio server: said, since it does nothing there', () => {
    const idp = { OUTREACH_ACCESS_TOKEN: 'tok', SALES_ACCESS_OAUTH_ISSUER: 'https://login.example.com', SALES_ACCESS_RESOURCE_URL: 'https://access.example.com/mcp' };
    expect(warn(idp)).toEqual([expect.stringMatching(/^SALES_ACCESS_OAUTH_ISSUER is set, but .* HTTP transport \(--http\) only/)]);
    expect(warn(idp, ['--http'])).toEqual([]);
  });

  it('stateless HTTP: without Redis the state is per replica; beyond loopback only token mode can confirm; the variable over stdio does nothing', () => {
    const tok = { OUTREACH_ACCESS_TOKEN: 'tok' };
    expect(warn(tok, ['--http', '--stateless'])).toEqual([expect.stringMatching(/^Stateless HTTP \(--stateless\) without SALES_ACCESS_REDIS_URL: .* kept by each replica/)]);
    expect(warn({ ...tok, SALES_ACCESS_REDIS_URL: 'redis://127.0.0.1:6379' }, ['--http', '--stateless'])).toEqual([]);
    const remote = { ...tok, SALES_ACCESS_REDIS_URL: 'redis://127.0.0.1:6379', SALES_ACCESS_HTTP_TOKEN: 'x'.repeat(32) };
    expect(warn(remote, ['--http', '--stateless', '--host', '0.0.0.0'])).toEqual([expect.stringMatching(/cannot confirm destructive writes.*SALES_ACCESS_APPROVAL_CLIENT_ID.*SALES_ACCESS_CONFIRM=token/)]);
    expect(warn({ ...remote, SALES_ACCESS_CONFIRM: 'token' }, ['--http', '--stateless', '--host', '0.0.0.0'])).toEqual([]);
    expect(warn(remote, ['--http', '--stateless', '--host', '0.0.0.0', '--read-only'])).toEqual([]);
    expect(warn({ ...tok, SALES_ACCESS_HTTP_STATELESS: '1' })).toEqual([expect.stringMatching(/^SALES_ACCESS_HTTP_STATELESS is set, but .*--http/)]);
  });

  it('sign-in on the approval page: ignored over stdio; with the static token too, its callers cannot approve there; without it, beyond loopback stateless can confirm', () => {
    const idp = { OUTREACH_ACCESS_TOKEN: 'tok', SALES_ACCESS_OAUTH_ISSUER: 'https://login.example.com', SALES_ACCESS_RESOURCE_URL: 'https://access.example.com/mcp', SALES_ACCESS_APPROVAL_CLIENT_ID: 'page' };
    expect(warn(idp).join('\n')).toMatch(/SALES_ACCESS_APPROVAL_CLIENT_ID is set, but sign-in on the approval page applies to the HTTP transport \(--http\) only/);
    const shared = { ...idp, SALES_ACCESS_REDIS_URL: 'redis://127.0.0.1:6379', SALES_ACCESS_APPROVAL_BASE_URL: 'https://access.example.com' };
    const flags = ['--http', '--stateless', '--host', '0.0.0.0'];
    expect(warn(shared, flags)).toEqual([]);
    expect(warn({ ...shared, SALES_ACCESS_HTTP_TOKEN: 'x'.repeat(32) }, flags)).toEqual([expect.stringMatching(/a caller with SALES_ACCESS_HTTP_TOKEN, which names no person, cannot get a destructive write approved there/)]);
    expect(warn({ ...shared, SALES_ACCESS_HTTP_TOKEN: 'x'.repeat(32), SALES_ACCESS_CONFIRM: 'token' }, flags)).toEqual([]);
  });

  it('names variables set but empty, never a value', () => {
    expect(warn({ OUTREACH_ACCESS_TOKEN: 'tok', SALESLOFT_API_KEY: '', SALES_ACCESS_ROSTER_DIR: ' ' })).toEqual([
      'SALESLOFT_API_KEY is set but empty, so it is ignored: give it a value or remove it.',
      'SALES_ACCESS_ROSTER_DIR is set but empty, so it is ignored: give it a value or remove it.',
    ]);
  });

  it('a vendor with some variables but no credential, and a SCIM URL without its token', () => {
    const w = warn({ OUTREACH_ACCESS_TOKEN: 'tok', ZOOMINFO_RATE_LIMIT_PER_MINUTE: '50', OUTREACH_SCIM_URL: 'https://api.outreach.io/scim/v2' });
    expect(w).toContain('OUTREACH_SCIM_URL is set but OUTREACH_SCIM_TOKEN is not: Outreach SCIM is not configured (generated in Outreach admin under Security > SCIM).');
    expect(w.join('\n')).toMatch(/ZOOMINFO_RATE_LIMIT_PER_MINUTE is set, but ZoomInfo has no credential: set one of ZOOMINFO_USERNAME, ZOOMINFO_PASSWORD/);
  });

  it('no vendor at all; none of this under --sandbox, nor for a vendor left out by --vendors', () => {
    expect(warn({}).join('\n')).toMatch(/No vendor is configured/);
    expect(warn({}, ['--sandbox'])).toEqual([]);
    expect(warn({ OUTREACH_ACCESS_TOKEN: 'tok', SALESLOFT_BASE_URL: 'https://api.salesloft.com/v2' }, ['--vendors', 'outreach'])).toEqual([]);
  });
});

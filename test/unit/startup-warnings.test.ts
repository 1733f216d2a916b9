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

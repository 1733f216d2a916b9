import { describe, expect, it } from 'vitest';
import { loadConfig, parseCliArgs } from '../../src/config.js';
import { ConfigError } from '../../src/env.js';

const base = { SALES_ACCESS_STATE_DIR: '/tmp/sam-config-test' };
const load = (argv: string[], env: Record<string, string> = {}) => loadConfig(parseCliArgs(argv), { ...base, ...env });

describe('config', () => {
  it('defaults: stdio, loopback, port 3333, auto confirmation, documented Outreach URLs and limit', () => {
    const c = load([]);
    expect(c).toMatchObject({ transport: 'stdio', host: '127.0.0.1', port: 3333, confirm: 'auto', readOnly: false, sandbox: false });
    expect(c.vendors.outreach!.settings).toMatchObject({ baseUrl: 'https://api.outreach.io/api/v2', tokenUrl: 'https://api.outreach.io/oauth/token', rateLimitPerHour: 10_000, auth: undefined });
    expect(c.auditLogPath).toBe('/tmp/sam-config-test/audit.log');
  });

  it('picks the Outreach auth kind from the variables', () => {
    expect(load([], { OUTREACH_ACCESS_TOKEN: 'tok' }).vendors.outreach!.settings).toMatchObject({ auth: { kind: 'bearer', accessToken: 'tok' } });
    expect(load([], { OUTREACH_CLIENT_ID: 'id', OUTREACH_CLIENT_SECRET: 's', OUTREACH_REFRESH_TOKEN: 'r' }).vendors.outreach!.settings).toMatchObject({ auth: { kind: 'oauth_refresh', refreshToken: 'r' } });
    expect(load([], { OUTREACH_CLIENT_ID: 'id', OUTREACH_CLIENT_SECRET: 's', OUTREACH_GRANT_TYPE: 'client_credentials' }).vendors.outreach!.settings).toMatchObject({ auth: { kind: 'oauth_client_credentials' } });
  });

  it.each([
    [{ OUTREACH_CLIENT_SECRET: 'supersecretvalue' }, /OUTREACH_CLIENT_ID is required/],
    [{ OUTREACH_CLIENT_ID: 'id' }, /OUTREACH_CLIENT_SECRET is required/],
    [{ OUTREACH_BASE_URL: 'ftp://x' }, /OUTREACH_BASE_URL must be an http\(s\) URL/],
    [{ APOLLO_SCIM_URL: 'http://scim.apollo.example/v2', APOLLO_SCIM_TOKEN: 'supersecretvalue' }, /APOLLO_SCIM_URL must use https:\/\//],
    [{ OUTREACH_BASE_URL: 'https://user:supersecretvalue@x' }, /must not carry credentials/],
    [{ OUTREACH_RATE_LIMIT_PER_HOUR: '-5' }, /OUTREACH_RATE_LIMIT_PER_HOUR must be a positive integer/],
    [{ OUTREACH_ACCESS_TOKEN: 'a supersecretvalue' }, /OUTREACH_ACCESS_TOKEN contains whitespace/],
    [{ SALES_ACCESS_CONFIRM: 'yolo' }, /SALES_ACCESS_CONFIRM must be one of elicit, token/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
    [{ SALES_ACCESS_HTTP_TOKEN: 'supersecretvalue' }, /at least 32 characters/],
    [{ SALES_ACCESS_ALLOWED_ORIGINS: 'https://ok.example/path' }, /not an origin/],
    [{ LOG_FORMAT: 'xml' }, /LOG_FORMAT must be json or pretty/],
    [{ SALES_ACCESS_REPLICA_ID: 'eu west supersecretvalue' }, /SALES_ACCESS_REPLICA_ID must be 1 to 64 letters/],
  ])('%j fails naming the variable and never the secret', (env, message) => {
    let err: unknown;
    try {
      load([], env as Record<string, string>);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('supersecretvalue');
  });

  it('SCIM connections: documented default URLs, tenant URLs required where there is none', () => {
    const c = load([], { OUTREACH_SCIM_TOKEN: 'o', SALESLOFT_SCIM_TOKEN: 's', APOLLO_SCIM_URL: 'https://app.apollo.example/scim/v2', APOLLO_SCIM_TOKEN: 'a' });
    expect(c.vendors.outreach!.scim).toEqual({ url: 'https://api.outreach.io/scim/v2', token: 'o' });
    expect(c.vendors.salesloft!.scim?.url).toBe('https://api.salesloft.com/scim/v2');
    expect(c.vendors.apollo!.scim?.url).toBe('https://app.apollo.example/scim/v2');
    expect(c.vendors.zoominfo!.scim).toBeUndefined();
    expect(() => load([], { ZOOMINFO_SCIM_TOKEN: 'supersecretvalue' })).toThrow(/ZOOMINFO_SCIM_URL is required with ZOOMINFO_SCIM_TOKEN/);
  });

  it('flags: bad port, unknown vendor, unknown flag, auth command shape', () => {
    expect(() => load(['--port', 'abc'])).toThrow(/--port/);
    expect(() => load(['--vendors', 'outreach,hubspot'])).toThrow(/unknown vendor "hubspot". Known vendors: outreach, salesloft, apollo, zoominfo/);
    expect(() => parseCliArgs(['--frobnicate'])).toThrow(ConfigError);
    expect(() => parseCliArgs(['auth'])).toThrow(/auth <vendor>/);
    expect(parseCliArgs(['auth', 'outreach'])).toMatchObject({ command: 'auth', authVendor: 'outreach' });
    expect(parseCliArgs(['doctor', '--json', '--sandbox'])).toMatchObject({ command: 'doctor', json: true, sandbox: true });
    expect(parseCliArgs(['audit', 'verify', '--json', 'a.log', 'b.log'])).toMatchObject({ command: 'audit-verify', json: true, files: ['a.log', 'b.log'] });
    expect(() => parseCliArgs(['audit'])).toThrow(/audit verify/);
    expect(() => parseCliArgs(['--json'])).toThrow(/--json applies to `doctor` and `audit verify` only/);
    expect(() => parseCliArgs(['--port'])).toThrow(/--port needs a value/);
    expect(() => parseCliArgs(['--read-onyl'])).toThrow(/unknown flag --read-onyl. Did you mean --read-only\?/);
  });

  it('--stateless: HTTP only, also SALES_ACCESS_HTTP_STATELESS; not with SALES_ACCESS_CONFIRM=elicit', () => {
    expect(load(['--http']).stateless).toBe(false);
    expect(load(['--http', '--stateless']).stateless).toBe(true);
    expect(load(['--http'], { SALES_ACCESS_HTTP_STATELESS: '1' }).stateless).toBe(true);
    expect(load(['--http'], { SALES_ACCESS_HTTP_STATELESS: 'true' }).stateless).toBe(true);
    expect(load([], { SALES_ACCESS_HTTP_STATELESS: '1' }).stateless).toBe(false);
    expect(() => load(['--stateless'])).toThrow(/--stateless applies to the HTTP transport: add --http/);
    expect(() => load(['--http'], { SALES_ACCESS_HTTP_STATELESS: 'yes' })).toThrow(/SALES_ACCESS_HTTP_STATELESS must be 1/);
    expect(() => load(['--http', '--stateless'], { SALES_ACCESS_CONFIRM: 'elicit' })).toThrow(/elicit cannot work with --stateless/);
    expect(() => parseCliArgs(['doctor', '--stateless'])).toThrow(/--stateless does not apply to `doctor`/);
    expect(() => parseCliArgs(['audit', 'verify', '--stateless'])).toThrow(/--stateless does not apply/);
  });

  it('non-loopback HTTP needs a token; loopback does not', () => {
    expect(() => load(['--http', '--host', '0.0.0.0'])).toThrow(/Refusing to serve HTTP on non-loopback host 0.0.0.0/);
    expect(load(['--http', '--host', '0.0.0.0'], { SALES_ACCESS_HTTP_TOKEN: 'x'.repeat(32) }).host).toBe('0.0.0.0');
    expect(load(['--http', '--host', '::1']).transport).toBe('http');
  });

  it('sign-in with the identity provider: issuer and resource URL together, kept exactly, https beyond loopback', () => {
    const idp = { SALES_ACCESS_OAUTH_ISSUER: 'https://login.example.com/', SALES_ACCESS_RESOURCE_URL: 'https://access.example.com/mcp' };
    // Enough to serve beyond loopback without the static token.
    const c = load(['--http', '--host', '0.0.0.0'], { ...idp, SALES_ACCESS_OAUTH_SCOPES: 'sales-access, openid' });
    expect(c.oauth).toEqual({ issuer: 'https://login.example.com/', jwksUrl: undefined, resourceUrl: 'https://access.example.com/mcp', scopes: ['sales-access', 'openid'] });
    expect(c.httpToken).toBeUndefined();
    expect(load([]).oauth).toBeUndefined();
    expect(load([], { ...idp, SALES_ACCESS_OAUTH_JWKS_URL: 'https://login.example.com/keys' }).oauth?.jwksUrl).toBe('https://login.example.com/keys');
    expect(load([], { SALES_ACCESS_OAUTH_ISSUER: 'http://127.0.0.1:8080/realms/x', SALES_ACCESS_RESOURCE_URL: 'http://localhost:3333/mcp' }).oauth?.issuer).toBe('http://127.0.0.1:8080/realms/x');
  });

  it.each([
    [{ SALES_ACCESS_OAUTH_ISSUER: 'https://login.example.com' }, /SALES_ACCESS_RESOURCE_URL is required with SALES_ACCESS_OAUTH_ISSUER/],
    [{ SALES_ACCESS_RESOURCE_URL: 'https://access.example.com/mcp' }, /SALES_ACCESS_RESOURCE_URL applies only with SALES_ACCESS_OAUTH_ISSUER/],
    [{ SALES_ACCESS_OAUTH_JWKS_URL: 'https://login.example.com/keys' }, /SALES_ACCESS_OAUTH_JWKS_URL applies only with SALES_ACCESS_OAUTH_ISSUER/],
    [{ SALES_ACCESS_OAUTH_ISSUER: 'http://login.example.com', SALES_ACCESS_RESOURCE_URL: 'https://a.example.com/mcp' }, /SALES_ACCESS_OAUTH_ISSUER must use https:\/\//],
    [{ SALES_ACCESS_OAUTH_ISSUER: 'login.example.com', SALES_ACCESS_RESOURCE_URL: 'https://a.example.com/mcp' }, /SALES_ACCESS_OAUTH_ISSUER is not a valid URL/],
    [{ SALES_ACCESS_OAUTH_ISSUER: 'https://login.example.com', SALES_ACCESS_RESOURCE_URL: 'https://a.example.com/mcp#x' }, /SALES_ACCESS_RESOURCE_URL must have no credentials, query or fragment/],
    [{ SALES_ACCESS_OAUTH_ISSUER: 'https://login.example.com', SALES_ACCESS_RESOURCE_URL: 'https://a.example.com/mcp', SALES_ACCESS_OAUTH_JWKS_URL: 'http://keys.example.com' }, /SALES_ACCESS_OAUTH_JWKS_URL must use https/],
    [{ SALES_ACCESS_OAUTH_ISSUER: 'https://login.example.com', SALES_ACCESS_RESOURCE_URL: 'https://a.example.com/mcp', SALES_ACCESS_OAUTH_SCOPES: 'a "b"' }, /SALES_ACCESS_OAUTH_SCOPES: ""b"" is not a scope name/],
  ])('refuses OAuth settings %o', (env, message) => {
    expect(() => load(['--http'], env as Record<string, string>)).toThrow(message);
    expect(() => load(['--http'], env as Record<string, string>)).toThrow(ConfigError);
  });

  it('--sandbox keeps its state apart from real state by default', () => {
    const c = loadConfig(parseCliArgs(['--sandbox']), { XDG_STATE_HOME: '/tmp/xdg' });
    expect(c.stateDir).toBe('/tmp/xdg/sales-access-mcp/sandbox');
  });
});

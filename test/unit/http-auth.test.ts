import { getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpAuthenticator, protectedResourceMetadataUrl, wwwAuthenticate } from '../../src/http-auth.js';
import { silentLogger } from '../../src/log.js';
import { startIssuer, type TestIssuer } from '../support/issuer.js';

describe('Protected Resource Metadata URL and WWW-Authenticate', () => {
  it.each(['https://access.example.com/mcp', 'https://access.example.com/', 'https://access.example.com', 'https://access.example.com:8443/sales/mcp', 'http://127.0.0.1:3333/mcp/'])(
    'computes the metadata URL of %s as the SDK does',
    (resource) => {
      expect(protectedResourceMetadataUrl(resource)).toBe(getOAuthProtectedResourceMetadataUrl(new URL(resource)));
    },
  );

  it('says what failed, without quotes that would break the header, and the scopes when some are required', () => {
    const oauth = { issuer: 'https://login.example.com', jwksUrl: undefined, resourceUrl: 'https://a.example.com/mcp', scopes: ['sales-access', 'openid'] };
    expect(wwwAuthenticate(oauth, { code: 'invalid_token', description: 'the token\'s "sub" claim is missing' })).toBe(
      'Bearer error="invalid_token", error_description="the token\'s sub claim is missing", scope="sales-access openid", resource_metadata="https://a.example.com/.well-known/oauth-protected-resource/mcp"',
    );
    expect(wwwAuthenticate(undefined)).toBe('Bearer');
  });
});

describe('HttpAuthenticator (against a local issuer, explicit JWKS URL)', () => {
  const RESOURCE = 'https://a.example.com/mcp';
  const STATIC = 'static-bearer-for-unit-tests-0123456789';
  const req = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as unknown as IncomingMessage;
  let issuer: TestIssuer;
  let auth: HttpAuthenticator;
  beforeAll(async () => {
    issuer = await startIssuer({ audience: RESOURCE });
    auth = new HttpAuthenticator({ httpToken: STATIC, oauth: { issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, resourceUrl: RESOURCE, scopes: ['sales-access'] } }, silentLogger);
  });
  afterAll(() => issuer.close());

  it('reads the person the way identity providers write them: scp, preferred_username or upn, azp', async () => {
    const entra = await auth.authenticate(req(`Bearer ${await issuer.mint({ sub: 'e1', scp: 'User.Read sales-access', upn: 'erin@example.com', name: 'Erin', azp: 'desktop-app' })}`));
    expect(entra).toMatchObject({ kind: 'ok', actor: { kind: 'person', sub: 'e1', email: 'erin@example.com', name: 'Erin', client_id: 'desktop-app' }, authInfo: { token: '', scopes: ['openid', 'User.Read', 'sales-access'], clientId: 'desktop-app' } });
    const okta = await auth.authenticate(req(`Bearer ${await issuer.mint({ sub: 'o1', scp: ['sales-access'], preferred_username: 'not-an-email', cid: 'x' })}`));
    expect(okta).toMatchObject({ kind: 'ok', actor: { kind: 'person', sub: 'o1' } });
    expect((okta as { actor: Record<string, unknown> }).actor.email).toBeUndefined();
    // The same person's two tokens are one principal; another person is another.
    const again = await auth.authenticate(req(`Bearer ${await issuer.mint({ sub: 'e1', scope: 'sales-access' })}`));
    expect((again as { principal: string }).principal).toBe((entra as { principal: string }).principal);
    expect((okta as { principal: string }).principal).not.toBe((entra as { principal: string }).principal);
  });

  it('refuses a token without sub, a wrong scheme, and says which scope is missing', async () => {
    const noSub = await issuer.mint({ scope: 'sales-access' });
    expect(await auth.authenticate(req(`Bearer ${noSub}`))).toEqual({ kind: 'invalid', reason: 'the token\'s "sub" claim is missing or invalid' });
    for (const sub of ['', '   ']) {
      expect(await auth.authenticate(req(`Bearer ${await issuer.mint({ sub, scope: 'sales-access' })}`))).toEqual({ kind: 'invalid', reason: 'the access token\'s sub claim is empty' });
    }
    expect(await auth.authenticate(req(`Basic ${Buffer.from('a:b').toString('base64')}`))).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/not "Bearer <token>"/) });
    expect(await auth.authenticate(req())).toEqual({ kind: 'missing' });
    expect(await auth.authenticate(req(`Bearer ${await issuer.mint({ sub: 's', scope: 'openid' })}`))).toMatchObject({ kind: 'insufficient_scope', missing: ['sales-access'] });
  });

  it('with both configured, the static token is the token (its fingerprint), anything else is checked as a JWT', async () => {
    expect(await auth.authenticate(req(`Bearer ${STATIC}`))).toMatchObject({ kind: 'ok', actor: { kind: 'http_token', fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) } });
    expect(await auth.authenticate(req(`Bearer ${STATIC}x`))).toMatchObject({ kind: 'invalid', reason: 'the bearer token is not a JWT access token' });
  });
});

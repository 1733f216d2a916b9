import { describe, expect, it } from 'vitest';
import { apiKeyAuth, bearerAuth } from '../../src/auth/static.js';
import { credentialFingerprint } from '../../src/http/identity.js';

describe('static auth', () => {
  it('bearerAuth sends the token and exposes only a fingerprint', async () => {
    const a = bearerAuth('tok-123456');
    expect(a.kind).toBe('bearer');
    expect(a.identity).toBe(`bearer:${credentialFingerprint('tok-123456')}`);
    expect(a.identity).not.toContain('tok-123456');
    expect(await a.headers()).toEqual({ Authorization: 'Bearer tok-123456' });
    expect(await a.onUnauthorized()).toBe(false);
  });

  it('apiKeyAuth sends the key in the named header', async () => {
    const a = apiKeyAuth('X-Api-Key', 'key-abc');
    expect(a.kind).toBe('api_key');
    expect(a.identity).toBe(`key:${credentialFingerprint('key-abc')}`);
    expect(await a.headers()).toEqual({ 'X-Api-Key': 'key-abc' });
    expect(await a.onUnauthorized()).toBe(false);
  });

  it('identity is stable for one secret and differs between secrets', () => {
    expect(bearerAuth('a').identity).toBe(bearerAuth('a').identity);
    expect(bearerAuth('a').identity).not.toBe(bearerAuth('b').identity);
  });

  it('refuses empty or multi-line secrets without echoing them', () => {
    expect(() => bearerAuth('')).toThrow(/empty/);
    let msg = '';
    try {
      apiKeyAuth('X-Api-Key', 'secret-value\n');
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/line break/);
    expect(msg).not.toContain('secret-value');
    expect(() => apiKeyAuth('Bad Header', 'k')).toThrow(/header name/);
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/env.js';
import { encryptionKey, encryptionKeyFromEnv, EnvelopeError, open, seal } from '../../src/shared/envelope.js';
import { redisConfig } from '../../src/shared/redis-config.js';

describe('AES-256-GCM envelope', () => {
  const k = encryptionKey(randomBytes(32));
  const aad = 'sales-access-mcp token-record v1\0outreach\0client-1';

  it('opens what it sealed, with a fresh IV each time and the key id in the envelope', () => {
    const a = seal(k, '{"refresh_token":"rt-1"}', aad);
    const b = seal(k, '{"refresh_token":"rt-1"}', aad);
    expect(open(k, a, aad)).toBe('{"refresh_token":"rt-1"}');
    const ea = JSON.parse(a) as Record<string, string>;
    const eb = JSON.parse(b) as Record<string, string>;
    expect(ea.iv).not.toBe(eb.iv);
    expect(Buffer.from(ea.iv!, 'base64url')).toHaveLength(12);
    expect(ea.ct).not.toBe(eb.ct);
    expect(ea).toMatchObject({ v: 1, alg: 'A256GCM', kid: k.id });
    expect(a).not.toContain('rt-1');
  });

  it('refuses another key by its id, another record (AAD) and an altered ciphertext', () => {
    const sealed = seal(k, 'secret text', aad);
    const other = encryptionKey(randomBytes(32));
    expect(() => open(other, sealed, aad)).toThrow(expect.objectContaining({ reason: 'other_key', message: expect.stringContaining(`key id ${k.id}`) }));
    expect(() => open(k, sealed, aad.replace('client-1', 'client-2'))).toThrow(expect.objectContaining({ reason: 'not_authentic' }));
    const e = JSON.parse(sealed) as Record<string, string>;
    const ct = Buffer.from(e.ct!, 'base64url');
    ct[0] = ct[0]! ^ 1;
    expect(() => open(k, JSON.stringify({ ...e, ct: ct.toString('base64url') }), aad)).toThrow(EnvelopeError);
    expect(() => open(k, 'not json', aad)).toThrow(expect.objectContaining({ reason: 'malformed' }));
  });

  it('reads SALES_ACCESS_ENCRYPTION_KEY as hex or base64, and names the variable for anything else', () => {
    const raw = randomBytes(32);
    expect(encryptionKeyFromEnv({ SALES_ACCESS_ENCRYPTION_KEY: raw.toString('hex') })?.id).toBe(encryptionKey(raw).id);
    expect(encryptionKeyFromEnv({ SALES_ACCESS_ENCRYPTION_KEY: raw.toString('base64') })?.id).toBe(encryptionKey(raw).id);
    expect(encryptionKeyFromEnv({})).toBeUndefined();
    for (const bad of ['short', randomBytes(16).toString('hex'), randomBytes(31).toString('base64')]) {
      expect(() => encryptionKeyFromEnv({ SALES_ACCESS_ENCRYPTION_KEY: bad })).toThrow(ConfigError);
      expect(() => encryptionKeyFromEnv({ SALES_ACCESS_ENCRYPTION_KEY: bad })).toThrow(/SALES_ACCESS_ENCRYPTION_KEY must be 32 random bytes/);
    }
  });
});

describe('SALES_ACCESS_REDIS_URL', () => {
  it('takes redis:// and rediss:// with the database from the path, and never quotes the password', () => {
    expect(redisConfig({})).toBeUndefined();
    expect(redisConfig({ SALES_ACCESS_REDIS_URL: 'redis://:pw-123@cache.internal:6380/2' })).toMatchObject({ where: 'cache.internal:6380/2', tls: false, prefix: 'sales-access:' });
    expect(redisConfig({ SALES_ACCESS_REDIS_URL: 'rediss://default:pw@cache.internal', SALES_ACCESS_REDIS_PREFIX: 'acme:prod:' })).toMatchObject({ where: 'cache.internal:6379/0', tls: true, prefix: 'acme:prod:' });
    for (const bad of ['http://:hunter2-pw@h/0', 'redis://:hunter2-pw@h/abc', 'not a url hunter2-pw']) {
      let message = '';
      try {
        redisConfig({ SALES_ACCESS_REDIS_URL: bad });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        message = (err as Error).message;
      }
      expect(message).toMatch(/^SALES_ACCESS_REDIS_URL/);
      expect(message).not.toContain('hunter2-pw');
    }
    expect(() => redisConfig({ SALES_ACCESS_REDIS_URL: 'redis://h', SALES_ACCESS_REDIS_PREFIX: 'bad prefix' })).toThrow(/SALES_ACCESS_REDIS_PREFIX/);
  });
});

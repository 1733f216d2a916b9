import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuthRefreshProvider } from '../../src/auth/oauth.js';
import { openTokenStore, type OpenedTokenStore } from '../../src/auth/open-token-store.js';
import { RedisTokenStore } from '../../src/auth/redis-token-store.js';
import { ConfigError } from '../../src/env.js';
import { VendorError } from '../../src/errors.js';
import { startOutreachSimulator, type OutreachSim } from '../../src/sandbox/outreach/index.js';
import { encryptionKey, type EncryptionKey } from '../../src/shared/envelope.js';
import { redisConfig } from '../../src/shared/redis-config.js';
import { SharedRedis } from '../../src/shared/redis.js';
import { deletePrefix, dumpPrefix, redisUnavailable, TEST_REDIS_URL, testPrefix } from '../support/redis.js';
import { freePort } from '../support/http-stack.js';
import { findLeaks } from '../support/secrets.js';


describe('Redis unreachable at start', () => {
  it('is a ConfigError naming SALES_ACCESS_REDIS_URL and the reason, without the password', async () => {
    const port = await freePort();
    const cfg = redisConfig({ SALES_ACCESS_REDIS_URL: `redis://:hunter2-redis-pw@127.0.0.1:${port}/3` })!;
    const err = await SharedRedis.connect(cfg).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).toContain('SALES_ACCESS_REDIS_URL');
    expect(message).toContain(`127.0.0.1:${port}/3`);
    expect(message).toMatch(/ECONNREFUSED/);
    expect(message).not.toContain('hunter2-redis-pw');
  });
});

/** Why a private redis-server cannot be started here, or undefined. */
const noRedisServer = spawnSync('redis-server', ['--version']).status === 0 ? undefined : 'redis-server is not installed';
if (noRedisServer) console.warn(`Redis AUTH tests skipped: ${noRedisServer}`);

describe.skipIf(noRedisServer)('Redis AUTH at start (a private redis-server with requirepass)', () => {
  let port = 0;
  let dir = '';
  beforeAll(async () => {
    port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'sam-redis-auth-'));
    execFileSync('redis-server', ['--daemonize', 'yes', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--pidfile', join(dir, 'redis.pid'), '--logfile', join(dir, 'redis.log'), '--requirepass', 'right-redis-pw-4411']);
    for (let i = 0; i < 100; i++) {
      if (spawnSync('redis-cli', ['-p', String(port), 'ping']).status === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  afterAll(() => {
    try {
      process.kill(Number(readFileSync(join(dir, 'redis.pid'), 'utf8')));
    } catch {
      /* not started */
    }
  });

  it('a wrong or missing password is reported with Redis\' reason (WRONGPASS / NOAUTH), never the password', async () => {
    const wrong = await SharedRedis.connect(redisConfig({ SALES_ACCESS_REDIS_URL: `redis://:wrong-redis-pw-9922@127.0.0.1:${port}/1` })!).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(ConfigError);
    expect((wrong as Error).message).toMatch(/^SALES_ACCESS_REDIS_URL: Redis at 127\.0\.0\.1:\d+\/1 is unreachable at start-up \(WRONGPASS/);
    expect((wrong as Error).message).not.toContain('wrong-redis-pw-9922');
    const none = await SharedRedis.connect(redisConfig({ SALES_ACCESS_REDIS_URL: `redis://127.0.0.1:${port}` })!).catch((e: unknown) => e);
    expect((none as Error).message).toMatch(/\(NOAUTH/);
    const right = await SharedRedis.connect(redisConfig({ SALES_ACCESS_REDIS_URL: `redis://default:right-redis-pw-4411@127.0.0.1:${port}/2` })!);
    try {
      expect(await right.client.ping()).toBe('PONG');
    } finally {
      await right.close();
    }
  });
});

const skip = await redisUnavailable();

describe.skipIf(skip)('Redis token store (real Redis)', () => {
  const prefix = testPrefix();
  const key = encryptionKey(randomBytes(32));
  const env = { SALES_ACCESS_REDIS_URL: TEST_REDIS_URL, SALES_ACCESS_REDIS_PREFIX: prefix };
  const opened: OpenedTokenStore[] = [];
  let sim: OutreachSim;
  /** null: no SALES_ACCESS_ENCRYPTION_KEY. */
  const open = async (k: EncryptionKey | null = key) => {
    const o = await openTokenStore({ stateDir: '/nonexistent', redis: redisConfig(env), encryptionKey: k ?? undefined });
    opened.push(o);
    return o;
  };

  beforeAll(async () => {
    sim = await startOutreachSimulator({ latencyMs: 100 });
  });
  afterAll(async () => {
    await Promise.all(opened.map((o) => o.close()));
    await sim?.close();
    await deletePrefix(prefix);
  });

  it('keeps records sealed: keys name the vendor and a fingerprint, values hold no token in any form', async () => {
    const { tokens } = await open();
    const record = { refresh_token: `rt-${randomBytes(16).toString('hex')}+/x`, access_token: `at-${randomBytes(16).toString('hex')}`, scope: 'users.all' };
    await tokens.write('outreach', record, 'client-a');
    expect(await tokens.read('outreach', 'client-a')).toMatchObject(record);
    const dump = await dumpPrefix(prefix);
    expect(dump.map((d) => d.key)).toEqual([expect.stringMatching(new RegExp(`^${prefix}token:outreach:[0-9a-f]{16}$`))]);
    expect(dump[0]!.key).not.toContain('client-a');
    expect(findLeaks({ refresh: record.refresh_token, access: record.access_token }, dump.map((d) => ({ where: d.key, text: `${d.key} ${d.value}` })))).toEqual([]);
    // Bound to the client: another client id does not open it (a different key, and the AAD differs).
    expect(await tokens.read('outreach', 'client-b')).toBeUndefined();
  });

  it('a replica with another encryption key gets a clear error naming the variable', async () => {
    const { tokens } = await open();
    await tokens.write('salesloft', { refresh_token: 'rt-x' }, 'client-k');
    const other = await open(encryptionKey(randomBytes(32)));
    const err = await other.tokens.read('salesloft', 'client-k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/cannot be decrypted: sealed with key id [0-9a-f]{12}, but SALES_ACCESS_ENCRYPTION_KEY has key id/);
    expect((err as Error).message).toMatch(/same SALES_ACCESS_ENCRYPTION_KEY/);
  });

  it('without SALES_ACCESS_ENCRYPTION_KEY, reading OAuth tokens is a ConfigError that says why it is required', async () => {
    const { tokens } = await open(null);
    await expect(tokens.read('outreach', 'c')).rejects.toThrow(/SALES_ACCESS_ENCRYPTION_KEY is required with SALES_ACCESS_REDIS_URL/);
  });

  it('Redis lost during a call: a VendorError that says so and that there is no per-replica fallback', async () => {
    const o = await open();
    o.redis!.client.disconnect();
    const err = await o.tokens.read('outreach', 'c').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VendorError);
    expect((err as Error).message).toMatch(/^Redis at [^ ]+ is unreachable \(.+\) while reading the outreach token record; the server does not fall back to per-replica state/);
  });

  const provider = (tokens: OpenedTokenStore['tokens']) =>
    new OAuthRefreshProvider({ vendor: 'outreach', tokenUrl: sim.tokenUrl, clientId: sim.clientId, clientSecret: sim.clientSecret, store: tokens, retryBaseDelayMs: 1 });
  const refreshGrants = () => sim.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/oauth/token') && r.status === 200).length;

  it('two providers on separate connections, concurrent 401s: the refresh token rotates exactly once and both get the new token', async () => {
    const a = await open();
    const b = await open();
    const first = sim.issueRefreshToken();
    const stale = sim.issueAccessToken(1);
    await a.tokens.write('outreach', { refresh_token: first, access_token: stale, access_expires_at: new Date(Date.now() + 3_600_000).toISOString() }, sim.clientId);
    const before = refreshGrants();
    const pa = provider(a.tokens);
    const pb = provider(b.tokens);
    const rejected = { Authorization: `Bearer ${stale}` };
    expect(await pa.headers()).toEqual(rejected);
    expect(await pb.headers()).toEqual(rejected);
    await expect(Promise.all([pa.onUnauthorized(rejected), pb.onUnauthorized(rejected)])).resolves.toEqual([true, true]);
    expect(refreshGrants() - before).toBe(1);
    const ha = await pa.headers();
    expect(ha).not.toEqual(rejected);
    expect(await pb.headers()).toEqual(ha);
    const stored = await b.tokens.read('outreach', sim.clientId);
    expect(stored?.refresh_token).not.toBe(first);
    expect(ha.Authorization).toBe(`Bearer ${stored?.access_token}`);
  });

  it('a replica that finds the lock taken waits for the holder to save, then uses its tokens without a refresh of its own', async () => {
    const a = await open();
    const store = a.tokens as RedisTokenStore;
    const stale = sim.issueAccessToken(1);
    await store.write('outreach', { refresh_token: sim.issueRefreshToken(), access_token: stale }, sim.clientId);
    const release = await store.tryLock('outreach', sim.clientId);
    expect(release).toBeDefined();
    const before = refreshGrants();
    const p = provider((await open()).tokens);
    let settled = false;
    const waiting = p.onUnauthorized({ Authorization: `Bearer ${stale}` }).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false); // still waiting on the lock
    const fresh = sim.issueAccessToken();
    await store.write('outreach', { refresh_token: sim.issueRefreshToken(), access_token: fresh, access_expires_at: new Date(Date.now() + 3_600_000).toISOString() }, sim.clientId);
    await release!();
    await expect(waiting).resolves.toBe(true);
    expect(await p.headers()).toEqual({ Authorization: `Bearer ${fresh}` });
    expect(refreshGrants()).toBe(before);
  });

  it('the refresh lock is renewed while held: a refresh longer than its expiry keeps other replicas out until released', async () => {
    const a = await open();
    const b = await open();
    const ttl = 1_000;
    const holder = new RedisTokenStore(a.redis!, key, { lockTtlMs: ttl });
    const other = new RedisTokenStore(b.redis!, key, { lockTtlMs: ttl });
    const release = await holder.tryLock('outreach', 'client-lock');
    expect(release).toBeDefined();
    // Two and a half expiries later the holder (still refreshing) keeps the lock.
    await new Promise((r) => setTimeout(r, ttl * 2.5));
    expect(await other.tryLock('outreach', 'client-lock')).toBeUndefined();
    await release!();
    const next = await other.tryLock('outreach', 'client-lock');
    expect(next).toBeDefined();
    await next!();
  });

  it('a refresh whose answer was lost on one replica: neither it nor the other replica sends that refresh token again', async () => {
    const a = await open();
    const b = await open();
    const rt = sim.issueRefreshToken();
    const stale = sim.issueAccessToken(1);
    await a.tokens.write('outreach', { refresh_token: rt, access_token: stale }, sim.clientId);
    const pa = provider(a.tokens);
    const pb = provider(b.tokens);
    await pa.headers();
    await pb.headers();
    sim.failNext(1, 200, { path: /^\/oauth\/token/, afterServe: 'drop' });
    const before = sim.requests.length;
    await expect(pa.onUnauthorized({ Authorization: `Bearer ${stale}` })).rejects.toThrow(/got no usable answer .* not sent again/);
    await expect(pb.onUnauthorized({ Authorization: `Bearer ${stale}` })).rejects.toThrow(/Another replica's refresh .* is not sent again/);
    // One token request in all: the lost one.
    expect(sim.requests.slice(before).filter((r) => r.path.startsWith('/oauth/token'))).toHaveLength(1);
  });

  it('a refresh token another replica retired (unknown outcome) is not sent by this one', async () => {
    const a = await open();
    const store = a.tokens as RedisTokenStore;
    const rt = sim.issueRefreshToken();
    const stale = sim.issueAccessToken(1);
    await store.write('outreach', { refresh_token: rt, access_token: stale }, sim.clientId);
    await store.retire('outreach', sim.clientId, rt);
    const before = sim.requests.length;
    const p = provider((await open()).tokens);
    await expect(p.onUnauthorized({ Authorization: `Bearer ${stale}` })).rejects.toThrow(/Another replica's refresh with the stored outreach refresh token .* is not sent again/);
    expect(sim.requests.slice(before).filter((r) => r.path.startsWith('/oauth/token'))).toEqual([]);
    expect(JSON.stringify(await dumpPrefix(prefix))).not.toContain(rt);
  });
});

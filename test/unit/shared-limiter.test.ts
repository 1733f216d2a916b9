import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { VendorError } from '../../src/errors.js';
import { credentialFingerprint } from '../../src/http/identity.js';
import { LimiterDeadlineError } from '../../src/http/limiter.js';
import { SharedLimits, type SharedLimiter } from '../../src/http/shared-limiter.js';
import type { RateLimitPolicy } from '../../src/http/types.js';
import { redisConfig } from '../../src/shared/redis-config.js';
import { SharedRedis } from '../../src/shared/redis.js';
import { freePort } from '../support/http-stack.js';
import { deletePrefix, dumpPrefix, redisUnavailable, TEST_REDIS_URL, testPrefix } from '../support/redis.js';
import { findLeaks, sentinel } from '../support/secrets.js';

/**
 * The shared vendor rate limits (Bottleneck clustered on Redis) with real Redis and real time: two
 * SharedRedis connections, each with its own SharedLimits, stand for two replicas.
 */

const skip = await redisUnavailable();

async function dumpAll(prefix: string): Promise<{ where: string; text: string }[]> {
  return (await dumpPrefix(prefix)).map((d) => ({ where: d.key, text: `${d.key}\n${d.value}` }));
}

/** Most timestamps in any interval of `ms`. */
function mostInAnyWindow(times: number[], ms: number): number {
  const t = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= ms) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

async function until(what: string, test: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await test()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never happened: ${what}`);
}

describe.skipIf(skip)('shared rate limits on Redis (two replicas, real Redis)', () => {
  const opened: { redis: SharedRedis; limits: SharedLimits }[] = [];
  const prefixes: string[] = [];

  async function replica(prefix: string, url = TEST_REDIS_URL): Promise<SharedLimits> {
    const redis = await SharedRedis.connect(redisConfig({ SALES_ACCESS_REDIS_URL: url, SALES_ACCESS_REDIS_PREFIX: prefix })!);
    const limits = await SharedLimits.open(redis);
    opened.push({ redis, limits });
    return limits;
  }
  const newPrefix = () => {
    const p = testPrefix();
    prefixes.push(p);
    return p;
  };
  const limiterOf = (limits: SharedLimits, policy: RateLimitPolicy, identity = 'key:fp-test'): SharedLimiter =>
    limits.limiter({ vendor: 'testvendor', identity, bucket: 'default', policy, clock: systemClock });

  afterAll(async () => {
    for (const o of opened) {
      await o.limits.close();
      await o.redis.close();
    }
    for (const p of prefixes) await deletePrefix(p);
  });

  it('two replicas sharing one bucket never admit more than the limit in any window together', async () => {
    const prefix = newPrefix();
    const policy: RateLimitPolicy = { windows: [{ name: 'second', intervalMs: 1000, limit: 5 }], maxConcurrent: 3 };
    const [a, b] = [limiterOf(await replica(prefix), policy), limiterOf(await replica(prefix), policy)];
    const starts: number[] = [];
    let running = 0;
    let mostRunning = 0;
    const call = (l: SharedLimiter) =>
      l.schedule(async () => {
        starts.push(Date.now());
        mostRunning = Math.max(mostRunning, ++running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
      });
    await Promise.all([...Array.from({ length: 8 }, () => call(a)), ...Array.from({ length: 8 }, () => call(b))]);
    expect(starts).toHaveLength(16);
    expect(mostInAnyWindow(starts, 1000)).toBeLessThanOrEqual(5);
    // The policy's concurrency is shared as well.
    expect(mostRunning).toBeLessThanOrEqual(3);
  });

  it('a limit learned by one replica and a 429 hold set by one are respected by the other', async () => {
    const prefix = newPrefix();
    const policy: RateLimitPolicy = { windows: [{ name: 'second', intervalMs: 1000, limit: 6 }] };
    const [la, lb] = [await replica(prefix), await replica(prefix)];
    const a = limiterOf(la, policy);
    const b = limiterOf(lb, policy);
    await a.acquire(); // both have set up their Bottleneck in Redis
    await b.acquire();
    const c = new Redis(TEST_REDIS_URL);
    try {
      a.learn('second', { limit: 3 });
      await until('the learned limit is in Redis', async () => (await c.hget(`b_${prefix}limits:testvendor:key:fp-test:default:second_settings`, 'maxConcurrent')) === '3');
      // Two slots are already taken: B gets one more in this window, whatever it was configured with.
      const t0 = Date.now();
      const starts: number[] = [];
      await Promise.all(Array.from({ length: 3 }, () => b.acquire().then(() => starts.push(Date.now()))));
      expect(starts.filter((t) => t - t0 < 900)).toHaveLength(1);

      const holdEnd = Date.now() + 3_000;
      a.holdUntil(holdEnd);
      await until('the hold is in Redis', async () => (await c.get(`${prefix}limits:testvendor:key:fp-test:default:hold`)) !== null);
      const err = await b.acquire({ deadlineAt: Date.now() + 1_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LimiterDeadlineError);
      expect((err as LimiterDeadlineError).window).toBe('hold');
      expect((err as LimiterDeadlineError).retryAtMs).toBe(holdEnd);
    } finally {
      c.disconnect();
    }
  });

  it('a request heavier than a limit another replica learned takes that whole window instead of failing', async () => {
    const prefix = newPrefix();
    const policy: RateLimitPolicy = { windows: [{ name: 'second', intervalMs: 1000, limit: 6 }] };
    const a = limiterOf(await replica(prefix), policy);
    const b = limiterOf(await replica(prefix), policy);
    await b.acquire();
    a.learn('second', { limit: 2 });
    const c = new Redis(TEST_REDIS_URL);
    try {
      await until('the learned limit is in Redis', async () => (await c.hget(`b_${prefix}limits:testvendor:key:fp-test:default:second_settings`, 'maxConcurrent')) === '2');
    } finally {
      c.disconnect();
    }
    // B still takes its limit as 6; Bottleneck refuses weight 5 over 2 (OVERWEIGHT), so it asks for 2.
    const t = await b.acquire({ weight: 5 });
    expect(t.weight).toBe(5);
  });

  it('a vendor report of nothing left holds the other replica until the reported reset', async () => {
    const prefix = newPrefix();
    const policy: RateLimitPolicy = { windows: [{ name: 'minute', intervalMs: 60_000, limit: 100 }] };
    const a = limiterOf(await replica(prefix), policy);
    const b = limiterOf(await replica(prefix), policy);
    const reset = Date.now() + 5_000;
    a.learn('minute', { remaining: 0, resetAtMs: reset });
    const c = new Redis(TEST_REDIS_URL);
    try {
      await until('the hold is in Redis', async () => (await c.get(`${prefix}limits:testvendor:key:fp-test:default:hold`)) !== null);
    } finally {
      c.disconnect();
    }
    const err = await b.acquire({ deadlineAt: Date.now() + 1_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LimiterDeadlineError);
    expect((err as LimiterDeadlineError).retryAtMs).toBe(reset);
  });

  it('a full window fails with the retry time read from Redis, before the deadline, instead of waiting past it', async () => {
    const prefix = newPrefix();
    const policy: RateLimitPolicy = { windows: [{ name: 'window', intervalMs: 5_000, limit: 2 }] };
    const a = limiterOf(await replica(prefix), policy);
    const b = limiterOf(await replica(prefix), policy);
    const first = (await a.acquire()).admittedAt;
    await a.acquire();
    const deadlineAt = Date.now() + 3_000;
    const err = await b.acquire({ deadlineAt }).catch((e: unknown) => e);
    const failedAt = Date.now();
    expect(err).toBeInstanceOf(LimiterDeadlineError);
    const e = err as LimiterDeadlineError;
    expect(e.window).toBe('window');
    expect(e.shared).toBe(true);
    // The first slot frees one window (+ slack) after it was taken, at the latest by its expiration in Redis.
    expect(e.retryAtMs).toBeGreaterThan(deadlineAt);
    expect(e.retryAtMs).toBeGreaterThanOrEqual(first + 5_000);
    expect(failedAt).toBeLessThan(deadlineAt);
  });

  it('keeps no secret in any key or value: the id holds the vendor, the credential fingerprint and the bucket', async () => {
    const prefix = newPrefix();
    const token = sentinel('bearer token');
    const identity = `bearer:${credentialFingerprint(token)}`;
    const policy: RateLimitPolicy = { windows: [{ name: 'minute', intervalMs: 60_000, limit: 10 }], maxConcurrent: 2 };
    const a = limiterOf(await replica(prefix), policy, identity);
    await a.schedule(async () => undefined);
    a.holdUntil(Date.now() + 500);
    await until('the hold is in Redis', async () => (await dumpAll(prefix)).some((d) => d.where.endsWith(':hold')));
    const dump = await dumpAll(prefix);
    expect(dump.length).toBeGreaterThan(3);
    expect(dump.map((d) => d.where).every((k) => k.startsWith(prefix) || k.startsWith(`b_${prefix}`))).toBe(true);
    expect(findLeaks({ token }, dump)).toEqual([]);
  });
});

const noRedisServer = spawnSync('redis-server', ['--version']).status !== 0 ? 'redis-server is not installed' : undefined;
if (noRedisServer) console.warn(`shared limiter Redis-outage test skipped: ${noRedisServer}`);

describe.skipIf(noRedisServer)('shared rate limits when Redis goes away (a private redis-server, stopped mid-run)', () => {
  let dir = '';
  let port = 0;
  const pid = () => Number(readFileSync(join(dir, 'redis.pid'), 'utf8'));
  let redis: SharedRedis | undefined;
  let limits: SharedLimits | undefined;

  afterAll(async () => {
    await limits?.close();
    await redis?.close();
    try {
      process.kill(pid());
    } catch {
      /* already stopped */
    }
  });

  it('an admission fails with an error naming Redis and the lack of a per-replica fallback, not a hang; works again once Redis is back', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sam-limiter-down-'));
    port = await freePort();
    const startRedis = () => execFileSync('redis-server', ['--daemonize', 'yes', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--pidfile', join(dir, 'redis.pid'), '--logfile', join(dir, 'redis.log')]);
    startRedis();
    for (let i = 0; i < 100 && !/Ready to accept/.test(readFileSync(join(dir, 'redis.log'), 'utf8')); i++) await new Promise((r) => setTimeout(r, 50));
    redis = await SharedRedis.connect(redisConfig({ SALES_ACCESS_REDIS_URL: `redis://127.0.0.1:${port}/0` })!);
    limits = await SharedLimits.open(redis);
    const l = limits.limiter({ vendor: 'testvendor', identity: 'key:fp', bucket: 'default', policy: { windows: [{ name: 'minute', intervalMs: 60_000, limit: 10 }], maxConcurrent: 2 }, clock: systemClock });
    await l.schedule(async () => undefined);
    process.kill(pid());
    for (let i = 0; i < 100 && spawnSync('redis-cli', ['-p', String(port), 'ping']).status === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const err = await l.schedule(async () => 'sent', { deadlineAt: Date.now() + 60_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VendorError);
    expect((err as VendorError).message).toMatch(new RegExp(`^Redis at 127\\.0\\.0\\.1:${port}/0 is unreachable \\(.+\\) while .+; the server does not fall back to per-replica state`));

    // A limiter first used while Redis is down works once it is back (an empty Redis: Bottleneck sets itself up again).
    const fresh = limits.limiter({ vendor: 'testvendor', identity: 'key:fp', bucket: 'other', policy: { windows: [{ name: 'minute', intervalMs: 60_000, limit: 10 }] }, clock: systemClock });
    expect(await fresh.acquire().catch((e: unknown) => e)).toBeInstanceOf(VendorError);
    startRedis();
    await until('Redis is back for the client', async () => (await redis!.client.ping().catch(() => '')) === 'PONG');
    expect(await l.schedule(async () => 'sent')).toBe('sent');
    expect((await fresh.acquire()).weight).toBe(1);
  });
});

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * The Redis the shared-state tests run against: SALES_ACCESS_TEST_REDIS_URL (set by .ci/run when it starts
 * one), else the machines' own at 127.0.0.1:6379. Each test uses its own key prefix and deletes it after.
 */
export const TEST_REDIS_URL = process.env.SALES_ACCESS_TEST_REDIS_URL || 'redis://127.0.0.1:6379';

/** Why the Redis tests cannot run here (printed, and the tests reported as skipped), or undefined. */
export async function redisUnavailable(): Promise<string | undefined> {
  const c = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: 2_000, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  let lastError: Error | undefined;
  c.on('error', (e: Error) => (lastError = e));
  try {
    await c.connect();
    await c.ping();
    return undefined;
  } catch (err) {
    const reason = `Redis tests skipped: no Redis at ${new URL(TEST_REDIS_URL).host} (${(lastError ?? (err as Error)).message}); set SALES_ACCESS_TEST_REDIS_URL or install redis-server`;
    console.warn(reason);
    return reason;
  } finally {
    c.disconnect();
  }
}

export function testPrefix(): string {
  return `sam-test:${randomUUID().slice(0, 8)}:`;
}

/**
 * Every key under `prefix` with its value as text (strings as is; sets, lists and zsets (with scores) joined;
 * hashes as JSON), Bottleneck's `b_<prefix>` keys too.
 */
export async function dumpPrefix(prefix: string): Promise<{ key: string; value: string }[]> {
  const c = new Redis(TEST_REDIS_URL);
  try {
    const keys = [...(await c.keys(`${prefix}*`)), ...(await c.keys(`b_${prefix}*`))];
    const out: { key: string; value: string }[] = [];
    for (const key of keys) {
      const type = await c.type(key);
      const value =
        type === 'set'
          ? (await c.smembers(key)).join(' ')
          : type === 'string'
            ? ((await c.get(key)) ?? '')
            : type === 'hash'
              ? JSON.stringify(await c.hgetall(key))
              : type === 'zset'
                ? ((await c.call('zrange', key, '0', '-1', 'WITHSCORES')) as string[]).join(' ')
                : type === 'list'
                  ? (await c.lrange(key, 0, -1)).join(' ')
                  : `<${type}>`;
      out.push({ key, value });
    }
    return out;
  } finally {
    c.disconnect();
  }
}

/** Deletes every key under `prefix`, and the shared rate limits' Bottleneck keys (`b_<prefix>...`). */
export async function deletePrefix(prefix: string): Promise<void> {
  const c = new Redis(TEST_REDIS_URL);
  try {
    const keys = [...(await c.keys(`${prefix}*`)), ...(await c.keys(`b_${prefix}*`))];
    if (keys.length) await c.del(...keys);
  } finally {
    c.disconnect();
  }
}

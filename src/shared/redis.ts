import type { Redis, RedisOptions } from 'ioredis';
import { ConfigError } from '../env.js';
import { VendorError } from '../errors.js';
import { REDIS_URL_VARIABLE, type RedisConfig } from './redis-config.js';

export { REDIS_URL_VARIABLE, type RedisConfig };

/** How long the start-up check (connect + AUTH + SELECT + PING) may take. */
const STARTUP_TIMEOUT_MS = 5_000;

/*
 * The Redis connection shared state uses when several replicas serve one organisation
 * (SALES_ACCESS_REDIS_URL). One client per process; never a silent fallback to per-replica state: Redis
 * unreachable at start stops start-up, and during a call fails that call with a message that says so.
 */

/** A connection error as the client reports it, with the configured password cut out whatever the source. */
function reasonOf(err: unknown, cfg: RedisConfig): string {
  let text = err instanceof Error ? err.message : String(err);
  try {
    const u = new URL(cfg.url);
    for (const s of [u.password, decodeURIComponent(u.password)]) if (s) text = text.split(s).join('***');
  } catch {
    /* validated by redisConfig */
  }
  return text.replace(/\s+/g, ' ').slice(0, 300);
}

/**
 * The process's Redis client. ioredis' own retries stay on (a replica survives a Redis restart), but a
 * command fails after one reconnection attempt instead of queueing forever, so a call reports the outage.
 */
export class SharedRedis {
  readonly client: Redis;
  /** The last 'error' event: where ioredis puts NOAUTH / WRONGPASS / ECONNREFUSED (a rejected connect() only says "Connection is closed."). */
  private lastError: Error | undefined;

  private constructor(RedisClient: typeof Redis, readonly config: RedisConfig, extra: RedisOptions = {}) {
    this.client = new RedisClient(config.url, {
      lazyConnect: true,
      connectTimeout: STARTUP_TIMEOUT_MS,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: true,
      ...extra,
    });
    this.client.on('error', (err: Error) => {
      this.lastError = err;
    });
  }

  /**
   * Connects and PINGs within a few seconds, or throws a ConfigError naming SALES_ACCESS_REDIS_URL and the
   * reason (never the password). The connection then serves the whole process.
   */
  static async connect(config: RedisConfig): Promise<SharedRedis> {
    // No reconnection during the check: an unreachable Redis must fail start-up, not hang it.
    // Imported here: the bundle keeps ioredis external, and a server without Redis never loads it.
    const { Redis: RedisClient } = await import('ioredis');
    const r = new SharedRedis(RedisClient, config, { retryStrategy: () => null });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        (async () => {
          await r.client.connect();
          await r.client.ping();
        })(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${STARTUP_TIMEOUT_MS / 1000} s`)), STARTUP_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      const why = reasonOf(r.lastError ?? err, config);
      r.client.disconnect();
      throw new ConfigError(
        `${REDIS_URL_VARIABLE}: Redis at ${config.where} is unreachable at start-up (${why}). Check the host, port, password (AUTH) and TLS ` +
          `(rediss://) in ${REDIS_URL_VARIABLE}; with Redis configured the server does not start on per-replica state.`,
      );
    } finally {
      clearTimeout(timer);
    }
    // From now on, reconnect with a capped backoff.
    r.client.options.retryStrategy = (times: number) => Math.min(times * 200, 2_000);
    return r;
  }

  /** Prefixed key. */
  key(...parts: string[]): string {
    return this.config.prefix + parts.join(':');
  }

  /**
   * Runs one Redis operation; a connection failure becomes a VendorError (code network) that says Redis is
   * unreachable and that the server does not fall back to per-replica state.
   */
  async run<T>(what: string, op: (c: Redis) => Promise<T>): Promise<T> {
    try {
      return await op(this.client);
    } catch (err) {
      const why = reasonOf(this.lastError && this.client.status !== 'ready' ? this.lastError : err, this.config);
      throw new VendorError({
        vendor: 'redis',
        code: 'network',
        message:
          `Redis at ${this.config.where} is unreachable (${why}) while ${what}; the server does not fall back to per-replica state. ` +
          `Try again once Redis is back, or check ${REDIS_URL_VARIABLE}.`,
        detail: `redis ${what}: ${why}`,
      });
    }
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}

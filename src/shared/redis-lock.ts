import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { SharedRedis } from './redis.js';

/*
 * A lock in one Redis: SET NX PX with a random value, released (and extended) only while it still holds that
 * value. Our own rather than redlock, the usual library: it has had no stable release since 4.2.0 (2020,
 * ioredis 4), and a single Redis needs only these commands. Used by the token refresh and the plan execution.
 */

/**
 * Who holds something in Redis, as other replicas are told (a lock, a job's lease, a credit reservation's run):
 * the replica id when set, the process and the host. No secret.
 */
export function holderLabel(replicaId?: string): string {
  return `${replicaId ? `replica ${replicaId}, ` : ''}process ${process.pid} on ${hostname()}`.replace(/\s+/g, ' ');
}

/** Deletes the lock only when it still holds our value (it may have expired and been taken since). */
const RELEASE_LUA = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
/** Pushes the expiry back only when the lock is still ours. */
const EXTEND_LUA = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

export interface RedisLock {
  /** Extends the expiry to `ttlMs` from now; false when the lock is no longer ours (expired, taken over). */
  extend(ttlMs: number): Promise<boolean>;
  release(): Promise<void>;
}

/**
 * Takes `key` for `ttlMs`, or returns undefined when someone holds it. `holder` (no secret: a replica id, a
 * host and pid) is stored before the random part so a refused caller can say who holds it (lockHolder).
 */
export async function tryRedisLock(redis: SharedRedis, key: string, ttlMs: number, what: string, holder = ''): Promise<RedisLock | undefined> {
  const value = `${holder}${holder ? ' ' : ''}${randomBytes(16).toString('hex')}`;
  const ok = await redis.run(`taking the ${what} lock`, (c) => c.set(key, value, 'PX', ttlMs, 'NX'));
  if (ok !== 'OK') return undefined;
  return {
    extend: async (ms) => (await redis.run(`extending the ${what} lock`, (c) => c.eval(EXTEND_LUA, 1, key, value, String(ms)))) === 1,
    release: async () => {
      await redis.run(`releasing the ${what} lock`, (c) => c.eval(RELEASE_LUA, 1, key, value));
    },
  };
}

/**
 * Keeps `lock` for as long as its holder works: extends it to `ttlMs` every `everyMs`, so it expires only after
 * the holder is gone. A failed extension is left to the work itself, which meets the same Redis and says so.
 * Returns the release, which stops the renewal first.
 */
export function renewWhileHeld(lock: RedisLock, ttlMs: number, everyMs: number): () => Promise<void> {
  const timer = setInterval(() => void lock.extend(ttlMs).catch(() => undefined), everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await lock.release();
  };
}

/** The holder label of a lock taken with one, or undefined (free, or taken without a label). */
export async function lockHolder(redis: SharedRedis, key: string, what: string): Promise<string | undefined> {
  const v = await redis.run(`reading the ${what} lock`, (c) => c.get(key));
  const i = v?.lastIndexOf(' ') ?? -1;
  return v && i > 0 ? v.slice(0, i) : undefined;
}

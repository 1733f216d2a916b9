import { ConfigError, type Env } from '../env.js';

/** The Redis settings, read without loading the client (ioredis is loaded only when Redis is configured). */

export const REDIS_URL_VARIABLE = 'SALES_ACCESS_REDIS_URL';
export const REDIS_PREFIX_VARIABLE = 'SALES_ACCESS_REDIS_PREFIX';
const DEFAULT_PREFIX = 'sales-access:';

export interface RedisConfig {
  /** The URL as configured: holds the password, never print it (use `where`). */
  url: string;
  /** host:port/db, for messages. */
  where: string;
  tls: boolean;
  prefix: string;
}

/** SALES_ACCESS_REDIS_URL and SALES_ACCESS_REDIS_PREFIX, or undefined when Redis is not configured. */
export function redisConfig(env: Env): RedisConfig | undefined {
  const raw = env[REDIS_URL_VARIABLE]?.trim();
  if (!raw) return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    // The value is not quoted: it may hold a password.
    throw new ConfigError(`${REDIS_URL_VARIABLE} is not a valid URL; expected redis://[:password@]host[:port][/db] or rediss://… for TLS.`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new ConfigError(`${REDIS_URL_VARIABLE} must start with redis:// or rediss:// (TLS); got ${u.protocol}//.`);
  }
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,2}$/.test(db)) {
    throw new ConfigError(`${REDIS_URL_VARIABLE}: the path must be a database number like /2, or empty for database 0.`);
  }
  const prefix = env[REDIS_PREFIX_VARIABLE]?.trim() || DEFAULT_PREFIX;
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(prefix)) {
    throw new ConfigError(`${REDIS_PREFIX_VARIABLE} must be 1 to 64 letters, digits, ".", "_", ":" or "-", e.g. "sales-access:prod:".`);
  }
  const port = u.port || '6379';
  return { url: raw, where: `${u.hostname}:${port}/${db || '0'}`, tls: u.protocol === 'rediss:', prefix };
}


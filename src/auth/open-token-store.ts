import type { Clock } from '../clock.js';
import { ConfigError } from '../env.js';
import { ENCRYPTION_KEY_VARIABLE, type EncryptionKey } from '../shared/envelope.js';
import { REDIS_URL_VARIABLE, type RedisConfig } from '../shared/redis-config.js';
import type { SharedRedis } from '../shared/redis.js';
import { TokenStore, type TokenRecord, type TokenRecordInput, type TokenStorage } from './token-store.js';

export interface TokenStoreSettings {
  stateDir: string;
  /** SALES_ACCESS_REDIS_URL: tokens are shared by the replicas through Redis. */
  redis: RedisConfig | undefined;
  /** SALES_ACCESS_ENCRYPTION_KEY: seals the token records kept in Redis. */
  encryptionKey: EncryptionKey | undefined;
}

export interface OpenedTokenStore {
  tokens: TokenStorage;
  /** The process's Redis connection when configured (shared with other shared state). */
  redis: SharedRedis | undefined;
  close(): Promise<void>;
}

/**
 * The token store of this process: Redis when SALES_ACCESS_REDIS_URL is set (its start-up check fails
 * start-up with the reason), else the private files under the state directory.
 */
export async function openTokenStore(s: TokenStoreSettings, opts: { clock?: Clock } = {}): Promise<OpenedTokenStore> {
  if (!s.redis) return { tokens: new TokenStore(s.stateDir, opts), redis: undefined, close: async () => {} };
  // Loaded only here: a server without Redis never parses ioredis.
  const { SharedRedis } = await import('../shared/redis.js');
  const { RedisTokenStore } = await import('./redis-token-store.js');
  const redis = await SharedRedis.connect(s.redis);
  const tokens = s.encryptionKey ? new RedisTokenStore(redis, s.encryptionKey, opts) : new KeylessRedisStore(s.redis);
  return { tokens, redis, close: () => redis.close() };
}

/**
 * Redis without SALES_ACCESS_ENCRYPTION_KEY: fine while no vendor keeps OAuth tokens, a start-up error as soon
 * as one does (the auth factory reads the store at start-up), since nothing secret goes to Redis in clear.
 */
class KeylessRedisStore implements TokenStorage {
  constructor(private readonly redis: RedisConfig) {}
  where(): string {
    return `Redis at ${this.redis.where}`;
  }
  private refuse(vendor: string): never {
    throw new ConfigError(
      `${ENCRYPTION_KEY_VARIABLE} is required with ${REDIS_URL_VARIABLE} when ${vendor} uses OAuth tokens: the token records in Redis are encrypted with it ` +
        `(AES-256-GCM). Set the same 32-byte key on every replica, e.g. \`openssl rand -base64 32\`.`,
    );
  }
  async read(vendor: string): Promise<TokenRecord | undefined> {
    this.refuse(vendor);
  }
  async write(vendor: string, _record: TokenRecordInput): Promise<TokenRecord> {
    this.refuse(vendor);
  }
}

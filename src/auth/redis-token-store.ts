import { createHash, createHmac } from 'node:crypto';
import { systemClock, type Clock } from '../clock.js';
import { ConfigError } from '../env.js';
import { ENCRYPTION_KEY_VARIABLE, EnvelopeError, open, seal, type EncryptionKey } from '../shared/envelope.js';
import type { SharedRedis } from '../shared/redis.js';
import { renewWhileHeld, tryRedisLock } from '../shared/redis-lock.js';
import { parseRecord, stripUndefined, type RefreshCoordination, type TokenRecord, type TokenRecordInput, type TokenStorage } from './token-store.js';

/*
 * Token records in Redis, for replicas that share one organisation's OAuth tokens. Keys name the vendor and a
 * fingerprint of the OAuth client id, nothing else; values are AES-256-GCM envelopes (shared/envelope.ts)
 * whose AAD binds them to the vendor and client id. The refresh lock is shared/redis-lock.ts (SET NX PX +
 * compare-and-delete).
 */

/**
 * How long the lock outlives its holder. The holder renews it every third of this (5 s) while it holds it: a
 * token request has no total time limit (slow headers, a trickling body, a 429's Retry-After within its retry
 * budget), and a lock that expired under a live holder would let another replica send the same refresh token.
 * Renewal carries a live holder, so the TTL only bounds the wait after a holder died: at most 15 s (+5 s of
 * margin), inside one call's deadline (45 s), rather than the 45 s it was (a call then answered `running`).
 */
const LOCK_TTL_MS = 15_000;
const POLL_MS = 25;
/** Retired refresh tokens are remembered this long (longer than any vendor keeps a refresh token unused). */
const RETIRED_TTL_MS = 400 * 86_400_000;

export class RedisTokenStore implements TokenStorage, RefreshCoordination {
  readonly coordination: RefreshCoordination = this;
  readonly lockTtlMs: number;
  private readonly clock: Clock;
  /** The client id last used per vendor, for callers that read without one (doctor's scope check). */
  private readonly clients = new Map<string, string>();

  constructor(
    private readonly redis: SharedRedis,
    private readonly key: EncryptionKey,
    opts: { clock?: Clock; lockTtlMs?: number } = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.lockTtlMs = opts.lockTtlMs ?? LOCK_TTL_MS;
  }

  where(vendor: string): string {
    return `Redis at ${this.redis.config.where} (key ${this.recordKey(vendor, this.clientOf(vendor))})`;
  }

  async read(vendor: string, clientId?: string): Promise<TokenRecord | undefined> {
    const client = this.clientOf(vendor, clientId);
    const k = this.recordKey(vendor, client);
    const sealed = await this.redis.run(`reading the ${vendor} token record`, (c) => c.get(k));
    if (sealed === null) return undefined;
    let text: string;
    try {
      text = open(this.key, sealed, aad(vendor, client));
    } catch (err) {
      const why = err instanceof EnvelopeError ? err.message : 'unreadable';
      const fix =
        err instanceof EnvelopeError && err.reason === 'other_key'
          ? `give every replica the same ${ENCRYPTION_KEY_VARIABLE}`
          : `check ${ENCRYPTION_KEY_VARIABLE}, or delete the key and run \`sales-access-mcp auth ${vendor}\` again`;
      throw new ConfigError(`The ${vendor} token record in Redis at ${this.redis.config.where} (key ${k}) cannot be decrypted: ${why}. ${fix[0]!.toUpperCase()}${fix.slice(1)}.`);
    }
    return parseRecord(text, `The ${vendor} token record in Redis (key ${k})`, vendor);
  }

  async write(vendor: string, record: TokenRecordInput, clientId?: string): Promise<TokenRecord> {
    const client = this.clientOf(vendor, clientId);
    const full: TokenRecord = { ...stripUndefined(record), updated_at: new Date(this.clock.now()).toISOString() };
    const sealed = seal(this.key, JSON.stringify(full), aad(vendor, client));
    await this.redis.run(`saving the ${vendor} token record`, (c) => c.set(this.recordKey(vendor, client), sealed));
    return full;
  }

  async tryLock(vendor: string, clientId: string): Promise<(() => Promise<void>) | undefined> {
    const ttl = this.lockTtlMs;
    const lock = await tryRedisLock(this.redis, this.lockKey(vendor, clientId), ttl, `${vendor} refresh`);
    return lock && renewWhileHeld(lock, ttl, Math.max(1, Math.floor(ttl / 3)));
  }

  async waitUnlocked(vendor: string, clientId: string, deadline: number): Promise<boolean> {
    const k = this.lockKey(vendor, clientId);
    // Polled: a refresh happens once per token lifetime and lasts a round trip, so a subscription would be
    // a second connection kept open for nothing.
    while (this.clock.now() < deadline) {
      const held = await this.redis.run(`waiting for another replica's ${vendor} token refresh`, (c) => c.exists(k));
      if (!held) return true;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    return false;
  }

  async retire(vendor: string, clientId: string, refreshToken: string): Promise<void> {
    const k = this.retiredKey(vendor, clientId);
    await this.redis.run(`retiring a spent ${vendor} refresh token`, async (c) => {
      await c.multi().sadd(k, this.tokenFingerprint(refreshToken)).pexpire(k, RETIRED_TTL_MS).exec();
    });
  }

  async isRetired(vendor: string, clientId: string, refreshToken: string): Promise<boolean> {
    const k = this.retiredKey(vendor, clientId);
    return (await this.redis.run(`checking the ${vendor} refresh token`, (c) => c.sismember(k, this.tokenFingerprint(refreshToken)))) === 1;
  }

  private clientOf(vendor: string, clientId?: string): string {
    if (clientId) {
      this.clients.set(vendor, clientId);
      return clientId;
    }
    return this.clients.get(vendor) ?? '-';
  }

  recordKey(vendor: string, clientId: string): string {
    return this.redis.key('token', vendor, clientFingerprint(clientId));
  }

  private lockKey(vendor: string, clientId: string): string {
    return this.redis.key('refresh-lock', vendor, clientFingerprint(clientId));
  }

  private retiredKey(vendor: string, clientId: string): string {
    return this.redis.key('retired', vendor, clientFingerprint(clientId));
  }

  /** Keyed with the encryption key: a fingerprint of a token must not let anyone test guesses. */
  private tokenFingerprint(token: string): string {
    return createHmac('sha256', this.key.key).update('retired refresh token\0').update(token).digest('hex').slice(0, 32);
  }
}

/** The client id is not secret, but keys need not carry it: a short hash names it. */
function clientFingerprint(clientId: string): string {
  return createHash('sha256').update(`oauth-client\0${clientId}`).digest('hex').slice(0, 16);
}

function aad(vendor: string, clientId: string): string {
  return `sales-access-mcp token-record v1\0${vendor}\0${clientId}`;
}

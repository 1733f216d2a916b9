import path from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import { ensurePrivateDir, readPrivateFile, writePrivateFile } from '../fs-private.js';

/** What is kept per vendor. Times are ISO 8601 so an admin can read the file. */
export interface TokenRecord {
  access_token?: string;
  /** ISO 8601; absent when the vendor did not say (the token is then used until a 401). */
  access_expires_at?: string;
  refresh_token?: string;
  /** Space-separated scopes the vendor granted, when it said. */
  scope?: string;
  updated_at: string;
}

export type TokenRecordInput = Omit<TokenRecord, 'updated_at'>;

/**
 * Where tokens are kept: the private file store of one server (TokenStore), or Redis shared by several
 * replicas (RedisTokenStore). `clientId` is the OAuth client the tokens belong to (Redis keys and seals
 * records by it; the file store has one file per vendor and ignores it).
 */
export interface TokenStorage {
  read(vendor: string, clientId?: string): Promise<TokenRecord | undefined>;
  /** Replaces the vendor's record atomically; `updated_at` is set here. */
  write(vendor: string, record: TokenRecordInput, clientId?: string): Promise<TokenRecord>;
  /** Where a vendor's tokens live, for messages: a file path or "Redis at host:port/db" (never a secret). */
  where(vendor: string): string;
  /** Present when several processes share the store: one refresh at a time across all of them. */
  coordination?: RefreshCoordination;
}

/**
 * Cross-process refresh coordination (Redis): a lock with expiry around each refresh, so exactly one
 * replica spends the refresh token and the others wait for the record it saves; and the refresh tokens no
 * replica may send again (a refresh with them got no usable answer, or invalid_grant), by fingerprint.
 */
export interface RefreshCoordination {
  /** How long a lock lives if its holder dies; waiters give up a little after this. */
  readonly lockTtlMs: number;
  /** Takes the refresh lock; resolves with its release, or undefined when another process holds it. */
  tryLock(vendor: string, clientId: string): Promise<(() => Promise<void>) | undefined>;
  /** Resolves true once the lock is free (released, or expired with its holder), false at `deadline` (epoch ms). */
  waitUnlocked(vendor: string, clientId: string, deadline: number): Promise<boolean>;
  retire(vendor: string, clientId: string, refreshToken: string): Promise<void>;
  isRetired(vendor: string, clientId: string, refreshToken: string): Promise<boolean>;
}

/**
 * One JSON file per vendor under `<dir>/tokens/`. Rotated refresh tokens are single-use: losing the newest
 * one locks the server out until an admin re-authorises, so every write is atomic and durable (see
 * fs-private.ts) and a torn file can never replace a good one.
 */
export class TokenStore implements TokenStorage {
  readonly tokensDir: string;
  private readonly clock: Clock;

  constructor(dir: string, opts: { clock?: Clock } = {}) {
    this.tokensDir = path.join(dir, 'tokens');
    this.clock = opts.clock ?? systemClock;
  }

  /** Path of a vendor's file (for messages; the file holds secrets, never print its contents). */
  filePath(vendor: string): string {
    // The vendor name becomes a file name: refuse anything that could walk out of the directory.
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(vendor)) {
      throw new Error(`Invalid vendor name for the token store: ${JSON.stringify(vendor)}`);
    }
    return path.join(this.tokensDir, `${vendor}.json`);
  }

  where(vendor: string): string {
    return this.filePath(vendor);
  }

  /**
   * The stored record, or undefined when there is none. Throws when the file is readable or writable by
   * group or others (a token another local user can read is already leaked, so refusing is safer than
   * quietly tightening it) and when the file is not a valid record.
   */
  async read(vendor: string): Promise<TokenRecord | undefined> {
    const file = this.filePath(vendor);
    const text = await readPrivateFile(file, 'Token file');
    return text === undefined ? undefined : parseRecord(text, `Token file ${file}`, vendor);
  }

  /** Replaces the vendor's record atomically and durably; `updated_at` is set here. */
  async write(vendor: string, record: TokenRecordInput): Promise<TokenRecord> {
    const file = this.filePath(vendor);
    // The tokens directory is ours alone; an existing one created with a loose umask is tightened.
    await ensurePrivateDir(this.tokensDir);
    const full: TokenRecord = { ...stripUndefined(record), updated_at: new Date(this.clock.now()).toISOString() };
    await writePrivateFile(file, JSON.stringify(full, null, 2) + '\n');
    return full;
  }
}

/** `label` names where the text came from, e.g. "Token file /x/tokens/outreach.json". */
export function parseRecord(text: string, label: string, vendor: string): TokenRecord {
  // The parse error is not quoted: V8 includes a snippet of the input, which is a token.
  const corrupt = () =>
    new Error(`${label} is corrupt; delete it and run \`sales-access-mcp auth ${vendor}\` again`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw corrupt();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corrupt();
  const v = value as Record<string, unknown>;
  for (const key of ['access_token', 'access_expires_at', 'refresh_token', 'scope'] as const) {
    if (v[key] !== undefined && typeof v[key] !== 'string') throw corrupt();
  }
  if (typeof v.updated_at !== 'string') throw corrupt();
  if (typeof v.access_expires_at === 'string' && Number.isNaN(Date.parse(v.access_expires_at))) throw corrupt();
  return stripUndefined({
    access_token: v.access_token as string | undefined,
    access_expires_at: v.access_expires_at as string | undefined,
    refresh_token: v.refresh_token as string | undefined,
    scope: v.scope as string | undefined,
    updated_at: v.updated_at,
  });
}

export function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

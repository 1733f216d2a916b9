import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pruneOlderThan } from './fs-prune.js';
import type { SharedRedis } from './shared/redis.js';

/** Results larger than an agent's context can take are kept here and served as MCP resources. */
export const RESULT_URI_PREFIX = 'sales-access://results/';
export const MAX_RESULT_BYTES = 25_000;
/** Stored results are working copies for the agent, not records (the audit log is): a day is plenty. */
export const RESULT_RETENTION_MS = 24 * 60 * 60_000;

/** Where stored results live under the state directory. */
export function resultsRoot(stateDir: string): string {
  return join(stateDir, 'results');
}

/** Where a large result is kept: the state directory, or Redis when several replicas share one (any of them serves it). */
export interface ResultStorage {
  /** Stores the complete result and returns its resource URI, its size, and its file path when it is a file. */
  save(toolName: string, value: unknown): Promise<{ uri: string; path?: string; bytes: number }>;
  /** The stored text by the id part of its URI; undefined when unknown, expired or not an id. */
  read(id: string): Promise<string | undefined>;
}

const RESULT_ID = /^[a-z0-9_]+-[0-9TZ-]+-[0-9a-f]{12}$/;

function newResultId(toolName: string): string {
  return `${toolName}-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(6).toString('hex')}`;
}

export class ResultStore implements ResultStorage {
  /** `retentionMs`: results older than this are removed when one is saved (0 keeps them). */
  constructor(
    private readonly dir: string,
    private readonly retentionMs: number = RESULT_RETENTION_MS,
  ) {}

  /** Writes the complete result (mode 0600) and returns its resource URI and file path. */
  async save(toolName: string, value: unknown): Promise<{ uri: string; path: string; bytes: number }> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const id = newResultId(toolName);
    const path = join(this.dir, `${id}.json`);
    const text = JSON.stringify(value);
    await writeFile(path, text, { mode: 0o600 });
    if (this.retentionMs > 0) await this.prune(Date.now() - this.retentionMs);
    return { uri: `${RESULT_URI_PREFIX}${id}`, path, bytes: Buffer.byteLength(text) };
  }

  /** Removes results older than `before`; a file that vanished meanwhile is fine. */
  prune(before: number): Promise<number> {
    return pruneOlderThan(this.dir, before, /\.json$/);
  }

  /** Reads a stored result by the id part of its URI; ids are checked so a URI cannot name another file. */
  async read(id: string): Promise<string | undefined> {
    if (!RESULT_ID.test(id)) return undefined;
    try {
      return await readFile(join(this.dir, `${id}.json`), 'utf8');
    } catch {
      return undefined;
    }
  }
}

/**
 * With SALES_ACCESS_REDIS_URL: results under `<prefix>result:<id>`, expiring after the retention (none with 0),
 * so a `resources/read` that lands on another replica finds them. They hold what the tool returned (no
 * credential: results never carry one), like the files.
 */
export class RedisResultStore implements ResultStorage {
  constructor(
    private readonly redis: SharedRedis,
    private readonly retentionMs: number = RESULT_RETENTION_MS,
  ) {}

  async save(toolName: string, value: unknown): Promise<{ uri: string; bytes: number }> {
    const id = newResultId(toolName);
    const text = JSON.stringify(value);
    const key = this.redis.key('result', id);
    await this.redis.run('storing a large tool result', (c) => (this.retentionMs > 0 ? c.set(key, text, 'PX', this.retentionMs) : c.set(key, text)));
    return { uri: `${RESULT_URI_PREFIX}${id}`, bytes: Buffer.byteLength(text) };
  }

  async read(id: string): Promise<string | undefined> {
    if (!RESULT_ID.test(id)) return undefined;
    return (await this.redis.run('reading a stored tool result', (c) => c.get(this.redis.key('result', id)))) ?? undefined;
  }
}

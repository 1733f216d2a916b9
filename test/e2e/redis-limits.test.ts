import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOutreachSimulator, type OutreachSim } from '../../src/sandbox/outreach/index.js';
import { deletePrefix, dumpPrefix, redisUnavailable, TEST_REDIS_URL, testPrefix } from '../support/redis.js';
import { findLeaks } from '../support/secrets.js';
import { assertBuilt, cleanEnv, MAIN, tempStateDir } from '../support/spawn.js';

/**
 * Issue 13 item 1: two built servers (separate processes) with the same SALES_ACCESS_REDIS_URL and prefix share
 * Outreach's rate limit, against ONE Outreach simulator started here, outside both, whose fixed windows allow
 * LIMIT requests per WINDOW_MS and answer 429 past that. Concurrent listings through both replicas need several
 * times the limit; together they stay within it (no 429 at the simulator) and all complete.
 */

const LIMIT = 5;
const WINDOW_MS = 1_500;
/** 6,000 users, 1,000 per request with all: true: six requests per listing. */
const USERS = 6_000;

const skip = await redisUnavailable();

describe.skipIf(skip)('two replicas share a vendor rate limit through Redis', () => {
  const prefix = testPrefix();
  const keyText = randomBytes(32).toString('base64');
  let sim: OutreachSim;
  const clients: Client[] = [];

  beforeAll(async () => {
    assertBuilt();
    sim = await startOutreachSimulator({ userCount: USERS, rateLimit: { limit: LIMIT, windowMs: WINDOW_MS } });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await sim?.close();
    await deletePrefix(prefix);
  });

  async function replica(): Promise<Client> {
    const env = cleanEnv({
      OUTREACH_BASE_URL: sim.baseUrl,
      OUTREACH_ACCESS_TOKEN: sim.staticAccessToken,
      OUTREACH_RATE_LIMIT_PER_HOUR: String(LIMIT),
      OUTREACH_RATE_LIMIT_WINDOW_MS: String(WINDOW_MS),
      SALES_ACCESS_STATE_DIR: tempStateDir(),
      SALES_ACCESS_REDIS_URL: TEST_REDIS_URL,
      SALES_ACCESS_REDIS_PREFIX: prefix,
      SALES_ACCESS_ENCRYPTION_KEY: keyText,
    });
    const client = new Client({ name: 'redis-limits-e2e', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [MAIN, '--vendors', 'outreach'], env, stderr: 'ignore' }));
    clients.push(client);
    return client;
  }
  // page_size (unused with all: true) tells the calls apart: identical calls on one replica would share one job.
  const listAll = (c: Client, n: number) => c.callTool({ name: 'outreach_list_users', arguments: { all: true, page_size: 100 - n } }, undefined, { timeout: 120_000 }) as Promise<CallToolResult>;

  it('concurrent listings through both replicas never exceed the limit at the simulator (no 429) and all complete', async () => {
    const [a, b] = await Promise.all([replica(), replica()]);
    const before = sim.requests.length;
    const results = await Promise.all([listAll(a, 0), listAll(b, 1), listAll(a, 2), listAll(b, 3)]);
    for (const r of results) {
      expect(r.isError, JSON.stringify(r.content).slice(0, 500)).toBeFalsy();
      expect((r.structuredContent as { total: number }).total).toBe(USERS);
    }
    // Every API request counts against the limit (the listings also read roles and profiles).
    const api = sim.requests.slice(before).filter((r) => r.path.startsWith('/api/v2/'));
    // Far more than one window's worth went through: the limit, not the work, bounded the listings.
    expect(api.filter((r) => r.path.startsWith('/api/v2/users')).length).toBeGreaterThanOrEqual(4 * (USERS / 1000));
    expect(api.filter((r) => r.status === 429)).toEqual([]);
    expect(api.every((r) => r.status === 200)).toBe(true);

    // Nothing secret (the access token) in any key or value of the limits.
    const dump = await dumpPrefix(prefix);
    expect(dump.some((d) => d.key.startsWith(`b_${prefix}limits:outreach:`))).toBe(true);
    expect(findLeaks({ token: sim.staticAccessToken, key: keyText }, dump.map((d) => ({ where: d.key, text: `${d.key}\n${d.value}` })))).toEqual([]);
  });
});

import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startOutreachSimulator, type OutreachSim } from '../src/sandbox/outreach/index.js';
import { deletePrefix, redisUnavailable, TEST_REDIS_URL } from '../test/support/redis.js';
import { round3 } from './stats.js';
import type { Benchmark, BenchContext } from './types.js';

/**
 * Issue 13 item 1, end to end: two built server processes with the same SALES_ACCESS_REDIS_URL and prefix list
 * Outreach users through ONE Outreach simulator (in this process, fixed windows of LIMIT requests per WINDOW_MS,
 * 429 past that), both configured with that limit. Reported:
 * (a) the combined request rate at the simulator against the limit: the mean rate over the limit, the most
 *     requests in any WINDOW_MS (sliding) and in any of the simulator's fixed windows, and the 429s (aim: ratio
 *     <= 1.0, no 429). Times are taken when the simulator logs a request, i.e. after it wrote the answer, so the
 *     per-window counts carry the answers' jitter; the simulator's own count is its 429s;
 * (b) the wall time of the listings split across the two replicas against the rate bound, total requests /
 *     LIMIT windows (aim <= 1.05x). The same run without Redis (each replica counting alone) is shown beside it.
 */

const LIMIT = 50;
const WINDOW_MS = 5_000;
/** 40,000 users at 1,000 per request (all: true): forty requests per listing. */
const USERS = 40_000;
/** Listings per replica, run at once. */
const LISTINGS = 2;

const here = fileURLToPath(new URL('.', import.meta.url));
const MAIN = join(here, '..', 'sales-access-mcp.mjs');

async function replica(sim: OutreachSim, redis: Record<string, string>): Promise<Client> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmpdir(),
    LOG_LEVEL: 'warn',
    OUTREACH_BASE_URL: sim.baseUrl,
    OUTREACH_ACCESS_TOKEN: sim.staticAccessToken,
    OUTREACH_RATE_LIMIT_PER_HOUR: String(LIMIT),
    OUTREACH_RATE_LIMIT_WINDOW_MS: String(WINDOW_MS),
    SALES_ACCESS_STATE_DIR: mkdtempSync(join(tmpdir(), 'sam-bench-')),
    ...redis,
  };
  const client = new Client({ name: 'bench-shared-limits', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [MAIN, '--vendors', 'outreach'], env, stderr: 'ignore' }));
  return client;
}

/** Two replicas, LISTINGS listings each at once; every request's arrival at the simulator is timed. */
async function run(ctx: BenchContext, label: string, redis: Record<string, string>): Promise<Record<string, unknown>> {
  const sim = await startOutreachSimulator({ userCount: USERS, rateLimit: { limit: LIMIT, windowMs: WINDOW_MS } });
  const arrivals: { t: number; status: number }[] = [];
  const push = sim.requests.push.bind(sim.requests);
  sim.requests.push = (...items) => {
    // Every API request counts against the simulator's limit (the listings also read roles and profiles).
    for (const r of items) if (r.path.startsWith('/api/v2/')) arrivals.push({ t: Date.now(), status: r.status });
    return push(...items);
  };
  const clients = await Promise.all([replica(sim, redis), replica(sim, redis)]);
  try {
    // One small call each first, so start-up and the first token use are not in the timing.
    await Promise.all(clients.map((c) => c.callTool({ name: 'outreach_list_users', arguments: { page_size: 1 } })));
    await new Promise((r) => setTimeout(r, WINDOW_MS + 100));
    arrivals.length = 0;
    const t0 = performance.now();
    const results = (await Promise.all(
      // Distinct arguments (page_size, unused with all: true): identical calls on one replica would share one job.
      clients.flatMap((c, r) => Array.from({ length: LISTINGS }, (_, i) => c.callTool({ name: 'outreach_list_users', arguments: { all: true, page_size: 100 - r * LISTINGS - i } }, undefined, { timeout: 300_000 }))),
    )) as CallToolResult[];
    const wallMs = performance.now() - t0;
    const failed = results.filter((r) => r.isError || (r.structuredContent as { total?: number } | undefined)?.total !== USERS).length;
    const times = arrivals.map((a) => a.t).sort((x, y) => x - y);
    let sliding = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= WINDOW_MS) j++;
      sliding = Math.max(sliding, i - j + 1);
    }
    const fixed = new Map<number, number>();
    for (const a of arrivals) if (a.status !== 429) fixed.set(Math.floor(a.t / WINDOW_MS), (fixed.get(Math.floor(a.t / WINDOW_MS)) ?? 0) + 1);
    const accepted = arrivals.filter((a) => a.status === 200).length;
    const boundMs = (accepted / LIMIT) * WINDOW_MS;
    ctx.note(`${label}: ${arrivals.length} requests, ${arrivals.filter((a) => a.status === 429).length} answered 429, ${Math.round(wallMs)} ms`);
    return {
      listings: results.length,
      listings_failed: failed,
      requests: arrivals.length,
      answered_429: arrivals.filter((a) => a.status === 429).length,
      most_in_any_window: sliding,
      most_in_any_window_over_limit: round3(sliding / LIMIT),
      most_accepted_in_a_fixed_window: Math.max(0, ...fixed.values()),
      mean_rate_over_limit: round3((accepted / Math.max(1, wallMs)) / (LIMIT / WINDOW_MS)),
      wall_ms: Math.round(wallMs),
      rate_bound_ms: Math.round(boundMs),
      wall_over_rate_bound: round3(wallMs / boundMs),
    };
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await sim.close();
  }
}

export const sharedLimits: Benchmark = {
  name: 'shared_limits',
  description: `two replica processes on one Redis list Outreach users (${LISTINGS} listings each, ${USERS / 1000} requests per listing) through one simulator limited to ${LIMIT} per ${WINDOW_MS} ms`,
  async run(ctx) {
    const url = TEST_REDIS_URL;
    const reason = await redisUnavailable();
    if (reason) return { skipped: reason };
    const prefix = `sam-bench:${randomBytes(4).toString('hex')}:`;
    try {
      return {
        limit: `${LIMIT} per ${WINDOW_MS} ms (simulator fixed windows; each replica configured with it)`,
        shared_on_redis: await run(ctx, 'shared on Redis', { SALES_ACCESS_REDIS_URL: url, SALES_ACCESS_REDIS_PREFIX: prefix, SALES_ACCESS_ENCRYPTION_KEY: randomBytes(32).toString('hex') }),
        each_replica_alone: await run(ctx, 'each replica alone (no Redis)', {}),
      };
    } finally {
      await deletePrefix(prefix);
    }
  },
};

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import Bottleneck from 'bottleneck';
import { Redis, type RedisOptions } from 'ioredis';
import { systemClock } from '../src/clock.js';
import { RateLimiter } from '../src/http/limiter.js';
import { SharedLimits } from '../src/http/shared-limiter.js';
import { redisConfig } from '../src/shared/redis-config.js';
import { SharedRedis } from '../src/shared/redis.js';
import { diff, percentiles, round3, summarize } from './stats.js';
import type { Benchmark, BenchContext } from './types.js';
import type { WorkerSpec } from './limiter-engine-worker.js';

const ITERATIONS = 2000;
const WARMUP = 200;

/** The Redis the benchmark may use: the test one when set, else the machine's default. */
function redisUrl(): string {
  return process.env.SALES_ACCESS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** A client that fails fast instead of retrying forever (ioredis reconnects forever by default). */
async function connectOrReason(url: string): Promise<{ client: Redis } | { reason: string }> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return { client };
  } catch (err) {
    client.disconnect();
    return { reason: `Redis at ${new URL(url).host} not reachable (${(err as Error).message}); set SALES_ACCESS_TEST_REDIS_URL or start redis-server` };
  }
}

interface Kind {
  name: string;
  fn(): Promise<unknown>;
}

/** Each kind once per iteration, order rotated, so noise lands on all alike (as tool_call_latency does). */
async function interleaved(kinds: Kind[]): Promise<Record<string, number[]>> {
  const samples: Record<string, number[]> = Object.fromEntries(kinds.map((k) => [k.name, []]));
  for (let i = 0; i < WARMUP + ITERATIONS; i++) {
    for (let j = 0; j < kinds.length; j++) {
      const k = kinds[(i + j) % kinds.length]!;
      const t0 = performance.now();
      await k.fn();
      const dt = performance.now() - t0;
      if (i >= WARMUP) samples[k.name]!.push(dt);
    }
  }
  return samples;
}

async function deleteKeys(client: Redis, id: string): Promise<void> {
  const keys = await client.keys(`b_${id}_*`);
  if (keys.length > 0) await client.del(...keys);
}

/** Per-call cost of admission by each engine, for a job that does nothing, one at a time (no waiting for room). */
async function latency(ctx: BenchContext, redis: Redis | undefined, prefix: string): Promise<Record<string, unknown>> {
  const homeMade = new RateLimiter({
    vendor: 'bench',
    identity: 'latency',
    bucket: 'default',
    policy: { windows: [{ name: 'minute', intervalMs: 60_000, limit: 1e9 }] },
    clock: systemClock,
  });
  const local = new Bottleneck({ reservoir: 1e9 });
  const noop = async () => undefined;
  // Fast path candidate in-process: admit at once when the policy's own count has room, and tell
  // Bottleneck's reservoir without waiting for it (every LocalDatastore call yields through a timer).
  const mirrored = new Bottleneck({ reservoir: 1e9 });
  let mirror = 1e9;
  const kinds: Kind[] = [
    { name: 'bare_call', fn: noop },
    { name: 'home_made', fn: () => homeMade.schedule(noop) },
    { name: 'bottleneck_local', fn: () => local.schedule(noop) },
    {
      name: 'fast_path_local',
      fn: () => {
        if (mirror < 1) return mirrored.schedule(noop);
        mirror -= 1;
        void mirrored.incrementReservoir(-1);
        return noop();
      },
    },
  ];
  // The engine the server uses with SALES_ACCESS_REDIS_URL (src/http/shared-limiter.ts): the hold read, a slot
  // in the window, and with maxConcurrent a slot in the concurrency limiter first.
  let shared: { redis: SharedRedis; limits: SharedLimits } | undefined;
  let clustered: Bottleneck | undefined;
  let connection: Bottleneck.IORedisConnection | undefined;
  const id = `${prefix}latency`;
  if (redis) {
    // Not redis.duplicate(): that copies lazyConnect, and Bottleneck then waits for 'ready' forever.
    connection = new Bottleneck.IORedisConnection({ client: new Redis(redisUrl(), { maxRetriesPerRequest: 1 }) });
    clustered = new Bottleneck({ id, datastore: 'ioredis', connection, reservoir: 1e9 });
    await clustered.ready();
    kinds.push({ name: 'bottleneck_redis', fn: () => clustered!.schedule(noop) });
    const sharedRedis = await SharedRedis.connect(redisConfig({ SALES_ACCESS_REDIS_URL: redisUrl(), SALES_ACCESS_REDIS_PREFIX: prefix })!);
    shared = { redis: sharedRedis, limits: await SharedLimits.open(sharedRedis) };
    const oneWindow = shared.limits.limiter({ vendor: 'bench', identity: 'latency', bucket: 'one', policy: { windows: [{ name: 'second', intervalMs: 1000, limit: 1e9 }] }, clock: systemClock });
    const withConcurrency = shared.limits.limiter({ vendor: 'bench', identity: 'latency', bucket: 'two', policy: { windows: [{ name: 'second', intervalMs: 1000, limit: 1e9 }], maxConcurrent: 4 }, clock: systemClock });
    kinds.push({ name: 'shared_limiter', fn: () => oneWindow.schedule(noop) });
    kinds.push({ name: 'shared_limiter_with_concurrency', fn: () => withConcurrency.schedule(noop) });
    kinds.push({ name: 'redis_ping', fn: () => redis.ping() });
    // Fast path candidate on Redis: take the weight with one atomic HINCRBY script; a negative result
    // would mean "no room": refund it and queue through schedule() instead.
    kinds.push({
      name: 'fast_path_redis',
      fn: async () => {
        const left = await clustered!.incrementReservoir(-1);
        if (left === null || left === undefined || left < 0) {
          await clustered!.incrementReservoir(1);
          return clustered!.schedule(noop);
        }
        return noop();
      },
    });
  }
  ctx.note(`latency: ${kinds.map((k) => k.name).join(', ')}; ${ITERATIONS} interleaved iterations after ${WARMUP}`);
  const samples = await interleaved(kinds);
  const base = percentiles(samples['bare_call']!);
  const out: Record<string, unknown> = {};
  for (const k of kinds) {
    out[k.name] = { ...summarize(samples[k.name]!), added_over_bare_call: diff(percentiles(samples[k.name]!), base) };
  }
  await local.stop();
  await mirrored.stop();
  if (shared && redis) {
    await shared.limits.close();
    await shared.redis.close();
    const keys = [...(await redis.keys(`${prefix}*`)), ...(await redis.keys(`b_${prefix}*`))];
    if (keys.length > 0) await redis.del(...keys);
  }
  if (clustered && redis) {
    await clustered.stop();
    await connection!.disconnect(false);
    await deleteKeys(redis, id);
  }
  return out;
}

/**
 * What Bottleneck does when Redis cannot be reached at start: ready() settles (either way) or not within
 * `waitMs`, with ioredis' defaults and with a client that gives up at once.
 */
async function redisDown(): Promise<Record<string, unknown>> {
  const waitMs = 2000;
  const probe = async (opts: RedisOptions) => {
    const client = new Redis('redis://127.0.0.1:1', opts); // port 1: nothing listens there
    client.on('error', () => {});
    const connection = new Bottleneck.IORedisConnection({ client });
    connection.on('error', () => {});
    const limiter = new Bottleneck({ id: 'sam-bench:down', datastore: 'ioredis', connection });
    limiter.on('error', () => {});
    const outcome = await Promise.race([
      limiter.ready().then(
        () => 'ready',
        (e: Error) => `rejected: ${e.message}`,
      ),
      new Promise<string>((r) => setTimeout(() => r(`neither ready nor rejected after ${waitMs} ms`), waitMs)),
    ]);
    client.disconnect();
    return outcome;
  };
  return {
    ioredis_defaults: await probe({}),
    fail_fast_client: await probe({ maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false }),
  };
}

interface Scenario {
  name: string;
  mode: WorkerSpec['mode'];
  heartbeatMs: number | null;
  /** The second replica dies this long after the start. */
  secondDiesAfterMs?: number;
}

/** Two replica processes share one Bottleneck id; every job start is a "vendor request". */
async function twoReplicas(ctx: BenchContext, redis: Redis, url: string, prefix: string, s: Scenario): Promise<Record<string, unknown>> {
  const limit = 10;
  const windowMs = 1000;
  const runMs = 4000;
  const id = `${prefix}${s.name}`;
  await deleteKeys(redis, id);
  const startMs = Date.now() + 1500; // both children are up by then
  const spec: WorkerSpec = { url, id, limit, windowMs, heartbeatMs: s.heartbeatMs, mode: s.mode, startMs, untilMs: startMs + runMs, loops: 4 };
  const script = fileURLToPath(new URL('./limiter-engine-worker.js', import.meta.url));
  const run = (dieAfterMs?: number) =>
    new Promise<number[]>((resolve, reject) => {
      const child = spawn(process.execPath, [script, JSON.stringify({ ...spec, dieAfterMs })], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('exit', (code) => {
        try {
          resolve((JSON.parse(out.trim()) as { starts: number[] }).starts);
        } catch {
          reject(new Error(`worker exited ${code} without a result`));
        }
      });
    });
  const [a, b] = await Promise.all([run(), run(s.secondDiesAfterMs)]);
  await deleteKeys(redis, id);
  const all = [...a!, ...b!].sort((x, y) => x - y);
  // Most admissions in any interval of windowMs (a vendor's sliding window), and in epoch-aligned windows
  // (a vendor's fixed windows, e.g. Apollo's minute starting at :00).
  let maxSliding = 0;
  for (let i = 0, j = 0; i < all.length; i++) {
    while (all[i]! - all[j]! >= windowMs) j++;
    maxSliding = Math.max(maxSliding, i - j + 1);
  }
  const fixed = new Map<number, number>();
  for (const t of all) fixed.set(Math.floor(t / windowMs), (fixed.get(Math.floor(t / windowMs)) ?? 0) + 1);
  const inRun = all.filter((t) => t >= startMs && t < startMs + runMs).length;
  ctx.note(`two replicas, ${s.name}: ${all.length} admitted (${a!.length} + ${b!.length})`);
  return {
    limit_per_window: limit,
    window_ms: windowMs,
    heartbeat_ms: s.heartbeatMs ?? 'default (5000)',
    admitted: all.length,
    per_replica: [a!.length, b!.length],
    combined_rate_per_s: round3((inRun / runMs) * 1000),
    limit_rate_per_s: (limit / windowMs) * 1000,
    max_in_any_window: maxSliding,
    max_in_aligned_window: Math.max(0, ...fixed.values()),
    aligned_windows_over_limit: [...fixed.values()].filter((n) => n > limit).length,
    ...(s.secondDiesAfterMs === undefined
      ? {}
      : {
          second_replica_killed_after_ms: s.secondDiesAfterMs,
          // What the survivor alone gets in the last two windows: the full limit if the dead one's share came back.
          survivor_rate_per_s_last_2_windows: round3((a!.filter((t) => t >= startMs + runMs - 2 * windowMs && t < startMs + runMs).length / (2 * windowMs)) * 1000),
        }),
  };
}

/**
 * Experiment for issue 13 item 1 (Bottleneck as the limiter engine, clustered on Redis): what admission
 * costs per call with each engine, and what two replicas sharing one Bottleneck reservoir on Redis send
 * together, with Bottleneck's own reservoir refresh (default heartbeat and a short one) and with the
 * weight given back one window after each start (a sliding window kept in Bottleneck's reservoir).
 */
export const limiterEngine: Benchmark = {
  name: 'limiter_engine',
  description: `admission cost per call (home-made limiter, Bottleneck local, Bottleneck on Redis), ${ITERATIONS} interleaved iterations; two replica processes on one Redis reservoir of 10 per second`,
  async run(ctx: BenchContext) {
    const url = redisUrl();
    const conn = await connectOrReason(url);
    const redis = 'client' in conn ? conn.client : undefined;
    const prefix = `sam-bench:${randomBytes(4).toString('hex')}:`;
    try {
      const result: Record<string, unknown> = { latency_ms: await latency(ctx, redis, prefix), start_with_redis_down: await redisDown() };
      if (!redis) {
        result.two_replicas = { skipped: (conn as { reason: string }).reason };
        return result;
      }
      const scenarios: Scenario[] = [
        { name: 'refresh_default_heartbeat', mode: 'refresh', heartbeatMs: null },
        { name: 'refresh_heartbeat_100ms', mode: 'refresh', heartbeatMs: 100 },
        { name: 'giveback_heartbeat_100ms', mode: 'giveback', heartbeatMs: 100 },
        { name: 'slots_heartbeat_100ms', mode: 'slots', heartbeatMs: 100 },
        { name: 'giveback_second_killed', mode: 'giveback', heartbeatMs: 100, secondDiesAfterMs: 1500 },
        { name: 'slots_second_killed', mode: 'slots', heartbeatMs: 100, secondDiesAfterMs: 1500 },
      ];
      const two: Record<string, unknown> = {};
      for (const s of scenarios) two[s.name] = await twoReplicas(ctx, redis, url, prefix, s);
      result.two_replicas = two;
      return result;
    } finally {
      redis?.disconnect();
    }
  },
};

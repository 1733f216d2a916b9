import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreditLedger } from '../src/credits/ledger.js';
import { RedisLedgerStorage } from '../src/credits/redis-ledger.js';
import { RedisJobStore } from '../src/jobs/redis-store.js';
import { JobRunner } from '../src/jobs/runner.js';
import { MemoryJobStore, type JobStore } from '../src/jobs/store.js';
import { silentLogger } from '../src/log.js';
import { redisConfig } from '../src/shared/redis-config.js';
import { SharedRedis } from '../src/shared/redis.js';
import { round3, summarize } from './stats.js';
import type { Benchmark } from './types.js';

/*
 * What sharing jobs and credits through Redis adds to one tool call (issue 13 item 3), against the in-process
 * job store and the file ledger, on the local Redis (SALES_ACCESS_TEST_REDIS_URL or 127.0.0.1:6379):
 * - a call whose work ends within its deadline: start the job, attach, forget it (tool-runtime's path);
 * - a credit-spending call: reserve, then settle.
 * Interleaved per iteration so noise lands on both alike.
 */

const ITERATIONS = 300;
const WARMUP = 30;

async function timed(kinds: Record<string, () => Promise<void>>): Promise<Record<string, number[]>> {
  const names = Object.keys(kinds);
  const out: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < WARMUP + ITERATIONS; i++) {
    for (let j = 0; j < names.length; j++) {
      const n = names[(i + j) % names.length]!;
      const t0 = performance.now();
      await kinds[n]!();
      if (i >= WARMUP) out[n]!.push(performance.now() - t0);
    }
  }
  return out;
}

function callThroughJobs(store: JobStore): () => Promise<void> {
  const runner = new JobRunner(store, { now: Date.now, log: silentLogger });
  let i = 0;
  return async () => {
    const key = `bench-${i++}`;
    const job = await runner.start({ tool: 'bench', owner: 'bench-owner', key, writes: false, work: async () => ({ kind: 'result', result: { content: [{ type: 'text', text: 'ok' }] } }) });
    const seen = await store.attach(job.id, Date.now() + 10_000);
    if (seen?.state !== 'done') throw new Error(`job ended ${seen?.state}`);
    await store.delete(job.id);
  };
}

function spend(ledger: CreditLedger): () => Promise<void> {
  return async () => {
    const r = await ledger.reserve('apollo', 1, { tool: 'bench' });
    await ledger.settle(r, { estimated: 1 });
  };
}

export const sharedState: Benchmark = {
  name: 'shared_state_redis',
  description: 'per-call cost of the job store and the credit ledger: in-process/file against Redis',
  async run({ note }) {
    const url = process.env.SALES_ACCESS_TEST_REDIS_URL || 'redis://127.0.0.1:6379';
    const prefix = `sam-bench:${process.pid}:`;
    let redis: SharedRedis;
    try {
      redis = await SharedRedis.connect(redisConfig({ SALES_ACCESS_REDIS_URL: url, SALES_ACCESS_REDIS_PREFIX: prefix })!);
    } catch (err) {
      note(`skipped: ${(err as Error).message}`);
      return { skipped: (err as Error).message };
    }
    const jobStore = new RedisJobStore(redis);
    const storage = new RedisLedgerStorage(redis);
    try {
      const jobs = await timed({ memory: callThroughJobs(new MemoryJobStore()), redis: callThroughJobs(jobStore) });
      const budget = 10 * (WARMUP + ITERATIONS);
      const stateDir = mkdtempSync(join(tmpdir(), 'sam-bench-'));
      const credits = await timed({
        file: spend(new CreditLedger({ stateDir, budget })),
        redis: spend(new CreditLedger({ stateDir, budget, storage })),
      });
      const sj = { memory: summarize(jobs.memory!), redis: summarize(jobs.redis!) };
      const sc = { file: summarize(credits.file!), redis: summarize(credits.redis!) };
      note(`job per call p50: memory ${sj.memory.p50} ms, redis ${sj.redis.p50} ms; credits reserve+settle p50: file ${sc.file.p50} ms, redis ${sc.redis.p50} ms`);
      return {
        job_call_ms: sj,
        job_call_added_p50_ms: round3(sj.redis.p50 - sj.memory.p50),
        credits_reserve_settle_ms: sc,
        credits_p50_ratio_redis_to_file: round3(sc.redis.p50 / sc.file.p50),
      };
    } finally {
      await jobStore.close();
      await storage.close();
      const keys = await redis.client.keys(`${prefix}*`);
      if (keys.length) await redis.client.del(...keys);
      await redis.close();
    }
  },
};

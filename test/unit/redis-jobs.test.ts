import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { VendorError } from '../../src/errors.js';
import { JobRunner, type JobWork } from '../../src/jobs/runner.js';
import { RedisJobStore } from '../../src/jobs/redis-store.js';
import type { JobOutcome, JobRecord } from '../../src/jobs/store.js';
import { silentLogger } from '../../src/log.js';
import { redisConfig } from '../../src/shared/redis-config.js';
import { SharedRedis } from '../../src/shared/redis.js';
import { deletePrefix, dumpPrefix, redisUnavailable, TEST_REDIS_URL, testPrefix } from '../support/redis.js';

/**
 * Issue 13 item 3 (jobs): two job stores, each on its own Redis connection and with its own runner, stand for
 * two replicas. A job started on A is attached to and collected (once) through B, a cancel asked through B
 * stops the work on A, and a job whose replica stopped reads as failed instead of running forever.
 */

const skip = await redisUnavailable();

const text = (t: string): JobOutcome => ({ kind: 'result', result: { content: [{ type: 'text', text: t }] } });
const textOf = (j: JobRecord | undefined) => (j?.outcome?.kind === 'result' ? (j.outcome.result.content[0] as { text: string }).text : undefined);

/** Waits for `cond` (no timing asserted: a bound only so a broken store fails rather than hangs). */
async function eventually<T>(fn: () => Promise<T>, cond: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (cond(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(skip)('background jobs in Redis (two replicas)', () => {
  const prefixes: string[] = [];
  const conns: SharedRedis[] = [];
  const stores: RedisJobStore[] = [];
  const runners: JobRunner[] = [];
  afterAll(async () => {
    for (const r of runners) r.close();
    await Promise.all(stores.map((s) => s.close()));
    await Promise.all(conns.map((c) => c.close()));
    await Promise.all(prefixes.map((p) => deletePrefix(p)));
  });

  /** Replicas A and B on one prefix, each with its own connection, store and runner. */
  async function replicas(opts: { leaseMs?: number; maxFinished?: number } = {}) {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const one = async (id: string) => {
      const redis = await SharedRedis.connect(redisConfig({ SALES_ACCESS_REDIS_URL: TEST_REDIS_URL, SALES_ACCESS_REDIS_PREFIX: prefix })!);
      conns.push(redis);
      const store = new RedisJobStore(redis, { replicaId: id, leaseMs: opts.leaseMs, maxFinished: opts.maxFinished });
      stores.push(store);
      const runner = new JobRunner(store, { now: Date.now, log: silentLogger });
      runners.push(runner);
      return { redis, store, runner };
    };
    return { prefix, a: await one('a'), b: await one('b') };
  }

  const start = (runner: JobRunner, key: string, work: (w: JobWork) => Promise<JobOutcome>, owner = 'owner-1', writes = false) =>
    runner.start({ tool: 'apollo_list_users', owner, key, writes, work });

  it('started on A, attached on B (woken when A finishes), collected through B once; the result is still there by id', async () => {
    const { a, b, prefix } = await replicas();
    let release!: (o: JobOutcome) => void;
    const job = await start(a.runner, 'key-1', () => new Promise((r) => (release = r)));

    expect(await b.store.attach(job.id, Date.now() + 20)).toMatchObject({ id: job.id, state: 'running' });
    expect((await b.store.byKey('key-1'))?.id).toBe(job.id);
    expect(await b.store.runningCount('owner-1')).toBe(1);
    await b.store.update(job.id, { announced: true });

    const waiting = b.store.attach(job.id, Date.now() + 60_000);
    release(text('1,500 users'));
    const seen = await waiting;
    expect(seen).toMatchObject({ state: 'done', announced: true, delivered: false });
    expect(textOf(seen)).toBe('1,500 users');
    expect(await b.store.runningCount('owner-1')).toBe(0);

    // Delivered through B: neither replica hands it to a new call with the same arguments again.
    await b.store.update(job.id, { delivered: true });
    expect(await a.store.byKey('key-1')).toBeUndefined();
    expect(await b.store.byKey('key-1')).toBeUndefined();
    expect(await a.store.get(job.id)).toMatchObject({ state: 'done', delivered: true });
    expect(textOf(await a.store.get(job.id))).toBe('1,500 users');

    // Owner and key are digests made by the caller; the record holds what the work returned, nothing else.
    const dump = await dumpPrefix(prefix);
    expect(dump.map((d) => d.key).sort()).toEqual([`${prefix}job-finished`, `${prefix}job:${job.id}`].sort());
  });

  it('progress written on A is read on B while it runs, never after it finished', async () => {
    const { a, b } = await replicas();
    let release!: (o: JobOutcome) => void;
    const job = await start(a.runner, 'key-p', () => new Promise((r) => (release = r)));
    const progress = { ...job.progress, pages: 3, pages_total: 10, message: 'page 3 of 10' };
    await a.store.update(job.id, { progress });
    expect((await b.store.get(job.id))?.progress).toMatchObject({ pages: 3, pages_total: 10, message: 'page 3 of 10' });
    release(text('done'));
    await b.store.attach(job.id, Date.now() + 60_000);
    const end = (await b.store.get(job.id))!.progress;
    await b.store.update(job.id, { progress: { ...progress, pages: 99 } });
    expect((await b.store.get(job.id))?.progress).toEqual(end);
  });

  it('a cancel asked through B stops the work on A: by message, and by the heartbeat when the message is missed', async () => {
    const { a, b, prefix } = await replicas({ leaseMs: 600 });
    const stoppable = (w: JobWork) => new Promise<JobOutcome>((r) => w.signal.addEventListener('abort', () => r(text(`stopped: ${(w.signal.reason as Error).message}`))));

    const first = await start(a.runner, 'key-c1', stoppable);
    expect(await b.runner.cancel(first.id)).toMatchObject({ state: 'running', cancel_requested: true });
    const done = await b.store.attach(first.id, Date.now() + 60_000);
    expect(done?.state).toBe('done');
    expect(textOf(done)).toMatch(/^stopped: This work was stopped with cancel_job/);

    // Set as another replica's older version would, without a message: the heartbeat reads it.
    const second = await start(a.runner, 'key-c2', stoppable);
    const raw = new Redis(TEST_REDIS_URL);
    try {
      await raw.hset(`${prefix}job:${second.id}`, 'cancel_requested', '1');
    } finally {
      raw.disconnect();
    }
    expect(textOf(await b.store.attach(second.id, Date.now() + 60_000))).toMatch(/^stopped: This work was stopped with cancel_job/);
  });

  it('a job whose replica stopped (lease expired) reads as failed, saying so; a new call with the same arguments starts afresh', async () => {
    const { a, b } = await replicas({ leaseMs: 300 });
    const job = await start(a.runner, 'key-d', () => new Promise<JobOutcome>(() => {}));
    const waiting = b.store.attach(job.id, Date.now() + 60_000);
    // Replica A stops renewing: as a process that died.
    await a.store.close();
    const seen = await waiting;
    expect(seen).toMatchObject({ id: job.id, state: 'failed', outcome: { kind: 'result', result: { isError: true } } });
    expect(textOf(seen)).toMatch(/^The server replica running this work \(replica a, process \d+ on .+\) stopped before it finished: .* Call apollo_list_users again without job_id to start afresh\.$/);
    expect(await b.store.byKey('key-d')).toBeUndefined();
    expect(await b.store.runningCount('owner-1')).toBe(0);
    expect(await b.store.get(job.id)).toMatchObject({ state: 'failed' });
  });

  it('the running count is per owner and shared; a job A still runs is never taken for dead by A itself', async () => {
    const { a, b } = await replicas();
    const forever = () => new Promise<JobOutcome>(() => {});
    const j1 = await start(a.runner, 'k1', forever, 'owner-x');
    await start(b.runner, 'k2', forever, 'owner-x');
    await start(a.runner, 'k3', forever, 'owner-y');
    expect(await a.store.runningCount('owner-x')).toBe(2);
    expect(await b.store.runningCount('owner-y')).toBe(1);
    await b.store.delete(j1.id);
    expect(await a.store.runningCount('owner-x')).toBe(1);
    expect(await eventually(() => a.store.get(j1.id), (v) => v === undefined)).toBeUndefined();
  });

  it('finished jobs beyond the bound are dropped oldest first, whichever replica finished them', async () => {
    const { a, b } = await replicas({ maxFinished: 2 });
    const ids: string[] = [];
    for (const [i, r] of [a, b, a].entries()) {
      const j = await start(r.runner, `bound-${i}`, async () => text(`result ${i}`));
      expect((await r.store.attach(j.id, Date.now() + 60_000))?.state).toBe('done');
      ids.push(j.id);
    }
    expect(await b.store.get(ids[0]!)).toBeUndefined();
    expect(textOf(await b.store.get(ids[1]!))).toBe('result 1');
    expect(textOf(await a.store.get(ids[2]!))).toBe('result 2');
  });

  it('Redis unreachable during a call: a VendorError that says so', async () => {
    const { a } = await replicas();
    a.redis.client.disconnect();
    const err = await a.store.get('job_aaaaaaaaaaaaaaaaaaaaaa').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VendorError);
    expect((err as Error).message).toMatch(/^Redis at [^ ]+ is unreachable \(.+\) while reading a background job; the server does not fall back to per-replica state/);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { clearLimiters, RateLimiter } from '../../src/http/limiter.js';
import type { RateLimitPolicy } from '../../src/http/types.js';
import { noteVendorRequest, noteWorkProgress, runMetered, withWorkScope, WorkMeter, type Schedule } from '../../src/jobs/meter.js';
import { JobRunner } from '../../src/jobs/runner.js';
import { MemoryJobStore, type JobRecord } from '../../src/jobs/store.js';
import { silentLogger } from '../../src/log.js';
import { track } from '../support/timing.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const settle = () => new Promise((r) => setTimeout(r, 10));

function limiter(policy: RateLimitPolicy, clock = new ManualClock()) {
  return { clock, limiter: new RateLimiter({ vendor: 'apollo', identity: 'test', bucket: 'users/search', policy, clock }) };
}

afterEach(() => clearLimiters());

describe('RateLimiter.forecast: the limiter\'s own schedule for requests still to come', () => {
  it('an idle window admits up to its limit now, then one window later per limit', () => {
    const { clock, limiter: l } = limiter({ windows: [{ name: 'minute', intervalMs: MIN, limit: 60 }] });
    const t0 = clock.now();
    expect(l.forecast(0)).toBe(t0);
    expect(l.forecast(60)).toBe(t0);
    expect(l.forecast(61)).toBe(t0 + MIN);
    expect(l.forecast(300)).toBe(t0 + 4 * MIN);
  });

  it('counts what the window already admitted, and every window at once', async () => {
    const { clock, limiter: l } = limiter({
      windows: [
        { name: 'minute', intervalMs: MIN, limit: 2 },
        { name: 'hour', intervalMs: HOUR, limit: 5 },
      ],
    });
    const t0 = clock.now();
    await l.acquire();
    clock.advance(10_000);
    await l.acquire();
    // Minute full: the next two go when those two leave it; the hour then has one left, so the sixth waits an hour.
    expect(l.forecast(1)).toBe(t0 + MIN);
    expect(l.forecast(2)).toBe(t0 + 10_000 + MIN);
    expect(l.forecast(3)).toBe(t0 + 2 * MIN);
    expect(l.forecast(4)).toBe(t0 + HOUR);
  });

  it('follows what the vendor reported until its reset, and a hold after a 429', () => {
    const { clock, limiter: l } = limiter({ windows: [{ name: 'minute', intervalMs: MIN, limit: 100 }] });
    const t0 = clock.now();
    l.learn('minute', { limit: 100, remaining: 3, resetAtMs: t0 + 20_000 });
    expect(l.forecast(3)).toBe(t0);
    expect(l.forecast(4)).toBe(t0 + 20_000);
    l.holdUntil(t0 + 30_000);
    expect(l.forecast(1)).toBe(t0 + 30_000);
  });

  it('counts the requests queued ahead', async () => {
    const { clock, limiter: l } = limiter({ windows: [{ name: 'minute', intervalMs: MIN, limit: 1 }] });
    const t0 = clock.now();
    await l.acquire();
    const queued = track(l.acquire());
    await settle();
    expect(queued.done).toBe(false);
    // One queued (next minute), then ours.
    expect(l.forecast(1)).toBe(t0 + 2 * MIN);
    clock.advance(MIN);
    await settle();
    expect(queued.done).toBe(true);
  });
});

describe('WorkMeter', () => {
  const fixed = (at: number, seen: number[]): Schedule => ({
    forecast: (n) => {
      seen.push(n);
      return at + n;
    },
  });

  it('sums pages and accounts over sources, and asks each source\'s limiter for its share of what is left', async () => {
    const meter = new WorkMeter();
    const askedA: number[] = [];
    const askedB: number[] = [];
    const a = fixed(1_000, askedA);
    const b = fixed(2_000, askedB);
    await runMetered(meter, async () => {
      await Promise.all([
        withWorkScope('apollo rest', async () => {
          for (let i = 0; i < 4; i++) noteVendorRequest(a);
          noteWorkProgress(99, undefined, { pages: 4, pagesTotal: 10, accounts: 400 });
        }),
        withWorkScope('outreach rest', async () => {
          noteVendorRequest(b);
          noteWorkProgress(99, undefined, { pages: 1, pagesTotal: 2, accounts: 1000 });
        }),
      ]);
    });
    const s = meter.snapshot();
    expect(s).toMatchObject({ pages: 5, pagesTotal: 12, accounts: 1400, vendorRequests: 5 });
    // 6 of 10 pages left at one request per page; 1 of 2 left.
    expect(s.expectedFinishAt).toBe(2_001);
    expect(askedA).toEqual([6]);
    expect(askedB).toEqual([1]);
  });

  it('with every page fetched (the result still being made), the finish is the limiter\'s "now", not unknown', async () => {
    const meter = new WorkMeter();
    const asked: number[] = [];
    await runMetered(meter, async () => {
      noteVendorRequest(fixed(5_000, asked));
      noteWorkProgress(1, 1, { pages: 1, pagesTotal: 1, accounts: 10 });
    });
    expect(meter.snapshot().expectedFinishAt).toBe(5_000);
    expect(asked).toEqual([0]);
  });

  it('cannot tell the finish while a source that made requests has not said how much is left', async () => {
    const meter = new WorkMeter();
    await runMetered(meter, async () => {
      noteVendorRequest(fixed(0, []));
      noteWorkProgress(3, undefined);
    });
    expect(meter.snapshot()).toMatchObject({ done: 3, total: null, pages: null, expectedFinishAt: null });
    // Outside a job nothing is counted, and nothing fails.
    noteVendorRequest(fixed(0, []));
    expect(meter.snapshot().vendorRequests).toBe(1);
  });
});

describe('JobRunner over MemoryJobStore', () => {
  const make = () => {
    const store = new MemoryJobStore();
    return { store, runner: new JobRunner(store, { now: Date.now, log: silentLogger }) };
  };
  const job = (runner: JobRunner, key: string, work: (signal: AbortSignal) => Promise<string>, writes = false) =>
    runner.start({
      tool: 't',
      owner: 's1',
      key,
      writes,
      work: async ({ signal }) => ({ kind: 'result', result: { content: [{ type: 'text', text: await work(signal) }] } }),
    });

  it('attach waits until the work is done or the deadline; the same key finds the job until it is delivered', async () => {
    const { store, runner } = make();
    let release!: (v: string) => void;
    const j = await job(runner, 'k', () => new Promise<string>((r) => (release = r)));
    const early = await store.attach(j.id, Date.now() + 20);
    expect(early?.state).toBe('running');
    expect((await store.byKey('k'))?.id).toBe(j.id);
    const waiting = store.attach(j.id, Date.now() + 10_000);
    release('finished');
    const done = (await waiting) as JobRecord;
    expect(done).toMatchObject({ state: 'done', outcome: { kind: 'result', result: { content: [{ text: 'finished' }] } } });
    expect((await store.byKey('k'))?.id).toBe(j.id);
    await store.update(j.id, { delivered: true });
    expect(await store.byKey('k')).toBeUndefined();
    expect((await store.get(j.id))?.state).toBe('done');
  });

  it('a cancel stops read-only work only; work that writes runs to its end', async () => {
    const { store, runner } = make();
    const stoppable = await job(runner, 'r', (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))));
    let release!: (v: string) => void;
    const writer = await job(runner, 'w', () => new Promise<string>((r) => (release = r)), true);
    await runner.cancel(stoppable.id);
    await runner.cancel(writer.id);
    await settle();
    expect((await store.get(stoppable.id))?.cancel_requested).toBe(true);
    expect((await store.get(writer.id))?.state).toBe('running');
    release('written');
    expect((await store.attach(writer.id, Date.now() + 5_000))?.state).toBe('done');
  });

  it('a work that throws ends as a failed job, not as a crash', async () => {
    const { store, runner } = make();
    const j = await runner.start({ tool: 't', owner: 's1', key: 'x', writes: false, work: async () => Promise.reject(new Error('bug')) });
    const r = await store.attach(j.id, Date.now() + 5_000);
    expect(r).toMatchObject({ state: 'failed', outcome: { kind: 'result', result: { isError: true } } });
  });
});

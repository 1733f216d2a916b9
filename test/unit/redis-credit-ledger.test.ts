import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { CreditBudgetError, CreditLedger, type CreditReservation } from '../../src/credits/ledger.js';
import { RedisLedgerStorage } from '../../src/credits/redis-ledger.js';
import { VendorError } from '../../src/errors.js';
import { redisConfig } from '../../src/shared/redis-config.js';
import { SharedRedis } from '../../src/shared/redis.js';
import { deletePrefix, dumpPrefix, redisUnavailable, TEST_REDIS_URL, testPrefix } from '../support/redis.js';

/**
 * Issue 13 item 3 (credit ledger): ledgers on separate Redis connections stand for replicas sharing one budget
 * per vendor per month. Reservations from both never overspend it, the messages are the file ledger's, and a
 * reservation of a replica that stopped counts as spent.
 */

const skip = await redisUnavailable();

describe.skipIf(skip)('the credit ledger in Redis (replicas share one budget)', () => {
  const prefixes: string[] = [];
  const conns: SharedRedis[] = [];
  const storages: RedisLedgerStorage[] = [];
  afterAll(async () => {
    await Promise.all(storages.map((s) => s.close()));
    await Promise.all(conns.map((c) => c.close()));
    await Promise.all(prefixes.map((p) => deletePrefix(p)));
  });

  async function replicas(n: number, budget: number, opts: { clock?: ManualClock; runTtlMs?: number } = {}) {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const out: { ledger: CreditLedger; storage: RedisLedgerStorage; redis: SharedRedis }[] = [];
    for (let i = 0; i < n; i++) {
      const redis = await SharedRedis.connect(redisConfig({ SALES_ACCESS_REDIS_URL: TEST_REDIS_URL, SALES_ACCESS_REDIS_PREFIX: prefix })!);
      conns.push(redis);
      const storage = new RedisLedgerStorage(redis, { replicaId: `r${i}`, runTtlMs: opts.runTtlMs });
      storages.push(storage);
      out.push({ redis, storage, ledger: new CreditLedger({ stateDir: '/nonexistent', storage, budget, clock: opts.clock, labelOf: (v) => (v === 'apollo' ? 'Apollo' : v) }) });
    }
    return { prefix, replicas: out };
  }

  it('concurrent reservations from two replicas never overspend the budget; settles from either count once', async () => {
    const { replicas: [a, b], prefix } = await replicas(2, 50);
    // 40 reservations of 3 credits, half per replica, all at once: at most 16 (48 credits) fit.
    const tries = Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).ledger.reserve('apollo', 3, { tool: `t${i}` }));
    const results = await Promise.allSettled(tries);
    const ok = results.filter((r): r is PromiseFulfilledResult<CreditReservation> => r.status === 'fulfilled').map((r) => r.value);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
    expect(ok).toHaveLength(16);
    expect(refused.every((e) => e instanceof CreditBudgetError)).toBe(true);
    expect(refused[0]!.message).toMatch(/^Refused before calling Apollo: this call could spend up to 3 credits, but only [0-2] of this month's Apollo budget of 50 remain \(0 spent, 4[5-8] reserved by calls in progress; month \d{4}-\d{2}, UTC\)/);
    expect(await a.ledger.status('apollo')).toMatchObject({ spent: 0, reserved: 48, remaining: 2 });

    // Each replica settles the reservations it made; both see the same month.
    await Promise.all(ok.map((r, i) => (i % 2 ? a : b).ledger.settle(r, { estimated: 1 })));
    expect(await b.ledger.status('apollo')).toMatchObject({ spent: 16, reserved: 0, remaining: 34 });
    await expect(b.ledger.reserve('apollo', 35, { tool: 'big' })).rejects.toThrow(/only 34 of this month's Apollo budget of 50 remain \(16 spent, 0 reserved/);

    // The record is counts, tools, times and labels: nothing else.
    const dump = await dumpPrefix(prefix);
    const record = dump.find((d) => d.key.startsWith(`${prefix}credits:apollo:`))!;
    expect(JSON.parse(record.value)).toMatchObject({ version: 1, vendor: 'apollo', spent: 16, reservations: {} });
    expect(dump.filter((d) => d.key.startsWith(`${prefix}credits-run:`)).map((d) => d.value)).toEqual(expect.arrayContaining([expect.stringMatching(/^replica r[01], process \d+ on /)]));
  });

  it('reconcile works on the shared record: a baseline set through A is used through B', async () => {
    const { replicas: [a, b] } = await replicas(2, 100);
    const r = await a.ledger.reserve('apollo', 10, { tool: 'enrich' });
    await a.ledger.settle(r, { measured: 10, estimated: 10 });
    expect(await a.ledger.reconcile('apollo', 500)).toMatchObject({ outcome: 'baseline', vendor_baseline: 490, spent: 10 });
    expect(await b.ledger.reconcile('apollo', 530)).toMatchObject({ outcome: 'raised', adjustment: 30, spent: 40, remaining: 60 });
  });

  it('a reservation of a replica that stopped counts as spent once its run key expires; a live one never does', async () => {
    const clock = new ManualClock();
    const { replicas: [a, b] } = await replicas(2, 20, { clock, runTtlMs: 300 });
    await a.ledger.reserve('apollo', 7, { tool: 'enrich' });
    await b.ledger.reserve('apollo', 2, { tool: 'enrich' });
    // B's run key is renewed; A stops (as a replica that died before settling).
    await a.storage.close();
    const end = Date.now() + 10_000;
    let s = await b.ledger.status('apollo');
    while (s.spent === 0 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      s = await b.ledger.status('apollo');
    }
    expect(s).toMatchObject({ spent: 7, reserved: 2, remaining: 11 });
  });

  it('budget 0 refuses without touching Redis; Redis unreachable is a VendorError that says so', async () => {
    const { replicas: [a], prefix } = await replicas(1, 0);
    await expect(a.ledger.reserve('apollo', 1, { tool: 't' })).rejects.toThrow(/spending credits is off because SALES_ACCESS_CREDIT_BUDGET is 0/);
    expect(await dumpPrefix(prefix)).toEqual([]);
    const { replicas: [c] } = await replicas(1, 10);
    c.redis.client.disconnect();
    const err = await c.ledger.reserve('apollo', 1, { tool: 't' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VendorError);
    expect((err as Error).message).toMatch(/^Redis at [^ ]+ is unreachable \(.+\) while writing the credit ledger; the server does not fall back to per-replica state/);
  });
});

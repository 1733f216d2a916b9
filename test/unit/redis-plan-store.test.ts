import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import type { Plan } from '../../src/domain/offboarding.js';
import { ToolInputError, VendorError } from '../../src/errors.js';
import { redisConfig } from '../../src/shared/redis-config.js';
import { SharedRedis } from '../../src/shared/redis.js';
import { RedisPlanStore } from '../../src/workflows/redis-plan-store.js';
import { deletePrefix, redisUnavailable, TEST_REDIS_URL, testPrefix } from '../support/redis.js';

const skip = await redisUnavailable();

function plan(id: string): Plan {
  const now = Date.now();
  return {
    plan_id: id,
    created_at: new Date(now).toISOString(),
    expires_at: new Date(now + 900_000).toISOString(),
    people: ['leaver@acme.example'],
    transfer_to: null,
    free_seat: false,
    not_found: [],
    unchecked: [],
    warnings: [],
    steps: [],
    state: 'planned',
    observed_hash: 'h',
    result: null,
  } as unknown as Plan;
}

function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

describe.skipIf(skip)('Redis plan store (real Redis; two connections stand for two replicas)', () => {
  const prefix = testPrefix();
  const conns: SharedRedis[] = [];
  const replica = async (replicaId: string) => {
    const r = await SharedRedis.connect(redisConfig({ SALES_ACCESS_REDIS_URL: TEST_REDIS_URL, SALES_ACCESS_REDIS_PREFIX: prefix })!);
    conns.push(r);
    return { redis: r, store: new RedisPlanStore(r, systemClock, { replicaId }) };
  };
  afterAll(async () => {
    await Promise.all(conns.map((c) => c.close()));
    await deletePrefix(prefix);
  });

  it('a plan saved by one replica is loaded by another; an unknown or malformed id is a ToolInputError', async () => {
    const a = await replica('a');
    const b = await replica('b');
    const id = a.store.newPlanId();
    await a.store.save(plan(id));
    expect((await b.store.load(id)).people).toEqual(['leaver@acme.example']);
    await expect(b.store.load(b.store.newPlanId())).rejects.toThrow(/No offboarding plan .* in the plans the replicas share/);
    await expect(b.store.load('../../etc/passwd')).rejects.toBeInstanceOf(ToolInputError);
    // Kept with an expiry, not forever.
    const raw = new Redis(TEST_REDIS_URL);
    try {
      const ttl = await raw.pttl(`${prefix}plan:${id}`);
      expect(ttl).toBeGreaterThan(86_400_000);
    } finally {
      raw.disconnect();
    }
  });

  it('the execute lock: another replica is refused, named, while it is held, and let in after; released on failure too', async () => {
    const a = await replica('eu-1');
    const b = await replica('eu-2');
    const id = a.store.newPlanId();
    const g = gate();
    let inside = false;
    const first = a.store.withLock(id, async () => {
      inside = true;
      await g.opened;
      return 'a ran';
    });
    while (!inside) await new Promise((r) => setTimeout(r, 2));
    const err = await b.store.withLock(id, async () => 'b ran').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolInputError);
    expect((err as Error).message).toMatch(new RegExp(`^Plan ${id} is being executed by another sales-access-mcp replica \\(replica eu-1, process ${process.pid} on .+\\); nothing was changed`));
    g.open();
    expect(await first).toBe('a ran');
    expect(await b.store.withLock(id, async () => 'b ran')).toBe('b ran');
    await expect(a.store.withLock(id, async () => Promise.reject(new Error('vendor down')))).rejects.toThrow('vendor down');
    expect(await b.store.withLock(id, async () => 'b again')).toBe('b again');
  });

  it('calls within one replica queue instead of being refused', async () => {
    const a = await replica('q');
    const id = a.store.newPlanId();
    const order: string[] = [];
    const g = gate();
    const first = a.store.withLock(id, async () => {
      order.push('first start');
      await g.opened;
      order.push('first end');
    });
    const second = a.store.withLock(id, async () => void order.push('second'));
    await new Promise((r) => setTimeout(r, 20));
    g.open();
    await Promise.all([first, second]);
    expect(order).toEqual(['first start', 'first end', 'second']);
  });

  it('releases only its own lock: one that expired and was taken by another replica stays', async () => {
    const a = await replica('own');
    const id = a.store.newPlanId();
    const key = `${prefix}plan-lock:${id}`;
    const raw = new Redis(TEST_REDIS_URL);
    try {
      await a.store.withLock(id, async () => {
        await raw.set(key, 'someone else 00ff'); // expired and taken over meanwhile
      });
      expect(await raw.get(key)).toBe('someone else 00ff');
    } finally {
      raw.disconnect();
    }
  });

  it('Redis lost during a call: a VendorError that says so and that there is no per-replica fallback', async () => {
    const a = await replica('down');
    a.redis.client.disconnect();
    const err = await a.store.load(a.store.newPlanId()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VendorError);
    expect((err as Error).message).toMatch(/^Redis at [^ ]+ is unreachable \(.+\) while reading offboarding plan [A-Za-z0-9_-]{22}; the server does not fall back to per-replica state/);
  });
});

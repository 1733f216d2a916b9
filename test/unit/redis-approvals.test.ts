import { afterAll, describe, expect, it } from 'vitest';
import type { PageRequest } from '../../src/confirm/approval-page.js';
import { MAX_PASSES } from '../../src/confirm/approval-store.js';
import { ApprovalBroker } from '../../src/confirm/approvals.js';
import { RedisApprovalStore } from '../../src/confirm/redis-approvals.js';
import { VendorError } from '../../src/errors.js';
import { redisConfig } from '../../src/shared/redis-config.js';
import { SharedRedis } from '../../src/shared/redis.js';
import { deletePrefix, dumpPrefix, redisUnavailable, TEST_REDIS_URL, testPrefix } from '../support/redis.js';
import { findLeaks } from '../support/secrets.js';
import { loadApprovalPage, postApprovalDecision } from '../support/stack.js';

/**
 * Issue 13 item 3 (approvals): two brokers, each with its own page server and its own Redis connection, stand
 * for two replicas. A request opened on A is shown and decided on B's page; the decision is used once, by
 * whichever replica's call comes first.
 */

const skip = await redisUnavailable();

const req = (): PageRequest => ({
  tool: 'outreach_lock_user',
  summary: 'Lock Outreach user jane@acme.example (id 42)',
  targets: [{ vendor: 'outreach', id: '42', email: 'jane@acme.example', action: 'lock (locked: true)' }],
  notes: [],
  requester: { client: 'test-client 1.0', transport: 'http' },
});

describe.skipIf(skip)('approval page requests in Redis (two replicas)', () => {
  const prefix = testPrefix();
  const conns: SharedRedis[] = [];
  const brokers: ApprovalBroker[] = [];
  const replica = async () => {
    const r = await SharedRedis.connect(redisConfig({ SALES_ACCESS_REDIS_URL: TEST_REDIS_URL, SALES_ACCESS_REDIS_PREFIX: prefix })!);
    conns.push(r);
    const b = new ApprovalBroker({ store: new RedisApprovalStore(r) });
    brokers.push(b);
    return { redis: r, broker: b, origin: await b.listen() };
  };
  afterAll(async () => {
    await Promise.all(brokers.map((b) => b.close()));
    await Promise.all(conns.map((c) => c.close()));
    await deletePrefix(prefix);
  });

  it('opened on A, approved on the page served by B, used once (by B\'s call; A finds it used); no CSRF token or cookie in Redis', async () => {
    const a = await replica();
    const b = await replica();
    const opened = await a.broker.open('change-key', req(), 'session:s1');
    expect(opened.created).toBe(true);
    // A retry on B for the same change and session re-uses A's request.
    expect(await b.broker.open('change-key', req(), 'session:s1')).toMatchObject({ id: opened.id, created: false });
    let notified = 0;
    a.broker.onDecided(opened.id, () => notified++);

    const onB = `${b.origin}/approve/${opened.id}`;
    const page = await loadApprovalPage(onB);
    expect(page.status).toBe(200);
    expect(page.csrf).toBeDefined();
    // The pair issued by B's page is not accepted with another cookie, on either replica.
    expect((await postApprovalDecision(`${a.origin}/approve/${opened.id}`, page, 'approve', { cookie: `sam_approval=${'y'.repeat(43)}` })).status).toBe(403);
    expect(await a.broker.take(opened.id)).toBeUndefined();
    // The same page's form is accepted by A's page too (the browser reached A this time).
    const decided = await postApprovalDecision(`${a.origin}/approve/${opened.id}`, page, 'approve');
    expect(decided.status).toBe(200);
    // A second submission, now on B, is "already decided".
    expect((await postApprovalDecision(onB, page, 'approve')).status).toBe(409);
    expect((await a.broker.info(opened.id))?.decision).toMatchObject({ approved: true, userAgent: 'test-browser/1.0' });

    const [fromB, fromA] = await Promise.all([b.broker.take(opened.id), a.broker.take(opened.id)]);
    expect([fromB, fromA].filter(Boolean)).toHaveLength(1);
    expect(await b.broker.take(opened.id)).toBeUndefined();
    for (let i = 0; i < 40 && notified === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(notified).toBe(1);

    const dump = await dumpPrefix(prefix);
    expect(dump.some((d) => d.key === `${prefix}approval:${opened.id}`)).toBe(true);
    const secrets = { csrf: page.csrf!, cookie: page.cookie!.split('=')[1]!, session: 'session:s1' };
    expect(findLeaks(secrets, dump.map((d) => ({ where: d.key, text: `${d.key}\n${d.value}` })))).toEqual([]);
  });

  it('a decision made on B\'s page is announced to a waiting A (URL-mode elicitation), and rejecting is used once too', async () => {
    const a = await replica();
    const b = await replica();
    const opened = await a.broker.open('other-key', req(), 'session:s2');
    const announced = new Promise<void>((r) => a.broker.onDecided(opened.id, r));
    const onB = `${b.origin}/approve/${opened.id}`;
    const page = await loadApprovalPage(onB);
    expect((await postApprovalDecision(onB, page, 'reject')).status).toBe(200);
    await announced;
    expect(await a.broker.take(opened.id)).toMatchObject({ approved: false });
    expect(await b.broker.take(opened.id)).toBeUndefined();
  });

  it('page views recorded by both replicas at once stop at the cap together (one step in Redis), and the page then says so', async () => {
    const a = await replica();
    const b = await replica();
    const opened = await a.broker.open('views-key', req(), 'session:s4');
    const stores = [new RedisApprovalStore(a.redis), new RedisApprovalStore(b.redis)];
    const added = await Promise.all(
      Array.from({ length: MAX_PASSES + 20 }, (_, i) => stores[i % 2]!.addPass(opened.id, `digest-${i}`, opened.expiresAt)),
    );
    expect(added.filter(Boolean)).toHaveLength(MAX_PASSES);
    expect(await stores[0]!.passes(opened.id)).toHaveLength(MAX_PASSES);
    const page = await loadApprovalPage(`${b.origin}/approve/${opened.id}`);
    expect(page.status).toBe(429);
    expect(page.html).toMatch(/opened too many times/);
    expect(await stores[1]!.passes(opened.id)).toHaveLength(MAX_PASSES);
    // An unknown (or forgotten) request records nothing, as in the in-process store.
    const unknown = 'U'.repeat(22);
    expect(await stores[0]!.addPass(unknown, 'digest-x', opened.expiresAt)).toBe(false);
    expect((await dumpPrefix(prefix)).some((d) => d.key.includes(unknown))).toBe(false);
  });

  it('Redis lost during a call: a VendorError that says so and that there is no per-replica fallback', async () => {
    const a = await replica();
    a.redis.client.disconnect();
    const err = await a.broker.open('k', req(), 'session:s3').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VendorError);
    expect((err as Error).message).toMatch(/^Redis at [^ ]+ is unreachable \(.+\) while reading an approval request; the server does not fall back to per-replica state/);
  });
});

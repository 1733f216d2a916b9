import { afterAll, describe, expect, it } from 'vitest';
import { MAX_OPEN_PER_OWNER } from '../../src/confirm/approval-store.js';
import { IN_CHAT_TTL_MS, InChatApprovals, type InChatDecision, type StoredInChat } from '../../src/confirm/in-chat.js';
import { RedisApprovalStore } from '../../src/confirm/redis-approvals.js';
import { redisConfig } from '../../src/shared/redis-config.js';
import { SharedRedis } from '../../src/shared/redis.js';
import { deletePrefix, dumpPrefix, redisUnavailable, TEST_REDIS_URL, testPrefix } from '../support/redis.js';
import { findLeaks } from '../support/secrets.js';

/** The in-chat approval requests: the nonce binds a decision to one request of one session, once. */
describe('InChatApprovals', () => {
  const request = { tool: 'execute_offboarding', summary: 'Offboard 1 person', subject: { plan_id: 'p1' } };
  function setup() {
    let now = 1_000_000;
    const store = new InChatApprovals(() => now);
    return { store, advance: (ms: number) => (now += ms) };
  }

  it('re-uses the open request for the same change and session, and gives its nonce only to that session', async () => {
    const { store } = setup();
    const a = await store.open('k1', 's1', request);
    expect(a.created).toBe(true);
    expect(await store.open('k1', 's1', request)).toMatchObject({ id: a.id, created: false });
    expect(await store.nonceFor(a.id, 's1')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await store.nonceFor(a.id, 's2')).toBeUndefined();
  });

  it('one session cannot use up the requests of the others: at most MAX_OPEN_PER_OWNER waiting per session', async () => {
    const { store } = setup();
    for (let i = 0; i < MAX_OPEN_PER_OWNER; i++) await store.open(`k${i}`, 's1', request);
    await expect(store.open('one-more', 's1', request)).rejects.toThrow(/this conversation already has 10 approval requests waiting/);
    expect(await store.open('k-other', 's2', request)).toMatchObject({ created: true });
    // A decided request no longer counts: the session may ask again.
    const first = await store.open('k0', 's1', request);
    await store.decide(first.id, (await store.nonceFor(first.id, 's1'))!, 's1', false, 'host 1');
    expect(await store.open('one-more', 's1', request)).toMatchObject({ created: true });
  });

  it('decides once, with the right nonce, from the session that asked; the decision is taken once', async () => {
    const { store } = setup();
    const a = await store.open('k1', 's1', request);
    const b = await store.open('k2', 's1', request);
    const nonceA = (await store.nonceFor(a.id, 's1'))!;
    const nonceB = (await store.nonceFor(b.id, 's1'))!;
    await expect(store.decide(a.id, nonceA, 's2', true, 'host 1')).rejects.toThrow(/not one of this conversation/);
    await expect(store.decide(a.id, nonceB, 's1', true, 'host 1')).rejects.toThrow(/does not belong/);
    expect(await store.decide(a.id, nonceA, 's1', true, 'Claude 1.2')).toMatchObject({ decision: { approved: true, host: 'Claude 1.2' } });
    await expect(store.decide(a.id, nonceA, 's1', false, 'Claude 1.2')).rejects.toThrow(/already approved/);
    expect(await store.nonceFor(a.id, 's1')).toBeUndefined();
    expect(await store.take(a.id)).toMatchObject({ approved: true });
    expect(await store.take(a.id)).toBeUndefined();
    // Taken: the same change asks anew.
    expect((await store.open('k1', 's1', request)).created).toBe(true);
  });

  it('refuses a decision after the request expired, and forgets it later', async () => {
    const { store, advance } = setup();
    const a = await store.open('k1', 's1', request);
    const nonce = (await store.nonceFor(a.id, 's1'))!;
    advance(IN_CHAT_TTL_MS + 1);
    expect(await store.nonceFor(a.id, 's1')).toBeUndefined();
    await expect(store.decide(a.id, nonce, 's1', true, 'host')).rejects.toThrow(/expired/);
    await expect(store.decide(a.id, nonce, 's1', true, 'host')).rejects.toThrow(/already|expired/);
    advance(IN_CHAT_TTL_MS + 1);
    expect(await store.info(a.id)).toBeUndefined();
  });
});

const skip = await redisUnavailable();

describe.skipIf(skip)('InChatApprovals over Redis (two connections stand for two replicas)', () => {
  const prefix = testPrefix();
  const conns: SharedRedis[] = [];
  const request = { tool: 'execute_offboarding', summary: 'Offboard 1 person', subject: { plan_id: 'p1' } };
  const replica = async () => {
    const r = await SharedRedis.connect(redisConfig({ SALES_ACCESS_REDIS_URL: TEST_REDIS_URL, SALES_ACCESS_REDIS_PREFIX: prefix })!);
    conns.push(r);
    return new InChatApprovals(Date.now, new RedisApprovalStore<StoredInChat, InChatDecision>(r, Date.now, 'inchat'));
  };
  afterAll(async () => {
    await Promise.all(conns.map((c) => c.close()));
    await deletePrefix(prefix);
  });

  it('the per-session cap holds across replicas, and a decision on either frees a slot', async () => {
    const a = await replica();
    const b = await replica();
    const owner = `s-cap-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < MAX_OPEN_PER_OWNER; i++) ids.push((await (i % 2 ? a : b).open(`cap-${owner}-${i}`, owner, request)).id);
    await expect(a.open(`cap-${owner}-x`, owner, request)).rejects.toThrow(/this conversation already has 10 approval requests waiting/);
    await expect(b.open(`cap-${owner}-x`, owner, request)).rejects.toThrow(/this conversation already has 10/);
    expect(await a.open(`cap-${owner}-other`, `${owner}-other`, request)).toMatchObject({ created: true });
    // ids[0] was opened on b (i = 0): the nonce stays with the replica that opened the request.
    await b.decide(ids[0]!, (await b.nonceFor(ids[0]!, owner))!, owner, true, 'host 1');
    expect(await a.open(`cap-${owner}-x`, owner, request)).toMatchObject({ created: true });
  });

  it('opened on A, decided through B with the nonce, taken once across both; the nonce is not in Redis', async () => {
    const a = await replica();
    const b = await replica();
    const opened = await a.open('k1', 'session:s1', request);
    const nonce = (await a.nonceFor(opened.id, 'session:s1'))!;
    expect(nonce).toBeDefined();
    // B never saw the nonce: it cannot hand it out, but it checks the one the view relays.
    expect(await b.nonceFor(opened.id, 'session:s1')).toBeUndefined();
    await expect(b.decide(opened.id, 'x'.repeat(43), 'session:s1', true, 'host')).rejects.toThrow(/does not belong/);
    await expect(b.decide(opened.id, nonce, 'session:other', true, 'host')).rejects.toThrow(/not one of this conversation/);
    const [d1, d2] = await Promise.allSettled([b.decide(opened.id, nonce, 'session:s1', true, 'Host 1'), a.decide(opened.id, nonce, 'session:s1', false, 'Host 2')]);
    expect([d1, d2].filter((d) => d.status === 'fulfilled')).toHaveLength(1);
    const first = (await a.info(opened.id))!.decision!;
    expect([d1, d2].find((d) => d.status === 'rejected')).toMatchObject({ reason: { message: expect.stringMatching(/already (approved|rejected)/) } });
    const [t1, t2] = await Promise.all([a.take(opened.id), b.take(opened.id)]);
    expect([t1, t2].filter(Boolean)).toEqual([first]);
    expect(await a.nonceFor(opened.id, 'session:s1')).toBeUndefined();

    const dump = await dumpPrefix(prefix);
    expect(dump.some((d) => d.key === `${prefix}inchat:${opened.id}`)).toBe(true);
    expect(findLeaks({ nonce, session: 'session:s1' }, dump.map((d) => ({ where: d.key, text: `${d.key}\n${d.value}` })))).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { IN_CHAT_TTL_MS, InChatApprovals } from '../../src/confirm/in-chat.js';

/** The in-chat approval requests: the nonce binds a decision to one request of one session, once. */
describe('InChatApprovals', () => {
  const request = { tool: 'execute_offboarding', summary: 'Offboard 1 person', subject: { plan_id: 'p1' } };
  function setup() {
    let now = 1_000_000;
    const store = new InChatApprovals(() => now);
    return { store, advance: (ms: number) => (now += ms) };
  }

  it('re-uses the open request for the same change and session, and gives its nonce only to that session', () => {
    const { store } = setup();
    const a = store.open('k1', 's1', request);
    expect(a.created).toBe(true);
    expect(store.open('k1', 's1', request)).toMatchObject({ id: a.id, created: false });
    expect(store.nonceFor(a.id, 's1')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(store.nonceFor(a.id, 's2')).toBeUndefined();
  });

  it('decides once, with the right nonce, from the session that asked; the decision is taken once', () => {
    const { store } = setup();
    const a = store.open('k1', 's1', request);
    const b = store.open('k2', 's1', request);
    const nonceA = store.nonceFor(a.id, 's1')!;
    const nonceB = store.nonceFor(b.id, 's1')!;
    expect(() => store.decide(a.id, nonceA, 's2', true, 'host 1')).toThrow(/not one of this conversation/);
    expect(() => store.decide(a.id, nonceB, 's1', true, 'host 1')).toThrow(/does not belong/);
    expect(store.decide(a.id, nonceA, 's1', true, 'Claude 1.2')).toMatchObject({ decision: { approved: true, host: 'Claude 1.2' } });
    expect(() => store.decide(a.id, nonceA, 's1', false, 'Claude 1.2')).toThrow(/already approved/);
    expect(store.nonceFor(a.id, 's1')).toBeUndefined();
    expect(store.take(a.id)).toMatchObject({ approved: true });
    expect(store.take(a.id)).toBeUndefined();
    // Taken: the same change asks anew.
    expect(store.open('k1', 's1', request).created).toBe(true);
  });

  it('refuses a decision after the request expired, and forgets it later', () => {
    const { store, advance } = setup();
    const a = store.open('k1', 's1', request);
    const nonce = store.nonceFor(a.id, 's1')!;
    advance(IN_CHAT_TTL_MS + 1);
    expect(store.nonceFor(a.id, 's1')).toBeUndefined();
    expect(() => store.decide(a.id, nonce, 's1', true, 'host')).toThrow(/expired/);
    expect(() => store.decide(a.id, nonce, 's1', true, 'host')).toThrow(/already|expired/);
    advance(IN_CHAT_TTL_MS + 1);
    expect(store.info(a.id)).toBeUndefined();
  });
});

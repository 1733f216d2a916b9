import type { SharedRedis } from '../shared/redis.js';
import { APPROVAL_TTL_MS, MAX_PASSES, remembered, type ApprovalState, type ApprovalStore, type Decision, type StoredApproval, type StoredRequest } from './approval-store.js';

/*
 * Approval requests in Redis, for replicas: a request opened by one replica is shown and decided by the page
 * of whichever replica the browser reaches (or, in-chat, by the decision tool on any replica), and its
 * decision is used by one tool call only. Keys under the prefix, <ns> being `approval` (page) or `inchat`:
 * <ns>:<id> (the request, JSON, no secret), <ns>-key:<key digest> (the newest id for a change and session),
 * <ns>-decision:<id> and <ns>-taken:<id> (SET NX: first wins), <ns>-pass:<id> (digests of the page's CSRF
 * token + cookie pairs, and with sign-in of the signed-in page cookies; at most MAX_PASSES), <ns>-open (ids by
 * expiry, for the cap). Every key expires 10 minutes after the request does (a decision 20 minutes after it
 * was made).
 */

/** How often a replica waiting to announce a decision made elsewhere looks (URL-mode elicitation only). */
const POLL_MS = 500;
/**
 * Adds a pass digest to KEYS[1] unless the request (KEYS[2]) is gone or the set already holds ARGV[3]: one step,
 * so replicas cannot overshoot together.
 */
const ADD_PASS_LUA =
  "if redis.call('exists', KEYS[2]) == 0 or redis.call('scard', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end redis.call('sadd', KEYS[1], ARGV[1]) redis.call('pexpire', KEYS[1], ARGV[2]) return 1";

export class RedisApprovalStore<R extends StoredRequest = StoredApproval, D extends { decidedAt: number } = Decision> implements ApprovalStore<R, D> {
  private readonly listeners = new Map<string, Set<() => void>>();
  private poller: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: SharedRedis,
    private readonly now: () => number = Date.now,
    private readonly ns: 'approval' | 'inchat' = 'approval',
  ) {}

  async get(id: string): Promise<ApprovalState<R, D> | undefined> {
    const [rec, decision, taken] = await this.redis.run('reading an approval request', async (c) => {
      const r = await c.mget(this.k(this.ns, id), this.k(`${this.ns}-decision`, id), this.k(`${this.ns}-taken`, id));
      return r;
    });
    if (!rec) return undefined;
    const s: ApprovalState<R, D> = { rec: JSON.parse(rec) as R, decision: decision ? (JSON.parse(decision) as D) : undefined, taken: taken !== null };
    return remembered(s, this.now()) ? s : undefined;
  }

  async byKey(keyDigest: string): Promise<ApprovalState<R, D> | undefined> {
    const id = await this.redis.run('reading an approval request', (c) => c.get(this.k(`${this.ns}-key`, keyDigest)));
    return id ? this.get(id) : undefined;
  }

  async countOpen(now: number, ownerDigest?: string): Promise<number> {
    const k = ownerDigest === undefined ? this.k(`${this.ns}-open`) : this.k(`${this.ns}-open-owner`, ownerDigest);
    return this.redis.run('counting open approval requests', async (c) => {
      await c.zremrangebyscore(k, '-inf', `(${now}`);
      return c.zcard(k);
    });
  }

  async create(rec: R): Promise<void> {
    const px = this.keepMs(rec.expiresAt);
    const open = this.k(`${this.ns}-open`);
    const mine = this.k(`${this.ns}-open-owner`, rec.ownerDigest);
    await this.redis.run('saving an approval request', async (c) => {
      await c
        .multi()
        .set(this.k(this.ns, rec.id), JSON.stringify(rec), 'PX', px)
        .set(this.k(`${this.ns}-key`, rec.keyDigest), rec.id, 'PX', px)
        .zadd(open, rec.expiresAt, rec.id)
        .pexpire(open, px)
        .zadd(mine, rec.expiresAt, rec.id)
        .pexpire(mine, px)
        .exec();
    });
  }

  async addPass(id: string, passDigest: string, expiresAt: number): Promise<boolean> {
    const k = this.k(`${this.ns}-pass`, id);
    const added = await this.redis.run('saving an approval page view', (c) => c.eval(ADD_PASS_LUA, 2, k, this.k(this.ns, id), passDigest, String(this.keepMs(expiresAt)), String(MAX_PASSES)));
    return added === 1;
  }

  async passes(id: string): Promise<string[]> {
    return this.redis.run('reading an approval page view', (c) => c.smembers(this.k(`${this.ns}-pass`, id)));
  }

  async decide(id: string, d: D): Promise<boolean> {
    const ok = await this.redis.run('saving an approval decision', (c) => c.set(this.k(`${this.ns}-decision`, id), JSON.stringify(d), 'PX', 2 * APPROVAL_TTL_MS, 'NX'));
    if (ok !== 'OK') return false;
    const owner = (await this.get(id))?.rec.ownerDigest;
    await this.redis.run('saving an approval decision', async (c) => {
      const m = c.multi().zrem(this.k(`${this.ns}-open`), id);
      if (owner !== undefined) m.zrem(this.k(`${this.ns}-open-owner`, owner), id);
      await m.exec();
    });
    this.fire(id);
    return true;
  }

  async take(id: string): Promise<boolean> {
    const ok = await this.redis.run('using an approval decision', (c) => c.set(this.k(`${this.ns}-taken`, id), '1', 'PX', 2 * APPROVAL_TTL_MS, 'NX'));
    return ok === 'OK';
  }

  onDecided(id: string, fn: () => void): void {
    const set = this.listeners.get(id) ?? new Set();
    set.add(fn);
    this.listeners.set(id, set);
    // Polled while someone waits: a decision can be made on another replica's page.
    this.poller ??= setInterval(() => void this.poll(), POLL_MS);
    this.poller.unref();
    void this.poll();
  }

  async close(): Promise<void> {
    clearInterval(this.poller);
    this.poller = undefined;
    this.listeners.clear();
  }

  private async poll(): Promise<void> {
    for (const id of [...this.listeners.keys()]) {
      const s = await this.get(id).catch(() => null);
      if (s === null) continue; // Redis unreachable: try again at the next tick
      if (!s || s.decision) this.fire(id, !s);
    }
    if (this.listeners.size === 0) {
      clearInterval(this.poller);
      this.poller = undefined;
    }
  }

  private fire(id: string, forgotten = false): void {
    const set = this.listeners.get(id);
    this.listeners.delete(id);
    if (!forgotten) for (const fn of set ?? []) fn();
  }

  private keepMs(expiresAt: number): number {
    return Math.max(1, expiresAt + APPROVAL_TTL_MS - this.now());
  }

  private k(...parts: string[]): string {
    return this.redis.key(...parts);
  }
}

import type { Clock } from '../clock.js';
import type { Plan } from '../domain/offboarding.js';
import { ToolInputError } from '../errors.js';
import type { SharedRedis } from '../shared/redis.js';
import { holderLabel, lockHolder, renewWhileHeld, tryRedisLock, type RedisLock } from '../shared/redis-lock.js';
import { checkPlanId, newPlanId, queuedWithLock, type PlanStorage } from './plan-store.js';

/*
 * Offboarding plans in Redis, for replicas behind one load balancer: a plan made on one replica is executed
 * on any other, exactly once. The value is the plan's JSON in clear, not sealed: a plan holds what planning
 * observed (emails, names, vendor account ids, step results, redacted error texts), never a credential, so
 * it needs no SALES_ACCESS_ENCRYPTION_KEY (a deployment on static tokens has none). The execute lock is a
 * Redis lock with expiry (shared/redis-lock.ts) that the holder extends while the run lasts, so a replica
 * that dies mid-run frees the plan after LOCK_TTL_MS.
 */

/** A plan is kept this long: a partial one can be resumed for a day, and an executed one replays its result. */
const PLAN_KEEP_MS = 30 * 86_400_000;
/** As the file lock's staleness: a holder that stops extending its lock loses it after this. */
const LOCK_TTL_MS = 5 * 60_000;
const LOCK_EXTEND_MS = 30_000;

export class RedisPlanStore implements PlanStorage {
  /** Serialises state transitions of one plan within the process (two executes racing). */
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly holder: string;

  constructor(
    private readonly redis: SharedRedis,
    private readonly clock: Clock,
    opts: { replicaId?: string } = {},
  ) {
    this.holder = holderLabel(opts.replicaId);
  }

  newPlanId(): string {
    return newPlanId();
  }

  async save(plan: Plan): Promise<void> {
    await this.redis.run(`saving offboarding plan ${plan.plan_id}`, (c) => c.set(this.planKey(plan.plan_id), JSON.stringify(plan), 'PX', PLAN_KEEP_MS));
  }

  async load(planId: string): Promise<Plan> {
    checkPlanId(planId);
    const text = await this.redis.run(`reading offboarding plan ${planId}`, (c) => c.get(this.planKey(planId)));
    if (text === null) {
      throw new ToolInputError(`No offboarding plan ${planId} in the plans the replicas share (kept ${PLAN_KEEP_MS / 86_400_000} days). Make a new one with plan_offboarding.`);
    }
    return JSON.parse(text) as Plan;
  }

  expired(plan: Plan): boolean {
    return this.clock.now() > Date.parse(plan.expires_at);
  }

  async withLock<T>(planId: string, fn: () => Promise<T>): Promise<T> {
    return queuedWithLock(this.locks, planId, () => this.lock(planId), fn);
  }

  /** Takes the plan's Redis lock and extends it every LOCK_EXTEND_MS while held; busy names the holder. */
  private async lock(planId: string): Promise<() => Promise<void>> {
    const key = this.redis.key('plan-lock', planId);
    const what = `plan ${planId} execute`;
    const lock: RedisLock | undefined = await tryRedisLock(this.redis, key, LOCK_TTL_MS, what, this.holder);
    if (!lock) {
      const who = await lockHolder(this.redis, key, what).catch(() => undefined);
      throw new ToolInputError(
        `Plan ${planId} is being executed by another sales-access-mcp replica${who ? ` (${who})` : ''}; nothing was changed by this call. Wait a minute and call execute_offboarding again: once that run ends, the stored result is returned. The lock of a replica that died is freed after ${LOCK_TTL_MS / 60_000} minutes.`,
      );
    }
    const release = renewWhileHeld(lock, LOCK_TTL_MS, LOCK_EXTEND_MS);
    return async () => {
      // A failure here must not turn a finished execution into an error: the lock expires on its own.
      await release().catch(() => {});
    };
  }

  private planKey(planId: string): string {
    return this.redis.key('plan', planId);
  }
}

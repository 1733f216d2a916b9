import type { Actor, ConfirmationDetail } from '../../audit/audit-log.js';
import type { Deps } from '../../deps.js';
import type { AccountStatus, VendorAccount, VendorId } from '../../domain/account.js';
import type { ExecutionResult, Plan, PlanStep, StepResult } from '../../domain/offboarding.js';
import { ToolInputError, VendorError } from '../../errors.js';
import type { Change, RecordTransfer } from '../../vendors/adapter.js';
import type { VendorConnection } from '../../vendors/connection.js';
import { scimDeleteChange, scimDeprovisionChange } from '../../vendors/scim/changes.js';
import { scimToAccount } from '../../vendors/scim/map.js';
import type { ScimUser } from '../../vendors/scim/wire.js';
import { commitChange, prepareChange, type CommitContext } from '../apply-change.js';
import { observedHash, type PlanStorage } from '../plan-store.js';
import { reobserve, type PlannedAccount } from './accounts.js';
import { otherPathChanges } from './other-paths.js';
import { publicErrorText } from '../../public-error.js';
import { uniqueAccounts } from './plan.js';

/**
 * Executing a plan a human approved. Each person's steps in a vendor run in order (hand over → unlink →
 * deactivate → free the seat), vendors in parallel within their rate limits. A step runs only when the steps
 * it depends on succeeded (no lock before the hand-over is done); a failure stops its dependents and the run
 * reports what is done. Every write is one Change through apply-change.ts, audited with the plan id.
 *
 * A plan whose run did not finish is `partial`: executing it again (with the human's approval again) resumes
 * from the first unfinished step. Finished steps are never repeated, and a transfer resumes where its last
 * successful batch left off, because each round lists only what the leaver still owns.
 */

/** Chains run at once per vendor; each vendor's limiter still paces the requests. */
const CHAIN_CONCURRENCY = 4;
/** A partial plan may be resumed for this long after it was made (a first run needs an unexpired plan). */
const RESUME_MS = 24 * 3_600_000;
/** Audit operation ids a step's result lists (audit_ops counts them all). */
const LISTED_AUDIT_OPS = 10;
/** Rounds of one transfer step without progress before it stops: the vendor accepts writes that change nothing. */
const MAX_IDLE_ROUNDS = 2;

export interface ExecuteContext {
  deps: Deps;
  store: PlanStorage;
  actor: Actor;
  /** Passes the write-confirmation gate; throws when the human did not approve. */
  confirm(plan: Plan): Promise<string>;
  /** Browser approval detail (decision time, user agent) for the audit lines, when approved in the browser. */
  confirmationDetail?: () => ConfirmationDetail | undefined;
  progress(done: number, total: number, message: string): Promise<void>;
  signal?: AbortSignal;
}

export async function executeOffboarding(ctx: ExecuteContext, planId: string): Promise<{ plan: Plan; result: ExecutionResult; replayed: boolean }> {
  const { deps, store } = ctx;
  const usable = (plan: Plan): { plan: Plan; result: ExecutionResult; replayed: boolean } | undefined => {
    if (plan.state === 'executed' && plan.result) return { plan, result: plan.result, replayed: true };
    if (plan.state === 'refused') throw new ToolInputError(`Plan ${planId} was refused because accounts changed after planning. Make a new plan with plan_offboarding.`);
    return undefined;
  };

  // The human's approval is awaited outside the plan's lock, so a second call for the same plan (say, after
  // the client gave up waiting) gets the same approval request at once instead of queueing behind the first.
  const first = await store.load(planId);
  const done = usable(first);
  if (done) return done;
  const resuming = first.result !== null;
  if (!resuming && store.expired(first)) {
    throw new ToolInputError(`Plan ${planId} expired at ${first.expires_at} (plans are valid for 15 minutes). Make a new plan with plan_offboarding.`);
  }
  if (resuming && deps.clock.now() > Date.parse(first.created_at) + RESUME_MS) {
    throw new ToolInputError(`Plan ${planId} was made more than a day ago and cannot be resumed. Make a new plan with plan_offboarding: it covers only what is left.`);
  }
  const confirmation = await ctx.confirm(first);

  return store.withLock(planId, async () => {
    // Another call may have executed the plan while this one waited for the human.
    const plan = await store.load(planId);
    const meanwhile = usable(plan);
    if (meanwhile) return meanwhile;
    await refuseIfChanged(deps, store, plan);

    plan.state = 'executing';
    await store.save(plan);
    const previous = new Map((plan.result?.steps ?? []).map((r) => [r.step_id, r]));
    const run = new PlanRun(deps, plan, previous, { actor: ctx.actor, confirmation, detail: ctx.confirmationDetail?.(), signal: ctx.signal }, ctx.progress);
    const results = await run.all();

    const count = (o: StepResult['outcome']) => results.filter((r) => r.outcome === o).length;
    const unfinished = results.filter((r) => r.outcome === 'failed' || r.outcome === 'ambiguous' || r.outcome === 'blocked');
    const result: ExecutionResult = {
      plan_id: plan.plan_id,
      executed_at: new Date(deps.clock.now()).toISOString(),
      confirmation,
      runs: (plan.result?.runs ?? 0) + 1,
      steps: results,
      summary: { done: count('done'), unchanged: count('unchanged'), failed: count('failed'), ambiguous: count('ambiguous'), manual: count('manual'), blocked: count('blocked') },
      retry_advice: retryAdvice(plan, unfinished),
    };
    // What this run changed is what the next run must find: the observations follow the accounts.
    for (const s of plan.steps) {
      const r = results.find((x) => x.step_id === s.step_id);
      if (r?.changed && r.status_after && r.status_after !== 'unknown' && s.kind === 'deactivate') s.account = { ...s.account, status: r.status_after };
    }
    plan.observed_hash = observedHash(uniqueAccounts(plan.steps.filter((s) => s.kind !== 'free_seat' || !results.find((r) => r.step_id === s.step_id)?.changed)));
    plan.state = unfinished.length > 0 ? 'partial' : 'executed';
    plan.result = result;
    await store.save(plan);
    return { plan, result, replayed: false };
  });
}

/**
 * Re-reads every account the plan still acts on; any change since planning (or since the last run) voids
 * the plan, changing nothing.
 */
async function refuseIfChanged(deps: Deps, store: PlanStorage, plan: Plan): Promise<void> {
  const finished = new Set((plan.result?.steps ?? []).filter((r) => r.outcome === 'done' || r.outcome === 'unchanged').map((r) => r.step_id));
  const pending = plan.steps.filter((s) => !finished.has(s.step_id));
  const accounts = uniqueAccounts(pending);
  const now = await Promise.all(accounts.map((a) => reobserve(connectionFor(deps, a.vendor), a)));
  const changed = accounts.filter((a, i) => {
    const n = now[i];
    return n === null || n.status !== a.status || (n.email ?? '').toLowerCase() !== (a.email ?? '').toLowerCase() || n.is_admin !== a.is_admin;
  });
  // ...and through the path a pending deactivation does not act through (a REST lock under a SCIM step).
  const elsewhere = await otherPathChanges(deps, pending);
  if (changed.length === 0 && elsewhere.length === 0) return;
  plan.state = 'refused';
  await store.save(plan);
  const list = [
    ...changed.map((a) => `${a.vendor} ${a.email ?? a.id}: ${a.status} → ${now[accounts.indexOf(a)]?.status ?? 'gone'}`),
    ...elsewhere.map((e) => e.description),
  ].slice(0, 10);
  const count = changed.length + elsewhere.filter((e) => !changed.includes(e.step.account)).length;
  throw new ToolInputError(`Nothing was changed: ${count} account(s) changed since the plan was made (${list.join('; ')}). Make a new plan with plan_offboarding and review it again.`);
}

function connectionFor(deps: Deps, vendor: VendorId): VendorConnection {
  const conn = deps.vendors.find((c) => c.adapter.id === vendor);
  if (!conn) throw new ToolInputError(`The ${vendor} connection planned for is no longer configured; make a new plan.`);
  return conn;
}

interface RunContext {
  actor: Actor;
  confirmation: string;
  detail: ConfirmationDetail | undefined;
  signal?: AbortSignal;
}

/** One run of a plan: the chains, their steps, and the results, with the previous runs' results carried over. */
class PlanRun {
  private done = 0;

  constructor(
    private readonly deps: Deps,
    private readonly plan: Plan,
    private readonly previous: Map<string, StepResult>,
    private readonly rc: RunContext,
    private readonly progress: ExecuteContext['progress'],
  ) {}

  async all(): Promise<StepResult[]> {
    const chains = new Map<string, PlanStep[]>();
    for (const s of this.plan.steps) {
      const key = `${s.vendor}\u0000${s.person}`;
      chains.set(key, [...(chains.get(key) ?? []), s]);
    }
    const byVendor = new Map<VendorId, PlanStep[][]>();
    for (const chain of chains.values()) byVendor.set(chain[0]!.vendor, [...(byVendor.get(chain[0]!.vendor) ?? []), chain]);
    const results = new Map<string, StepResult>();
    await Promise.all([...byVendor.values()].map((vendorChains) => pool(vendorChains, CHAIN_CONCURRENCY, (chain) => this.chain(chain, results))));
    return this.plan.steps.map((s) => results.get(s.step_id)!);
  }

  private async chain(steps: PlanStep[], results: Map<string, StepResult>): Promise<void> {
    for (const step of steps) {
      const before = this.previous.get(step.step_id);
      let r: StepResult;
      if (before && (before.outcome === 'done' || before.outcome === 'unchanged')) {
        r = before;
      } else {
        const unmet = step.depends_on.filter((id) => {
          const o = results.get(id)?.outcome;
          return o !== 'done' && o !== 'unchanged';
        });
        r = unmet.length > 0 ? this.blocked(step, unmet) : await this.step(step, before);
      }
      results.set(step.step_id, r);
      this.done += 1;
      await this.progress(this.done, this.plan.steps.length, `${step.vendor} ${step.account.email ?? step.person}: ${step.kind} ${r.outcome}`);
    }
  }

  private base(step: PlanStep): Omit<StepResult, 'outcome' | 'changed' | 'seat_freed' | 'status_after' | 'error' | 'records_moved' | 'audit_op_ids' | 'audit_ops'> {
    return { step_id: step.step_id, vendor: step.vendor, person: step.person, kind: step.kind, record_type: step.record_type, account_id: step.account.id, email: step.account.email, path: step.path };
  }

  private blocked(step: PlanStep, unmet: string[]): StepResult {
    return {
      ...this.base(step),
      outcome: 'blocked',
      changed: false,
      seat_freed: null,
      status_after: null,
      records_moved: null,
      audit_op_ids: [],
      audit_ops: 0,
      error: `Not run: it depends on ${unmet.join(', ')}, which did not succeed.`,
    };
  }

  private async step(step: PlanStep, before: StepResult | undefined): Promise<StepResult> {
    const carried = { records_moved: before?.records_moved ?? (step.kind === 'transfer' ? 0 : null), audit_op_ids: [...(before?.audit_op_ids ?? [])], audit_ops: before?.audit_ops ?? 0 };
    if (step.path === 'manual') return { ...this.base(step), ...carried, outcome: 'manual', changed: false, seat_freed: step.seat_freed, status_after: step.account.status, error: null };
    if (step.path === 'none') return { ...this.base(step), ...carried, outcome: 'unchanged', changed: false, seat_freed: step.seat_freed, status_after: step.account.status, error: null };
    const out = { ...this.base(step), ...carried, seat_freed: step.seat_freed };
    try {
      const conn = connectionFor(this.deps, step.vendor);
      if (step.kind === 'transfer') return await this.transfer(conn, step, out);
      const done = await this.commit(this.changeFor(conn, step), step, out);
      return {
        ...out,
        outcome: done.changed ? 'done' : 'unchanged',
        changed: done.changed,
        status_after: done.unverified ? 'unknown' : done.status,
        error: done.unverified ?? (done.warnings.length > 0 ? done.warnings.join(' ') : null),
      };
    } catch (err) {
      return { ...out, ...this.failure(err), changed: out.records_moved !== null && out.records_moved > (before?.records_moved ?? 0), status_after: null };
    }
  }

  private failure(err: unknown): Pick<StepResult, 'outcome' | 'error' | 'seat_freed'> {
    const ambiguous = (err as { ambiguous?: boolean }).ambiguous === true;
    return { outcome: ambiguous ? 'ambiguous' : 'failed', seat_freed: null, error: publicErrorText(err, this.deps.config) };
  }

  /** One write through the shared path, audited with the plan and step ids. */
  private async commit<S>(change: Change<S>, step: PlanStep, ops: Pick<StepResult, 'audit_op_ids' | 'audit_ops'>, known?: S): Promise<{ changed: boolean; status: AccountStatus; unverified?: string; warnings: string[] }> {
    const prepared = await prepareChange(change, this.rc.signal, known);
    const cc: CommitContext = {
      audit: this.deps.audit,
      tool: 'execute_offboarding',
      actor: this.rc.actor,
      confirmation: this.rc.confirmation,
      confirmationDetail: this.rc.detail,
      planId: this.plan.plan_id,
      args: { plan_id: this.plan.plan_id, step_id: step.step_id, kind: step.kind, path: step.path },
      allow: ['plan_id', 'step_id', 'kind', 'path'],
      signal: this.rc.signal,
    };
    const done = await commitChange(prepared, cc);
    if (done.opId) {
      // A hand-over of thousands of records one at a time writes thousands of audit lines: the result lists
      // the first ones and counts them all (the audit log has every one, under the plan and step ids).
      ops.audit_ops += 1;
      if (ops.audit_op_ids.length < LISTED_AUDIT_OPS) ops.audit_op_ids.push(done.opId);
    }
    return { changed: done.changed, status: statusOf(step, done.after), unverified: done.unverified, warnings: done.warnings };
  }

  /**
   * Hands the records over round by round: list what the leaver still owns, write it in batches, list again.
   * An empty listing ends the step; a listing that still shows a batch just written stops it (the vendor
   * accepted writes that changed nothing), so nothing is sent forever.
   */
  private async transfer(conn: VendorConnection, step: PlanStep, out: Omit<StepResult, 'outcome' | 'changed' | 'status_after' | 'error'>): Promise<StepResult> {
    const type = conn.rest?.ownedRecords?.find((t) => t.type === step.record_type);
    if (!type || 'manual' in type.transfer || !step.transfer_to) throw new ToolInputError(`${conn.adapter.label} can no longer hand over ${step.record_type}; make a new plan.`);
    const t: RecordTransfer = type.transfer;
    const owner = accountOf(step.account);
    const to = { ...accountOf({ ...step.account, id: step.transfer_to.id, email: step.transfer_to.email }), status: 'active' as const };
    const startedWith = out.records_moved ?? 0;
    let idle = 0;
    let lastIds = '';
    for (;;) {
      const records = await t.next(owner, this.rc.signal);
      if (records.length === 0) {
        return { ...out, outcome: out.records_moved! > startedWith ? 'done' : 'unchanged', changed: out.records_moved! > startedWith, status_after: null, error: null };
      }
      const ids = records.map((r) => r.id).join(',');
      idle = ids === lastIds ? idle + 1 : 0;
      if (idle >= MAX_IDLE_ROUNDS) {
        throw new VendorError({
          vendor: step.vendor,
          code: 'invalid_response',
          message: `${conn.adapter.label} accepted the owner change of ${records.length} ${step.record_type} but still lists them as owned by ${step.person}; stopped so nothing is sent again. Check them in ${conn.adapter.label}.`,
        });
      }
      lastIds = ids;
      for (let i = 0; i < records.length; i += t.batchSize) {
        const batch = records.slice(i, i + t.batchSize);
        // The listing just read them as the leaver's: that is the state the write starts from.
        const done = await this.commit(t.change(batch, owner, to), step, out, { ids: batch.map((r) => r.id), owner: owner.id });
        if (done.changed) out.records_moved = (out.records_moved ?? 0) + batch.length;
        await this.progress(this.done, this.plan.steps.length, `${step.vendor} ${step.person}: ${out.records_moved} ${step.record_type} handed over`);
      }
    }
  }

  /** The write a non-transfer step makes: the same Change the vendor's own tool makes. */
  private changeFor(conn: VendorConnection, step: PlanStep): Change {
    const target = { id: step.account.id, email: step.account.email };
    const { label } = conn.adapter;
    if (step.kind === 'unlink_mailbox') {
      const unlink = conn.rest?.mailboxes?.unlink;
      if (typeof unlink !== 'function' || !step.target) throw new ToolInputError(`${label} can no longer unlink mailboxes through its API; make a new plan.`);
      return unlink(step.target, accountOf(step.account)) as Change;
    }
    if (step.path === 'scim_deprovision' || step.path === 'scim_delete') {
      if (!conn.scim) throw new ToolInputError(`The ${label} SCIM connection planned for is no longer configured; make a new plan.`);
      const o = { summary: `${step.path === 'scim_delete' ? 'Delete' : 'Deprovision'} ${label} user ${target.email ?? target.id} through SCIM`, caveats: [] };
      return (step.path === 'scim_delete' ? scimDeleteChange(conn.scim, target, o) : scimDeprovisionChange(conn.scim, target, o)) as Change;
    }
    const deactivation = conn.rest?.deactivation;
    if (!deactivation || conn.adapter.offboarding.rest?.path !== step.path) {
      throw new ToolInputError(`No way to carry out ${step.path} in ${label} with what is configured; make a new plan.`);
    }
    return deactivation.call(conn.rest, target);
  }
}

/** A planned account in the shape the adapters' record and mailbox methods take. */
function accountOf(a: PlannedAccount): VendorAccount {
  return { vendor: a.vendor, id: a.id, email: a.email, name: a.name, status: a.status, role: a.role, created_at: null, updated_at: null, source: a.source, is_admin: a.is_admin };
}

/** The canonical status of what a change read back: a SCIM user, presence after a delete, or an account. */
function statusOf(step: PlanStep, state: unknown): AccountStatus {
  if (state === undefined || state === null) return 'unknown';
  if (step.path === 'scim_delete') return (state as { present: boolean }).present ? step.account.status : 'deactivated';
  if (step.path === 'scim_deprovision') return scimToAccount(step.vendor, state as ScimUser).status;
  return (state as { status?: AccountStatus }).status ?? 'unknown';
}

function retryAdvice(plan: Plan, unfinished: StepResult[]): string | null {
  const parts: string[] = [];
  if (unfinished.length > 0) {
    const ambiguous = unfinished.some((r) => r.outcome === 'ambiguous');
    parts.push(
      `${unfinished.length} step(s) did not complete (${unfinished
        .map((f) => `${f.step_id} ${f.vendor} ${f.kind}`)
        .slice(0, 10)
        .join(', ')}). The others are done and are not repeated. Once the cause is fixed, call execute_offboarding again with the same plan_id: it resumes from the first unfinished step${ambiguous ? '; an ambiguous write is re-read before anything is sent again' : ''}.`,
    );
  }
  if (plan.unchecked.length > 0) {
    parts.push(`Not covered: ${plan.unchecked.map((u) => `${u.vendor} (${u.reason})`).join('; ')}. Plan again once the vendor can be reached, or offboard there by hand.`);
  }
  return parts.length === 0 ? null : parts.join(' ');
}

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

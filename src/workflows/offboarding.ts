import type { Actor, ConfirmationDetail } from '../audit/audit-log.js';
import type { Deps } from '../deps.js';
import type { AccountStatus, VendorAccount, VendorId } from '../domain/account.js';
import type { ExecutionResult, ObservedAccount, Plan, PlanStep, StepPath, StepResult } from '../domain/offboarding.js';
import { ToolInputError } from '../http/errors.js';
import { publicErrorText } from '../public-error.js';
import type { Change, VendorAdapter } from '../vendors/adapter.js';
import type { VendorConnection } from '../vendors/connection.js';
import { scimDeprovisionChange } from '../vendors/scim/changes.js';
import { scimToAccount } from '../vendors/scim/map.js';
import type { ScimUser } from '../vendors/scim/wire.js';
import { commitChange, prepareChange } from './apply-change.js';
import { otherPathChanges, recordOtherPaths } from './other-paths.js';
import { observedHash, PLAN_TTL_MS, type PlanStore } from './plan-store.js';

/**
 * Offboarding across vendors: plan (read only), then execute a plan a human approved. Which path each account
 * takes is the vendor's offboarding profile (its adapter): SCIM deprovisioning when the account is visible
 * through SCIM; else the REST write that takes access away where the REST API has one (Outreach locks,
 * SalesLoft deactivates); else a manual step with the admin-console path (Apollo, ZoomInfo without SCIM).
 * Every write goes through the vendor's Change and apply-change.ts, like the vendor's own tools.
 */

export const MAX_PEOPLE = 500;
/** Steps run at once per vendor; each vendor's limiter still paces the requests. */
const STEP_CONCURRENCY = 4;

type Found = { account: PlanStep['account']; path: StepPath };

/** Already where this path takes it: nothing to send. */
function targetReached(adapter: VendorAdapter, path: StepPath, status: AccountStatus): boolean {
  const rest = adapter.offboarding.rest;
  if (rest && path === rest.path && rest.reached) return rest.reached(status);
  return status === 'deactivated';
}

/** An account as a plan records it. */
function observed(vendor: VendorId, source: 'rest' | 'scim', a: Pick<VendorAccount, 'id' | 'email' | 'status' | 'is_admin' | 'name' | 'role'>): PlanStep['account'] {
  return { vendor, source, id: a.id, email: a.email, status: a.status, is_admin: a.is_admin, name: a.name, role: a.role };
}

function scimObserved(vendor: VendorId, u: ScimUser): PlanStep['account'] {
  // SCIM's core schema has no admin flag.
  return observed(vendor, 'scim', { ...scimToAccount(vendor, u), is_admin: null });
}

/**
 * The accounts of one person in one vendor, with the path each would take; `unlisted` when the vendor's
 * seats cannot be looked at with what is configured (a manual check per person).
 */
async function findAccounts(conn: VendorConnection, email: string, batch: RestBatch | undefined, signal?: AbortSignal): Promise<Found[] | 'unlisted'> {
  const { adapter, scim, rest } = conn;
  if (scim) {
    const users = await scim.findByUserName(email, signal);
    if (users.length > 0) return users.map((u) => ({ account: scimObserved(adapter.id, u), path: 'scim_deprovision' as const }));
    // Where REST cannot list seats, SCIM's answer is final. Elsewhere an account created in the vendor's
    // own UI may not be managed by the identity provider: look for it through REST as well.
    if (adapter.scim.authoritative) return [];
  }
  if (!rest?.findByEmail) return 'unlisted';
  const path: StepPath = adapter.offboarding.rest?.path ?? 'manual';
  const accounts = batch ? ((await batch()).get(email) ?? []) : await rest.findByEmail(email, signal);
  return accounts.map((a) => ({ account: observed(adapter.id, 'rest', a), path }));
}

/** One lookup of every planned person, for a vendor whose lookup lists everyone anyway; made on first use. */
type RestBatch = () => Promise<Map<string, VendorAccount[]>>;

function restBatch(conn: VendorConnection, people: string[], signal?: AbortSignal): RestBatch | undefined {
  const rest = conn.rest;
  if (!rest?.findByEmails) return undefined;
  let pending: Promise<Map<string, VendorAccount[]>> | undefined;
  return () => (pending ??= rest.findByEmails!(people, signal));
}

export interface PlanInput {
  emails: string[];
  transferTo: string | null;
  /** Vendor ids to cover; the enabled vendors without any connection are skipped. */
  vendors: VendorId[];
}

export async function planOffboarding(deps: Deps, store: PlanStore, input: PlanInput, progress: (done: number, total: number, message: string) => Promise<void>, signal?: AbortSignal): Promise<Plan> {
  const people = [...new Set(input.emails.map((e) => e.trim().toLowerCase()))];
  if (people.length === 0) throw new ToolInputError('`emails`: give at least one email, e.g. ["jane.doe@acme.example"].');
  if (people.length > MAX_PEOPLE) throw new ToolInputError(`\`emails\`: at most ${MAX_PEOPLE} people per plan; got ${people.length}. Split the list.`);
  const connections = deps.vendors.filter((c) => input.vendors.includes(c.adapter.id) && (c.rest !== undefined || c.scim !== undefined));
  const steps: PlanStep[] = [];
  const notFound = new Map<string, VendorId[]>();
  const unchecked = new Map<VendorId, string>();
  let done = 0;

  // Vendors in parallel; people one after the other within a vendor (the limiter paces them anyway).
  await Promise.all(
    connections.map(async (conn) => {
      const { adapter } = conn;
      const batch = restBatch(conn, people, signal);
      for (const person of people) {
        let found: Found[] | 'unlisted';
        try {
          found = await findAccounts(conn, person, batch, signal);
        } catch (err) {
          unchecked.set(adapter.id, publicErrorText(err, deps.config));
          break;
        }
        if (found === 'unlisted') {
          const unlisted = adapter.offboarding.unlisted;
          if (!unlisted) {
            unchecked.set(adapter.id, `${adapter.label}'s seats cannot be looked up with what is configured; configure its SCIM connection.`);
            break;
          }
          // No way to see the seats: a manual step per person says what to check.
          steps.push(unlistedStep(adapter, person, input.transferTo));
          continue;
        }
        if (found.length === 0) notFound.set(person, [...(notFound.get(person) ?? []), adapter.id]);
        for (const f of found) steps.push(makeStep(adapter, person, f, input.transferTo));
        done += 1;
        await progress(done, connections.length * people.length, `Checked ${person} in ${adapter.label}`);
      }
    }),
  );

  // Every path the accounts are visible through, so execution can notice a change made through the other one.
  await recordOtherPaths(connections, steps, unchecked, signal);

  steps.sort((a, b) => a.person.localeCompare(b.person) || a.vendor.localeCompare(b.vendor) || a.account.id.localeCompare(b.account.id));
  steps.forEach((s, i) => (s.step_id = `s${i + 1}`));
  const now = deps.clock.now();
  const plan: Plan = {
    plan_id: store.newPlanId(),
    created_at: new Date(now).toISOString(),
    expires_at: new Date(now + PLAN_TTL_MS).toISOString(),
    people,
    transfer_to: input.transferTo,
    not_found: [...notFound].map(([person, vs]) => ({ person, vendors: vs })),
    unchecked: [...unchecked].map(([vendor, reason]) => ({ vendor, reason })),
    steps,
    observed_hash: observedHash(steps.filter((s) => s.account.id !== '').map((s) => s.account)),
    state: 'planned',
    result: null,
  };
  await store.save(plan);
  return plan;
}

function makeStep(adapter: VendorAdapter, person: string, f: Found, transferTo: string | null): PlanStep {
  const profile = adapter.offboarding;
  const already = f.path !== 'manual' && targetReached(adapter, f.path, f.account.status);
  const path: StepPath = already ? 'none' : f.path;
  const rest = profile.rest && path === profile.rest.path ? profile.rest : undefined;
  const action =
    path === 'none'
      ? `nothing to do: already ${f.account.status}`
      : rest
        ? rest.action
        : path === 'scim_deprovision'
          ? 'deprovision through SCIM (active: false)'
          : f.account.status === 'deactivated'
            ? 'already deactivated in the vendor; only the follow-ups remain'
            : 'deactivate by hand in the admin console';
  const expected =
    path === 'none' ? `stays ${f.account.status}` : rest ? rest.expected : path === 'manual' ? 'deactivated once an admin does it' : 'deactivated';
  return {
    step_id: '',
    vendor: adapter.id,
    person,
    account: f.account,
    action,
    path,
    expected_result: expected,
    seat_freed: profile.seatFreed(path === 'none' ? f.path : path),
    follow_ups: profile.followUps(f.path, transferTo),
    manual_instructions: path === 'manual' ? (profile.manual ?? null) : null,
  };
}

function unlistedStep(adapter: VendorAdapter, person: string, transferTo: string | null): PlanStep {
  const unlisted = adapter.offboarding.unlisted!;
  return {
    step_id: '',
    vendor: adapter.id,
    person,
    account: { vendor: adapter.id, source: 'rest', id: '', email: person, status: 'unknown', is_admin: null, name: null, role: null },
    action: unlisted.action,
    path: 'manual',
    expected_result: 'deactivated once an admin does it',
    seat_freed: adapter.offboarding.seatFreed('manual'),
    follow_ups: adapter.offboarding.followUps('manual', transferTo),
    manual_instructions: unlisted.instructions,
  };
}

function connectionFor(deps: Deps, vendor: VendorId): VendorConnection {
  const conn = deps.vendors.find((c) => c.adapter.id === vendor);
  if (!conn) throw new ToolInputError(`The ${vendor} connection planned for is no longer configured; make a new plan.`);
  return conn;
}

/** The account as the vendor holds it now, in the shape planning recorded. */
async function reobserve(deps: Deps, step: PlanStep, signal?: AbortSignal): Promise<ObservedAccount | null> {
  const a = step.account;
  if (a.id === '') return null;
  const conn = connectionFor(deps, a.vendor);
  if (a.source === 'scim') {
    if (!conn.scim) throw new ToolInputError(`The ${conn.adapter.label} SCIM connection planned for is no longer configured; make a new plan.`);
    return scimObserved(a.vendor, await conn.scim.getUser(a.id, signal));
  }
  const rest = conn.rest;
  if (!rest) throw new ToolInputError(`The ${conn.adapter.label} connection planned for is no longer configured; make a new plan.`);
  let now: VendorAccount | undefined;
  if (rest.getAccount) now = await rest.getAccount(a.id, signal);
  else if (rest.findByEmail && a.email) now = (await rest.findByEmail(a.email, signal)).find((x) => x.id === a.id);
  return now ? observed(a.vendor, 'rest', now) : { ...a, status: 'unknown' };
}

/** The write a step makes: the same Change the vendor's own tool makes. */
function changeFor(conn: VendorConnection, step: PlanStep): Change {
  const target = { id: step.account.id, email: step.account.email };
  if (step.path === 'scim_deprovision') {
    if (!conn.scim) throw new ToolInputError(`The ${conn.adapter.label} SCIM connection planned for is no longer configured; make a new plan.`);
    return scimDeprovisionChange(conn.scim, target, {
      summary: `Deprovision ${conn.adapter.label} user ${target.email ?? target.id} through SCIM`,
      caveats: [conn.adapter.scim.deprovisionNote],
    }) as Change;
  }
  const deactivation = conn.rest?.deactivation;
  if (!deactivation || conn.adapter.offboarding.rest?.path !== step.path) {
    throw new ToolInputError(`No way to carry out ${step.path} in ${conn.adapter.label} with what is configured; make a new plan.`);
  }
  return deactivation.call(conn.rest, target);
}

interface StepRun {
  deps: Deps;
  plan: Plan;
  actor: Actor;
  confirmation: string;
  detail: ConfirmationDetail | undefined;
  signal?: AbortSignal;
}

async function runStep(r: StepRun, step: PlanStep): Promise<StepResult> {
  const base = { step_id: step.step_id, vendor: step.vendor, person: step.person, account_id: step.account.id, email: step.account.email, path: step.path };
  if (step.path === 'manual') {
    return { ...base, outcome: 'manual', changed: false, seat_freed: step.seat_freed, status_after: step.account.status, audit_op_id: null, error: null };
  }
  if (step.path === 'none') {
    return { ...base, outcome: 'unchanged', changed: false, seat_freed: step.seat_freed, status_after: step.account.status, audit_op_id: null, error: null };
  }
  let opId: string | null = null;
  try {
    const conn = connectionFor(r.deps, step.vendor);
    const change = changeFor(conn, step);
    const prepared = await prepareChange(change, r.signal);
    const done = await commitChange(prepared, {
      audit: r.deps.audit,
      tool: 'execute_offboarding',
      actor: r.actor,
      confirmation: r.confirmation,
      confirmationDetail: r.detail,
      planId: r.plan.plan_id,
      args: { plan_id: r.plan.plan_id, step_id: step.step_id, path: step.path },
      allow: ['plan_id', 'step_id', 'path'],
      signal: r.signal,
    });
    opId = done.opId;
    const after = done.after === undefined ? undefined : statusOf(conn, step, done.after);
    return {
      ...base,
      outcome: done.changed ? 'done' : 'unchanged',
      changed: done.changed,
      seat_freed: step.seat_freed,
      status_after: done.unverified ? 'unknown' : (after ?? 'unknown'),
      audit_op_id: done.opId,
      error: done.unverified ?? (done.warnings.length > 0 ? done.warnings.join(' ') : null),
    };
  } catch (err) {
    const ambiguous = (err as { ambiguous?: boolean }).ambiguous === true;
    const message = publicErrorText(err, r.deps.config);
    return { ...base, outcome: ambiguous ? 'ambiguous' : 'failed', changed: false, seat_freed: null, status_after: null, audit_op_id: opId, error: message };
  }
}

/** The canonical status of what a change read back: a SCIM user, or the vendor's REST account shape. */
function statusOf(conn: VendorConnection, step: PlanStep, state: unknown): AccountStatus {
  if (step.path === 'scim_deprovision') return scimToAccount(conn.adapter.id, state as ScimUser).status;
  return (state as { status: AccountStatus }).status;
}

function retryAdvice(failed: StepResult[], anyAmbiguous: boolean, unchecked: Plan['unchecked']): string | null {
  const parts: string[] = [];
  if (failed.length > 0) {
    parts.push(
      `${failed.length} step(s) did not complete (${failed.map((f) => `${f.vendor} ${f.email ?? f.account_id}`).slice(0, 10).join(', ')}). The others are done. Run plan_offboarding again for the same people: the new plan covers only what is left${anyAmbiguous ? '; an ambiguous step may have been applied, and the new plan will show its real state' : ''}.`,
    );
  }
  if (unchecked.length > 0) {
    parts.push(`Not covered: ${unchecked.map((u) => `${u.vendor} (${u.reason})`).join('; ')}. Plan again once the vendor can be reached, or offboard there by hand.`);
  }
  return parts.length === 0 ? null : parts.join(' ');
}

async function pool<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

export interface ExecuteContext {
  deps: Deps;
  store: PlanStore;
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
    if (plan.state === 'executing') {
      throw new ToolInputError(`Plan ${planId} was interrupted while executing; nothing is repeated from it. Make a new plan with plan_offboarding: it covers only what is left.`);
    }
    if (plan.state === 'refused') throw new ToolInputError(`Plan ${planId} was refused because accounts changed after planning. Make a new plan with plan_offboarding.`);
    return undefined;
  };

  // The human's approval is awaited outside the plan's lock, so a second call for the same plan (say, after
  // the client gave up waiting) gets the same approval request at once instead of queueing behind the first.
  const first = await store.load(planId);
  const done = usable(first);
  if (done) return done;
  if (store.expired(first)) throw new ToolInputError(`Plan ${planId} expired at ${first.expires_at} (plans are valid for 15 minutes). Make a new plan with plan_offboarding.`);
  const confirmation = await ctx.confirm(first);

  return store.withLock(planId, async () => {
    // Another call may have executed the plan while this one waited for the human.
    const plan = await store.load(planId);
    const meanwhile = usable(plan);
    if (meanwhile) return meanwhile;

    // Re-read every account the plan acts on; any change since planning voids the plan.
    const observedSteps = plan.steps.filter((s) => s.account.id !== '');
    const now = await Promise.all(observedSteps.map((s) => reobserve(deps, s, ctx.signal)));
    const changed = observedSteps.filter((s, i) => {
      const n = now[i];
      return n === null || n.status !== s.account.status || (n.email ?? '').toLowerCase() !== (s.account.email ?? '').toLowerCase() || n.is_admin !== s.account.is_admin;
    });
    // ...and through the path the step does not act through (a REST lock under a SCIM step).
    const elsewhere = await otherPathChanges(deps, observedSteps, ctx.signal);
    if (observedHash(now.filter((n): n is ObservedAccount => n !== null)) !== plan.observed_hash || changed.length > 0 || elsewhere.length > 0) {
      plan.state = 'refused';
      await store.save(plan);
      const list = [
        ...changed.map((s) => `${s.vendor} ${s.account.email ?? s.account.id}: ${s.account.status} → ${now[observedSteps.indexOf(s)]?.status ?? 'gone'}`),
        ...elsewhere.map((e) => e.description),
      ].slice(0, 10);
      const count = new Set([...changed, ...elsewhere.map((e) => e.step)]).size;
      throw new ToolInputError(
        `Nothing was changed: ${count || 'some'} account(s) changed since the plan was made${list.length ? ` (${list.join('; ')})` : ''}. Make a new plan with plan_offboarding and review it again.`,
      );
    }

    plan.state = 'executing';
    await store.save(plan);
    let done = 0;
    const run: StepRun = { deps, plan, actor: ctx.actor, confirmation, detail: ctx.confirmationDetail?.(), signal: ctx.signal };
    const byVendor = new Map<VendorId, PlanStep[]>();
    for (const s of plan.steps) byVendor.set(s.vendor, [...(byVendor.get(s.vendor) ?? []), s]);
    const results = (
      await Promise.all(
        [...byVendor.values()].map((steps) =>
          pool(steps, STEP_CONCURRENCY, async (s) => {
            const r = await runStep(run, s);
            done += 1;
            await ctx.progress(done, plan.steps.length, `${s.vendor} ${s.account.email ?? s.person}: ${r.outcome}`);
            return r;
          }),
        ),
      )
    ).flat();
    results.sort((a, b) => Number(a.step_id.slice(1)) - Number(b.step_id.slice(1)));
    const count = (o: StepResult['outcome']) => results.filter((r) => r.outcome === o).length;
    const failed = results.filter((r) => r.outcome === 'failed' || r.outcome === 'ambiguous');
    const result: ExecutionResult = {
      plan_id: plan.plan_id,
      executed_at: new Date(deps.clock.now()).toISOString(),
      confirmation,
      steps: results,
      summary: { done: count('done'), unchanged: count('unchanged'), failed: count('failed'), ambiguous: count('ambiguous'), manual: count('manual') },
      retry_advice: retryAdvice(failed, count('ambiguous') > 0, plan.unchecked),
    };
    plan.state = 'executed';
    plan.result = result;
    await store.save(plan);
    return { plan, result, replayed: false };
  });
}

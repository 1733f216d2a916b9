import { withAudit } from '../audit/audit-log.js';
import type { Actor, ConfirmationDetail } from '../audit/audit-log.js';
import type { Deps } from '../deps.js';
import { VENDOR_NAMES, VENDORS, type AccountStatus, type Vendor } from '../domain/account.js';
import { ToolInputError, VendorError } from '../http/errors.js';
import { scimToAccount } from '../vendors/scim/map.js';
import type { ScimUser } from '../vendors/scim/wire.js';
import {
  observedHash,
  PLAN_TTL_MS,
  type ExecutionResult,
  type ObservedAccount,
  type Plan,
  type PlanStep,
  type PlanStore,
  type StepPath,
  type StepResult,
} from './plan-store.js';

/**
 * Offboarding across vendors: plan (read only), then execute a plan a human approved. The path per vendor
 * follows the vendor notes: Outreach locks through REST or deprovisions through SCIM; SalesLoft
 * deprovisions through SCIM or deactivates through REST; Apollo and ZoomInfo have no REST way to
 * deactivate a seat, so without SCIM their step is manual, with the admin-console path.
 */

export const MAX_PEOPLE = 500;
/** Steps run at once per vendor; each vendor's limiter still paces the requests. */
const STEP_CONCURRENCY = 4;

type Found = { account: PlanStep['account']; path: StepPath; raw?: unknown };

const MANUAL: Partial<Record<Vendor, string>> = {
  apollo:
    "Apollo has no REST endpoint to deactivate a seat. In Apollo: Settings > Users and Teams (https://app.apollo.io/#/settings/users/list) > '...' next to the user > Deactivate, then Deactivate again in the dialog. Or configure APOLLO_SCIM_URL / APOLLO_SCIM_TOKEN so this server can deprovision through SCIM.",
  zoominfo:
    "ZoomInfo's REST API cannot deactivate seats. Unassign the user from the ZoomInfo application in your identity provider (Okta, Entra ID or OneLogin) so that SCIM deprovisions them, or ask the ZoomInfo account team. Configure ZOOMINFO_SCIM_URL / ZOOMINFO_SCIM_TOKEN so this server can do it.",
};

function followUps(vendor: Vendor, path: StepPath, transferTo: string | null): string[] {
  const to = transferTo ? `to ${transferTo}` : 'to another owner';
  switch (vendor) {
    case 'outreach':
      return [
        `Reassign the user's sequences, prospects and tasks ${to} in Outreach: neither locking nor SCIM deprovisioning does it.`,
        ...(path === 'rest_lock' ? ['A locked Outreach user still holds a licensed seat: ask Outreach support to remove it, or deprovision through SCIM (Enterprise).'] : []),
      ];
    case 'salesloft':
      return [`Reassign the user's cadences and tasks ${to} in SalesLoft: deactivation does not reassign them.`];
    case 'apollo':
      return [
        "Unlink the user's mailbox in Apollo, or emails scheduled from it are marked 'Not sent'.",
        `Reassign the user's contacts, accounts, sequences, deals, tasks and workflows ${to}: Apollo does not do it on deactivation.`,
        'Reduce the seat count in Settings > Plan Overview > Manage Subscription: deactivation does not reduce billing (and annual plans do not allow it mid-contract).',
      ];
    case 'zoominfo':
      return ['Check in your identity provider that the user is unassigned from the ZoomInfo application itself: removing them from a group may not deprovision them.'];
  }
}

function seatFreed(vendor: Vendor, path: StepPath): boolean | null {
  if (path === 'rest_lock') return false; // Outreach notes: locked users still hold a seat.
  if (vendor === 'apollo') return false; // Apollo admin notes: deactivation does not reduce billed seats.
  if (path === 'manual' || path === 'none') return null;
  return null; // SCIM deprovisioning and SalesLoft deactivation: the notes do not say what happens to billing.
}

function targetReached(path: StepPath, status: AccountStatus): boolean {
  if (path === 'rest_lock') return status === 'locked' || status === 'deactivated';
  return status === 'deactivated';
}

/** A REST account as a plan records it. */
function restAccount(
  vendor: Vendor,
  a: { id: string; email: string | null; status: AccountStatus; is_admin: boolean; name: string | null; role: string | null },
): PlanStep['account'] {
  return { vendor, source: 'rest', id: a.id, email: a.email, status: a.status, is_admin: a.is_admin, name: a.name, role: a.role };
}

function scimAccount(vendor: Vendor, u: ScimUser): PlanStep['account'] {
  const a = scimToAccount(vendor, u);
  return { vendor, source: 'scim', id: a.id, email: a.email, status: a.status, is_admin: null, name: a.name, role: a.role };
}

/** The accounts of one person in one vendor, with the path each would take. */
async function findAccounts(deps: Deps, vendor: Vendor, email: string, apolloCache: Map<string, PlanStep['account'][]>, signal?: AbortSignal): Promise<Found[] | null> {
  const scim = deps.scim[vendor];
  if (scim) {
    const users = await scim.findByUserName(email, signal);
    if (users.length > 0) return users.map((u) => ({ account: scimAccount(vendor, u), path: 'scim_deprovision' as const }));
    // ZoomInfo's seats are visible only through SCIM, so SCIM's answer is final there. Elsewhere an account
    // created in the vendor's own UI may not be managed by the IdP: look for it through REST as well.
    if (vendor === 'zoominfo') return [];
  }
  switch (vendor) {
    case 'outreach':
    case 'salesloft': {
      // Both filter users by email through REST; Outreach locks (the seat stays), SalesLoft deactivates.
      const o = deps.outreach;
      const sl = deps.salesloft;
      const accounts =
        vendor === 'outreach'
          ? o && (await o.toAccounts(await o.findByEmail(email, signal), signal))
          : sl && (await sl.toAccounts(await sl.findByEmail(email, signal), signal));
      if (!accounts) return null;
      const path = vendor === 'outreach' ? ('rest_lock' as const) : ('rest_deactivate' as const);
      return accounts.map((a) => ({ account: restAccount(vendor, a), path }));
    }
    case 'apollo': {
      if (!deps.apollo) return null;
      // Apollo's teammate list has no email filter: list once per plan and look people up in it.
      if (apolloCache.size === 0) {
        const { users } = await deps.apollo.listAllUsers(undefined, signal);
        for (const a of deps.apollo.toAccounts(users)) {
          const key = (a.email ?? '').toLowerCase();
          const list = apolloCache.get(key) ?? [];
          list.push(restAccount(vendor, a));
          apolloCache.set(key, list);
        }
        apolloCache.set('\u0000listed', []);
      }
      return (apolloCache.get(email) ?? []).map((account) => ({ account, path: 'manual' as const }));
    }
    default:
      return null;
  }
}

export interface PlanInput {
  emails: string[];
  transferTo: string | null;
  vendors: Vendor[];
}

export async function planOffboarding(deps: Deps, store: PlanStore, input: PlanInput, progress: (done: number, total: number, message: string) => Promise<void>, signal?: AbortSignal): Promise<Plan> {
  const people = [...new Set(input.emails.map((e) => e.trim().toLowerCase()))];
  if (people.length === 0) throw new ToolInputError('`emails`: give at least one email, e.g. ["jane.doe@acme.example"].');
  if (people.length > MAX_PEOPLE) throw new ToolInputError(`\`emails\`: at most ${MAX_PEOPLE} people per plan; got ${people.length}. Split the list.`);
  const vendors = input.vendors.filter((v) => VENDORS.includes(v));
  const steps: PlanStep[] = [];
  const notFound = new Map<string, Vendor[]>();
  const unchecked = new Map<Vendor, string>();
  const apolloCache = new Map<string, PlanStep['account'][]>();
  let done = 0;

  // Vendors in parallel; people one after the other within a vendor (the limiter paces them anyway).
  await Promise.all(
    vendors.map(async (vendor) => {
      for (const person of people) {
        if (unchecked.has(vendor)) break;
        let found: Found[] | null;
        try {
          found = await findAccounts(deps, vendor, person, apolloCache, signal);
        } catch (err) {
          unchecked.set(vendor, err instanceof VendorError ? err.toPublicText() : (err as Error).message);
          break;
        }
        if (found === null) {
          if (vendor === 'zoominfo') {
            // No way to see ZoomInfo seats without SCIM: a manual step per person says what to check.
            steps.push(manualUnknownStep(vendor, person, input.transferTo));
          }
          continue;
        }
        if (found.length === 0) notFound.set(person, [...(notFound.get(person) ?? []), vendor]);
        for (const f of found) steps.push(makeStep(vendor, person, f, input.transferTo));
        done += 1;
        await progress(done, vendors.length * people.length, `Checked ${person} in ${vendor}`);
      }
    }),
  );

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

function makeStep(vendor: Vendor, person: string, f: Found, transferTo: string | null): PlanStep {
  const already = f.path !== 'manual' && targetReached(f.path, f.account.status);
  const path: StepPath = already ? 'none' : f.path;
  const action =
    path === 'none'
      ? `nothing to do: already ${f.account.status}`
      : path === 'rest_lock'
        ? 'lock through REST (locked: true)'
        : path === 'rest_deactivate'
          ? 'deactivate through REST (active: false)'
          : path === 'scim_deprovision'
            ? 'deprovision through SCIM (active: false)'
            : f.account.status === 'deactivated'
              ? 'already deactivated in the vendor; only the follow-ups remain'
              : 'deactivate by hand in the admin console';
  const expected =
    path === 'none'
      ? `stays ${f.account.status}`
      : path === 'rest_lock'
        ? 'locked: login blocked; the seat stays held'
        : path === 'manual'
          ? 'deactivated once an admin does it'
          : 'deactivated';
  return {
    step_id: '',
    vendor,
    person,
    account: f.account,
    action,
    path,
    expected_result: expected,
    seat_freed: seatFreed(vendor, path === 'none' ? f.path : path),
    follow_ups: followUps(vendor, f.path, transferTo),
    manual_instructions: path === 'manual' ? (MANUAL[vendor] ?? null) : null,
  };
}

function manualUnknownStep(vendor: Vendor, person: string, transferTo: string | null): PlanStep {
  return {
    step_id: '',
    vendor,
    person,
    account: { vendor, source: 'rest', id: '', email: person, status: 'unknown', is_admin: null, name: null, role: null },
    action: 'check for a seat and deactivate it by hand (this server cannot see ZoomInfo seats without SCIM)',
    path: 'manual',
    expected_result: 'deactivated once an admin does it',
    seat_freed: null,
    follow_ups: followUps(vendor, 'manual', transferTo),
    manual_instructions: MANUAL[vendor] ?? null,
  };
}

/** The account as the vendor holds it now, in the shape planning recorded. */
async function reobserve(deps: Deps, step: PlanStep, apolloNow: Map<string, PlanStep['account']>, signal?: AbortSignal): Promise<ObservedAccount | null> {
  const a = step.account;
  if (a.id === '') return null;
  if (a.source === 'scim') {
    const scim = deps.scim[a.vendor];
    if (!scim) throw new ToolInputError(`The ${a.vendor} SCIM connection planned for is no longer configured; make a new plan.`);
    return scimAccount(a.vendor, await scim.getUser(a.id, signal));
  }
  if (a.vendor === 'outreach' && deps.outreach) {
    const { account } = await deps.outreach.resolveAccount({ id: a.id }, signal);
    return { vendor: 'outreach', source: 'rest', id: account.id, email: account.email, status: account.status, is_admin: account.is_admin };
  }
  if (a.vendor === 'salesloft' && deps.salesloft) {
    const [account] = await deps.salesloft.toAccounts([await deps.salesloft.getUser(a.id, signal)], signal);
    return { vendor: 'salesloft', source: 'rest', id: account.id, email: account.email, status: account.status, is_admin: account.is_admin };
  }
  if (a.vendor === 'apollo') return apolloNow.get(a.id) ?? { ...a, status: 'unknown' };
  throw new ToolInputError(`The ${a.vendor} connection planned for is no longer configured; make a new plan.`);
}

async function runStep(deps: Deps, step: PlanStep, plan: Plan, actor: Actor, confirmation: string, detail: ConfirmationDetail | undefined, signal?: AbortSignal): Promise<StepResult> {
  const base = { step_id: step.step_id, vendor: step.vendor, person: step.person, account_id: step.account.id, email: step.account.email, path: step.path };
  if (step.path === 'manual') {
    return { ...base, outcome: 'manual', changed: false, seat_freed: step.seat_freed, status_after: step.account.status, audit_op_id: null, error: null };
  }
  if (step.path === 'none') {
    return { ...base, outcome: 'unchanged', changed: false, seat_freed: step.seat_freed, status_after: step.account.status, audit_op_id: null, error: null };
  }
  let opId: string | null = null;
  try {
    const after = await withAudit(
      deps.audit,
      {
        tool: 'execute_offboarding',
        vendor: step.vendor,
        target: { id: step.account.id, email: step.account.email },
        args: { plan_id: plan.plan_id, step_id: step.step_id, path: step.path },
        allow: ['plan_id', 'step_id', 'path'],
        actor,
        confirmation,
        confirmation_detail: detail,
        before: step.account,
        plan_id: plan.plan_id,
      },
      async (audit) => {
        opId = audit.op_id;
        if (step.path === 'scim_deprovision') {
          const scim = deps.scim[step.vendor]!;
          const current = await scim.getUser(step.account.id, signal);
          const w = await scim.deprovision(current, signal);
          audit.vendor_request_id = w.requestId;
          const acc = scimAccount(step.vendor, w.after);
          audit.after = acc;
          return { changed: w.changed, status: acc.status, unverified: undefined as string | undefined };
        }
        if (step.path === 'rest_lock') {
          const c = deps.outreach!;
          const { requestId } = await c.updateUser(step.account.id, { locked: true }, {}, signal);
          audit.vendor_request_id = requestId;
          return verifyAfterWrite(audit, 'outreach', 'rest_lock', async () => (await c.resolveAccount({ id: step.account.id }, signal)).account);
        }
        if (step.path === 'rest_deactivate') {
          const c = deps.salesloft!;
          const { requestId } = await c.updateUser(step.account.id, { active: false }, signal);
          audit.vendor_request_id = requestId;
          return verifyAfterWrite(audit, 'salesloft', 'rest_deactivate', async () => (await c.toAccounts([await c.getUser(step.account.id, signal)], signal))[0]);
        }
        throw new ToolInputError(`No executor for ${step.path} in ${step.vendor}.`);
      },
    );
    return {
      ...base,
      outcome: after.changed ? 'done' : 'unchanged',
      changed: after.changed,
      seat_freed: step.seat_freed,
      status_after: after.status,
      audit_op_id: opId,
      error: after.unverified ?? null,
    };
  } catch (err) {
    const ambiguous = (err as { ambiguous?: boolean }).ambiguous === true;
    const message = err instanceof VendorError ? err.toPublicText() : (err as Error).message;
    return { ...base, outcome: ambiguous ? 'ambiguous' : 'failed', changed: false, seat_freed: null, status_after: null, audit_op_id: opId, error: message };
  }
}

/**
 * After a write the vendor accepted: re-read to report the real state. A re-read that fails does not turn
 * the applied write into a failure (the audit outcome stays ok); the step says it is unverified instead.
 * A re-read that shows the wrong state is an error: the vendor accepted but did not do it.
 */
async function verifyAfterWrite(
  audit: { after?: unknown },
  vendor: Vendor,
  path: StepPath,
  read: () => Promise<{ status: AccountStatus; email: string | null }>,
): Promise<{ changed: true; status: AccountStatus; unverified?: string }> {
  let account: { status: AccountStatus; email: string | null };
  try {
    account = await read();
  } catch (err) {
    const why = err instanceof VendorError ? err.toPublicText() : (err as Error).message;
    return { changed: true, status: 'unknown', unverified: `Applied, but the state could not be read back (${why}); check it with find_user.` };
  }
  audit.after = account;
  if (!targetReached(path, account.status)) {
    throw new VendorError({ vendor, code: 'invalid_response', message: `${VENDOR_NAMES[vendor]} accepted the change but reports ${account.status} for ${account.email}.` });
  }
  return { changed: true, status: account.status };
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
    const apolloNow = new Map<string, PlanStep['account']>();
    if (plan.steps.some((s) => s.vendor === 'apollo' && s.account.source === 'rest') && deps.apollo) {
      const { users } = await deps.apollo.listAllUsers(undefined, ctx.signal);
      for (const a of deps.apollo.toAccounts(users)) apolloNow.set(a.id, restAccount('apollo', a));
    }
    const observed = plan.steps.filter((s) => s.account.id !== '');
    const now = await Promise.all(observed.map((s) => reobserve(deps, s, apolloNow, ctx.signal)));
    const changed = observed.filter((s, i) => {
      const n = now[i];
      return n === null || n.status !== s.account.status || (n.email ?? '').toLowerCase() !== (s.account.email ?? '').toLowerCase() || n.is_admin !== s.account.is_admin;
    });
    if (observedHash(now.filter((n): n is ObservedAccount => n !== null)) !== plan.observed_hash || changed.length > 0) {
      plan.state = 'refused';
      await store.save(plan);
      const list = changed.slice(0, 10).map((s, i) => `${s.vendor} ${s.account.email ?? s.account.id}: ${s.account.status} → ${now[observed.indexOf(s)]?.status ?? 'gone'}`);
      throw new ToolInputError(
        `Nothing was changed: ${changed.length || 'some'} account(s) changed since the plan was made${list.length ? ` (${list.join('; ')})` : ''}. Make a new plan with plan_offboarding and review it again.`,
      );
    }

    plan.state = 'executing';
    await store.save(plan);
    let done = 0;
    const byVendor = new Map<Vendor, PlanStep[]>();
    for (const s of plan.steps) byVendor.set(s.vendor, [...(byVendor.get(s.vendor) ?? []), s]);
    const results = (
      await Promise.all(
        [...byVendor.values()].map((steps) =>
          pool(steps, STEP_CONCURRENCY, async (s) => {
            const r = await runStep(deps, s, plan, ctx.actor, confirmation, ctx.confirmationDetail?.(), ctx.signal);
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

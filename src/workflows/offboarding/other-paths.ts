import type { Deps } from '../../deps.js';
import type { VendorAccount, VendorId } from '../../domain/account.js';
import type { ObservedAccount, PlanStep } from '../../domain/offboarding.js';
import { publicErrorText } from '../../public-error.js';
import type { VendorConnection } from '../../vendors/connection.js';
import { scimToAccount } from '../../vendors/scim/map.js';
import { observedHash } from '../plan-store.js';

/**
 * The "changed since planning" check across every path an account is visible through (issue 14 item 7).
 *
 * A deactivation acts through one path (SCIM deprovisioning, or a REST lock or deactivation), and re-reading
 * only that path misses changes made through the other: in Outreach a REST lock is invisible to SCIM, so a
 * lock made between plan and execute of a SCIM step went unnoticed. So planning also records what the person's
 * email shows through the other configured path (for a SCIM step the vendor's REST accounts; for a REST step
 * the SCIM users, usually none), and execution reads the same again and refuses when anything differs.
 *
 * Only deactivation steps record it: they are the ones whose path choice hides the other view, and they are
 * re-checked only while pending (a resumed run does not trip over what its own finished deactivation changed).
 * Kept apart from plan.ts and execute.ts, which only call recordOtherPaths and otherPathChanges.
 */

/** What this module reads of a step (a plan's step, or a draft before numbering). */
type StepLike = Pick<PlanStep, 'vendor' | 'person' | 'account' | 'kind' | 'other_paths'>;

/** What the other path shows for one step: its source and the accounts in the shape the plan hash covers. */
type Lookup = { source: 'rest' | 'scim'; accounts: ObservedAccount[] };

function restObserved(vendor: VendorId, a: VendorAccount): ObservedAccount {
  return { vendor, source: 'rest', id: a.id, email: a.email, status: a.status, is_admin: a.is_admin };
}

/**
 * What the path a step does not act through shows for its email, or undefined when the vendor has no other
 * path configured (or the step observed no account). `restCache` shares one REST lookup per email, and a
 * vendor's batch lookup where it has one (Apollo lists everyone for any lookup).
 */
async function lookOtherPath(conn: VendorConnection, step: StepLike, cache: Map<string, Promise<Lookup | undefined>>, signal?: AbortSignal): Promise<Lookup | undefined> {
  const email = step.account.email ?? step.person;
  if (step.account.id === '' || !email) return undefined;
  const { adapter, rest, scim } = conn;
  const source = step.account.source === 'scim' ? 'rest' : 'scim';
  const key = `${adapter.id}\u0000${source}\u0000${email.toLowerCase()}`;
  let pending = cache.get(key);
  if (!pending) {
    pending = (async (): Promise<Lookup | undefined> => {
      if (source === 'rest') {
        if (!rest?.findByEmail) return undefined;
        const found = await rest.findByEmail(email, signal);
        return { source, accounts: found.map((a) => restObserved(adapter.id, a)) };
      }
      if (!scim) return undefined;
      const users = await scim.findByUserName(email, signal);
      // SCIM's core schema has no admin flag (as planning records SCIM accounts).
      return { source, accounts: users.map((u) => ({ ...pick(scimToAccount(adapter.id, u)), source: 'scim' as const, is_admin: null })) };
    })();
    cache.set(key, pending);
  }
  return pending;
}

function pick(a: { vendor: VendorId; id: string; email: string | null; status: ObservedAccount['status'] }): Omit<ObservedAccount, 'source' | 'is_admin'> {
  return { vendor: a.vendor, id: a.id, email: a.email, status: a.status };
}

/**
 * After planning: records on each deactivation step what the other path shows (`other_paths`). Returns the
 * vendors whose other path could not be read, with the reason: the caller treats them as vendors that could
 * not be checked (their steps leave the plan), since a plan that cannot later be checked across paths must not
 * be executed.
 */
export async function recordOtherPaths(connections: readonly VendorConnection[], steps: readonly StepLike[], signal?: AbortSignal): Promise<Map<VendorId, string>> {
  const cache = new Map<string, Promise<Lookup | undefined>>();
  const failed = new Map<VendorId, string>();
  await Promise.all(
    steps.map(async (step) => {
      const conn = connections.find((c) => c.adapter.id === step.vendor);
      if (!conn || step.kind !== 'deactivate' || failed.has(step.vendor)) return;
      try {
        const seen = await lookOtherPath(conn, step, cache, signal);
        if (seen) step.other_paths = seen.accounts;
      } catch (err) {
        failed.set(
          step.vendor,
          `${conn.adapter.label}: the ${step.account.source === 'scim' ? 'REST' : 'SCIM'} view of its accounts could not be read, so a change made there could not be noticed before executing (${publicErrorText(err)})`,
        );
      }
    }),
  );
  return failed;
}

/** A change the other path shows since planning, described for the refusal. */
export interface OtherPathChange {
  step: PlanStep;
  source: 'rest' | 'scim';
  description: string;
}

/**
 * Before executing: reads the other path of every step that recorded one and returns the steps whose other
 * path shows something else now (an account locked, deactivated, added, removed, or its admin flag changed).
 */
export async function otherPathChanges(deps: Deps, steps: readonly PlanStep[], signal?: AbortSignal): Promise<OtherPathChange[]> {
  const cache = new Map<string, Promise<Lookup | undefined>>();
  const recorded = steps.filter((s) => s.other_paths !== undefined);
  const now = await Promise.all(
    recorded.map((s) => {
      const conn = deps.vendors.find((c) => c.adapter.id === s.vendor);
      return conn ? lookOtherPath(conn, s, cache, signal) : Promise.resolve(undefined);
    }),
  );
  const out: OtherPathChange[] = [];
  recorded.forEach((step, i) => {
    const was = step.other_paths!;
    const seen = now[i];
    const source = step.account.source === 'scim' ? 'rest' : 'scim';
    const current = seen?.accounts ?? [];
    if (observedHash(current) === observedHash(was)) return;
    out.push({ step, source, description: describe(step, source, was, seen === undefined ? undefined : current) });
  });
  return out;
}

function describe(step: PlanStep, source: 'rest' | 'scim', was: ObservedAccount[], now: ObservedAccount[] | undefined): string {
  const view = source === 'rest' ? 'REST' : 'SCIM';
  const who = `${step.vendor} ${step.account.email ?? step.person} (${view} view)`;
  if (now === undefined) return `${who}: no longer configured`;
  const byId = new Map(now.map((a) => [a.id, a]));
  const parts: string[] = [];
  for (const a of was) {
    const b = byId.get(a.id);
    if (!b) parts.push(`id ${a.id} gone`);
    else if (b.status !== a.status) parts.push(`${a.status} → ${b.status}`);
    else if (b.is_admin !== a.is_admin) parts.push(`admin ${String(a.is_admin)} → ${String(b.is_admin)}`);
    else if ((b.email ?? '').toLowerCase() !== (a.email ?? '').toLowerCase()) parts.push(`id ${a.id} email changed`);
    byId.delete(a.id);
  }
  for (const b of byId.values()) parts.push(`id ${b.id} appeared (${b.status})`);
  return `${who}: ${parts.join(', ') || 'changed'}`;
}

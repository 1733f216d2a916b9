import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import type { AccountStatus, Vendor } from '../domain/account.js';
import { writePrivateFile } from '../fs-private.js';
import { ToolInputError } from '../http/errors.js';

/**
 * Offboarding plans: what plan_offboarding observed and intends, kept under the state directory so that
 * execute_offboarding acts on exactly that, once. A plan id is 128 random bits, valid for 15 minutes, and
 * bound to a hash of the accounts it observed; executing it again returns the stored result.
 */

export const PLAN_TTL_MS = 15 * 60_000;

export type StepPath = 'rest_lock' | 'rest_deactivate' | 'scim_deprovision' | 'manual' | 'none';

/** The state of one account as planning saw it; the hash covers exactly these fields. */
export interface ObservedAccount {
  vendor: Vendor;
  source: 'rest' | 'scim';
  id: string;
  email: string | null;
  status: AccountStatus;
  is_admin: boolean | null;
}

export interface PlanStep {
  step_id: string;
  vendor: Vendor;
  /** The person (roster email, lower-cased) this step offboards. */
  person: string;
  account: ObservedAccount & { name: string | null; role: string | null };
  action: string;
  path: StepPath;
  expected_result: string;
  /** True when the vendor frees the paid seat; false when it keeps it; null when the vendor does not say. */
  seat_freed: boolean | null;
  /** Manual work the vendor notes name (reassign, unlink, reduce seats...). */
  follow_ups: string[];
  /** For a manual step: where in the vendor's admin console to do it. */
  manual_instructions: string | null;
}

export interface StepResult {
  step_id: string;
  vendor: Vendor;
  person: string;
  account_id: string;
  email: string | null;
  path: StepPath;
  outcome: 'done' | 'unchanged' | 'failed' | 'ambiguous' | 'manual';
  changed: boolean;
  seat_freed: boolean | null;
  status_after: AccountStatus | null;
  audit_op_id: string | null;
  error: string | null;
}

export interface ExecutionResult {
  plan_id: string;
  executed_at: string;
  confirmation: string;
  steps: StepResult[];
  summary: { done: number; unchanged: number; failed: number; ambiguous: number; manual: number };
  /** What to do about failures, or null when everything automated succeeded. */
  retry_advice: string | null;
}

export interface Plan {
  plan_id: string;
  created_at: string;
  expires_at: string;
  people: string[];
  transfer_to: string | null;
  /** People the planner found no account for, per vendor that was asked. */
  not_found: { person: string; vendors: Vendor[] }[];
  /** Vendors that could not be checked (an error while looking); the plan says so rather than skipping. */
  unchecked: { vendor: Vendor; reason: string }[];
  steps: PlanStep[];
  observed_hash: string;
  state: 'planned' | 'executing' | 'executed' | 'refused';
  result: ExecutionResult | null;
}

/** Order-independent hash of what planning observed: vendor, source, id, email, status, admin flag. */
export function observedHash(accounts: ObservedAccount[]): string {
  const rows = accounts
    .map((a) => [a.vendor, a.source, a.id, (a.email ?? '').toLowerCase(), a.status, a.is_admin === null ? 'null' : String(a.is_admin)].join('\u0000'))
    .sort();
  return createHash('sha256').update(rows.join('\n')).digest('hex');
}

const PLAN_ID = /^[A-Za-z0-9_-]{22}$/;

export class PlanStore {
  private readonly dir: string;
  /** Serialises state transitions of one plan within the process (two executes racing). */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    stateDir: string,
    private readonly clock: Clock,
  ) {
    this.dir = join(stateDir, 'plans');
  }

  newPlanId(): string {
    return randomBytes(16).toString('base64url');
  }

  async save(plan: Plan): Promise<void> {
    await writePrivateFile(this.path(plan.plan_id), JSON.stringify(plan));
  }

  /** Loads a plan; an unknown or malformed id is a clear error, never a path outside the plan directory. */
  async load(planId: string): Promise<Plan> {
    if (!PLAN_ID.test(planId)) throw new ToolInputError('`plan_id` is not a plan id returned by plan_offboarding (22 characters). Make a plan first.');
    let text: string;
    try {
      text = await readFile(this.path(planId), 'utf8');
    } catch {
      throw new ToolInputError(`No offboarding plan ${planId} on this server. Plans are kept under the state directory; make a new one with plan_offboarding.`);
    }
    return JSON.parse(text) as Plan;
  }

  expired(plan: Plan): boolean {
    return this.clock.now() > Date.parse(plan.expires_at);
  }

  /** Runs `fn` with the plan's lock held, so a plan cannot be executed twice at the same time. */
  async withLock<T>(planId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(planId) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.locks.set(planId, settled);
    try {
      return await run;
    } finally {
      if (this.locks.get(planId) === settled) this.locks.delete(planId);
    }
  }

  private path(planId: string): string {
    return join(this.dir, `${planId}.json`);
  }
}

import type { AccountStatus, VendorId } from './account.js';

/**
 * The offboarding plan as plan_offboarding stores it and execute_offboarding carries out: what was observed
 * per account, the step chosen for it, and each step's result. Types only; workflows/offboarding.ts builds
 * and runs plans, workflows/plan-store.ts keeps them.
 */

export type StepPath = 'rest_lock' | 'rest_deactivate' | 'scim_deprovision' | 'manual' | 'none';

/** The state of one account as planning saw it; the hash covers exactly these fields. */
export interface ObservedAccount {
  vendor: VendorId;
  source: 'rest' | 'scim';
  id: string;
  email: string | null;
  status: AccountStatus;
  is_admin: boolean | null;
}

export interface PlanStep {
  step_id: string;
  vendor: VendorId;
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
  /**
   * What the other configured path showed for this email at planning (for a SCIM step the vendor's REST
   * accounts, for a REST step its SCIM users); execution re-reads it and refuses on any difference. Absent
   * when the vendor has no other path (and in plans made before this existed).
   */
  other_paths?: ObservedAccount[];
}

export interface StepResult {
  step_id: string;
  vendor: VendorId;
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
  not_found: { person: string; vendors: VendorId[] }[];
  /** Vendors that could not be checked (an error while looking); the plan says so rather than skipping. */
  unchecked: { vendor: VendorId; reason: string }[];
  steps: PlanStep[];
  observed_hash: string;
  state: 'planned' | 'executing' | 'executed' | 'refused';
  result: ExecutionResult | null;
}


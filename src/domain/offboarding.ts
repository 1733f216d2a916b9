import type { AccountStatus, VendorId } from './account.js';

/**
 * The offboarding plan as plan_offboarding stores it and execute_offboarding carries out: what was observed
 * per account, the ordered steps chosen for it (hand over records → unlink the mailbox → deactivate → free the
 * seat), and each step's result. Types only; workflows/offboarding.ts builds and runs plans,
 * workflows/plan-store.ts keeps them.
 */

/** What a step does. */
export const STEP_KINDS = ['transfer', 'unlink_mailbox', 'deactivate', 'free_seat'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export const STEP_PATHS = ['rest_lock', 'rest_deactivate', 'scim_deprovision', 'rest', 'scim_delete', 'manual', 'none'] as const;

/**
 * How a step does it: `rest_lock` (Outreach), `rest_deactivate`, `scim_deprovision`, `rest` (a REST write
 * such as an owner change or a mailbox removal), `scim_delete` (freeing a seat), `manual` (an admin does it
 * in the console, with the instructions given), `none` (already done when planned).
 */
export type StepPath = (typeof STEP_PATHS)[number];

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
  /** The person's account the step acts on (for a transfer: the records' owner). */
  account: ObservedAccount & { name: string | null; role: string | null };
  kind: StepKind;
  action: string;
  path: StepPath;
  expected_result: string;
  /** True when the vendor frees the paid seat; false when it keeps it; null when the vendor does not say. */
  seat_freed: boolean | null;
  /** Reminders the vendor notes name beyond the steps (reduce the seat count, CRM sync credentials...). */
  follow_ups: string[];
  /** For a manual step: where in the vendor's admin console to do it. */
  manual_instructions: string | null;
  /** Steps that must have succeeded first (no lock before the transfers succeeded). */
  depends_on: string[];
  /** transfer: the record type, e.g. "prospects"; unlink_mailbox: "mailbox". */
  record_type: string | null;
  /** Records (or mailboxes) the person held when planned; null when not counted. */
  count: number | null;
  /** The vendor shows only part of the collection (Apollo's 50,000 ceiling): `count` is at least this many. */
  count_is_lower_bound: boolean;
  /** transfer: who receives the records, as that vendor knows them. */
  transfer_to: { id: string; email: string | null } | null;
  /** unlink_mailbox: the mailbox, as the vendor names it. */
  target: { id: string; email: string | null } | null;
  /** The step cannot be undone (deleting a user to free the seat). */
  irreversible: boolean;
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
  kind: StepKind;
  /** transfer: the record type; unlink_mailbox: "mailbox"; else null (as in the plan). */
  record_type: string | null;
  account_id: string;
  email: string | null;
  path: StepPath;
  /**
   * done: changed something; unchanged: already so; failed: nothing more applied (what was done before the
   * failure is in `records_moved`); ambiguous: the vendor may have applied the last write; manual: for an
   * admin; blocked: not run because a step it depends on did not succeed.
   */
  outcome: 'done' | 'unchanged' | 'failed' | 'ambiguous' | 'manual' | 'blocked';
  changed: boolean;
  seat_freed: boolean | null;
  status_after: AccountStatus | null;
  /** transfer: records handed over by this step, over every run. */
  records_moved: number | null;
  /** Audit operation ids of the first writes this step made (a transfer makes one per batch), at most 10. */
  audit_op_ids: string[];
  /** Writes this step made in all, over every run (each one audit intent and outcome, with the step id). */
  audit_ops: number;
  error: string | null;
}

export interface ExecutionResult {
  plan_id: string;
  executed_at: string;
  confirmation: string;
  /** Runs of this plan so far: a run after a failure resumes from the first unfinished step. */
  runs: number;
  steps: StepResult[];
  summary: { done: number; unchanged: number; failed: number; ambiguous: number; manual: number; blocked: number };
  /** What to do about failures, or null when everything automated succeeded. */
  retry_advice: string | null;
}

export interface Plan {
  plan_id: string;
  created_at: string;
  expires_at: string;
  people: string[];
  transfer_to: string | null;
  /** Freeing seats by deleting users was asked for (irreversible). */
  free_seat: boolean;
  /** People the planner found no account for, per vendor that was asked. */
  not_found: { person: string; vendors: VendorId[] }[];
  /** Vendors that could not be checked (an error while looking); the plan says so rather than skipping. */
  unchecked: { vendor: VendorId; reason: string }[];
  /** Admin warnings: a vendor left with fewer than two active admins. */
  warnings: string[];
  steps: PlanStep[];
  observed_hash: string;
  /** partial: a run ended with steps unfinished; executing the plan again resumes. */
  state: 'planned' | 'executing' | 'partial' | 'executed' | 'refused';
  result: ExecutionResult | null;
}

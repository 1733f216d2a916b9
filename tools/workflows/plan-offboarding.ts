import * as z from 'zod';
import { emailArg } from '../args.js';
import { ACCOUNT_STATUSES } from '../../src/domain/account.js';
import { STEP_KINDS, STEP_PATHS } from '../../src/domain/offboarding.js';
import type { Plan } from '../../src/domain/offboarding.js';
import { MAX_PEOPLE, planOffboarding } from '../../src/workflows/offboarding/plan.js';
import { defineTool } from '../types.js';
import { warningsShape } from '../warnings.js';

export const StepSchema = z.object({
  step_id: z.string().describe('Step id within the plan, e.g. "s3"'),
  vendor: z.string().describe('Vendor of the account, e.g. "outreach"'),
  person: z.string().describe('The person being offboarded (lower-cased email)'),
  account_id: z.string().describe('Vendor id of the account ("" when the vendor cannot be looked at)'),
  email: z.string().nullable().describe('Account email as the vendor stores it'),
  name: z.string().nullable().describe('Account holder\'s name as the vendor stores it'),
  current_status: z.enum(ACCOUNT_STATUSES).describe('Status observed now'),
  is_admin: z.boolean().nullable().describe('Whether the account is an admin (null when the API does not say)'),
  kind: z.enum(STEP_KINDS).describe('transfer (hand records over), unlink_mailbox, deactivate or free_seat, in that order per person and vendor'),
  action: z.string().describe('What execution will do'),
  path: z
    .enum(STEP_PATHS)
    .describe('How: rest_lock, rest_deactivate, scim_deprovision, rest (an owner change or mailbox removal), scim_delete (frees a seat), manual (by hand, see manual_instructions), or none (already done)'),
  expected_result: z.string().describe('The state expected afterwards'),
  seat_freed: z.boolean().nullable().describe('Whether the paid seat is freed (false: still billed; null: the vendor does not say)'),
  record_type: z.string().nullable().describe('transfer: what is handed over, e.g. "prospects"; unlink_mailbox: "mailbox"'),
  count: z.number().int().nullable().describe('How many the person owns now (records, or 1 mailbox)'),
  count_is_lower_bound: z.boolean().describe('True when the vendor shows only part of the collection: at least `count`'),
  transfer_to: z.object({ id: z.string().describe('Vendor id'), email: z.string().nullable().describe('Email') }).nullable().describe('transfer: who receives the records'),
  depends_on: z.array(z.string()).describe('Steps that must succeed first, e.g. ["s1", "s2"]'),
  irreversible: z.boolean().describe('True when the step cannot be undone (deleting a user to free the seat)'),
  follow_ups: z.array(z.string()).describe('Reminders from the vendor notes beyond the steps (reduce the seat count…)'),
  manual_instructions: z.string().nullable().describe('For a manual step: where in the admin console to do it'),
});

export default defineTool({
  name: 'plan_offboarding',
  vendor: null,
  toolsets: ['workflows'],
  title: 'Plan an offboarding across vendors',
  description:
    'Plans the offboarding of up to 500 people in every configured vendor, changing nothing. Per person and vendor, in order: hand what they own to `transfer_to`, unlink their mailboxes, deactivate (SCIM where configured, else REST, else by hand), and with free_seat free the seat. ' +
    'What no API can do is a manual step with the admin-console path. Refuses to deactivate a vendor\'s last active admin. Returns a plan_id (15 minutes): show the plan to the user, then call execute_offboarding.',
  inputSchema: (vendorIds) => ({
    emails: z.array(emailArg()).min(1).max(MAX_PEOPLE).describe('Emails of the people leaving'),
    transfer_to: emailArg().optional().describe('Colleague who takes over their records; must be active in each vendor that hands records over'),
    free_seat: z.boolean().default(false).describe('Also free seats that only deleting the user frees (Outreach: SCIM DELETE after the lock). Irreversible'),
    vendors: z.array(z.enum(vendorIds)).optional().describe('Only these vendors; default all configured'),
  }),
  outputSchema: {
    ...warningsShape,
    plan_id: z.string().describe('Pass to execute_offboarding; single use'),
    expires_at: z.string().describe('ISO time after which the plan cannot be executed'),
    people: z.array(z.string()).describe('People in the plan (lower-cased)'),
    summary: z.object({
      steps: z.number().int().describe('Steps in the plan'),
      automated: z.number().int().describe('Steps the server will carry out'),
      manual: z.number().int().describe('Steps an admin must do by hand'),
      already_done: z.number().int().describe('Steps already done when planned (path none)'),
      records_to_transfer: z.number().int().describe('Records the automated transfer steps hand over'),
      seats_still_billed: z.number().int().describe('Steps after which the seat is still billed'),
    }).describe('Counts over the steps'),
    steps: z.array(StepSchema).describe('One step per account (and per vendor that must be checked by hand)'),
    not_found: z.array(z.object({ person: z.string().describe('Email'), vendors: z.array(z.string()).describe('Vendors with no account for it') })).describe('People without an account in some vendors'),
    unchecked: z.array(z.object({ vendor: z.string().describe('Vendor'), reason: z.string().describe('Why it could not be checked') })).describe('Vendors that could not be checked: the plan does not cover them'),
    admins: z.array(z.string()).describe('Steps (ids) that remove an admin'),
    warnings: z.array(z.string()).describe('What the admin should know first, e.g. a vendor left with a single admin'),
    returned: z.number().int().describe('Steps in `steps`'),
    truncated: z.boolean().describe('True when `steps` was cut to fit; the complete plan is at full_result_uri'),
    full_result_uri: z.string().nullable().describe('Resource URI of the complete plan when truncated'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  pagedField: 'steps',
  async handler(args, ctx) {
    const { deps } = ctx;
    const enabled = deps.vendors.map((c) => c.adapter.id);
    const vendors = (args.vendors ?? enabled).filter((v) => enabled.includes(v));
    const plan = await planOffboarding(deps, deps.plans, { emails: args.emails, transferTo: args.transfer_to ?? null, vendors, freeSeat: args.free_seat }, ctx.progress, ctx.signal);
    return planOutput(plan);
  },
});

/** The plan as plan_offboarding returns it (and the in-chat plan view shows it). */
export function planOutput(plan: Plan) {
  const steps = plan.steps.map((s) => ({
    step_id: s.step_id,
    vendor: s.vendor,
    person: s.person,
    account_id: s.account.id,
    email: s.account.email,
    name: s.account.name,
    current_status: s.account.status,
    is_admin: s.account.is_admin,
    kind: s.kind,
    action: s.action,
    path: s.path,
    expected_result: s.expected_result,
    seat_freed: s.seat_freed,
    record_type: s.record_type,
    count: s.count,
    count_is_lower_bound: s.count_is_lower_bound,
    transfer_to: s.transfer_to,
    depends_on: s.depends_on,
    irreversible: s.irreversible,
    follow_ups: s.follow_ups,
    manual_instructions: s.manual_instructions,
  }));
  const automated = steps.filter((s) => s.path !== 'manual' && s.path !== 'none');
  return {
    plan_id: plan.plan_id,
    expires_at: plan.expires_at,
    people: plan.people,
    summary: {
      steps: steps.length,
      automated: automated.length,
      manual: steps.filter((s) => s.path === 'manual').length,
      already_done: steps.filter((s) => s.path === 'none').length,
      seats_still_billed: steps.filter((s) => s.seat_freed === false).length,
      records_to_transfer: automated.filter((s) => s.kind === 'transfer').reduce((n, s) => n + (s.count ?? 0), 0),
    },
    steps,
    not_found: plan.not_found,
    unchecked: plan.unchecked,
    admins: steps.filter((s) => s.kind === 'deactivate' && s.is_admin === true && s.path !== 'none').map((s) => s.step_id),
    warnings: plan.warnings,
    returned: steps.length,
    truncated: false,
    full_result_uri: null,
  };
}

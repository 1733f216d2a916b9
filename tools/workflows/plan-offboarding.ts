import * as z from 'zod';
import { ACCOUNT_STATUSES } from '../../src/domain/account.js';
import { MAX_PEOPLE, planOffboarding } from '../../src/workflows/offboarding.js';
import { defineTool } from '../types.js';
import { warningsShape } from '../warnings.js';

export const StepSchema = z.object({
  step_id: z.string().describe('Step id within the plan, e.g. "s3"'),
  vendor: z.string().describe('Vendor of the account, e.g. "outreach"'),
  person: z.string().describe('The person being offboarded (lower-cased email)'),
  account_id: z.string().describe('Vendor id of the account ("" when the vendor cannot be looked at)'),
  email: z.string().nullable().describe('Account email as the vendor stores it'),
  current_status: z.enum(ACCOUNT_STATUSES).describe('Status observed now'),
  is_admin: z.boolean().nullable().describe('Whether the account is an admin (null when the API does not say)'),
  action: z.string().describe('What execution will do'),
  path: z.enum(['rest_lock', 'rest_deactivate', 'scim_deprovision', 'manual', 'none']).describe('How: REST lock, REST deactivation, SCIM deprovisioning, a manual step, or nothing (already done)'),
  expected_result: z.string().describe('The state expected afterwards'),
  seat_freed: z.boolean().nullable().describe('Whether the paid seat is freed (false: still billed; null: the vendor does not say)'),
  follow_ups: z.array(z.string()).describe('Manual work the vendor notes name (reassign, unlink, reduce seats)'),
  manual_instructions: z.string().nullable().describe('For a manual step: where in the admin console to do it'),
});

export default defineTool({
  name: 'plan_offboarding',
  vendor: null,
  title: 'Plan an offboarding across vendors',
  description:
    'Plans the offboarding of one person or up to 500 (by email) in every configured vendor, without changing anything. Per vendor and account it shows the current state, the action and the path execution will take ' +
    '(Outreach: REST lock, or SCIM deprovisioning when configured; SalesLoft: SCIM, else REST deactivation; Apollo and ZoomInfo: SCIM, else a manual step with the exact admin-console path), the expected result, ' +
    'whether the seat is freed (an Outreach lock keeps the seat; Apollo deactivation does not reduce billing), and the manual follow-ups (reassign sequences and cadences, unlink mailboxes, reduce the seat count, transfer ownership to `transfer_to`). ' +
    'Returns a plan_id valid for 15 minutes and usable once: show the plan to the user, then call execute_offboarding with it. Spends no credits.',
  inputSchema: (vendorIds) => ({
    emails: z.array(z.email()).min(1).max(MAX_PEOPLE).describe('Emails of the people leaving, e.g. ["jane.doe@acme.example"] (1 to 500)'),
    transfer_to: z.email().optional().describe('Who takes over their records (sequences, cadences, contacts), e.g. "manager@acme.example"; named in the follow-ups'),
    vendors: z.array(z.enum(vendorIds)).optional().describe('Only these vendors, e.g. ["outreach", "salesloft"]; default every configured vendor'),
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
      already_done: z.number().int().describe('Accounts already in the target state'),
      seats_still_billed: z.number().int().describe('Steps after which the seat is still billed'),
    }).describe('Counts over the steps'),
    steps: z.array(StepSchema).describe('One step per account (and per vendor that must be checked by hand)'),
    not_found: z.array(z.object({ person: z.string().describe('Email'), vendors: z.array(z.string()).describe('Vendors with no account for it') })).describe('People without an account in some vendors'),
    unchecked: z.array(z.object({ vendor: z.string().describe('Vendor'), reason: z.string().describe('Why it could not be checked') })).describe('Vendors that could not be checked: the plan does not cover them'),
    admins: z.array(z.string()).describe('Steps (ids) that remove an admin: check the vendor keeps another admin'),
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
    const plan = await planOffboarding(deps, deps.plans, { emails: args.emails, transferTo: args.transfer_to?.toLowerCase() ?? null, vendors }, ctx.progress, ctx.signal);
    const steps = plan.steps.map((s) => ({
      step_id: s.step_id,
      vendor: s.vendor,
      person: s.person,
      account_id: s.account.id,
      email: s.account.email,
      current_status: s.account.status,
      is_admin: s.account.is_admin,
      action: s.action,
      path: s.path,
      expected_result: s.expected_result,
      seat_freed: s.seat_freed,
      follow_ups: s.follow_ups,
      manual_instructions: s.manual_instructions,
    }));
    return {
      plan_id: plan.plan_id,
      expires_at: plan.expires_at,
      people: plan.people,
      summary: {
        steps: steps.length,
        automated: steps.filter((s) => s.path !== 'manual' && s.path !== 'none').length,
        manual: steps.filter((s) => s.path === 'manual').length,
        already_done: steps.filter((s) => s.path === 'none').length,
        seats_still_billed: steps.filter((s) => s.seat_freed === false).length,
      },
      steps,
      not_found: plan.not_found,
      unchecked: plan.unchecked,
      admins: steps.filter((s) => s.is_admin === true && s.path !== 'none').map((s) => s.step_id),
      returned: steps.length,
      truncated: false,
      full_result_uri: null,
    };
  },
});

import * as z from 'zod';
import { ACCOUNT_STATUSES } from '../../src/domain/account.js';
import { STEP_KINDS } from '../../src/domain/offboarding.js';
import { executeOffboarding } from '../../src/workflows/offboarding/execute.js';
import type { Plan } from '../../src/domain/offboarding.js';
import { defineTool, type ToolContext } from '../types.js';
import { confirmTokenShape } from '../user-ref.js';
import { warningsShape } from '../warnings.js';

/** Lines of the confirmation prompt beyond which steps are summarised, so the dialog stays readable. */
const PROMPT_STEPS = 40;

function confirmPlan(ctx: ToolContext, plan: Plan, confirmArg: string | undefined): Promise<string> {
  const finished = new Set((plan.result?.steps ?? []).filter((r) => r.outcome === 'done' || r.outcome === 'unchanged').map((r) => r.step_id));
  const acting = plan.steps.filter((s) => s.path !== 'none' && s.path !== 'manual' && !finished.has(s.step_id));
  const manual = plan.steps.filter((s) => s.path === 'manual');
  const targets = acting.slice(0, PROMPT_STEPS).map((s) => ({
    vendor: s.vendor,
    id: s.account.id,
    email: s.account.email,
    action: `${s.action}${s.seat_freed === false ? ' (seat still billed)' : ''}${s.irreversible ? ' (IRREVERSIBLE)' : ''}`,
  }));
  const notes = [
    // A vendor the plan could not look at is not covered: the human must know before approving.
    ...plan.unchecked.map((u) => `NOT COVERED: ${u.vendor} could not be checked (${u.reason}); offboard there separately.`),
    ...(finished.size > 0 ? [`Resuming: ${finished.size} step(s) finished in an earlier run and are not repeated.`] : []),
    ...plan.warnings,
    ...(acting.length > PROMPT_STEPS ? [`…and ${acting.length - PROMPT_STEPS} more automated steps (see the plan).`] : []),
    ...(manual.length > 0 ? [`${manual.length} step(s) stay manual (no API can do them); the result lists where to do them.`] : []),
    ...[...new Set(plan.steps.flatMap((s) => s.follow_ups))].slice(0, 8),
  ];
  return ctx
    .confirm({
      tool: 'execute_offboarding',
      summary: `Offboard ${plan.people.length} ${plan.people.length === 1 ? 'person' : 'people'} (${plan.people.slice(0, 3).join(', ')}${plan.people.length > 3 ? ', …' : ''}): ${acting.length} automated step(s) across ${new Set(acting.map((s) => s.vendor)).size} vendor(s), plan ${plan.plan_id}`,
      targets,
      notes,
      tokenMatches: [plan.plan_id],
      confirmArg,
      inChat: { subject: { plan_id: plan.plan_id } },
    })
    .then((c) => c.method);
}

export default defineTool({
  name: 'execute_offboarding',
  vendor: null,
  toolsets: ['workflows'],
  title: 'Execute an offboarding plan',
  description:
    'Executes a plan from plan_offboarding. Re-reads every account first and changes nothing if any changed since planning. ' +
    'Steps run in plan order, each only after those it depends on succeeded, each audited. ' +
    'After a partial failure, calling again with the same plan_id resumes at the first unfinished step. HANDS RECORDS OVER, LOCKS, DEACTIVATES AND (with free_seat) DELETES ACCOUNTS.',
  inputSchema: {
    plan_id: z.string().min(1).max(64).describe('plan_id from plan_offboarding'),
    ...confirmTokenShape('the plan id again'),
  },
  outputSchema: {
    ...warningsShape,
    plan_id: z.string().describe('The plan executed'),
    replayed: z.boolean().describe('True when the plan had already run and this is its stored result (no vendor was called)'),
    executed_at: z.string().describe('When the plan ran'),
    confirmation: z.string().describe('How the human approved: elicit, browser or token'),
    summary: z
      .object({
        done: z.number().int().describe('Steps that changed an account'),
        unchanged: z.number().int().describe('Accounts already in the target state'),
        failed: z.number().int().describe('Steps that failed (nothing applied)'),
        ambiguous: z.number().int().describe('Steps whose outcome is unknown (the vendor may have applied them)'),
        manual: z.number().int().describe('Steps an admin must do by hand'),
        blocked: z.number().int().describe('Steps not run because a step they depend on did not succeed'),
      })
      .describe('Counts of step outcomes'),
    steps: z
      .array(
        z.object({
          step_id: z.string().describe('Step id, e.g. "s3"'),
          vendor: z.string().describe('Vendor'),
          person: z.string().describe('Person offboarded'),
          kind: z.enum(STEP_KINDS).describe('transfer, unlink_mailbox, deactivate or free_seat'),
          record_type: z.string().nullable().describe('transfer: the record type, e.g. "prospects"; unlink_mailbox: "mailbox"'),
          account_id: z.string().describe('Vendor account id'),
          email: z.string().nullable().describe('Account email'),
          path: z.string().describe('rest_lock, rest_deactivate, scim_deprovision, rest, scim_delete, manual or none'),
          outcome: z.enum(['done', 'unchanged', 'failed', 'ambiguous', 'manual', 'blocked']).describe('What happened; blocked: not run because a step it depends on did not succeed'),
          changed: z.boolean().describe('True when this step changed something'),
          seat_freed: z.boolean().nullable().describe('Whether the seat is freed (false: still billed; null: unknown)'),
          status_after: z.enum(ACCOUNT_STATUSES).nullable().describe('Account status after the step, when known'),
          records_moved: z.number().int().nullable().describe('transfer: records handed over, over every run'),
          audit_op_ids: z.array(z.string()).describe('Audit log operation ids of the step\'s first writes (one per transfer batch), at most 10'),
          audit_ops: z.number().int().describe('Writes the step made in all; the audit log has each, with the plan and step ids'),
          error: z.string().nullable().describe('What went wrong, for failed, ambiguous or blocked steps'),
        }),
      )
      .describe('Per-step results'),
    manual_steps: z.array(z.string()).describe('Where to do each manual step'),
    follow_ups: z.array(z.string()).describe('Reminders from the vendor notes beyond the steps (reduce the seat count, CRM sync credentials)'),
    runs: z.number().int().describe('Runs of this plan so far (a run after a failure resumes where the last one stopped)'),
    retry_advice: z.string().nullable().describe('What to retry after a partial failure or for vendors the plan could not check; null when nothing is left'),
    unchecked: z
      .array(z.object({ vendor: z.string().describe('Vendor'), reason: z.string().describe('Why it could not be checked') }))
      .describe('Vendors the plan could not check: NOT offboarded by this run'),
    returned: z.number().int().describe('Steps in `steps`'),
    truncated: z.boolean().describe('True when `steps` was cut to fit; the complete result is at full_result_uri'),
    full_result_uri: z.string().nullable().describe('Resource URI of the complete result when truncated'),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  pagedField: 'steps',
  async handler(args, ctx) {
    const { plan, result, replayed } = await executeOffboarding(
      {
        deps: ctx.deps,
        store: ctx.deps.plans,
        actor: ctx.actor,
        confirm: (p) => confirmPlan(ctx, p, args.confirm),
        confirmationDetail: () => ctx.confirmationDetail(),
        progress: ctx.progress,
        signal: ctx.signal,
      },
      args.plan_id.trim(),
    );
    return {
      plan_id: result.plan_id,
      replayed,
      executed_at: result.executed_at,
      confirmation: result.confirmation,
      summary: result.summary,
      steps: result.steps,
      manual_steps: [...new Set(plan.steps.filter((s) => s.path === 'manual').map((s) => `${s.vendor} ${s.account.email ?? s.person}: ${s.manual_instructions ?? 'by hand'}`))],
      follow_ups: [...new Set(plan.steps.flatMap((s) => s.follow_ups))],
      retry_advice: result.retry_advice,
      runs: result.runs,
      unchecked: plan.unchecked,
      returned: result.steps.length,
      truncated: false,
      full_result_uri: null,
    };
  },
});

import * as z from 'zod';
import { planOutput } from '../workflows/plan-offboarding.js';
import { defineAppTool } from './types.js';

/**
 * The plan behind an approval request, for the in-chat view of execute_offboarding's `approval_required`
 * result (whose structuredContent is the protocol envelope only: the plan would cost the model's context).
 */
export default defineAppTool({
  name: 'offboarding_plan',
  title: 'Offboarding plan (in-chat view)',
  description: 'Returns a stored offboarding plan with the results of its runs, for the offboarding view.',
  view: 'offboarding',
  companionOf: ['plan_offboarding', 'execute_offboarding'],
  inputSchema: {
    plan_id: z.string().min(1).max(64).describe('plan_id from plan_offboarding'),
  },
  outputSchema: {
    plan: z.record(z.string(), z.unknown()).describe('The plan as plan_offboarding returns it'),
    state: z.string().describe('planned, executing, partial, executed or refused'),
    result: z.record(z.string(), z.unknown()).nullable().describe('The last run, when it ran'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const plan = await ctx.deps.plans.load(args.plan_id.trim());
    return { plan: planOutput(plan), state: plan.state, result: (plan.result as unknown as Record<string, unknown>) ?? null };
  },
});

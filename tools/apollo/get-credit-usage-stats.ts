import * as z from 'zod';
import { VendorError } from '../../src/errors.js';
import { defineTool } from '../types.js';
import { sideLookupWarning } from '../../src/side-lookup.js';
import { CREDIT_COUNTER, requireApollo, VENDOR } from './shared.js';

export default defineTool({
  name: 'apollo_get_credit_usage_stats',
  vendor: 'apollo',
  toolsets: ['apollo'],
  title: 'Apollo.io credit usage and this server\'s credit budget',
  description:
    "Shows Apollo.io credits: the team's balance per credit type in the current billing cycle (POST /usage_stats/credit_usage_stats, needs a master API key), " +
    "the key owner's own lead-credit usage (GET /users/api_profile, any key), and this server's monthly credit budget (SALES_ACCESS_CREDIT_BUDGET): spent, reserved, remaining. " +
    "Reconciles the server's ledger with Apollo's counter: credits Apollo counts beyond the ledger are charged to the budget. Spends no credits.",
  inputSchema: {},
  outputSchema: {
    team: z
      .object({
        credit_types: z
          .array(
            z.object({
              type: z.string().describe('Credit type, e.g. lead_credit (email reveals and enrichment), direct_dial_credit (mobile numbers)'),
              limit: z.number().describe('Allowance in the cycle (0: not in the plan)'),
              consumed: z.number().describe('Used in the cycle'),
              left_over: z.number().describe('Left in the cycle'),
            }),
          )
          .describe('Every credit type Apollo reports; dialer is in minutes'),
        cycle_start: z.string().nullable().describe('Start of the billing cycle'),
        cycle_end: z.string().nullable().describe('End of the billing cycle (unused credits expire then)'),
      })
      .nullable()
      .describe("The team's credits; null when the key is not a master key (see notes)"),
    key_owner: z
      .object({
        id: z.string().describe('Apollo user id of the credential owner'),
        email: z.string().nullable().describe('Email of the credential owner'),
        lead_credits_used: z.number().nullable().describe('Lead credits this user used in the cycle'),
        lead_credits_allowance: z.number().nullable().describe("The user's effective lead-credit allowance"),
        credits_remaining: z.number().nullable().describe('Lead credits remaining for the user'),
      })
      .nullable()
      .describe('The credential owner (GET /users/api_profile?include_credit_usage=true); null when it could not be read (see notes)'),
    budget: z
      .object({
        month: z.string().describe('Budget month, YYYY-MM (UTC)'),
        budget: z.number().describe('Credits this server may spend on Apollo per calendar month (SALES_ACCESS_CREDIT_BUDGET; 0 = none)'),
        spent: z.number().describe('Credits booked this month'),
        reserved: z.number().describe('Worst cases of calls in progress'),
        remaining: z.number().describe('budget - spent - reserved'),
        reconciliation: z
          .string()
          .describe('baseline (first comparison this month), in_line, raised (Apollo counted more: the difference was charged) or rebaselined (Apollo counter went down: new cycle), or not_done'),
        adjustment: z.number().describe('Credits added to `spent` by this reconciliation'),
      })
      .describe("This server's credit ledger for Apollo"),
    notes: z.array(z.string()).describe('What could not be read and why'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(_args, ctx) {
    const client = requireApollo(ctx);
    const notes: string[] = [];
    let team: {
      credit_types: { type: string; limit: number; consumed: number; left_over: number }[];
      cycle_start: string | null;
      cycle_end: string | null;
    } | null = null;
    try {
      const stats = await client.creditUsageStats(ctx.signal);
      team = {
        credit_types: Object.entries(stats.credit_usage_stats).map(([type, c]) => ({ type, limit: c.limit, consumed: c.consumed, left_over: c.left_over })),
        cycle_start: stats.current_credit_cycle?.start_date ?? null,
        cycle_end: stats.current_credit_cycle?.end_date ?? null,
      };
    } catch (err) {
      // Each half stands without the other: a 403 (not a master key), a 404 or a 5xx leaves the rest shown.
      if (!(err instanceof VendorError) || ctx.signal.aborted) throw err;
      notes.push(
        err.code === 'forbidden'
          ? `Team credit usage not shown: ${err.message}`
          : sideLookupWarning({ vendor: 'Apollo.io', what: 'team credit usage (POST /usage_stats/credit_usage_stats)', without: '`team` is null; the key owner and the budget are shown' }, err),
      );
    }
    let profile: Awaited<ReturnType<typeof client.apiProfile>> | null = null;
    try {
      profile = await client.apiProfile({ includeCreditUsage: true, signal: ctx.signal });
    } catch (err) {
      if (!(err instanceof VendorError) || ctx.signal.aborted) throw err;
      notes.push(sideLookupWarning({ ...CREDIT_COUNTER, without: '`key_owner` is null and the ledger was not reconciled (reconciliation: not_done)' }, err));
    }
    const used = profile?.num_lead_credits_used ?? null;
    const ledger = ctx.deps.credits;
    let reconciliation = 'not_done';
    let adjustment = 0;
    let status;
    if (typeof used === 'number') {
      const r = await ledger.reconcile(VENDOR, used);
      reconciliation = r.outcome;
      adjustment = r.adjustment;
      status = r;
    } else {
      if (profile) notes.push("Apollo did not report the key owner's lead-credit usage, so the ledger was not reconciled.");
      status = await ledger.status(VENDOR);
    }
    return {
      team,
      key_owner: profile && {
        id: profile.id,
        email: profile.email ?? null,
        lead_credits_used: used,
        lead_credits_allowance: profile.effective_num_lead_credits ?? null,
        credits_remaining: profile.num_credits_remaining ?? null,
      },
      budget: {
        month: status.month,
        budget: status.budget,
        spent: status.spent,
        reserved: status.reserved,
        remaining: status.remaining,
        reconciliation,
        adjustment,
      },
      notes,
    };
  },
});

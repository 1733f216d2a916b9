import * as z from 'zod';
import { defineTool } from '../types.js';
import { NO_SEAT_LIST, requireZoomInfo, VENDOR } from './shared.js';

export default defineTool({
  name: 'zoominfo_get_usage',
  vendor: 'zoominfo',
  toolsets: ['zoominfo'],
  title: 'ZoomInfo credit usage and budget',
  description:
    'Reads the ZoomInfo account\'s usage counters (GET /lookup/usage from the Enterprise collection, falling back to /usage from the notes when that path answers 404) and this server\'s monthly credit budget, ' +
    'and reconciles the budget ledger with ZoomInfo\'s counter (credits ZoomInfo counted beyond the ledger are booked as spent). Spends no credits. ' +
    'Use it before a large search or enrich to see what is left. ' +
    NO_SEAT_LIST,
  inputSchema: {},
  outputSchema: {
    usage_path: z.string().describe('The endpoint that answered: /lookup/usage or /usage'),
    credits_used: z.number().nullable().describe('Credits the ZoomInfo account has used in its cycle, as ZoomInfo counts them'),
    credits_remaining: z.number().nullable().describe('Credits the ZoomInfo account has left'),
    credits_limit: z.number().nullable().describe('The account\'s allotment'),
    basis: z.string().nullable().describe('Which ZoomInfo field the credit figures come from'),
    limits: z
      .array(
        z.object({
          limit_type: z.string().describe('e.g. requestLimit, recordLimit, uniqueIdLimit'),
          description: z.string().nullable().describe('ZoomInfo\'s description of the counter'),
          limit: z.number().nullable().describe('Allowed in the cycle'),
          used: z.number().nullable().describe('Used so far'),
          remaining: z.number().nullable().describe('Left'),
        }),
      )
      .describe('Every usage counter ZoomInfo reported'),
    budget: z
      .object({
        month: z.string().describe('YYYY-MM (UTC)'),
        budget: z.number().describe('Credits this server may spend on ZoomInfo per month (SALES_ACCESS_CREDIT_BUDGET)'),
        spent: z.number().describe('Credits booked this month, reconciliation adjustments included'),
        reserved: z.number().describe('Worst cases of calls in progress'),
        remaining: z.number().describe('Credits this server may still spend this month'),
      })
      .describe("This server's ZoomInfo credit budget after reconciliation"),
    reconciliation: z
      .object({
        outcome: z.string().describe('baseline (first report this month), in_line, raised (ZoomInfo counted more than the ledger) or rebaselined'),
        adjustment: z.number().describe('Credits added to the ledger by this reconciliation'),
      })
      .nullable()
      .describe('null when ZoomInfo reported no credit counter'),
    caveats: z.array(z.string()).describe('What to know about these figures'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(_args, ctx) {
    const client = requireZoomInfo(ctx);
    const ledger = ctx.deps.credits;
    const usage = await client.usage(ctx.signal);
    const rec = usage.credits_used !== null ? await ledger.reconcile(VENDOR, usage.credits_used) : null;
    const s = rec ?? (await ledger.status(VENDOR));
    const caveats = [NO_SEAT_LIST];
    if (usage.path !== '/lookup/usage') caveats.push('The collection\'s /lookup/usage answered 404; the notes\' /usage was used instead.');
    if (usage.credits_used === null) caveats.push('ZoomInfo reported no credit counter, so the budget could not be reconciled.');
    if (rec?.outcome === 'raised') caveats.push(`ZoomInfo counted ${rec.adjustment} more credits than this server booked (other use of the account, or estimates that were low); they were charged to the budget.`);
    return {
      usage_path: usage.path,
      credits_used: usage.credits_used,
      credits_remaining: usage.credits_remaining,
      credits_limit: usage.credits_limit,
      basis: usage.basis,
      limits: usage.entries,
      budget: { month: s.month, budget: s.budget, spent: s.spent, reserved: s.reserved, remaining: s.remaining },
      reconciliation: rec ? { outcome: rec.outcome, adjustment: rec.adjustment } : null,
      caveats,
    };
  },
});

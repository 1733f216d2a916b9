import * as z from 'zod';
import type { CreditLedger, CreditReservation } from '../../src/credits/ledger.js';
import { restOf } from '../../src/deps.js';
import { apolloAdapter } from '../../src/vendors/apollo/adapter.js';
import { ToolInputError, VendorError } from '../../src/errors.js';
import type { ApolloClient, SearchPageInfo } from '../../src/vendors/apollo/client.js';
import { sideLookupWarning, warn, type SideLookup } from '../../src/side-lookup.js';
import { auditedWrite } from '../audited-write.js';
import type { ToolContext } from '../types.js';

export { ApolloAccountSchema, ContactSchema, EnrichedPersonSchema, ProspectSchema } from '../../src/vendors/apollo/map.js';

export const VENDOR = 'apollo' as const;

/** Said wherever an agent might look for it: Apollo's REST API cannot deactivate (or invite) a seat. */
export const NO_REST_DEACTIVATION =
  "Apollo's REST API cannot invite, change the role of, or deactivate a teammate: deactivate a seat through SCIM (Organization plan, Okta or Entra ID) or in the admin UI at Settings > Users and Teams.";
export const SEAT_CAVEATS = [
  NO_REST_DEACTIVATION,
  'Deactivating a teammate does NOT free the paid seat or reduce billing: reduce the seat count in Settings > Plan Overview (annual plans do not allow it mid-contract).',
  "After deactivating, unlink the user's mailbox (or their scheduled emails are marked 'Not sent') and reassign their contacts, accounts, sequences, deals and tasks one by one.",
];

/** The key owner's credit counter, read beside a credit-spending call to reconcile the ledger. */
export const CREDIT_COUNTER: SideLookup = {
  vendor: 'Apollo.io',
  what: "key owner's credit counter (GET /users/api_profile?include_credit_usage=true)",
  without: "this server's credit ledger was not reconciled with Apollo's counter: credits spent elsewhere with this key are not counted against SALES_ACCESS_CREDIT_BUDGET",
  fix: { forbidden: 'Give the key (or OAuth token, scope read_user_profile) access to Get Current User Profile.' },
};

export function requireApollo(ctx: ToolContext): ApolloClient {
  const c = restOf(ctx.deps, apolloAdapter)?.client;
  if (!c) {
    throw new ToolInputError(
      'Apollo.io is not configured on this server (set APOLLO_API_KEY, or the APOLLO_* OAuth variables); see list_connections for what is.',
    );
  }
  return c;
}

function ledgerOf(ctx: ToolContext): CreditLedger {
  return ctx.deps.credits;
}

// ---------------------------------------------------------------------------------------------------------
// Paging of the searches

export const searchPagingShape = {
  page: z.number().int().min(1).max(500).default(1).describe('First page to fetch, 1 to 500 (Apollo shows no page past 500); use `next_page` of an earlier call to continue'),
  per_page: z.number().int().min(1).max(100).default(25).describe('Records per page, 1 to 100 (Apollo default 25, maximum 100)'),
  pages: z.number().int().min(1).max(10).default(1).describe('How many consecutive pages to fetch in this call, 1 to 10; stops early at the last page or the 500-page ceiling'),
};

export const searchPagingOutputShape = {
  total_entries: z.number().int().nullable().describe('Records matching the filters, as Apollo counts them (may exceed what Apollo will show)'),
  first_page: z.number().int().describe('First page fetched'),
  last_page: z.number().int().describe('Last page fetched'),
  per_page: z.number().int().describe('Records per page used'),
  next_page: z.number().int().nullable().describe('Pass as `page` to continue; null on the last reachable page'),
  reachable_pages: z.number().int().nullable().describe('Pages Apollo will show for these filters and page size (at most 500)'),
  ceiling_reached: z.boolean().describe("True when more records match than Apollo's 50,000-record / 500-page display limit lets anyone see"),
  notice: z.string().nullable().describe('What to do about the ceiling (narrow the filters), or null'),
  returned: z.number().int().describe('Records in this result'),
  truncated: z.boolean().describe('True when the list was cut to keep the result small; the complete result is at full_result_uri'),
  full_result_uri: z.string().nullable().describe('Resource URI of the complete result when truncated'),
};

/**
 * Fetches `args.pages` consecutive search pages from `args.page` on, stopping early at the last page Apollo
 * shows, with progress after each. Returns the records and the paging fields of searchPagingOutputShape.
 */
export async function searchPages<R extends SearchPageInfo, T>(
  ctx: ToolContext,
  args: { page: number; pages: number },
  what: string,
  fetchPage: (page: number) => Promise<R>,
  recordsOf: (r: R) => T[],
): Promise<{ records: T[]; paging: z.infer<z.ZodObject<typeof searchPagingOutputShape>> }> {
  const records: T[] = [];
  let last: R | undefined;
  let page = args.page;
  for (let i = 0; i < args.pages; i++) {
    const r = await fetchPage(page);
    records.push(...recordsOf(r));
    last = r;
    await ctx.progress(i + 1, args.pages, `Fetched page ${page} of ${what}`);
    if (r.nextPage === null) break;
    page = r.nextPage;
  }
  // The schema allows at least one page, so the loop ran.
  const info = last!;
  return {
    records,
    paging: {
      total_entries: info.totalEntries,
      first_page: args.page,
      last_page: info.page,
      per_page: info.perPage,
      next_page: info.nextPage,
      reachable_pages: info.reachablePages,
      ceiling_reached: info.ceilingReached,
      notice: info.notice,
      returned: records.length,
      truncated: false,
      full_result_uri: null,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Credit guard

export const confirmCreditShape = {
  confirm_credit_spend: z
    .literal(true, { error: 'confirm_credit_spend must be true: set it only after the user agreed to spend Apollo credits on this call' })
    .optional()
    .describe(
      'Required, and must be true: confirms the user agreed to spend Apollo credits on this call. Without it nothing is sent and the refusal states the worst-case cost and the budget left.',
    ),
};

export const CreditsSchema = z
  .object({
    spent: z.number().describe('Credits this call cost'),
    basis: z
      .enum(['measured', 'estimated'])
      .describe('measured: Apollo reported credits_consumed (bulk enrichment); estimated: from what came back (1 per matched person, +1 with personal emails revealed)'),
    worst_case: z.number().describe('Credits reserved before the call: the most it could have cost'),
    budget: z.number().describe('Monthly Apollo credit budget of this server (SALES_ACCESS_CREDIT_BUDGET)'),
    remaining_budget: z.number().describe("Credits left in this month's budget after this call"),
    month: z.string().describe('Budget month, YYYY-MM (UTC)'),
  })
  .describe('Credit accounting of this call');
export type CreditsOut = z.infer<typeof CreditsSchema>;

export interface CreditPlan {
  tool: string;
  worstCase: number;
  /** The arithmetic of the worst case, for refusals. */
  detail: string;
  target: { id: string | null; email: string | null };
  args: Record<string, unknown>;
  allow: string[];
}

/**
 * The credit guard every Apollo credit-spending tool runs:
 *  1. `confirm_credit_spend` must be true (else a refusal with the worst case and the budget left);
 *  2. the ledger is reconciled with the key owner's credit counter (GET /users/api_profile, no credits;
 *     best effort), so credits spent elsewhere on this key count;
 *  3. the worst case is reserved (refused above the remaining budget, with the numbers);
 *  4. the vendor call runs between audit intent and outcome lines (confirmation `credit_spend_flag`);
 *  5. the reservation is settled with the measured or estimated cost; a failed call settles 0, or the
 *     worst case when Apollo may have processed it.
 */
export async function spendCredits<T>(
  ctx: ToolContext,
  confirmed: boolean | undefined,
  plan: CreditPlan,
  call: () => Promise<{ value: T; measured?: number; estimated: number; requestId: string | undefined }>,
): Promise<{ value: T; credits: CreditsOut; opId: string }> {
  const ledger = ledgerOf(ctx);
  const client = requireApollo(ctx);
  if (confirmed !== true) {
    const s = await ledger.status(VENDOR);
    throw new ToolInputError(
      `Nothing was sent: ${plan.tool} spends Apollo credits and needs \`confirm_credit_spend: true\`, set only after the user agreed. ` +
        `This call could cost up to ${plan.worstCase} credit${plan.worstCase === 1 ? '' : 's'} (${plan.detail}); ${s.remaining} of this month's budget of ${s.budget} remain.`,
    );
  }
  try {
    const profile = await client.apiProfile({ includeCreditUsage: true, signal: ctx.signal });
    if (typeof profile.num_lead_credits_used === 'number') await ledger.reconcile(VENDOR, profile.num_lead_credits_used);
  } catch (err) {
    // The guard still holds without it: the ledger is the budget; the counter only catches spend elsewhere.
    if (ctx.signal.aborted) throw err;
    ctx.deps.log.warn({ vendor: VENDOR, err: err instanceof VendorError ? err.code : String(err) }, 'apollo credit counter unavailable; ledger not reconciled');
    if (err instanceof VendorError) warn(sideLookupWarning(CREDIT_COUNTER, err));
  }
  const reservation: CreditReservation = await ledger.reserve(VENDOR, plan.worstCase, { tool: plan.tool, detail: plan.detail });
  let credits: CreditsOut | undefined;
  try {
    const { value, opId } = await auditedWrite(
      ctx,
      { tool: plan.tool, vendor: VENDOR, target: plan.target, args: plan.args, allow: plan.allow, confirmation: 'credit_spend_flag', before: null },
      async (audit) => {
        let r: Awaited<ReturnType<typeof call>>;
        try {
          r = await call();
        } catch (err) {
          // A write that may have reached Apollo, or an answer Apollo sent but we could not read, may have cost.
          const maybeCharged = err instanceof VendorError ? err.ambiguous || err.code === 'invalid_response' : !(err instanceof ToolInputError);
          const settled = await ledger.settle(reservation, { estimated: maybeCharged ? plan.worstCase : 0 });
          credits = { spent: settled.spent, basis: settled.basis, worst_case: reservation.credits, budget: ledger.budget, remaining_budget: settled.remaining, month: settled.month };
          audit.after = { credits };
          throw err;
        }
        const settled = await ledger.settle(reservation, { measured: r.measured, estimated: r.estimated });
        credits = { spent: settled.spent, basis: settled.basis, worst_case: reservation.credits, budget: ledger.budget, remaining_budget: settled.remaining, month: settled.month };
        audit.vendor_request_id = r.requestId;
        audit.after = { credits };
        return r.value;
      },
    );
    return { value, credits: credits!, opId };
  } finally {
    // An audit failure before the call leaves the reservation open: nothing was sent, so release it.
    if (credits === undefined) await ledger.settle(reservation, { estimated: 0 }).catch(() => {});
  }
}

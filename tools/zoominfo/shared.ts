import { restOf } from '../../src/deps.js';
import { zoominfoAdapter } from '../../src/vendors/zoominfo/adapter.js';
import * as z from 'zod';
import type { CreditLedger } from '../../src/credits/ledger.js';
import { ToolInputError, VendorError } from '../../src/errors.js';
import {
  CONTACT_REVEAL_FIELDS,
  estimateRecordCredits,
  maxCreditsPerRecord,
  type RecordKind,
  type UsageReport,
  type ZoomInfoClient,
} from '../../src/vendors/zoominfo/client.js';
import type { MatchVerdict } from '../../src/vendors/zoominfo/map.js';
import type { EnrichResult, VendorRecord } from '../../src/vendors/zoominfo/wire.js';
import { sideLookupWarning, warn, type SideLookup } from '../../src/side-lookup.js';
import { auditedWrite } from '../audited-write.js';
import type { ToolContext } from '../types.js';
import { warningsShape } from '../warnings.js';

export { ZoomInfoCompanySchema, ZoomInfoContactSchema } from '../../src/vendors/zoominfo/map.js';

/**
 * What every ZoomInfo tool shares: the client, the credit guard (confirm → worst case → ledger reserve →
 * call → settle, audited) and the credit report.
 */

export const VENDOR = 'zoominfo' as const;

/** Said wherever it could be mistaken: these tools read ZoomInfo's data, not its users. */
export const NO_SEAT_LIST =
  "ZoomInfo's REST API has no user or seat list: these tools read ZoomInfo's prospect data, not who holds a ZoomInfo seat. ZoomInfo seats can only be audited through SCIM (Enterprise plan, configured in your IdP).";

export function requireZoomInfo(ctx: ToolContext): ZoomInfoClient {
  const c = restOf(ctx.deps, zoominfoAdapter)?.client;
  if (!c) throw new ToolInputError('ZoomInfo is not configured on this server (set ZOOMINFO_USERNAME and ZOOMINFO_PASSWORD); see list_connections for what is.');
  return c;
}

function ledgerOf(ctx: ToolContext): CreditLedger {
  return ctx.deps.credits;
}

// ---------------------------------------------------------------------------------------------------------
// Shared input pieces

export const confirmCreditShape = {
  confirm_credit_spend: z
    .boolean()
    .optional()
    .describe(
      'Required, and must be true: confirms the user agreed to spend ZoomInfo credits on this call. Without it nothing is sent and the refusal states the worst-case cost and the remaining budget.',
    ),
};

export const outputFieldsShape = {
  output_fields: z
    .array(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'a ZoomInfo field name such as "jobTitle"'))
    .min(1)
    .max(60)
    .optional()
    .describe(
      'ZoomInfo output fields to return, e.g. ["firstName","lastName","jobTitle","companyName"]. Limits what comes back and what it costs: ' +
        `without it every field is returned, contact data (${CONTACT_REVEAL_FIELDS.join(', ')}) included, which is the most expensive case.`,
    ),
};

export const pagingShape = {
  rpp: z.number().int().min(1).max(100).default(25).describe('Results per page, 1 to 100 (ZoomInfo default 25)'),
  page: z.number().int().min(1).max(1000).default(1).describe('First page to fetch, from 1 (use `next_page` of an earlier call to continue)'),
  pages: z.number().int().min(1).max(10).default(1).describe('How many pages to fetch in this call, 1 to 10; every record on every page costs credits'),
};

// ---------------------------------------------------------------------------------------------------------
// Credit report

export const CreditsSchema = z
  .object({
    spent: z.number().describe('Credits this call cost'),
    basis: z.enum(['measured', 'estimated']).describe("measured: ZoomInfo's usage counter before and after the call; estimated: records returned × price"),
    worst_case: z.number().describe('Credits reserved before the call: the most it could have cost'),
    budget: z.number().describe('Monthly ZoomInfo credit budget of this server (SALES_ACCESS_CREDIT_BUDGET)'),
    budget_remaining: z.number().describe("Credits left in this month's budget after this call"),
    month: z.string().describe('Budget month, YYYY-MM (UTC)'),
    note: z.string().nullable().describe('Why the figure is estimated, or that nothing was spent'),
  })
  .describe('What this call cost in ZoomInfo credits');
export type CreditReport = z.infer<typeof CreditsSchema>;

/** The report for a call that sent nothing (a cached answer). */
export async function noSpendReport(ctx: ToolContext, note: string): Promise<CreditReport> {
  const s = await ledgerOf(ctx).status(VENDOR);
  return { spent: 0, basis: 'measured', worst_case: 0, budget: s.budget, budget_remaining: s.remaining, month: s.month, note };
}

// ---------------------------------------------------------------------------------------------------------
// Worst case

export function perRecordMax(client: ZoomInfoClient, kind: RecordKind, outputFields: readonly string[] | undefined): number {
  return maxCreditsPerRecord(client.pricing, kind, outputFields);
}

export function worstCaseDetail(records: number, what: string, perRecord: number, outputFields: readonly string[] | undefined): string {
  const fields = outputFields === undefined ? 'all fields' : `${outputFields.length} output field${outputFields.length === 1 ? '' : 's'}`;
  return `${what} × ${perRecord} credit${perRecord === 1 ? '' : 's'} per record with ${fields} = ${records * perRecord}`;
}

// ---------------------------------------------------------------------------------------------------------
// The guard

export interface SpendPlan {
  tool: string;
  worstCase: number;
  /** How the worst case was computed, e.g. "2 pages × 25 records × 1 credit per record". */
  detail: string;
  confirmed: boolean | undefined;
  target: { id: string | null; email: string | null };
  args: Record<string, unknown>;
  allow: string[];
}

/** Filled in by the call as records arrive, so a call that fails half-way still books what it received. */
export interface SpendTally {
  records: number;
  estimated: number;
  add(kind: RecordKind, records: readonly Record<string, unknown>[]): void;
}

/** ZoomInfo's usage counter, read before and after a credit-spending call to measure what it cost. */
const USAGE_COUNTER: SideLookup = {
  vendor: 'ZoomInfo',
  what: 'usage counter (GET /lookup/usage, /usage)',
  without: 'the credits this call spent are estimated from the records returned (credits.basis: estimated), and the budget was not reconciled with ZoomInfo',
  fix: {
    not_found: 'This ZoomInfo account has no usage endpoint (it comes with the Enterprise API contract); the estimate uses ZOOMINFO_CREDITS_PER_RECORD and ZOOMINFO_CREDITS_PER_CONTACT_REVEAL, so keep them at your contract prices.',
    forbidden: "Ask ZoomInfo to give the API user access to the usage endpoint; until then the estimate uses your contract's prices.",
  },
};

async function usageQuiet(ctx: ToolContext, client: ZoomInfoClient): Promise<UsageReport | null> {
  try {
    return await client.usage(ctx.signal);
  } catch (err) {
    ctx.deps.log.debug({ vendor: VENDOR, code: err instanceof VendorError ? err.code : 'error' }, 'zoominfo usage unavailable; credit spend will be estimated');
    if (err instanceof VendorError) warn(sideLookupWarning(USAGE_COUNTER, err));
    return null;
  }
}

/**
 * A failed call's error with what it cost: "check the current state" says little about a search, while the
 * credits booked for it (measured, or the worst case when the outcome is unknown) and the fact that calling
 * again spends again are what the agent must weigh before retrying.
 */
function withSpend(err: unknown, credits: CreditReport): unknown {
  if (!(err instanceof VendorError)) return err;
  const { vendor, code, status, retryAfterMs, requestId, detail, ambiguous } = err;
  const booked =
    credits.spent === 0
      ? 'No ZoomInfo credits were booked for it'
      : `${credits.spent} ZoomInfo credit${credits.spent === 1 ? ' was' : 's were'} booked for it (${credits.basis === 'measured' ? "measured on ZoomInfo's usage counter" : credits.basis})`;
  const message = `${err.message} ${booked}; ${credits.budget_remaining} of ${credits.budget} remain this month, and calling again spends credits again.`;
  return new VendorError({ vendor, code, status, retryAfterMs, requestId, detail, ambiguous, message });
}

/**
 * Runs one credit-spending call behind the guard:
 * 1. `confirm_credit_spend: true` is required; without it the refusal states the worst case and budget.
 * 2. ZoomInfo's usage counter is read (spends nothing) and the ledger reconciled with it.
 * 3. The worst case is reserved in the ledger, which refuses, with the numbers, above the remaining budget.
 * 4. The call runs between an audit intent line and an outcome line.
 * 5. The usage counter is read again: the difference is the measured spend when it is plausible (0 or more
 *    and not above the worst case, which would mean someone else used the account meanwhile); otherwise the
 *    spend is estimated from the records returned. A call that failed with an unknown outcome books the worst
 *    case. The reservation is settled with it, and the ledger reconciled with the new counter.
 */
export async function spendCredits<T>(
  ctx: ToolContext,
  plan: SpendPlan,
  run: (tally: SpendTally) => Promise<T>,
): Promise<{ value: T; credits: CreditReport; auditOpId: string }> {
  const client = requireZoomInfo(ctx);
  const ledger = ledgerOf(ctx);
  const worst = Math.ceil(plan.worstCase);

  if (plan.confirmed !== true) {
    const s = await ledger.status(VENDOR);
    const fits = worst <= s.remaining;
    throw new ToolInputError(
      `Not sent: this call spends ZoomInfo credits, up to ${worst} (${plan.detail}). ` +
        `This month's ZoomInfo budget has ${s.remaining} of ${s.budget} credits left${fits ? '' : ', so it would be refused even when confirmed; ask for fewer records or fewer output fields'}. ` +
        'Ask the user to approve the spend, then call again with `confirm_credit_spend: true`.',
      { worst_case: worst, budget: s.budget, budget_remaining: s.remaining, month: s.month },
    );
  }

  const before = await usageQuiet(ctx, client);
  if (before?.credits_used != null) await ledger.reconcile(VENDOR, before.credits_used);
  const reservation = await ledger.reserve(VENDOR, worst, { tool: plan.tool, detail: plan.detail });

  const tally: SpendTally = {
    records: 0,
    estimated: 0,
    add(kind, records) {
      this.records += records.length;
      for (const r of records) this.estimated += estimateRecordCredits(client.pricing, kind, r);
    },
  };
  let credits: CreditReport | undefined;

  const settle = async (failed: unknown): Promise<void> => {
    const after = await usageQuiet(ctx, client);
    const delta = before?.credits_used != null && after?.credits_used != null ? after.credits_used - before.credits_used : undefined;
    const ambiguous = failed !== undefined && (failed as { ambiguous?: unknown })?.ambiguous === true;
    let measured: number | undefined;
    let note: string | null = null;
    if (delta !== undefined && delta >= 0 && delta <= worst) {
      measured = delta;
    } else if (delta !== undefined) {
      note = `ZoomInfo's usage counter moved by ${delta}, outside 0..${worst}: the account was used elsewhere meanwhile (or its cycle reset), so the spend is estimated.`;
    } else {
      note = "ZoomInfo's usage endpoint did not answer, so the spend is estimated from the records returned.";
    }
    const estimated = ambiguous ? worst : tally.estimated;
    if (measured === undefined && ambiguous) note = 'The call failed after it may have reached ZoomInfo; the worst case is booked.';
    const settled = await ledger.settle(reservation, { measured, estimated });
    let remaining = settled.remaining;
    if (after?.credits_used != null) remaining = (await ledger.reconcile(VENDOR, after.credits_used)).remaining;
    credits = { spent: settled.spent, basis: settled.basis, worst_case: worst, budget: ledger.budget, budget_remaining: remaining, month: settled.month, note };
  };

  let outcome: { value: T; opId: string };
  try {
    outcome = await auditedWrite(
      ctx,
      {
        tool: plan.tool,
        vendor: VENDOR,
        target: plan.target,
        args: plan.args,
        allow: plan.allow,
        confirmation: 'confirm_credit_spend',
        before: { worst_case_credits: worst, worst_case: plan.detail },
      },
      async (audit) => {
        let value: T;
        try {
          value = await run(tally);
        } catch (err) {
          await settle(err);
          audit.after = { records: tally.records, credits_spent: credits!.spent, credits_basis: credits!.basis };
          throw withSpend(err, credits!);
        }
        await settle(undefined);
        audit.after = { records: tally.records, credits_spent: credits!.spent, credits_basis: credits!.basis };
        return value;
      },
    );
  } catch (err) {
    // A failure before the vendor call (the audit intent line could not be written) leaves the reservation.
    if (credits === undefined) await ledger.settle(reservation, { estimated: 0 }).catch(() => {});
    throw err;
  }
  return { value: outcome.value, credits: credits!, auditOpId: outcome.opId };
}

/** What every credit-spending tool reports about the spend, in each result. */
export const spendOutputShape = {
  ...warningsShape,
  credits: CreditsSchema,
  audit_op_id: z.string().describe('Audit log operation id of this spending call'),
  caveats: z.array(z.string()).describe('What to know about this result'),
};

/** Caveat for a worst case priced with all fields. */
export function outputFieldsCaveat(outputFields: readonly string[] | undefined): string[] {
  return outputFields === undefined
    ? ['No output_fields were given, so every field came back and each contact was priced at the most a record can cost; pass output_fields to spend less.']
    : [];
}

// ---------------------------------------------------------------------------------------------------------
// Search (contacts and companies)

export const SEARCH_AUDIT_ARGS = ['company_name', 'company_id', 'company_website', 'job_titles', 'management_level', 'department', 'industry_keywords', 'state', 'country', 'rpp', 'page', 'pages', 'output_fields'];

export interface SearchArgs {
  rpp: number;
  page: number;
  pages: number;
  output_fields?: string[];
  confirm_credit_spend?: boolean;
}

/**
 * One search call: the worst case is rpp × pages × the most a record can cost with the output fields
 * asked for (notes, Watch out for: "Each result returned consumes credits"). Pages are fetched one after
 * another, with progress after each.
 */
export async function runSearch(
  ctx: ToolContext,
  tool: string,
  kind: RecordKind,
  criteria: Record<string, string | undefined>,
  args: SearchArgs & Record<string, unknown>,
) {
  const client = requireZoomInfo(ctx);
  const given = Object.entries(criteria).filter(([, v]) => v !== undefined && v !== '');
  if (given.length === 0) {
    throw new ToolInputError(
      `Give at least one search criterion (${kind === 'contact' ? 'company_name, company_id, company_website, job_titles, management_level, department, first_name, last_name, email, state or country' : 'company_name, company_id, company_website, industry_keywords, state or country'}): ` +
        'a search without criteria would page through ZoomInfo\'s whole database, and every record costs credits.',
    );
  }
  const perRecord = perRecordMax(client, kind, args.output_fields);
  const records = args.rpp * args.pages;
  const worstCase = records * perRecord;
  const detail = worstCaseDetail(records, `${args.pages} page${args.pages === 1 ? '' : 's'} × ${args.rpp} records`, perRecord, args.output_fields);
  const { value: run, credits, auditOpId } = await spendCredits(
    ctx,
    { tool, worstCase, detail, confirmed: args.confirm_credit_spend, target: { id: null, email: null }, args, allow: SEARCH_AUDIT_ARGS },
    (tally) =>
      client.searchPages(kind, Object.fromEntries(given), {
        rpp: args.rpp,
        firstPage: args.page,
        pages: args.pages,
        outputFields: args.output_fields,
        signal: ctx.signal,
        onPage: async (p, fetched) => {
          tally.add(kind, p.records);
          await ctx.progress(fetched, args.pages, `Fetched page ${p.page} (${fetched} of at most ${args.pages}) of ZoomInfo ${kind} search`);
        },
      }),
  );
  return { run, credits, auditOpId };
}

/** A search result's fields after its records (contacts or companies), in the order of the output schemas. */
export function searchResultFields(r: Awaited<ReturnType<typeof runSearch>>, caveats: string[]) {
  return {
    returned: r.run.records.length,
    total_results: r.run.total ?? null,
    pages_fetched: r.run.pagesFetched,
    next_page: r.run.nextPage,
    credits: r.credits,
    audit_op_id: r.auditOpId,
    caveats,
    truncated: false,
    full_result_uri: null,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Enrich (contacts and companies)

/** An enrich result's fields after `results`: runEnrich's totals, the caveats and the paging of the result. */
export const enrichOutputShape = {
  returned: z.number().int().describe('Number of entries in `results`'),
  matched: z.number().int().describe('Inputs with a high-confidence match'),
  low_confidence: z.number().int().describe('Inputs with a low-confidence match (returned or dropped)'),
  no_match: z.number().int().describe('Inputs without any record'),
  records_paid: z.number().int().describe('Records ZoomInfo returned and charged for, dropped ones included'),
  ...spendOutputShape,
  truncated: z.boolean().describe('True when `results` was cut to keep the result small'),
  full_result_uri: z.string().nullable().describe('Resource URI of the complete result when truncated'),
};

/** One input's outcome; `records` is empty when none matched or a low-confidence match was dropped. */
export interface EnrichMatch extends MatchVerdict {
  input_index: number;
  dropped: boolean;
  records: VendorRecord[];
}

export interface EnrichPlan {
  tool: string;
  kind: RecordKind;
  /** The match inputs in ZoomInfo's names, one per tool input. */
  inputs: Record<string, unknown>[];
  outputFields: string[] | undefined;
  confirmed: boolean | undefined;
  includeLowConfidence: boolean;
  target: { id: string | null; email: string | null };
  auditArgs: Record<string, unknown>;
  allow: string[];
  /** The price a returned record is tallied at (a contact enrich may answer with a company-only record). */
  tallyKind: (r: EnrichResult) => RecordKind;
  verdict: (r: EnrichResult, input: Record<string, unknown>) => MatchVerdict;
}

/**
 * One enrich call behind the guard: the worst case is one record per input at the most a record can cost with
 * the output fields asked for. Every input gets a verdict; a low-confidence match is dropped unless asked
 * for, but was paid for all the same. `notes` are caveats for the end of the tool's list.
 */
export async function runEnrich(ctx: ToolContext, plan: EnrichPlan) {
  const client = requireZoomInfo(ctx);
  const n = plan.inputs.length;
  const perRecord = perRecordMax(client, plan.kind, plan.outputFields);
  const detail = worstCaseDetail(n, `${n} input${n === 1 ? '' : 's'} × 1 record`, perRecord, plan.outputFields);
  const { value: results, credits, auditOpId } = await spendCredits(
    ctx,
    { tool: plan.tool, worstCase: n * perRecord, detail, confirmed: plan.confirmed, target: plan.target, args: plan.auditArgs, allow: plan.allow },
    async (tally) => {
      const { results } = await client.enrich(plan.kind, plan.inputs, { outputFields: plan.outputFields, signal: ctx.signal });
      for (const r of results) tally.add(plan.tallyKind(r), r.data);
      return results;
    },
  );
  let matched = 0;
  let low = 0;
  let none = 0;
  let paid = 0;
  const matches: EnrichMatch[] = plan.inputs.map((input, i) => {
    const r = results[i] ?? { data: [], matchStatus: 'NO_RESULT' };
    const data = r.data ?? [];
    const v = plan.verdict({ ...r, data }, input);
    paid += data.length;
    if (v.confidence === 'high') matched++;
    else if (v.confidence === 'low') low++;
    else none++;
    const dropped = v.confidence === 'low' && !plan.includeLowConfidence;
    return { input_index: i, match_status: v.match_status, confidence: v.confidence, reason: v.reason, dropped, records: dropped ? [] : data };
  });
  const notes = results.length !== n ? [`ZoomInfo answered ${results.length} results for ${n} inputs; unmatched positions are reported as NO_RESULT.`] : [];
  return {
    matches,
    /** Low-confidence matches that were left out of the result. */
    droppedLow: plan.includeLowConfidence ? 0 : low,
    notes,
    /** The result's fields after `results`, up to its caveats. */
    totals: { returned: matches.length, matched, low_confidence: low, no_match: none, records_paid: paid, credits, audit_op_id: auditOpId },
  };
}

/**
 * The `results` of an enrich tool: one entry per input, with ZoomInfo's matchStatus, the server's
 * confidence verdict, and the matched records under `recordsField` (contacts or companies).
 */
export function matchResultsShape<R extends z.ZodType>(o: { inputs: string; recordsField: string; record: R; statuses: string; confidence: string }) {
  return {
    results: z
      .array(
        z.object({
          input_index: z.number().int().describe(`Position in \`${o.inputs}\``),
          match_status: z.string().describe(`ZoomInfo matchStatus, e.g. ${o.statuses}; UNKNOWN when ZoomInfo sent none`),
          confidence: z.enum(['high', 'low', 'none']).describe(o.confidence),
          reason: z.string().nullable().describe('Why the match is low confidence'),
          dropped: z.boolean().describe('True when a low-confidence record was left out (include_low_confidence is false)'),
          [o.recordsField]: z.array(o.record).describe('The matched record(s); empty when none or dropped'),
        }),
      )
      .describe('One entry per input, in input order'),
  };
}

/** Said when low-confidence matches were left out: they cost credits all the same. */
export function droppedCaveat(low: number, remedy: string): string[] {
  return low > 0 ? [`${low} low-confidence match${low === 1 ? ' was' : 'es were'} dropped but still cost credits (notes: credits are consumed per record returned regardless of match confidence). ${remedy}`] : [];
}

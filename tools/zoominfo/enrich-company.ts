import * as z from 'zod';
import { ToolInputError } from '../../src/errors.js';
import { MAX_ENRICH_INPUTS } from '../../src/vendors/zoominfo/client.js';
import { companyVerdict, toZoomInfoCompany } from '../../src/vendors/zoominfo/map.js';
import { defineTool } from '../types.js';
import { confirmCreditShape, droppedCaveat, enrichOutputShape, matchResultsShape, NO_SEAT_LIST, outputFieldsShape, runEnrich, ZoomInfoCompanySchema } from './shared.js';

const TOOL = 'zoominfo_enrich_company';

const inputShape = z
  .object({
    company_id: z.string().regex(/^\d{1,19}$/).optional().describe('ZoomInfo company id'),
    company_name: z.string().min(1).max(200).optional().describe('e.g. "Acme Corp"'),
    website: z.string().min(3).max(200).optional().describe('e.g. "acme.example" (sent as companyWebsite)'),
    ticker: z.string().min(1).max(20).optional().describe('Stock ticker, e.g. "ZI"'),
  })
  .strict();

function toMatchInput(c: z.infer<typeof inputShape>, i: number): Record<string, unknown> {
  if (c.company_id === undefined && c.company_name === undefined && c.website === undefined && c.ticker === undefined) {
    throw new ToolInputError(`companies[${i}]: give company_id, company_name, website or ticker (company_name and website together match best).`);
  }
  const out: Record<string, unknown> = {};
  if (c.company_id !== undefined) out.companyId = c.company_id;
  if (c.company_name !== undefined) out.companyName = c.company_name;
  // The collection's input is `companyWebsite`; the notes' example writes `website`. The collection wins.
  if (c.website !== undefined) out.companyWebsite = c.website;
  if (c.ticker !== undefined) out.companyTicker = c.ticker;
  return out;
}

export default defineTool({
  name: TOOL,
  vendor: 'zoominfo',
  toolsets: ['zoominfo', 'prospecting'],
  title: 'Enrich companies from ZoomInfo (spends credits)',
  description:
    'Matches up to 25 companies against ZoomInfo (POST /enrich/company) by id, name, website or ticker and returns their ZoomInfo record with its matchStatus. ' +
    'COST: every record ZoomInfo returns costs credits (ZOOMINFO_CREDITS_PER_RECORD, default 1), whatever the match confidence. ' +
    'Before calling, the server reserves the worst case, one record per input × credits per record, and refuses above the remaining monthly budget (SALES_ACCESS_CREDIT_BUDGET). ' +
    'Requires confirm_credit_spend: true. Give company_name AND website for accurate matches (ZoomInfo matches names loosely): a name-only match to a differently named company is low confidence and dropped unless include_low_confidence is true. ' +
    'The result reports the credits spent (measured or estimated) and the call is written to the audit log. ' +
    NO_SEAT_LIST,
  inputSchema: {
    companies: z.array(inputShape).min(1).max(MAX_ENRICH_INPUTS).describe('Companies to match, 1 to 25, e.g. [{"company_name":"Acme Corp","website":"acme.example"}]'),
    include_low_confidence: z.boolean().default(false).describe('true: also return name-only and ambiguous matches (marked confidence: low)'),
    ...outputFieldsShape,
    ...confirmCreditShape,
  },
  outputSchema: {
    ...matchResultsShape({
      inputs: 'companies',
      recordsField: 'companies',
      record: ZoomInfoCompanySchema,
      statuses: 'FULL_MATCH or NO_MATCH',
      confidence: 'high: matched on a unique key or the exact name; low: loose or ambiguous; none: no record',
    }),
    ...enrichOutputShape,
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  pagedField: 'results',
  async handler(args, ctx) {
    const inputs = args.companies.map(toMatchInput);
    const single = args.companies.length === 1 ? args.companies[0]! : undefined;
    const e = await runEnrich(ctx, {
      tool: TOOL,
      kind: 'company',
      inputs,
      outputFields: args.output_fields,
      confirmed: args.confirm_credit_spend,
      includeLowConfidence: args.include_low_confidence,
      target: { id: single?.company_id ?? null, email: null },
      auditArgs: { ...args, inputs: inputs.length, company_names: args.companies.map((c) => c.company_name ?? c.website ?? c.company_id ?? c.ticker) },
      allow: ['inputs', 'company_names', 'output_fields', 'include_low_confidence'],
      tallyKind: () => 'company',
      verdict: companyVerdict,
    });
    const caveats: string[] = [];
    const partial = args.companies.filter((c) => c.company_id === undefined && c.ticker === undefined && (c.company_name === undefined) !== (c.website === undefined)).length;
    if (partial > 0) {
      caveats.push(`${partial} input${partial === 1 ? '' : 's'} gave only a name or only a website; ZoomInfo matches best with both (notes: "Providing both companyName and website improves match accuracy").`);
    }
    caveats.push(...droppedCaveat(e.droppedLow, 'Pass include_low_confidence: true to see them, or add the website to the input.'));
    return {
      results: e.matches.map(({ records, ...m }) => ({ ...m, companies: records.map(toZoomInfoCompany) })),
      ...e.totals,
      caveats: [...caveats, ...e.notes],
      truncated: false,
      full_result_uri: null,
    };
  },
});

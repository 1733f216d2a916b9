import * as z from 'zod';
import { personIdOf } from '../../src/vendors/zoominfo/client.js';
import { toZoomInfoContact } from '../../src/vendors/zoominfo/map.js';
import { defineTool } from '../types.js';
import { confirmCreditShape, CreditsSchema, NO_SEAT_LIST, noSpendReport, perRecordMax, requireZoomInfo, spendCredits, worstCaseDetail, ZoomInfoContactSchema } from './shared.js';

const TOOL = 'zoominfo_lookup_contact';

export default defineTool({
  name: TOOL,
  vendor: 'zoominfo',
  toolsets: ['zoominfo', 'prospecting'],
  title: 'Look up a ZoomInfo contact by id (spends credits unless cached)',
  description:
    'Reads one ZoomInfo contact by person id (GET /lookup/contact/{id}; falls back to /enrich/contact by personId where that path does not exist). ' +
    'COST: a lookup costs credits like any record (notes: "Lookup by ID still consumes credits"), by default 1 plus ZOOMINFO_CREDITS_PER_CONTACT_REVEAL, since a lookup returns every field. ' +
    'Answers are cached for the life of the server process: a cached answer costs nothing, needs no confirmation and says cached: true; refresh: true fetches (and pays) again. ' +
    'Otherwise requires confirm_credit_spend: true; the server reserves the worst case against the monthly budget (SALES_ACCESS_CREDIT_BUDGET) and refuses above it. ' +
    'The result reports the credits spent (measured or estimated) and a paid lookup is written to the audit log. ' +
    NO_SEAT_LIST,
  inputSchema: {
    id: z.string().regex(/^\d{1,19}$/, 'ZoomInfo person ids are integers, e.g. "1434351821"').describe('ZoomInfo person id, e.g. "1434351821" (from zoominfo_search_contacts)'),
    refresh: z.boolean().default(false).describe('true: ignore the cache and fetch again (spends credits)'),
    ...confirmCreditShape,
  },
  outputSchema: {
    contact: ZoomInfoContactSchema.describe('The contact as ZoomInfo holds it'),
    cached: z.boolean().describe('True when answered from this process\'s cache: nothing was sent and nothing spent'),
    via: z.enum(['cache', 'lookup', 'enrich']).describe('Where the answer came from'),
    fetched_at: z.string().describe('When the record was fetched from ZoomInfo (ISO 8601)'),
    credits: CreditsSchema,
    audit_op_id: z.string().nullable().describe('Audit log operation id; null for a cached answer'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async handler(args, ctx) {
    const client = requireZoomInfo(ctx);
    const id = personIdOf(args.id);
    if (!args.refresh) {
      const hit = client.cachedContact(id);
      if (hit) {
        return {
          contact: toZoomInfoContact(hit.record),
          cached: true,
          via: 'cache' as const,
          fetched_at: new Date(hit.fetchedAt).toISOString(),
          credits: await noSpendReport(ctx, 'Answered from this process\'s cache: nothing was sent to ZoomInfo and no credits were spent.'),
          audit_op_id: null,
        };
      }
    }
    const perRecord = perRecordMax(client, 'contact', undefined);
    const { value, credits, auditOpId } = await spendCredits(
      ctx,
      {
        tool: TOOL,
        worstCase: perRecord,
        detail: worstCaseDetail(1, '1 lookup', perRecord, undefined),
        confirmed: args.confirm_credit_spend,
        target: { id, email: null },
        args,
        allow: ['id', 'refresh'],
      },
      async (tally) => {
        const r = await client.lookupContact(id, { refresh: true, signal: ctx.signal });
        tally.add('contact', [r.record]);
        return r;
      },
    );
    return {
      contact: toZoomInfoContact(value.record),
      cached: false,
      via: value.via,
      fetched_at: new Date(value.fetchedAt).toISOString(),
      credits,
      audit_op_id: auditOpId,
    };
  },
});

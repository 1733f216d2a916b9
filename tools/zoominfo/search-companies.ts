import * as z from 'zod';
import { toZoomInfoCompany } from '../../src/vendors/zoominfo/map.js';
import { defineTool } from '../types.js';
import { confirmCreditShape, NO_SEAT_LIST, outputFieldsShape, pagingShape, runSearch, searchResultFields, spendOutputShape, ZoomInfoCompanySchema } from './shared.js';

const TOOL = 'zoominfo_search_companies';

export default defineTool({
  name: TOOL,
  vendor: 'zoominfo',
  toolsets: ['zoominfo', 'prospecting'],
  title: 'Search ZoomInfo companies (spends credits)',
  description:
    'Searches ZoomInfo\'s company database (POST /search/company) by name, id, website, industry keywords or location. ' +
    'COST: every company returned costs ZoomInfo credits (ZOOMINFO_CREDITS_PER_RECORD, default 1 per record; notes: "Company search also consumes credits per result row returned"). ' +
    'Before calling, the server reserves the worst case, rpp × pages × credits per record, and refuses above the remaining monthly budget (SALES_ACCESS_CREDIT_BUDGET). ' +
    'Requires confirm_credit_spend: true. The result reports the credits spent (measured or estimated) and the call is written to the audit log. ' +
    NO_SEAT_LIST,
  inputSchema: {
    company_name: z.string().min(1).max(200).optional().describe('Company name, e.g. "Acme" (ZoomInfo matches loosely)'),
    company_id: z.string().regex(/^\d{1,19}$/).optional().describe('ZoomInfo company id'),
    company_website: z.string().min(3).max(200).optional().describe('Website or domain, e.g. "acme.example"'),
    industry_keywords: z.string().min(1).max(200).optional().describe('e.g. "software"'),
    state: z.string().min(1).max(100).optional().describe('Headquarters state, e.g. "California"'),
    country: z.string().min(1).max(100).optional().describe('Headquarters country, e.g. "United States"'),
    ...pagingShape,
    ...outputFieldsShape,
    ...confirmCreditShape,
  },
  outputSchema: {
    companies: z.array(ZoomInfoCompanySchema).describe('Companies found, possibly cut to fit'),
    returned: z.number().int().describe('Number of companies in `companies`'),
    total_results: z.number().int().nullable().describe('Matches in ZoomInfo (maxResults)'),
    pages_fetched: z.number().int().describe('Search pages requested from ZoomInfo'),
    next_page: z.number().int().nullable().describe('Pass as `page` to continue; null after the last page'),
    ...spendOutputShape,
    truncated: z.boolean().describe('True when `companies` was cut to keep the result small'),
    full_result_uri: z.string().nullable().describe('Resource URI of the complete result when truncated'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  pagedField: 'companies',
  async handler(args, ctx) {
    const criteria = {
      companyName: args.company_name,
      companyId: args.company_id,
      companyWebsite: args.company_website,
      industryKeywords: args.industry_keywords,
      state: args.state,
      country: args.country,
    };
    const search = await runSearch(ctx, TOOL, 'company', criteria, args);
    return { companies: search.run.records.map(toZoomInfoCompany), ...searchResultFields(search, []) };
  },
});

import * as z from 'zod';
import { emailArg } from '../args.js';
import { toZoomInfoContact } from '../../src/vendors/zoominfo/map.js';
import { defineTool } from '../types.js';
import {
  confirmCreditShape,
  NO_SEAT_LIST,
  outputFieldsCaveat,
  outputFieldsShape,
  pagingShape,
  runSearch,
  searchResultFields,
  spendOutputShape,
  ZoomInfoContactSchema,
} from './shared.js';

const TOOL = 'zoominfo_search_contacts';

export default defineTool({
  name: TOOL,
  vendor: 'zoominfo',
  toolsets: ['zoominfo', 'prospecting'],
  title: 'Search ZoomInfo contacts (spends credits)',
  description:
    'Searches ZoomInfo\'s contact database (POST /search/contact) by company, job title, management level, department, name, email or location. ' +
    'COST: every contact returned costs ZoomInfo credits (by default 1 per record; ZOOMINFO_CREDITS_PER_CONTACT_REVEAL more when email/phone come back), re-fetches included. ' +
    'Before calling, the server reserves the worst case, rpp × pages × the most one record can cost with the output_fields asked for, and refuses when it is above the remaining monthly budget (SALES_ACCESS_CREDIT_BUDGET). ' +
    'Requires confirm_credit_spend: true. Pass output_fields to limit what comes back and what it costs. The result reports the credits spent, measured from ZoomInfo\'s usage counter or estimated, and the call is written to the audit log. ' +
    NO_SEAT_LIST,
  inputSchema: {
    company_name: z.string().min(1).max(200).optional().describe('Employer name, e.g. "Acme Corp" (ZoomInfo matches loosely)'),
    company_id: z.string().regex(/^\d{1,19}$/).optional().describe('ZoomInfo company id, e.g. "344589814"'),
    company_website: z.string().min(3).max(200).optional().describe('Employer website, e.g. "acme.example"'),
    job_titles: z.array(z.string().min(1).max(100)).min(1).max(10).optional().describe('Job titles, any of which matches, e.g. ["VP of Sales", "Sales Manager"]'),
    management_level: z.string().min(1).max(50).optional().describe('e.g. "C-Level", "VP-Level", "Director", "Manager", "Non-Manager"'),
    department: z.string().min(1).max(100).optional().describe('e.g. "Sales", "Marketing", "Operations"'),
    first_name: z.string().min(1).max(100).optional().describe('First name, exact (case-insensitive), e.g. "Jane"'),
    last_name: z.string().min(1).max(100).optional().describe('Last name, exact (case-insensitive), e.g. "Doe"'),
    email: emailArg().optional().describe('Work email, e.g. "jane.doe@acme.example"'),
    state: z.string().min(1).max(100).optional().describe('e.g. "California"'),
    country: z.string().min(1).max(100).optional().describe('e.g. "United States"'),
    ...pagingShape,
    ...outputFieldsShape,
    ...confirmCreditShape,
  },
  outputSchema: {
    contacts: z.array(ZoomInfoContactSchema).describe('Contacts found, possibly cut to fit'),
    returned: z.number().int().describe('Number of contacts in `contacts`'),
    total_results: z.number().int().nullable().describe('Matches in ZoomInfo (maxResults)'),
    pages_fetched: z.number().int().describe('Search pages requested from ZoomInfo'),
    next_page: z.number().int().nullable().describe('Pass as `page` to continue; null after the last page'),
    ...spendOutputShape,
    truncated: z.boolean().describe('True when `contacts` was cut to keep the result small; the complete list is at full_result_uri'),
    full_result_uri: z.string().nullable().describe('Resource URI of the complete result when truncated'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  pagedField: 'contacts',
  async handler(args, ctx) {
    const criteria = {
      companyName: args.company_name,
      companyId: args.company_id,
      companyWebsite: args.company_website,
      // The collection: "Use OR to input multiple job titles" (the notes' example sends a list instead).
      jobTitle: args.job_titles?.join(' OR '),
      managementLevel: args.management_level,
      department: args.department,
      firstName: args.first_name,
      lastName: args.last_name,
      emailAddress: args.email,
      state: args.state,
      country: args.country,
    };
    const search = await runSearch(ctx, TOOL, 'contact', criteria, args);
    return { contacts: search.run.records.map(toZoomInfoContact), ...searchResultFields(search, outputFieldsCaveat(args.output_fields)) };
  },
});

import * as z from 'zod';
import { toContact } from '../../src/vendors/apollo/map.js';
import { defineTool } from '../types.js';
import { ContactSchema, requireApollo, searchPages, searchPagingOutputShape, searchPagingShape } from './shared.js';

export default defineTool({
  name: 'apollo_search_contacts',
  vendor: 'apollo',
  toolsets: ['apollo', 'prospecting'],
  title: "Search the contacts saved in your Apollo.io account",
  description:
    "Searches the contacts saved in your team's Apollo.io account (POST /contacts/search): only contacts explicitly added to the account, not Apollo's wider people database " +
    '(use apollo_search_people for that). Contacts are CRM records, not seats: who holds an Apollo seat is apollo_list_users. ' +
    'Filters: keywords (name, title, company or email), contact stage ids; optional sort. Apollo shows at most 50,000 records (500 pages of 100): past that the tool says to narrow the filters. ' +
    'Fetches 1 to 10 pages per call. Spends no credits.',
  inputSchema: {
    q_keywords: z.string().max(200).optional().describe('Keywords: names, job titles, employers or email addresses, e.g. "jane.doe@example.com"'),
    contact_stage_ids: z.array(z.string().min(1).max(64).describe('A contact stage id')).max(50).optional().describe('Only contacts in any of these stages'),
    sort_by_field: z
      .enum(['contact_last_activity_date', 'contact_email_last_opened_at', 'contact_email_last_clicked_at', 'contact_created_at', 'contact_updated_at'])
      .optional()
      .describe('Sort field (most recent first unless sort_ascending)'),
    sort_ascending: z.boolean().optional().describe('true: oldest first (only with sort_by_field)'),
    ...searchPagingShape,
  },
  outputSchema: {
    contacts: z.array(ContactSchema).describe('Matching contacts of the pages fetched, possibly cut to fit'),
    ...searchPagingOutputShape,
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  pagedField: 'contacts',
  async handler(args, ctx) {
    const client = requireApollo(ctx);
    const filters = {
      q_keywords: args.q_keywords,
      contact_stage_ids: args.contact_stage_ids,
      sort_by_field: args.sort_by_field,
      sort_ascending: args.sort_by_field === undefined ? undefined : args.sort_ascending,
    };
    const { records, paging } = await searchPages(
      ctx,
      args,
      'Apollo contacts',
      (page) => client.searchContacts(filters, { page, perPage: args.per_page, signal: ctx.signal }),
      (r) => r.contacts,
    );
    return { contacts: records.map(toContact), ...paging };
  },
});

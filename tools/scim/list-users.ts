import * as z from 'zod';
import { defineTool } from '../types.js';
import { connectionOutputShape, connectionShape, nextStartIndex, pagingShape, requireScim, ScimAccountSchema, scimAdapter, toAccount } from './shared.js';
import { warningsShape } from '../warnings.js';

export default defineTool({
  name: 'scim_list_users',
  vendor: null,
  toolsets: ['scim'],
  lifecycle: true,
  requires: 'scim',
  title: 'List users through SCIM',
  description:
    'Lists the users of one vendor\'s SCIM 2.0 connection as canonical accounts (active, deactivated, pending or unknown), e.g. to audit ZoomInfo seats, which only SCIM can list. One page, or every page with all: true. An Apollo.io deactivated user may still hold a billed seat; a SalesLoft SCIM user stays pending until they accept the invitation.',
  inputSchema: (vendorIds) => ({
    ...connectionShape(vendorIds),
    user_name: z.string().min(1).max(512).optional().describe('Only this userName (case-insensitive), e.g. "jane.doe@acme.example"'),
    external_id: z.string().min(1).max(512).optional().describe('Only this externalId (the IdP\'s id), e.g. "00u1abcd2EFGH"'),
    active: z.boolean().optional().describe('Only active (true) or deprovisioned (false) users'),
    ...pagingShape,
  }),
  outputSchema: {
    ...warningsShape,
    ...connectionOutputShape,
    users: z.array(ScimAccountSchema).describe('The users of this page (or all of them with all: true), possibly cut to fit'),
    total: z.number().int().nullable().describe('Users matching the filters, as the server counts them (totalResults)'),
    returned: z.number().int().describe('Number of users in `users`'),
    start_index: z.number().int().describe('1-based index of the first user returned, e.g. 1'),
    next_start_index: z.number().int().nullable().describe('Pass as start_index (with the same filters) for the next page; null on the last page or with all: true'),
    page_size: z.number().int().describe('The count sent to the server, after capping by its filter.maxResults, e.g. 100'),
    pages_fetched: z.number().int().describe('Vendor requests made for the user pages'),
    truncated: z.boolean().describe('True when `users` was cut to keep the result small; the complete list is at full_result_uri'),
    full_result_uri: z.string().nullable().describe('Resource URI of the complete result when truncated'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  pagedField: 'users',
  async handler(args, ctx) {
    const client = requireScim(ctx, args.connection);
    const filter = { userName: args.user_name, externalId: args.external_id, active: args.active };
    const name = scimAdapter(ctx, args.connection).label;
    if (args.all) {
      const caps = await client.serviceProviderConfig();
      const { items, totalResults, pages } = await client.listAllUsers(
        filter,
        (n, of, k) => ctx.progress(n, of, `Fetched ${n}${of ? ` of ${of}` : ''} pages of ${name} SCIM users`, { pages: n, pagesTotal: of, accounts: k }),
        ctx.signal,
      );
      const users = items.map((u) => toAccount(client, u));
      return { connection: args.connection, users, total: totalResults ?? users.length, returned: users.length, start_index: 1, next_start_index: null, page_size: caps.maxResults, pages_fetched: pages, truncated: false, full_result_uri: null };
    }
    const page = await client.listUsers({ filter, startIndex: args.start_index, count: args.count, signal: ctx.signal });
    await ctx.progress(1, 1, `Fetched 1 page of ${name} SCIM users`);
    const users = page.items.map((u) => toAccount(client, u));
    return {
      connection: args.connection,
      users,
      total: page.totalResults ?? null,
      returned: users.length,
      start_index: page.startIndex,
      next_start_index: nextStartIndex(page.startIndex, users.length, page.totalResults, page.count),
      page_size: page.count,
      pages_fetched: 1,
      truncated: false,
      full_result_uri: null,
    };
  },
});

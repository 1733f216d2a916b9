import * as z from 'zod';
import { defineTool } from '../types.js';
import { connectionOutputShape, connectionShape, nextStartIndex, pagingShape, requireScim, ScimAccountSchema, scimAdapter, toAccount } from './shared.js';
import { warningsShape } from '../warnings.js';

export default defineTool({
  name: 'scim_list_users',
  vendor: null,
  requires: 'scim',
  title: 'List users through SCIM',
  description:
    'Lists the users of one SCIM 2.0 connection (outreach, salesloft, apollo or zoominfo) as canonical accounts (status active | deactivated | pending | unknown), ' +
    'e.g. for an access review, or to audit ZoomInfo seats, which only SCIM can list. Optional exact filters: user_name (case-insensitive), external_id, active; ' +
    'they are sent as a quoted SCIM filter, never as raw filter text. Returns one page (start_index/count, 1-based) and `next_start_index`; ' +
    'pass `all: true` to walk every page at the server\'s maximum page size, with progress per page. Large results are cut to fit and the complete list is returned as a resource link. ' +
    'Caveat: a deactivated user may still hold a billed seat (Apollo.io), and a SalesLoft user provisioned through SCIM stays pending until the invitation is accepted.',
  inputSchema: (vendorIds) => ({
    ...connectionShape(vendorIds),
    user_name: z.string().min(1).max(512).optional().describe('Only the user with this userName (compared case-insensitively by the server), e.g. "jane.doe@acme.example"'),
    external_id: z.string().min(1).max(512).optional().describe('Only the user with this externalId (the IdP\'s id), e.g. "00u1abcd2EFGH"'),
    active: z.boolean().optional().describe('true: only active users; false: only deprovisioned users'),
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
        (n, of) => ctx.progress(n, of, `Fetched ${n}${of ? ` of ${of}` : ''} pages of ${name} SCIM users`),
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

import * as z from 'zod';
import { scimGroupSummary } from '../../src/vendors/scim/map.js';
import { defineTool } from '../types.js';
import { connectionOutputShape, connectionShape, nextStartIndex, pagingShape, requireScim, scimAdapter, ScimGroupSchema } from './shared.js';
import { warningsShape } from '../warnings.js';

export default defineTool({
  name: 'scim_list_groups',
  vendor: null,
  toolsets: ['scim'],
  requires: 'scim',
  title: 'List groups through SCIM',
  description:
    'Lists the SCIM groups of one connection (outreach, salesloft, apollo or zoominfo) with id and name, and with member ids when include_members is true. ' +
    'In Outreach a SCIM group is a Team (not a role or profile); Apollo.io supports users but not groups through SCIM. Optional exact filter display_name, sent as a quoted SCIM filter. ' +
    'Returns one page (start_index/count, 1-based) and `next_start_index`, or every page with `all: true` (progress per page). Large results are cut to fit and returned whole as a resource link. ' +
    'Use the group and user ids with scim_update_group_members.',
  inputSchema: (vendorIds) => ({
    ...connectionShape(vendorIds),
    display_name: z.string().min(1).max(512).optional().describe('Only the group with this displayName, e.g. "Sales EMEA"'),
    include_members: z.boolean().default(false).describe('true: also return each group\'s member user ids (larger answers); default false'),
    ...pagingShape,
  }),
  outputSchema: {
    ...warningsShape,
    ...connectionOutputShape,
    groups: z.array(ScimGroupSchema).describe('The groups of this page (or all of them with all: true), possibly cut to fit'),
    total: z.number().int().nullable().describe('Groups matching the filter, as the server counts them (totalResults)'),
    returned: z.number().int().describe('Number of groups in `groups`'),
    start_index: z.number().int().describe('1-based index of the first group returned, e.g. 1'),
    next_start_index: z.number().int().nullable().describe('Pass as start_index (with the same filter) for the next page; null on the last page or with all: true'),
    pages_fetched: z.number().int().describe('Vendor requests made for the group pages'),
    truncated: z.boolean().describe('True when `groups` was cut to keep the result small; the complete list is at full_result_uri'),
    full_result_uri: z.string().nullable().describe('Resource URI of the complete result when truncated'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  pagedField: 'groups',
  async handler(args, ctx) {
    const client = requireScim(ctx, args.connection);
    const name = scimAdapter(ctx, args.connection).label;
    const opts = { displayName: args.display_name, members: args.include_members };
    if (args.all) {
      const { items, totalResults, pages } = await client.listAllGroups(opts, (n, of) => ctx.progress(n, of, `Fetched ${n}${of ? ` of ${of}` : ''} pages of ${name} SCIM groups`), ctx.signal);
      const groups = items.map((g) => scimGroupSummary(g, args.include_members));
      return { connection: args.connection, groups, total: totalResults ?? groups.length, returned: groups.length, start_index: 1, next_start_index: null, pages_fetched: pages, truncated: false, full_result_uri: null };
    }
    const page = await client.listGroups({ ...opts, startIndex: args.start_index, count: args.count, signal: ctx.signal });
    await ctx.progress(1, 1, `Fetched 1 page of ${name} SCIM groups`);
    const groups = page.items.map((g) => scimGroupSummary(g, args.include_members));
    return {
      connection: args.connection,
      groups,
      total: page.totalResults ?? null,
      returned: groups.length,
      start_index: page.startIndex,
      next_start_index: nextStartIndex(page.startIndex, groups.length, page.totalResults, page.count),
      pages_fetched: 1,
      truncated: false,
      full_result_uri: null,
    };
  },
});

import * as z from 'zod';
import { MAX_PER_PAGE } from '../../src/vendors/salesloft/client.js';
import type { TeamMember } from '../../src/vendors/salesloft/wire.js';
import { defineTool } from '../types.js';
import { costShape, requireSalesloft } from './shared.js';

const memberSchema = z.object({
  id: z.string().describe('Team member id, e.g. "7030211"'),
  user_id: z.string().nullable().describe('The SalesLoft user id of the member, e.g. "30211"'),
  user_name: z.string().nullable().describe('The member\'s display name, e.g. "Dana Lee"'),
  group: z.string().nullable().describe('The member\'s group name (or id), e.g. "Sales - EMEA"; null when none'),
  role: z.string().nullable().describe('The member\'s role name (or id), e.g. "Admin"; null when not given'),
  manager: z.string().nullable().describe('The member\'s manager (name or id) when SalesLoft gives one, e.g. "Maria Garcia"; else null'),
});

function toMember(m: TeamMember): z.infer<typeof memberSchema> {
  return {
    id: m.id,
    user_id: m.user?.id ?? null,
    user_name: m.user?.name ?? null,
    group: m.group?.name ?? m.group?.id ?? null,
    role: m.role?.name ?? m.role?.id ?? null,
    manager: m.manager?.name ?? m.manager?.id ?? null,
  };
}

export default defineTool({
  name: 'salesloft_list_team_members',
  vendor: 'salesloft',
  toolsets: ['salesloft'],
  title: 'List SalesLoft team members',
  description:
    'Lists the members of the SalesLoft team (team_members, a resource separate from users that reflects team-level membership and hierarchy: group, role, manager). ' +
    'Use salesloft_list_users for an access review (it includes deactivated users and their status); use this to see the team structure. ' +
    'One page by `page` number, or `all: true` for every page with progress per page. Caveat: pages past 100 cost 3 to 30 each against the 600-per-minute budget the whole team shares.',
  inputSchema: {
    page: z.number().int().min(1).max(100_000).default(1).describe('Page number, from 1, e.g. 1; ignored with all: true'),
    per_page: z.number().int().min(1).max(MAX_PER_PAGE).default(MAX_PER_PAGE).describe('Members per page, 1 to 100 (default), e.g. 100'),
    all: z.boolean().default(false).describe('true: fetch every page, e.g. true'),
  },
  outputSchema: {
    team_members: z.array(memberSchema).describe('The members of this page (or all of them), possibly cut to fit'),
    total: z.number().int().nullable().describe('Members as SalesLoft counts them, e.g. 237; null when not given'),
    returned: z.number().int().describe('Number of members in `team_members`, e.g. 100'),
    next_page: z.number().int().nullable().describe('The next page number to ask for; null on the last page or with all: true, e.g. 2'),
    ...costShape,
    truncated: z.boolean().describe('True when `team_members` was cut to keep the result small; the complete list is at full_result_uri, e.g. false'),
    full_result_uri: z.string().nullable().describe('Resource URI of the complete result when truncated; else null'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  pagedField: 'team_members',
  async handler(args, ctx) {
    const client = requireSalesloft(ctx);
    if (args.all) {
      const r = await client.listAllTeamMembers((n, of, message) => ctx.progress(n, of, message), ctx.signal);
      const members = r.members.map(toMember);
      return { team_members: members, total: r.total ?? members.length, returned: members.length, next_page: null, requests: r.requests, cost: r.cost, truncated: false, full_result_uri: null };
    }
    const r = await client.listTeamMembers({ page: args.page, perPage: args.per_page, signal: ctx.signal });
    await ctx.progress(1, 1, `Fetched page ${args.page} of SalesLoft team members`);
    const members = r.members.map(toMember);
    return {
      team_members: members,
      total: r.paging.totalCount ?? null,
      returned: members.length,
      next_page: r.paging.nextPage ?? (r.paging.totalPages !== undefined && args.page < r.paging.totalPages ? args.page + 1 : null),
      requests: 1,
      cost: r.cost,
      truncated: false,
      full_result_uri: null,
    };
  },
});

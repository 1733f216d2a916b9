import * as z from 'zod';
import { defineTool } from '../types.js';
import { ApolloAccountSchema, requireApollo, SEAT_CAVEATS } from './shared.js';

export default defineTool({
  name: 'apollo_list_users',
  vendor: 'apollo',
  toolsets: ['apollo'],
  lifecycle: true,
  title: 'List Apollo.io teammates (seats)',
  description:
    'Lists every Apollo.io teammate (seat user) as a canonical account: active or deactivated, permission profile, admin flag, seat type; large results are cut to fit, with the complete list as a resource link. Needs a MASTER API key (a scoped key gets 403). Apollo\'s REST API cannot deactivate a seat: use SCIM or the admin UI (Settings > Users and Teams); a deactivated seat stays billed. Flags a sole admin.',
  inputSchema: {
    status: z.enum(['active', 'deactivated']).optional().describe('Only teammates with this status; omit for all'),
  },
  outputSchema: {
    users: z.array(ApolloAccountSchema).describe('The teammates, possibly cut to fit'),
    total: z.number().int().describe('Teammates Apollo reports (before the status filter)'),
    returned: z.number().int().describe('Number of teammates in `users`'),
    pages_fetched: z.number().int().describe('Vendor requests made for the pages'),
    summary: z
      .object({
        active: z.number().int().describe('Active teammates'),
        deactivated: z.number().int().describe('Deactivated teammates (their paid seats stay billed until seats are reduced)'),
        admins: z.array(z.string().describe('Email (or id) of an active admin')).describe('Active teammates with the Admin profile'),
        billing_and_seat_managers: z.number().int().describe('Billing and Seat Manager seats (free, up to 5)'),
      })
      .describe('Counts over all teammates, whatever the filter'),
    caveats: z.array(z.string()).describe('What the admin must know before acting on this list'),
    truncated: z.boolean().describe('True when `users` was cut to keep the result small; the complete list is at full_result_uri'),
    full_result_uri: z.string().nullable().describe('Resource URI of the complete result when truncated'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  pagedField: 'users',
  async handler(args, ctx) {
    const client = requireApollo(ctx);
    const { users, total, pages } = await client.listAllUsers(
      (n, of) => ctx.progress(n, of, `Fetched ${n}${of ? ` of ${of}` : ''} pages of Apollo teammates`),
      ctx.signal,
    );
    const all = client.toAccounts(users);
    const admins = all.filter((a) => a.is_admin && a.status === 'active');
    const caveats = [...SEAT_CAVEATS];
    if (admins.length === 1) {
      caveats.unshift(
        `Only one active admin (${admins[0].email ?? admins[0].id}): deactivating them requires Apollo support to regain admin access. Give a second teammate the Admin profile first.`,
      );
    } else if (admins.length === 0) {
      caveats.unshift('No active admin is listed: admin access may have to be recovered through Apollo support.');
    }
    const shown = args.status === undefined ? all : all.filter((a) => a.status === args.status);
    return {
      users: shown,
      total: total ?? all.length,
      returned: shown.length,
      pages_fetched: pages,
      summary: {
        active: all.filter((a) => a.status === 'active').length,
        deactivated: all.filter((a) => a.status === 'deactivated').length,
        admins: admins.map((a) => a.email ?? a.id),
        billing_and_seat_managers: all.filter((a) => a.seat === 'billing_and_seat_manager').length,
      },
      caveats,
      truncated: false,
      full_result_uri: null,
    };
  },
});

import * as z from 'zod';
import { emailArg, dateTimeArg } from '../args.js';
import { ToolInputError } from '../../src/errors.js';
import { MAX_PER_PAGE, type SalesloftClient, type UserFilters, type UserPageCursor } from '../../src/vendors/salesloft/client.js';
import type { SalesloftUser } from '../../src/vendors/salesloft/wire.js';
import { defineTool, type ToolContext } from '../types.js';
import { SalesloftAccountSchema, costShape, requireSalesloft } from './shared.js';
import { warningsShape } from '../warnings.js';

interface Cursor {
  v: 1;
  c: UserPageCursor;
  filters: UserFilters;
  perPage: number;
  total: number | null;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(raw: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Cursor;
    const k = c?.c;
    const okCursor =
      k &&
      typeof k.ts === 'string' &&
      ((k.kind === 'after' && typeof k.strict === 'boolean' && Array.isArray(k.skip) && k.skip.every((s) => typeof s === 'string')) ||
        (k.kind === 'tie' && Number.isInteger(k.page) && k.page >= 1));
    if (c.v === 1 && okCursor && typeof c.filters === 'object' && c.filters !== null && Number.isInteger(c.perPage) && c.perPage >= 1 && c.perPage <= MAX_PER_PAGE) return c;
  } catch {
    // fall through to the error below
  }
  throw new ToolInputError('`cursor` is not a cursor this tool returned; pass `next_cursor` from the previous result unchanged, or omit it to start over.');
}

export default defineTool({
  name: 'salesloft_list_users',
  vendor: 'salesloft',
  toolsets: ['salesloft'],
  lifecycle: true,
  title: 'List SalesLoft users',
  description:
    'Lists the users of the token\'s SalesLoft team as canonical accounts (status active or deactivated; role, group, guid, admin flag). DEACTIVATED USERS ARE INCLUDED (SalesLoft hides them unless asked) and counted. One page and a next_cursor, or every user with all: true. Users of other SalesLoft teams never appear.',
  inputSchema: {
    email: emailArg().optional().describe('Only this login email (case-insensitive)'),
    search: z.string().min(1).max(200).optional().describe('Keywords in name or email, e.g. "dana lee"'),
    include_deactivated: z
      .boolean()
      .default(true)
      .describe('false: leave deactivated users out (an audit needs them)'),
    active: z.boolean().optional().describe('Only active (true) or deactivated (false) users'),
    updated_since: dateTimeArg().optional().describe('Only users updated since, e.g. "2026-03-01T00:00:00Z"'),
    per_page: z.number().int().min(1).max(MAX_PER_PAGE).default(MAX_PER_PAGE).describe('Users per page'),
    cursor: z.string().max(8000).optional().describe('next_cursor of the previous call (it carries the filters)'),
    all: z.boolean().default(false).describe('true: every matching user instead of one page'),
  },
  outputSchema: {
    ...warningsShape,
    users: z.array(SalesloftAccountSchema).describe('The users of this page (or all of them with all: true), possibly cut to fit; each has `status` active or deactivated'),
    total: z.number().int().nullable().describe('Users matching the filters as SalesLoft counts them, e.g. 254; null when not known (later pages)'),
    returned: z.number().int().describe('Number of users in `users`, e.g. 100'),
    active_count: z.number().int().describe('How many of the listed users (before any cut) are active, e.g. 237'),
    deactivated_count: z.number().int().describe('How many of the listed users (before any cut) are deactivated, e.g. 17'),
    next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page or with all: true, e.g. null'),
    ...costShape,
    mode: z
      .enum(['page', 'cursor', 'pages', 'email'])
      .describe('How users were fetched: page (one page), cursor (updated_at walk), pages (fallback to page numbers), email (lookup by email), e.g. "cursor"'),
    warnings: z.array(z.string()).describe('Anything that makes the result less than certain, e.g. a fallback to page numbers; empty when none'),
    truncated: z.boolean().describe('True when `users` was cut to keep the result small; the complete list is at full_result_uri, e.g. false'),
    full_result_uri: z.string().nullable().describe('Resource URI of the complete result when truncated, e.g. "sales-access://results/…"; else null'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  pagedField: 'users',
  async handler(args, ctx) {
    const client = requireSalesloft(ctx);
    const { value, requests, cost } = await client.measure(async () => {
      const fetched = await fetchUsers(client, args, ctx);
      return { ...fetched, accounts: await client.toAccounts(fetched.users, ctx.signal) };
    });
    const { accounts } = value;
    return {
      users: accounts,
      total: value.total,
      returned: accounts.length,
      active_count: accounts.filter((a) => a.status === 'active').length,
      deactivated_count: accounts.filter((a) => a.status === 'deactivated').length,
      next_cursor: value.next_cursor,
      requests,
      cost,
      mode: value.mode,
      warnings: value.warnings,
      truncated: false,
      full_result_uri: null,
    };
  },
});

interface Args {
  email?: string;
  search?: string;
  include_deactivated: boolean;
  active?: boolean;
  updated_since?: string;
  per_page: number;
  cursor?: string;
  all: boolean;
}

interface Fetched {
  users: SalesloftUser[];
  total: number | null;
  next_cursor: string | null;
  mode: 'page' | 'cursor' | 'pages' | 'email';
  warnings: string[];
}

async function fetchUsers(client: SalesloftClient, args: Args, ctx: ToolContext): Promise<Fetched> {
  if (!args.include_deactivated && args.active === false) {
    throw new ToolInputError('`include_deactivated: false` and `active: false` exclude each other (no user would match); drop one of them.');
  }
  const active = args.active ?? (args.include_deactivated ? undefined : true);
  const argFilters: UserFilters = { search: args.search, active, updatedSince: args.updated_since };

  if (args.email !== undefined) {
    if (args.cursor !== undefined || args.all) throw new ToolInputError('`email` finds the matching users directly; omit `cursor` and `all` with it.');
    let users = await client.findByEmail(args.email, ctx.signal);
    if (active !== undefined) users = users.filter((u) => u.active === active);
    await ctx.progress(1, 1, `Looked up ${args.email} in SalesLoft`);
    return { users, total: users.length, next_cursor: null, mode: 'email', warnings: [] };
  }

  if (args.all) {
    if (args.cursor !== undefined) throw new ToolInputError('Give either `cursor` (next page) or `all: true` (every user), not both.');
    const r = await client.listAllUsers(argFilters, (n, of, message, k) => ctx.progress(n, of, message, { pages: n, pagesTotal: of, accounts: k }), ctx.signal);
    return { users: r.users, total: r.total ?? r.users.length, next_cursor: null, mode: r.mode, warnings: r.warnings };
  }

  let filters = argFilters;
  let perPage = args.per_page;
  let cursor: UserPageCursor | undefined;
  let total: number | null = null;
  if (args.cursor !== undefined) {
    const c = decodeCursor(args.cursor);
    if (args.search !== undefined || args.active !== undefined || args.updated_since !== undefined || !args.include_deactivated) {
      throw new ToolInputError('A `cursor` carries the filters of the first call; omit search, active, include_deactivated and updated_since when passing it.');
    }
    ({ filters, perPage, total } = c);
    cursor = c.c;
  }
  const page = await client.listUsersPage({ filters, perPage, cursor, signal: ctx.signal });
  if (cursor === undefined) total = page.count ?? null;
  await ctx.progress(1, 1, 'Fetched 1 page of SalesLoft users');
  return {
    users: page.users,
    total,
    next_cursor: page.next === null ? null : encodeCursor({ v: 1, c: page.next, filters, perPage, total }),
    mode: 'page',
    warnings: [],
  };
}

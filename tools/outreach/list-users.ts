import * as z from 'zod';
import { emailArg, dateTimeArg } from '../args.js';
import { ToolInputError } from '../../src/errors.js';
import { MAX_PAGE_SIZE, type UserFilters } from '../../src/vendors/outreach/client.js';
import { defineTool } from '../types.js';
import { OutreachAccountSchema, requireOutreach } from './shared.js';
import { warningsShape } from '../warnings.js';

interface Cursor {
  v: 1;
  offset: number;
  size: number;
  filters: UserFilters;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(raw: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Cursor;
    if (c.v === 1 && Number.isInteger(c.offset) && c.offset >= 0 && Number.isInteger(c.size) && c.size > 0 && c.size <= MAX_PAGE_SIZE && typeof c.filters === 'object') return c;
  } catch {
    // fall through to the error below
  }
  throw new ToolInputError('`cursor` is not a cursor this tool returned; pass `next_cursor` from the previous result unchanged, or omit it to start over.');
}

export default defineTool({
  name: 'outreach_list_users',
  vendor: 'outreach',
  toolsets: ['outreach'],
  lifecycle: true,
  title: 'List Outreach users',
  description:
    'Lists Outreach users as canonical accounts (status active, locked or deactivated; role, profile, admin flag): one page and a next_cursor, or every page with all: true. A locked Outreach user still holds a licensed seat.',
  inputSchema: {
    email: emailArg().optional().describe('Only this login email'),
    locked: z.boolean().optional().describe('Only locked (true) or unlocked (false) users'),
    updated_since: dateTimeArg().optional().describe('Only users updated since, e.g. "2026-03-01T00:00:00Z"'),
    page_size: z.number().int().min(1).max(MAX_PAGE_SIZE).default(100).describe('Users per page'),
    cursor: z.string().max(2000).optional().describe('next_cursor of the previous call (it carries the filters)'),
    all: z.boolean().default(false).describe('true: every page (1000 per request) instead of one'),
  },
  outputSchema: {
    ...warningsShape,
    users: z.array(OutreachAccountSchema).describe('The users of this page (or all of them with all: true), possibly cut to fit'),
    total: z.number().int().nullable().describe('Users matching the filters, as Outreach counts them'),
    returned: z.number().int().describe('Number of users in `users`'),
    next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page or with all: true'),
    pages_fetched: z.number().int().describe('Vendor requests made for the user pages'),
    truncated: z.boolean().describe('True when `users` was cut to keep the result small; the complete list is at full_result_uri'),
    full_result_uri: z.string().nullable().describe('Resource URI of the complete result when truncated'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  pagedField: 'users',
  async handler(args, ctx) {
    const client = requireOutreach(ctx);
    const argFilters: UserFilters = { email: args.email, locked: args.locked, updatedSince: args.updated_since };
    if (args.all) {
      if (args.cursor !== undefined) throw new ToolInputError('Give either `cursor` (next page) or `all: true` (every page), not both.');
      const { users, total, pages } = await client.listAllUsers(
        argFilters,
        (n, of, k) => ctx.progress(n, of, `Fetched ${n}${of ? ` of ${of}` : ''} pages of Outreach users`, { pages: n, pagesTotal: of, accounts: k }),
        ctx.signal,
      );
      const accounts = await client.toAccounts(users, ctx.signal);
      return { users: accounts, total: total ?? accounts.length, returned: accounts.length, next_cursor: null, pages_fetched: pages, truncated: false, full_result_uri: null };
    }
    let offset = 0;
    let size = args.page_size;
    let filters = argFilters;
    if (args.cursor !== undefined) {
      const c = decodeCursor(args.cursor);
      if (Object.values(argFilters).some((v) => v !== undefined)) {
        throw new ToolInputError('A `cursor` carries the filters of the first call; omit email, locked and updated_since when passing it.');
      }
      ({ offset, size, filters } = c);
    }
    const page = await client.listUsers({ ...filters, pageSize: size, offset, signal: ctx.signal });
    await ctx.progress(1, 1, `Fetched 1 page of Outreach users`);
    const accounts = await client.toAccounts(page.users, ctx.signal);
    return {
      users: accounts,
      total: page.total ?? null,
      returned: accounts.length,
      next_cursor: page.nextOffset === null ? null : encodeCursor({ v: 1, offset: page.nextOffset, size, filters }),
      pages_fetched: 1,
      truncated: false,
      full_result_uri: null,
    };
  },
});

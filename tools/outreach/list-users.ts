import * as z from 'zod';
import { ToolInputError } from '../../src/http/errors.js';
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
  title: 'List Outreach users',
  description:
    'Lists Outreach users as canonical accounts (status active | locked | deactivated), with role, profile and admin flag. ' +
    'Use it to see who holds Outreach access, e.g. for an access review or to find locked users who still hold a seat. ' +
    'Filters: email (exact, case-insensitive on the sandbox), locked, updated_since. Returns one page and a `next_cursor`; ' +
    'pass `all: true` to walk every page at 1000 per page (progress is reported per page). Large results are cut to fit and ' +
    'the complete list is returned as a resource link. Caveat: a locked Outreach user still occupies a licensed seat.',
  inputSchema: {
    email: z.email().optional().describe('Only the user with this login email, e.g. "jane.doe@acme.example"'),
    locked: z.boolean().optional().describe('true: only locked users; false: only unlocked users'),
    updated_since: z.iso.datetime({ offset: true }).optional().describe('Only users updated at or after this ISO 8601 time, e.g. "2026-03-01T00:00:00Z"'),
    page_size: z.number().int().min(1).max(MAX_PAGE_SIZE).default(100).describe('Users per page, 1 to 1000 (default 100); ignored with all: true, which uses 1000'),
    cursor: z.string().max(2000).optional().describe('The `next_cursor` of a previous call, to get the next page; filters come from the cursor'),
    all: z.boolean().default(false).describe('true: fetch every page (all matching users) instead of one page'),
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
      const { users, total, pages } = await client.listAllUsers(argFilters, (n, of) => ctx.progress(n, of, `Fetched ${n}${of ? ` of ${of}` : ''} pages of Outreach users`), ctx.signal);
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

import * as z from 'zod';
import { emailArg } from '../args.js';
import { AccountSchema, type Account } from '../../src/domain/account.js';
import { publicErrorText } from '../../src/public-error.js';
import type { VendorConnection } from '../../src/vendors/connection.js';
import { scimToAccount } from '../../src/vendors/scim/map.js';
import { defineTool } from '../types.js';
import { warningsShape } from '../warnings.js';

const LookupSchema = z.object({
  vendor: z.string().describe('Vendor asked, e.g. "outreach"'),
  source: z.enum(['rest', 'scim']).describe('Which API was asked'),
  state: z.enum(['found', 'not_found', 'error', 'cannot_list']).describe('found: accounts below; not_found: the vendor has no account with this email; error: the lookup failed (see message); cannot_list: this API cannot list seats'),
  accounts: z.array(AccountSchema).describe('Accounts whose email matches case-insensitively'),
  message: z.string().nullable().describe('Why a lookup failed or could not be made'),
});
type Lookup = z.infer<typeof LookupSchema>;

function canonical(a: Account): Account {
  return { vendor: a.vendor, id: a.id, email: a.email, name: a.name, status: a.status, role: a.role, created_at: a.created_at, updated_at: a.updated_at, source: a.source };
}

function failed(vendor: string, source: 'rest' | 'scim', err: unknown): Lookup {
  return { vendor, source, state: 'error', accounts: [], message: publicErrorText(err) };
}

function found(vendor: string, source: 'rest' | 'scim', accounts: Account[]): Lookup {
  return { vendor, source, state: accounts.length > 0 ? 'found' : 'not_found', accounts: accounts.map(canonical), message: null };
}

/** One lookup per API the vendor has configured: REST (or why it cannot list) and SCIM. */
function lookups(conn: VendorConnection, email: string, signal: AbortSignal): Promise<Lookup>[] {
  const { adapter, rest, scim } = conn;
  const out: Promise<Lookup>[] = [];
  if (rest?.findByEmail) {
    out.push(rest.findByEmail(email, signal).then((accounts) => found(adapter.id, 'rest', accounts), (err: unknown) => failed(adapter.id, 'rest', err)));
  } else if (rest) {
    // e.g. ZoomInfo: its REST API reads prospect data and spends credits; it has no seat list at all.
    out.push(
      Promise.resolve({
        vendor: adapter.id,
        source: 'rest',
        state: 'cannot_list',
        accounts: [],
        message: `${adapter.label}'s REST API has no seat list; configure its SCIM connection to see seats.`,
      }),
    );
  }
  if (scim) {
    out.push(scim.findByUserName(email, signal).then((users) => found(adapter.id, 'scim', users.map((u) => scimToAccount(adapter.id, u))), (err: unknown) => failed(adapter.id, 'scim', err)));
  }
  return out;
}

export default defineTool({
  name: 'find_user',
  vendor: null,
  toolsets: ['workflows'],
  title: 'Find a person in every vendor',
  description:
    'Finds one email in every configured vendor, REST and SCIM in parallel: the accounts found with their status (active, locked, deactivated, pending), and not found or the error per vendor and API. Answers "does jane still have access anywhere?". Never spends credits; ZoomInfo seats are visible only through its SCIM connection.',
  inputSchema: {
    email: emailArg().describe('The person\'s email'),
  },
  outputSchema: {
    ...warningsShape,
    email: z.string().describe('The email looked up, lower-cased'),
    found_in: z.array(z.string()).describe('Vendors where at least one account was found'),
    lookups: z.array(LookupSchema).describe('One entry per vendor and API asked'),
    not_configured: z.array(z.string()).describe('Vendors with neither REST nor SCIM configured (not asked)'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const email = args.email.trim().toLowerCase();
    const jobs = ctx.deps.vendors.flatMap((c) => lookups(c, email, ctx.signal));
    const results = await Promise.all(jobs);
    return {
      email,
      found_in: [...new Set(results.filter((l) => l.state === 'found').map((l) => l.vendor))],
      lookups: results,
      not_configured: ctx.deps.vendors.filter((c) => !c.rest && !c.scim).map((c) => c.adapter.id),
    };
  },
});

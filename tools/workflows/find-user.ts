import * as z from 'zod';
import { AccountSchema, VENDORS, type Account, type Vendor } from '../../src/domain/account.js';
import { VendorError } from '../../src/http/errors.js';
import { scimToAccount } from '../../src/vendors/scim/map.js';
import type { Deps } from '../../src/deps.js';
import { defineTool } from '../types.js';

const LookupSchema = z.object({
  vendor: z.enum(VENDORS).describe('Vendor asked'),
  source: z.enum(['rest', 'scim']).describe('Which API was asked'),
  state: z.enum(['found', 'not_found', 'error', 'cannot_list']).describe('found: accounts below; not_found: the vendor has no account with this email; error: the lookup failed (see message); cannot_list: this API cannot list seats'),
  accounts: z.array(AccountSchema).describe('Accounts whose email matches case-insensitively'),
  message: z.string().nullable().describe('Why a lookup failed or could not be made'),
});
type Lookup = z.infer<typeof LookupSchema>;

function canonical(a: Account): Account {
  return { vendor: a.vendor, id: a.id, email: a.email, name: a.name, status: a.status, role: a.role, created_at: a.created_at, updated_at: a.updated_at, source: a.source };
}

async function restLookup(deps: Deps, vendor: Vendor, email: string, signal: AbortSignal): Promise<Account[] | 'cannot_list' | undefined> {
  switch (vendor) {
    case 'outreach':
      return deps.outreach ? deps.outreach.toAccounts(await deps.outreach.findByEmail(email, signal), signal) : undefined;
    case 'salesloft':
      return deps.salesloft ? deps.salesloft.toAccounts(await deps.salesloft.findByEmail(email, signal), signal) : undefined;
    case 'apollo': {
      if (!deps.apollo) return undefined;
      // Apollo's teammate list has no email filter; the list is walked (100 per page, no credits).
      const { users } = await deps.apollo.listAllUsers(undefined, signal);
      return deps.apollo.toAccounts(users).filter((a) => (a.email ?? '').toLowerCase() === email);
    }
    case 'zoominfo':
      // The REST API reads prospect data and spends credits; it has no seat list at all.
      return deps.zoominfo ? 'cannot_list' : undefined;
  }
}

export default defineTool({
  name: 'find_user',
  vendor: null,
  title: 'Find a person in every vendor',
  description:
    'Looks up one email in every configured vendor at once (Outreach, SalesLoft, Apollo.io, ZoomInfo), through REST and, where configured, SCIM, and returns the accounts found as canonical accounts ' +
    '(status active | locked | deactivated | pending), plus an explicit not-found or error per vendor and API. Use it to answer "does jane still have access anywhere?" before or after an offboarding. ' +
    'Emails match case-insensitively. Never spends credits: ZoomInfo\'s REST API has no seat list, so ZoomInfo seats are only visible through its SCIM connection.',
  inputSchema: {
    email: z.email().describe('The person\'s email, e.g. "jane.doe@acme.example"'),
  },
  outputSchema: {
    email: z.string().describe('The email looked up, lower-cased'),
    found_in: z.array(z.enum(VENDORS)).describe('Vendors where at least one account was found'),
    lookups: z.array(LookupSchema).describe('One entry per vendor and API asked'),
    not_configured: z.array(z.enum(VENDORS)).describe('Vendors with neither REST nor SCIM configured (not asked)'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(args, ctx) {
    const { deps } = ctx;
    const email = args.email.trim().toLowerCase();
    const jobs: Promise<Lookup>[] = [];
    const notConfigured: Vendor[] = [];
    for (const vendor of deps.config.vendors) {
      let asked = false;
      const rest = restLookup(deps, vendor, email, ctx.signal);
      jobs.push(
        rest.then(
          (r): Lookup | undefined =>
            r === undefined
              ? undefined
              : r === 'cannot_list'
                ? { vendor, source: 'rest', state: 'cannot_list', accounts: [], message: `${vendor}'s REST API has no seat list; configure its SCIM connection to see seats.` }
                : { vendor, source: 'rest', state: r.length > 0 ? 'found' : 'not_found', accounts: r.map(canonical), message: null },
          (err: unknown): Lookup => ({ vendor, source: 'rest', state: 'error', accounts: [], message: err instanceof VendorError ? err.toPublicText() : (err as Error).message }),
        ) as Promise<Lookup>,
      );
      asked ||= vendorHasRest(deps, vendor);
      const scim = deps.scim[vendor];
      if (scim) {
        asked = true;
        jobs.push(
          scim.findByUserName(email, ctx.signal).then(
            (users): Lookup => {
              const accounts = users.map((u) => canonical(scimToAccount(vendor, u)));
              return { vendor, source: 'scim', state: accounts.length > 0 ? 'found' : 'not_found', accounts, message: null };
            },
            (err: unknown): Lookup => ({ vendor, source: 'scim', state: 'error', accounts: [], message: err instanceof VendorError ? err.toPublicText() : (err as Error).message }),
          ),
        );
      }
      if (!asked) notConfigured.push(vendor);
    }
    const lookups = (await Promise.all(jobs)).filter((l): l is Lookup => l !== undefined);
    return {
      email,
      found_in: [...new Set(lookups.filter((l) => l.state === 'found').map((l) => l.vendor))],
      lookups,
      not_configured: notConfigured,
    };
  },
});

function vendorHasRest(deps: Deps, vendor: Vendor): boolean {
  return { outreach: deps.outreach, salesloft: deps.salesloft, apollo: deps.apollo, zoominfo: deps.zoominfo }[vendor] !== undefined;
}

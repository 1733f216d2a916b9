import type { Deps } from '../deps.js';
import type { Vendor } from '../domain/account.js';
import { VendorError } from '../http/errors.js';
import { scimToAccount } from '../vendors/scim/map.js';
import type { ReviewAccount, VendorInventory } from './types.js';

/**
 * Lists every configured vendor completely (all pages, deactivated users included), REST and SCIM in
 * parallel, and turns the records into review inputs. Nothing here spends credits: ZoomInfo's data APIs
 * are never called, and its seats are listed through SCIM only.
 */

export type PageProgress = (message: string) => Promise<void>;

interface SourceListing {
  source: 'rest' | 'scim';
  accounts: ReviewAccount[];
  invitations?: VendorInventory['invitations'];
  /** The source tells admins apart. */
  adminKnown: boolean;
}

interface Lister {
  source: 'rest' | 'scim';
  run: () => Promise<SourceListing>;
}

function describe(err: unknown): string {
  return err instanceof VendorError ? err.toPublicText() : (err as Error)?.message ?? String(err);
}

function restListers(deps: Deps, vendor: Vendor, progress: PageProgress, signal?: AbortSignal): Lister[] {
  const page = (label: string) => (n: number, of: number | undefined) => progress(`${label}: page ${n}${of ? ` of ${of}` : ''}`);
  switch (vendor) {
    case 'outreach': {
      const c = deps.outreach;
      if (!c) return [];
      return [
        {
          source: 'rest',
          run: async () => {
            const { users } = await c.listAllUsers({}, page('Outreach REST'), signal);
            const accounts = await c.toAccounts(users, signal);
            return { source: 'rest', adminKnown: true, accounts: accounts.map((a) => ({ ...a, seat_held: null })) };
          },
        },
      ];
    }
    case 'apollo': {
      const c = deps.apollo;
      if (!c) return [];
      return [
        {
          source: 'rest',
          run: async () => {
            const { users } = await c.listAllUsers(page('Apollo REST'), signal);
            const accounts = c.toAccounts(users).map((a) => ({
              ...a,
              // Billing and Seat Manager seats are free (admin console notes); other seat types hold a paid seat.
              seat_held: a.seat === 'billing_and_seat_manager' ? false : a.seat === 'unknown' ? null : true,
            }));
            return { source: 'rest', adminKnown: true, accounts };
          },
        },
      ];
    }
    case 'salesloft': {
      const c = deps.salesloft;
      if (!c) return [];
      return [
        {
          source: 'rest',
          run: async () => {
            // Deactivated users are included (the client asks for them under both documented parameters).
            const [{ users }, invitations] = await Promise.all([c.listAllUsers({}, (n) => progress(`SalesLoft REST: request ${n}`), signal), c.listPendingInvitations(signal)]);
            const accounts = await c.toAccounts(users, signal);
            return {
              source: 'rest',
              adminKnown: true,
              accounts: accounts.map((a) => ({ ...a, seat_held: null })),
              invitations: invitations.map((i) => ({ id: i.id === undefined || i.id === null ? null : String(i.id), email: i.email ?? '', invited_at: i.created_at ?? null })),
            };
          },
        },
      ];
    }
    default:
      // ZoomInfo's REST API has no seat list.
      return [];
  }
}

function scimLister(deps: Deps, vendor: Vendor, progress: PageProgress, signal?: AbortSignal): Lister | undefined {
  const c = deps.scim[vendor];
  if (!c) return undefined;
  return {
    source: 'scim',
    run: async () => {
      const { items } = await c.listAllUsers({}, (n, of) => progress(`${vendor} SCIM: page ${n}${of ? ` of ${of}` : ''}`), signal);
      const accounts: ReviewAccount[] = items.map((u) => {
        const a = scimToAccount(vendor, u);
        return {
          vendor: a.vendor,
          id: a.id,
          email: a.email,
          name: a.name,
          status: a.status,
          role: a.role,
          created_at: a.created_at,
          updated_at: a.updated_at,
          source: 'scim',
          // SCIM's core schema has no admin flag; roles, where a vendor sends them, are not standard.
          is_admin: null,
          active: a.active,
          invited_at: a.invitation_pending ? a.created_at : null,
        };
      });
      return { source: 'scim', adminKnown: false, accounts };
    },
  };
}

const NOT_AUDITABLE: Record<Vendor, string> = {
  outreach: 'No Outreach credentials (REST or SCIM) are configured.',
  salesloft: 'No SalesLoft credentials (REST or SCIM) are configured.',
  apollo: 'No Apollo credentials are configured: set APOLLO_API_KEY (a master key) or APOLLO_SCIM_URL and APOLLO_SCIM_TOKEN.',
  zoominfo: "ZoomInfo's REST API has no seat list, so its seats can only be audited through SCIM: set ZOOMINFO_SCIM_URL and ZOOMINFO_SCIM_TOKEN (from the ZoomInfo account team).",
};

export async function collectInventory(deps: Deps, vendor: Vendor, progress: PageProgress, signal?: AbortSignal): Promise<VendorInventory> {
  const scim = scimLister(deps, vendor, progress, signal);
  const listers = [...restListers(deps, vendor, progress, signal), ...(scim ? [scim] : [])];
  const base = { vendor, scim_configured: deps.scim[vendor] !== undefined };
  if (listers.length === 0) {
    return { ...base, auditable: false, not_auditable_reason: NOT_AUDITABLE[vendor], sources: [], accounts: [], invitations: null, admin_known: false };
  }
  const settled = await Promise.allSettled(listers.map((l) => l.run()));
  const ok = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const errors = settled.flatMap((s, i) => (s.status === 'rejected' ? [`${listers[i].source.toUpperCase()} listing failed: ${describe(s.reason)}`] : []));
  if (ok.length === 0) {
    // A vendor that could not be listed is never reported as zero accounts.
    return { ...base, auditable: false, not_auditable_reason: `Listing failed: ${errors.join('; ')}`, sources: [], accounts: [], invitations: null, admin_known: false, errors };
  }
  const invitationLists = ok.map((l) => l.invitations).filter((i) => i !== undefined);
  return {
    ...base,
    auditable: true,
    sources: ok.map((l) => l.source),
    accounts: ok.flatMap((l) => l.accounts),
    invitations: invitationLists.length === 0 ? null : invitationLists.flatMap((i) => i ?? []),
    admin_known: ok.some((l) => l.adminKnown),
    errors,
  };
}

/** Every requested vendor in parallel; each vendor's REST and SCIM listings run in parallel too. */
export function collectInventories(deps: Deps, vendors: Vendor[], progress: PageProgress, signal?: AbortSignal): Promise<VendorInventory[]> {
  return Promise.all(vendors.map((v) => collectInventory(deps, v, progress, signal)));
}

import { withWorkScope } from '../jobs/meter.js';
import { publicErrorText } from '../public-error.js';
import { collectWarnings } from '../side-lookup.js';
import type { ListProgress } from '../vendors/adapter.js';
import type { VendorConnection } from '../vendors/connection.js';
import { scimToAccount } from '../vendors/scim/map.js';
import type { ReviewAccount, VendorInventory } from '../domain/review.js';

/**
 * Lists every enabled vendor completely (all pages, deactivated users included), REST and SCIM in parallel,
 * and turns the records into review inputs. Nothing here spends credits: a REST API without a seat list
 * (ZoomInfo's data API) is never called, and such a vendor's seats are listed through SCIM only.
 */

/** After each page of any source: a message and how far that source is. */
export type PageProgress = ListProgress;

interface SourceListing {
  source: 'rest' | 'scim';
  accounts: ReviewAccount[];
  invitations?: VendorInventory['invitations'];
  /** The source tells admins apart. */
  adminKnown: boolean;
  /** Side lookups that failed while listing (names, invitations): the listing stands, these say what it lacks. */
  warnings?: string[];
}

interface Lister {
  source: 'rest' | 'scim';
  run: () => Promise<SourceListing>;
}

function describe(err: unknown): string {
  return publicErrorText(err);
}

function listers(conn: VendorConnection, progress: PageProgress, signal?: AbortSignal): Lister[] {
  const out: Lister[] = [];
  const rest = conn.rest;
  if (rest?.listAccounts) {
    const list = rest.listAccounts.bind(rest);
    out.push({
      source: 'rest',
      run: async () => {
        const l = await list(progress, signal);
        return { source: 'rest', accounts: l.accounts, invitations: l.invitations, adminKnown: l.adminKnown, warnings: l.warnings };
      },
    });
  }
  const scim = conn.scim;
  if (scim) {
    const vendor = conn.adapter.id;
    out.push({
      source: 'scim',
      run: async () => {
        // A degraded ServiceProviderConfig read reports a warning: kept with the listing for the evidence.
        const { value: listed, warnings } = await collectWarnings(() =>
          scim.listAllUsers({}, (n, of, k) => progress(`${conn.adapter.label} SCIM: page ${n}${of ? ` of ${of}` : ''}`, { pages: n, pagesTotal: of, accounts: k }), signal),
        );
        const { items } = listed;
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
        return { source: 'scim', adminKnown: false, accounts, warnings };
      },
    });
  }
  return out;
}

/** Why a vendor cannot be audited with what is configured. */
function notAuditableReason(conn: VendorConnection): string {
  const { label, envPrefix } = conn.adapter;
  if (!conn.adapter.capabilities.operations.list_users.includes('rest')) {
    return `${label}'s REST API has no seat list, so its seats can only be audited through SCIM: set ${envPrefix}_SCIM_URL and ${envPrefix}_SCIM_TOKEN (${conn.adapter.scim.tokenSource}).`;
  }
  return `No ${label} credentials are configured: set ${conn.adapter.credentialVariables.join(' / ')}, or ${envPrefix}_SCIM_URL and ${envPrefix}_SCIM_TOKEN.`;
}

export async function collectInventory(conn: VendorConnection, progress: PageProgress, signal?: AbortSignal): Promise<VendorInventory> {
  const vendor = conn.adapter.id;
  const running = listers(conn, progress, signal);
  const base = { vendor, scim_configured: conn.scim !== undefined };
  if (running.length === 0) {
    return { ...base, auditable: false, not_auditable_reason: notAuditableReason(conn), sources: [], accounts: [], invitations: null, admin_known: false };
  }
  // Each source in its own scope of the job: a `running` answer counts its pages against its own limiter.
  const settled = await Promise.allSettled(running.map((l) => withWorkScope(`${vendor} ${l.source}`, l.run)));
  const ok = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const errors = settled.flatMap((s, i) => (s.status === 'rejected' ? [`${running[i].source.toUpperCase()} listing failed: ${describe(s.reason)}`] : []));
  // A degraded side lookup is a non-fatal listing problem like the others: the review's warnings show it.
  errors.push(...ok.flatMap((l) => l.warnings ?? []));
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

/** Every given vendor in parallel; each vendor's REST and SCIM listings run in parallel too. */
export function collectInventories(connections: readonly VendorConnection[], progress: PageProgress, signal?: AbortSignal): Promise<VendorInventory[]> {
  return Promise.all(connections.map((c) => collectInventory(c, progress, signal)));
}

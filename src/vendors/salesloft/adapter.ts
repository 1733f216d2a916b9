import type { VendorAccount } from '../../domain/account.js';
import type { RateBudget } from '../../http/types.js';
import { collectWarnings, sideLookup } from '../../side-lookup.js';
import type { Change, ListProgress, Mailboxes, OwnedRecordType, RestApi, RestListing, VendorAdapter } from '../adapter.js';
import { salesloftCapabilities } from './capabilities.js';
import type { ScimClient } from '../scim/client.js';
import type { ScimUser } from '../scim/wire.js';
import { INVITATIONS, ROLE_NAMES, type SalesloftClient, type UserUpdate } from './client.js';
import { salesloftConfig, type SalesloftConfig } from './config.js';
import { salesloftReview } from './review.js';
import { createSalesloftClient } from './connect.js';
import type { SalesloftAccount } from './map.js';
import { SalesloftRecords, salesloftMailboxes, salesloftRecordTypes } from './records.js';
import { SALESLOFT } from './identity.js';
import { probeSalesloft } from './probe.js';

/**
 * SalesLoft: REST v2 and SCIM 2.0. Sources: shared/vendor-docs/salesloft-api.txt ("the notes"),
 * rate-limits.md, and the published v2 spec.
 */

export const DEACTIVATE_CAVEATS = [
  'Cadences and tasks owned by the user are NOT reassigned by deactivation: reassign them in SalesLoft (UI or API) separately.',
  'Deactivation revokes login; the user record stays (listings with deactivated users show it) and is not deleted.',
];

export const SCIM_CAVEAT =
  'The identity provider may reactivate the user on its next SCIM sync if it still assigns them to SalesLoft: unassign them there too.';

export class SalesloftRest implements RestApi {
  readonly ownedRecords: readonly OwnedRecordType[];
  readonly mailboxes: Mailboxes;

  constructor(readonly client: SalesloftClient) {
    const records = new SalesloftRecords(client);
    this.ownedRecords = salesloftRecordTypes(records);
    this.mailboxes = salesloftMailboxes(records);
  }

  get authKind() {
    return this.client.authKind;
  }

  budget(): RateBudget {
    return this.client.core.budget();
  }

  async listAccounts(progress: ListProgress, signal?: AbortSignal): Promise<RestListing> {
    // Deactivated users are included (the client asks for them under both documented parameters). Pending
    // invitations (a separate resource) and role/group names sit beside the users: their failure degrades the
    // listing (warnings: invitations unknown, ids instead of names), never fails it.
    const [{ users }, invited] = await Promise.all([
      this.client.listAllUsers({}, (n, of, _message, k) => progress(`SalesLoft REST: request ${n}`, { pages: n, pagesTotal: of, accounts: k }), signal),
      collectWarnings(() => sideLookup(INVITATIONS, () => this.client.listPendingInvitations(signal), undefined, signal)),
    ]);
    const named = await collectWarnings(() => this.client.toAccounts(users, signal));
    // A custom admin role is recognised by its name only.
    const rolesMissing = named.warnings.some((w) => w.startsWith(`${ROLE_NAMES.vendor} ${ROLE_NAMES.what}`));
    return {
      accounts: named.value.map(asVendorAccount),
      adminKnown: !rolesMissing,
      invitations: invited.value?.map((i) => ({ id: i.id === undefined || i.id === null ? null : String(i.id), email: i.email ?? '', invited_at: i.created_at ?? null })),
      warnings: [...invited.warnings, ...named.warnings],
    };
  }

  async findByEmail(email: string, signal?: AbortSignal): Promise<VendorAccount[]> {
    return (await this.client.toAccounts(await this.client.findByEmail(email, signal), signal)).map(asVendorAccount);
  }

  async getAccount(id: string, signal?: AbortSignal): Promise<VendorAccount> {
    return asVendorAccount(await this.account(id, signal));
  }

  async account(id: string, signal?: AbortSignal): Promise<SalesloftAccount> {
    const [account] = await this.client.toAccounts([await this.client.getUser(id, signal)], signal);
    return account!;
  }

  /** REST deactivation: `active: false` through PUT /v2/users/{id} (revokes login; the record stays). */
  deactivation(target: { id: string; email: string | null }): Change<SalesloftAccount> {
    return {
      vendor: 'salesloft',
      kind: 'deactivate',
      via: 'rest',
      target,
      summary: `Deactivate SalesLoft user ${describe(target)} via the REST API`,
      action: 'deactivate (active: false) via REST: revokes login',
      caveats: DEACTIVATE_CAVEATS,
      read: (signal) => this.account(target.id, signal),
      satisfied: (a) => a.active === false,
      apply: async (_before, signal) => ({ requestId: (await this.client.updateUser(target.id, { active: false }, signal)).requestId }),
      expected: (before) => ({ ...before, active: false, status: 'deactivated' }),
    };
  }

  /**
   * `PUT /v2/users/{id}.json` with `active`, `role_id` and `group_id`: reactivation (gives login back) and
   * role or group changes (change what the user may see and do). Both pass the confirmation gate.
   */
  userChange(target: { id: string; email: string | null }, fields: UserUpdate, o: { kind: string; summary: string; action: string; caveats: string[] }): Change<SalesloftAccount> {
    return {
      vendor: 'salesloft',
      kind: o.kind,
      via: 'rest',
      target,
      summary: o.summary,
      action: o.action,
      caveats: o.caveats,
      read: (signal) => this.account(target.id, signal),
      satisfied: (a) =>
        (fields.active === undefined || a.active === fields.active) &&
        (fields.role_id === undefined || a.role_id === fields.role_id) &&
        (fields.group_id === undefined || a.group_id === fields.group_id),
      apply: async (_before, signal) => ({ requestId: (await this.client.updateUser(target.id, fields, signal)).requestId }),
    };
  }

  /**
   * The SCIM user behind a REST account, when deactivation should go through SCIM (the way an identity
   * provider deprovisions): SalesLoft's SCIM ids are its user ids (the notes' examples), so among case
   * variants of the userName that one is ours. Undefined, with the reason, when REST must be used instead.
   */
  async scimCounterpart(scim: ScimClient, account: SalesloftAccount, signal?: AbortSignal): Promise<{ user: ScimUser } | { reason: string }> {
    const found = account.email ? await scim.findByUserName(account.email, signal) : [];
    const match = found.find((u) => u.id === account.id) ?? (found.length === 1 ? found[0] : undefined);
    if (match && match.active !== false) return { user: match };
    return {
      reason: !match
        ? `SCIM is configured but ${found.length > 1 ? `${found.length} SCIM users match` : 'has no user with'} the userName ${account.email ?? '(no email)'}; deactivated through the REST API instead.`
        : 'SCIM already reports this user inactive while the REST API shows them active; deactivated through the REST API instead.',
    };
  }

  async close(): Promise<void> {
    await this.client.core.close();
  }
}

function describe(target: { id: string; email: string | null }): string {
  return `${target.email ?? '(no email)'} (id ${target.id})`;
}

function asVendorAccount(a: SalesloftAccount): VendorAccount {
  return { ...a, seat_held: null };
}

export const salesloftAdapter: VendorAdapter<SalesloftConfig, SalesloftRest> = {
  id: SALESLOFT.id,
  label: SALESLOFT.label,
  envPrefix: 'SALESLOFT',
  credentialVariables: ['SALESLOFT_API_KEY', 'SALESLOFT_CLIENT_ID', 'SALESLOFT_CLIENT_SECRET'],
  capabilities: salesloftCapabilities,
  review: salesloftReview,
  scim: {
    defaultUrl: 'https://api.salesloft.com/scim/v2',
    tokenSource: 'generated in SalesLoft Settings > SCIM',
    deprovisionNote:
      'SalesLoft: deactivation revokes login but does not delete the user, free anything else or reassign cadences and tasks: reassign them in SalesLoft. The REST API hides deactivated users unless include_deactivated=true.',
    deleteNote: 'SalesLoft: a SCIM DELETE deactivates the user rather than deleting the account; cadences and tasks are not reassigned.',
    provisionCaveats: ['SalesLoft sends an invitation email even for SCIM-provisioned users; the account stays pending until the user accepts it.', 'The new user occupies a licensed seat.'],
  },
  offboarding: {
    rest: { path: 'rest_deactivate', action: 'deactivate through REST (active: false)', expected: 'deactivated' },
    // The notes do not say what deactivation does to billing.
    seatFreed: () => null,
    // People and accounts are handed over by steps, cadences and tasks are manual steps with their counts.
    followUps: () => [],
  },
  authorization: {
    // Notes, "Required scopes": read for the user listings, write for deactivation.
    scopes: ['read', 'write'],
    needs: 'SALESLOFT_CLIENT_ID and SALESLOFT_CLIENT_SECRET (of your SalesLoft OAuth app)',
    app: (s) =>
      s.auth?.kind === 'oauth_refresh'
        ? { authorizeUrl: s.authorizeUrl, tokenUrl: s.tokenUrl, clientId: s.auth.clientId, clientSecret: s.auth.clientSecret, redirectUri: s.redirectUri }
        : undefined,
  },
  settings: salesloftConfig,
  probe: probeSalesloft,
  hasCredentials: (s) => s.auth !== undefined,
  async connectRest(settings, opts) {
    return new SalesloftRest((await createSalesloftClient(settings, opts))!);
  },
};

import type { VendorAccount } from '../../domain/account.js';
import { VendorError } from '../../errors.js';
import type { RateBudget } from '../../http/types.js';
import type { ListProgress, Mailboxes, OwnedRecordType, RestApi, RestListing, VendorAdapter } from '../adapter.js';
import { apolloCapabilities } from './capabilities.js';
import type { ApolloClient } from './client.js';
import { apolloConfig, type ApolloConfig } from './config.js';
import { apolloReview } from './review.js';
import { createApolloClient } from './connect.js';
import type { ApolloAccount } from './map.js';
import { ApolloRecords, apolloMailboxes, apolloRecordTypes } from './records.js';
import { APOLLO } from './identity.js';
import { probeApollo } from './probe.js';

/**
 * Apollo.io: REST v1 and SCIM 2.0 (users only). Sources: shared/vendor-docs/apollo-api.txt,
 * apollo-admin-console.txt and the published spec. Its REST API lists teammates (master key) but cannot
 * deactivate them: without SCIM, deactivation is a manual step in Settings > Users and Teams.
 */

export class ApolloRest implements RestApi {
  /** The listing in flight, shared by every lookup made meanwhile (a change check reads many accounts at once). */
  private listing: Promise<ApolloAccount[]> | undefined;
  readonly ownedRecords: readonly OwnedRecordType[];
  readonly mailboxes: Mailboxes;

  constructor(readonly client: ApolloClient) {
    const records = new ApolloRecords(client);
    this.ownedRecords = apolloRecordTypes(records);
    this.mailboxes = apolloMailboxes(records);
  }

  get authKind() {
    return this.client.authKind;
  }

  budget(): RateBudget {
    return this.client.core.budget();
  }

  async listAccounts(progress: ListProgress, signal?: AbortSignal): Promise<RestListing> {
    const { users } = await this.client.listAllUsers((n, of, k) => progress(`Apollo REST: page ${n}${of ? ` of ${of}` : ''}`, { pages: n, pagesTotal: of, accounts: k }), signal);
    return { accounts: this.client.toAccounts(users).map(asVendorAccount), adminKnown: true };
  }

  /** Apollo's teammate list has no email filter: the list is walked (100 per page, no credits). */
  async findByEmail(email: string, signal?: AbortSignal): Promise<VendorAccount[]> {
    return (await this.findByEmails([email], signal)).get(email.trim().toLowerCase()) ?? [];
  }

  async findByEmails(emails: readonly string[], signal?: AbortSignal): Promise<Map<string, VendorAccount[]>> {
    const wanted = new Set(emails.map((e) => e.trim().toLowerCase()));
    const out = new Map<string, VendorAccount[]>();
    for (const a of await this.all(signal)) {
      const key = (a.email ?? '').toLowerCase();
      if (wanted.has(key)) out.set(key, [...(out.get(key) ?? []), asVendorAccount(a)]);
    }
    return out;
  }

  async getAccount(id: string, signal?: AbortSignal): Promise<VendorAccount> {
    const found = (await this.all(signal)).find((a) => a.id === id);
    if (!found) {
      throw new VendorError({ vendor: 'apollo', code: 'not_found', message: `Apollo.io lists no teammate with id ${id}; look the person up again with find_user.` });
    }
    return asVendorAccount(found);
  }

  /** Every teammate, fresh; callers arriving while a listing is in flight share it. */
  private all(signal: AbortSignal | undefined): Promise<ApolloAccount[]> {
    this.listing ??= this.client
      .listAllUsers(undefined, signal)
      .then((r) => this.client.toAccounts(r.users))
      .finally(() => {
        this.listing = undefined;
      });
    return this.listing;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** Billing and Seat Manager seats are free (admin console notes); other seat types hold a paid seat. */
function asVendorAccount(a: ApolloAccount): VendorAccount {
  return { ...a, seat_held: a.seat === 'billing_and_seat_manager' ? false : a.seat === 'unknown' ? null : true };
}

export const apolloAdapter: VendorAdapter<ApolloConfig, ApolloRest> = {
  id: APOLLO.id,
  label: APOLLO.label,
  envPrefix: 'APOLLO',
  credentialVariables: ['APOLLO_API_KEY', 'APOLLO_ACCESS_TOKEN', 'APOLLO_CLIENT_ID', 'APOLLO_CLIENT_SECRET'],
  capabilities: apolloCapabilities,
  review: apolloReview,
  scim: {
    tokenSource: 'copied from Apollo Settings > Integrations > Single Sign-On > [Provider] > User Auto Provisioning',
    deprovisionNote:
      'Apollo.io: deactivating does NOT reduce the billed seat count: reduce seats in Settings > Plan Overview (not mid-contract on annual plans). Unlink the mailbox and reassign contacts, accounts, sequences, deals and tasks by hand.',
    deleteNote: 'Apollo.io cannot delete users (admins can only deactivate them): a SCIM DELETE deactivates at most, and the billed seat count does not drop.',
    provisionCaveats: ['The new user occupies a billed Apollo.io seat.', 'Once SSO is enabled, Apollo.io users can log in only through SSO.'],
  },
  offboarding: {
    // Admin console notes: deactivation, whichever way, does not reduce billed seats.
    seatFreed: () => false,
    manual:
      "Apollo has no REST endpoint to deactivate a seat. In Apollo: Settings > Users and Teams (https://app.apollo.io/#/settings/users/list) > '...' next to the user > Deactivate, then Deactivate again in the dialog. Or configure APOLLO_SCIM_URL / APOLLO_SCIM_TOKEN so this server can deprovision through SCIM.",
    // Contacts, accounts, sequences, tasks and deals are steps; workflows have no API, mailboxes a manual step.
    followUps: (_path, transferTo) => [
      `Reassign the user's workflows${transferTo ? ` to ${transferTo}` : ''} in Apollo: its API has no workflow endpoint.`,
      'Reduce the seat count in Settings > Plan Overview > Manage Subscription: deactivation does not reduce billing (and annual plans do not allow it mid-contract).',
      'If CRM sync credentials are set to this user, switch them to another user: syncs fail otherwise.',
    ],
  },
  settings: apolloConfig,
  probe: probeApollo,
  hasCredentials: (s) => s.auth !== undefined,
  async connectRest(settings, opts) {
    return new ApolloRest((await createApolloClient(settings, opts))!);
  },
};

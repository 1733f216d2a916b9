import type { VendorAccount } from '../../domain/account.js';
import type { RateBudget } from '../../http/types.js';
import { collectWarnings } from '../../side-lookup.js';
import type { Clock } from '../../clock.js';
import type { Change, ListProgress, Mailboxes, OwnedRecordType, RestApi, RestListing, VendorAdapter } from '../adapter.js';
import { outreachCapabilities } from './capabilities.js';
import type { OutreachClient } from './client.js';
import { outreachConfig, type OutreachConfig } from './config.js';
import { outreachReview } from './review.js';
import { createOutreachClient } from './connect.js';
import { outreachStatus, type OutreachAccount } from './map.js';
import { OutreachRecords, outreachMailboxes, outreachRecordTypes } from './records.js';
import { OUTREACH } from './identity.js';
import { OUTREACH_NEEDED_SCOPES, probeOutreach } from './probe.js';

/**
 * Outreach: REST v2 (JSON:API) and SCIM 2.0. Sources: shared/vendor-docs/outreach-api.txt ("the notes") and
 * Outreach's published OpenAPI document.
 */

/** Notes, "Deprovision a user": a locked user keeps the licensed seat until support or SCIM DELETE removes it. */
const LOCK_CAVEATS = [
  'A locked Outreach user still holds a licensed seat until Outreach support removes the user or SCIM DELETE does (Enterprise), as the Outreach notes say.',
  "Locking does not reassign the user's sequences, prospects or tasks: reassign them in Outreach separately.",
];
const UNLOCK_CAVEATS = ['Unlocking restores login immediately; the user gets back the sequences and prospects they still own.'];

/** The REST side: the client, plus what the workflows ask of every vendor. */
export class OutreachRest implements RestApi {
  readonly ownedRecords: readonly OwnedRecordType[];
  readonly mailboxes: Mailboxes;
  readonly records: OutreachRecords;

  constructor(
    readonly client: OutreachClient,
    clock: Clock,
  ) {
    const records = (this.records = new OutreachRecords(client.core, clock));
    this.ownedRecords = outreachRecordTypes(records);
    this.mailboxes = outreachMailboxes(records);
  }

  get authKind() {
    return this.client.authKind;
  }

  budget(): RateBudget {
    return this.client.core.budget();
  }

  async listAccounts(progress: ListProgress, signal?: AbortSignal): Promise<RestListing> {
    const { users } = await this.client.listAllUsers({}, (n, of, k) => progress(`Outreach REST: page ${n}${of ? ` of ${of}` : ''}`, { pages: n, pagesTotal: of, accounts: k }), signal);
    // Admins are recognised by role and profile names: without them the review must not claim to know.
    const { value: accounts, warnings } = await collectWarnings(() => this.client.toAccounts(users, signal));
    return { accounts: accounts.map(asVendorAccount), adminKnown: warnings.length === 0, warnings };
  }

  async findByEmail(email: string, signal?: AbortSignal): Promise<VendorAccount[]> {
    return (await this.client.toAccounts(await this.client.findByEmail(email, signal), signal)).map(asVendorAccount);
  }

  async getAccount(id: string, signal?: AbortSignal): Promise<VendorAccount> {
    return asVendorAccount((await this.client.resolveAccount({ id }, signal)).account);
  }

  deactivation(target: { id: string; email: string | null }): Change<OutreachAccount> {
    return this.lockChange(target, true);
  }

  /**
   * `locked: true` (the notes' REST deactivation: blocks login, keeps the seat) or `locked: false`. Both are
   * destructive: unlocking the wrong person (someone who has left) gives access back as surely as a wrong
   * lock takes it from someone who should have it.
   */
  lockChange(target: { id: string; email: string | null }, locked: boolean): Change<OutreachAccount> {
    const label = `${target.email ?? '(no email)'} (id ${target.id})`;
    return {
      vendor: 'outreach',
      kind: locked ? 'lock' : 'unlock',
      via: 'rest',
      target,
      summary: `${locked ? 'Lock' : 'Unlock'} Outreach user ${label}`,
      action: locked ? 'lock (locked: true): blocks login' : 'unlock (locked: false): restores login',
      caveats: locked ? LOCK_CAVEATS : UNLOCK_CAVEATS,
      read: async (signal) => (await this.client.resolveAccount({ id: target.id }, signal)).account,
      satisfied: (a) => a.locked === locked,
      apply: async (_before, signal) => {
        // Update User: PATCH is partial and its answer may carry only the changed attribute (notes' example),
        // so the state is read back whole afterwards.
        const { requestId } = await this.client.updateUser(target.id, { locked }, {}, signal);
        return { requestId };
      },
      expected: (before) => ({ ...before, locked, status: outreachStatus({ locked, active: before.active }) }),
    };
  }

  async close(): Promise<void> {
    await this.client.core.close();
  }
}

/** Outreach's seat facts: a locked user's seat stays held (notes), so seat_held is left to the findings. */
function asVendorAccount(a: OutreachAccount): VendorAccount {
  return { ...a, seat_held: null };
}

export const outreachAdapter: VendorAdapter<OutreachConfig, OutreachRest> = {
  id: OUTREACH.id,
  label: OUTREACH.label,
  envPrefix: 'OUTREACH',
  credentialVariables: ['OUTREACH_ACCESS_TOKEN', 'OUTREACH_CLIENT_ID', 'OUTREACH_CLIENT_SECRET'],
  capabilities: outreachCapabilities,
  review: outreachReview,
  scim: {
    defaultUrl: 'https://api.outreach.io/scim/v2',
    tokenSource: 'generated in Outreach admin under Security > SCIM',
    deprovisionNote:
      'Outreach: SCIM deprovisioning sets active=false (deactivated), unlike a REST lock, which keeps the user and the seat. The notes name only SCIM DELETE or Outreach support as freeing a seat, so check the seat count in Outreach. Sequences, prospects and tasks are not reassigned: reassign them in Outreach.',
    deleteNote: 'Outreach: a SCIM DELETE "may not permanently remove user data"; sequences, prospects and tasks are not reassigned.',
    provisionCaveats: ['Outreach sends no invitation email unless the org is configured to; tell the new user how to log in (SSO).', 'The new user occupies a licensed seat.'],
  },
  offboarding: {
    rest: {
      path: 'rest_lock',
      action: 'lock through REST (locked: true)',
      expected: 'locked: login blocked; the seat stays held',
      reached: (status) => status === 'locked' || status === 'deactivated',
    },
    // Notes: locked users still hold a seat. What SCIM deprovisioning (active=false) does to billing they do
    // not say; only SCIM DELETE or Outreach support free the seat.
    seatFreed: (path) => (path === 'rest_lock' ? false : null),
    // Records and mailboxes are steps of their own; the seat is the free_seat step (or its note).
    followUps: () => [],
    freeSeat: {
      via: 'scim_delete',
      action: 'delete the user through SCIM (DELETE /Users/{id}): frees the licensed seat; irreversible, and the notes warn it "may not permanently remove user data"',
      note: 'A locked (or deprovisioned) Outreach user still holds a licensed seat until Outreach support or SCIM DELETE (Enterprise) removes the user.',
    },
  },
  authorization: {
    scopes: [...new Set(Object.values(OUTREACH_NEEDED_SCOPES).flat())],
    needs: 'OUTREACH_CLIENT_ID and OUTREACH_CLIENT_SECRET (of your Outreach OAuth app)',
    app: (s) =>
      s.auth?.kind === 'oauth_refresh'
        ? { authorizeUrl: s.authorizeUrl, tokenUrl: s.tokenUrl, clientId: s.auth.clientId, clientSecret: s.auth.clientSecret, redirectUri: s.redirectUri }
        : undefined,
  },
  settings: outreachConfig,
  probe: probeOutreach,
  hasCredentials: (s) => s.auth !== undefined,
  async connectRest(settings, opts) {
    return new OutreachRest((await createOutreachClient(settings, opts))!, opts.clock);
  },
};

import * as z from 'zod';
import type { VendorAccount } from '../../domain/account.js';
import { VendorError } from '../../errors.js';
import type { Mailboxes, OwnedRecord, OwnedRecordType } from '../adapter.js';
import { ownerChange } from '../ownership.js';
import { FORM, MAX_PER_PAGE, userIdPath, type SalesloftClient } from './client.js';
import { SALESLOFT } from './identity.js';

/**
 * What a SalesLoft user owns, and handing it over (published v2 spec, salesloft-v2-openapi.yaml):
 * - people: `GET /v2/people.json?owner_id[]=`, handed over with `PUT /v2/people/{id}.json` (form `owner_id`);
 * - accounts: `GET /v2/accounts.json?owner_id[]=`, `PUT /v2/accounts/{id}.json` (form; the spec requires
 *   `name` and `domain`, so the values just read are sent back with the new `owner_id`);
 * - cadences (`GET /v2/cadences.json?owned_by_guid[]=`, by the user's guid) and scheduled tasks
 *   (`GET /v2/tasks.json?user_id[]=`): counted, but the spec has no way to change their owner, so they are
 *   manual steps (the notes: "Reassignment of owned records must be done manually in the SalesLoft UI");
 * - the mailbox: the user record says whether an email client is connected; no API unlinks it.
 * The spec has no bulk owner change (bulk_jobs' job types are not listed), so people and accounts move one
 * request each. A hand-over re-reads page 1 of the owner filter each round, which always costs 1
 * (rate-limits.md: deep pages cost up to 30). Paths follow the spec (`.json`); responses may come bare, as
 * the spec shows them, or wrapped in `data`, as the notes and the live API do: both are read.
 */

/** A record with its owner, as listed or written. */
const OwnedRow = z.looseObject({
  id: z.coerce.string(),
  name: z.string().nullish(),
  domain: z.string().nullish(),
  owner: z.looseObject({ id: z.coerce.string().nullish() }).nullish(),
});
type OwnedRow = z.infer<typeof OwnedRow>;

const ListBody = z.union([
  z.looseObject({ data: z.array(OwnedRow), metadata: z.looseObject({ paging: z.looseObject({ total_count: z.number().int().nullish() }).nullish() }).nullish() }),
  z.array(OwnedRow),
]);
const OneBody = z.union([z.looseObject({ data: OwnedRow }), OwnedRow]);
const MailboxFields = z.looseObject({ email_client_configured: z.boolean().nullish(), email_client_email_address: z.string().nullish() });
type MailboxFields = z.infer<typeof MailboxFields>;
const UserBody = z.union([z.looseObject({ data: MailboxFields }), MailboxFields]);

function rows(body: z.infer<typeof ListBody>): { rows: OwnedRow[]; total: number | undefined } {
  if (Array.isArray(body)) return { rows: body, total: undefined };
  return { rows: body.data, total: body.metadata?.paging?.total_count ?? undefined };
}

function one(body: z.infer<typeof OneBody>): OwnedRow {
  return 'data' in body && body.data && typeof body.data === 'object' ? (body.data as OwnedRow) : (body as OwnedRow);
}

type Listed = 'people' | 'accounts' | 'cadences' | 'tasks';

export class SalesloftRecords {
  constructor(private readonly client: SalesloftClient) {}

  /** The owner filter of each collection: by user id, except cadences (by guid) and tasks (assignee, scheduled). */
  private filter(kind: Listed, owner: { id: string; guid: string | null }): Record<string, string> {
    switch (kind) {
      case 'people':
        return { owner_id: owner.id };
      case 'accounts':
        return { owner_id: owner.id };
      case 'cadences':
        return { owned_by_guid: owner.guid ?? '' };
      case 'tasks':
        return { user_id: owner.id, current_state: 'scheduled' };
    }
  }

  /** Page 1 of what the owner has (page 1 costs 1 whatever the collection's size). */
  async page(kind: Listed, owner: { id: string; guid: string | null }, perPage: number, signal?: AbortSignal): Promise<{ rows: OwnedRow[]; total: number | undefined }> {
    const { body } = await this.client.call(ListBody, {
      method: 'GET',
      path: `/${kind}.json`,
      query: { ...this.filter(kind, owner), per_page: Math.min(MAX_PER_PAGE, perPage), page: 1, include_paging_counts: true },
      page: 1,
      signal,
    });
    return rows(body);
  }

  /** How many the owner has; `lowerBound` when SalesLoft gave no paging count and the first page was full. */
  async count(kind: Listed, owner: { id: string; guid: string | null }, signal?: AbortSignal): Promise<{ count: number; lowerBound: boolean }> {
    if (kind === 'cadences' && !owner.guid) {
      throw new VendorError({ vendor: SALESLOFT.id, code: 'invalid_response', message: `SalesLoft did not report the guid of user ${owner.id}, which its cadences are filtered by; check their cadences in the SalesLoft UI.` });
    }
    const first = await this.page(kind, owner, 1, signal);
    if (first.total !== undefined) return { count: first.total, lowerBound: false };
    // No paging counts: one full page tells "at least" (deeper pages cost up to 30 each, rate-limits.md).
    const all = await this.page(kind, owner, MAX_PER_PAGE, signal);
    return { count: all.rows.length, lowerBound: all.rows.length >= MAX_PER_PAGE };
  }

  /** `GET /v2/accounts/{id}.json`: the name and domain an account PUT must send back. */
  async accountKeeps(id: string, signal?: AbortSignal): Promise<{ name: string | null; domain: string | null }> {
    const { body } = await this.client.call(OneBody, { method: 'GET', path: `/accounts/${userIdPath(id)}.json`, signal });
    const a = one(body);
    return { name: a.name ?? null, domain: a.domain ?? null };
  }

  /** `PUT /v2/{people|accounts}/{id}.json` with the new owner; accounts re-send their name and domain. */
  async setOwner(kind: 'people' | 'accounts', record: OwnedRecord, ownerId: string, signal?: AbortSignal): Promise<{ requestId: string | undefined; owner: string | null }> {
    const form = new URLSearchParams();
    if (kind === 'accounts') {
      // The spec requires both: a listing row that lacks one is completed by reading the account; an
      // account that has none cannot be written through the API at all (an empty domain is refused).
      let keep = { name: (record.extra?.name as string | null | undefined) ?? null, domain: (record.extra?.domain as string | null | undefined) ?? null };
      if (!keep.name || !keep.domain) keep = await this.accountKeeps(record.id, signal);
      if (!keep.name || !keep.domain) {
        throw new VendorError({
          vendor: SALESLOFT.id,
          code: 'bad_request',
          message: `SalesLoft account ${record.id} has no ${keep.name ? 'domain' : 'name'}, which SalesLoft's account update requires: give it one, or change its owner, in SalesLoft (Accounts > the account > Owner), then run the offboarding again.`,
        });
      }
      form.set('name', keep.name);
      form.set('domain', keep.domain);
    }
    form.set('owner_id', ownerId);
    const { body, requestId } = await this.client.call(OneBody, {
      method: 'PUT',
      path: `/${kind}/${userIdPath(record.id)}.json`,
      body: form.toString(),
      mediaType: FORM,
      headers: { accept: 'application/json' },
      idempotent: true,
      signal,
    });
    return { requestId, owner: one(body).owner?.id ?? null };
  }

  /** The connected email client of a user, from the user record (the API has no mailbox resource). */
  async mailbox(userId: string, signal?: AbortSignal): Promise<{ id: string; email: string | null } | undefined> {
    const { body } = await this.client.call(UserBody, { method: 'GET', path: `/users/${userIdPath(userId)}.json`, signal });
    const u: MailboxFields = 'data' in body && body.data ? (body.data as MailboxFields) : (body as MailboxFields);
    return u.email_client_configured ? { id: userId, email: u.email_client_email_address ?? null } : undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------

function guidOf(owner: VendorAccount): string | null {
  return (owner as VendorAccount & { guid?: string | null }).guid ?? null;
}

/** People and accounts: listed by owner, one PUT per record. */
function transferable(records: SalesloftRecords, kind: 'people' | 'accounts'): OwnedRecordType {
  return {
    type: kind,
    count: (owner, ctx) => records.count(kind, { id: owner.id, guid: guidOf(owner) }, ctx.signal),
    transfer: {
      batchSize: 1,
      pageSize: MAX_PER_PAGE,
      next: async (owner, signal) =>
        (await records.page(kind, { id: owner.id, guid: guidOf(owner) }, MAX_PER_PAGE, signal)).rows
          .filter((r) => r.owner?.id === owner.id)
          .map((r) => ({ id: r.id, extra: kind === 'accounts' ? { name: r.name ?? null, domain: r.domain ?? null } : undefined })),
      change: (batch, owner, to) => ownerChange(SALESLOFT, kind, batch, owner, to, (signal) => records.setOwner(kind, batch[0]!, to.id, signal)),
    },
  };
}

/** Cadences and tasks: counted; the API cannot change their owner. */
function manual(records: SalesloftRecords, kind: 'cadences' | 'tasks', how: string): OwnedRecordType {
  return {
    type: kind,
    count: (owner, ctx) => records.count(kind, { id: owner.id, guid: guidOf(owner) }, ctx.signal),
    transfer: { manual: how },
  };
}

export function salesloftRecordTypes(records: SalesloftRecords): OwnedRecordType[] {
  return [
    transferable(records, 'people'),
    transferable(records, 'accounts'),
    manual(records, 'cadences', "SalesLoft's API cannot change a cadence's owner: in SalesLoft, open Cadences, filter by the leaver as owner, and change the owner of each cadence."),
    manual(records, 'tasks', "SalesLoft's API cannot reassign a task: in SalesLoft, open Tasks, filter by the leaver, and reassign the scheduled tasks (or complete them)."),
  ];
}

export function salesloftMailboxes(records: SalesloftRecords): Mailboxes {
  return {
    list: async (owner, signal) => {
      const box = await records.mailbox(owner.id, signal);
      return box ? [box] : [];
    },
    unlink: { manual: "SalesLoft's API cannot disconnect a user's email client: in SalesLoft, open the user's Settings > Email and disconnect it (or have the user's identity provider revoke the mailbox)." },
  };
}

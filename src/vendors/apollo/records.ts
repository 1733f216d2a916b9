import * as z from 'zod';
import type { VendorAccount } from '../../domain/account.js';
import type { Mailboxes, OwnedRecord, OwnedRecordType, PlanningContext } from '../adapter.js';
import { ownerChange } from '../ownership.js';
import { MAX_PAGES, MAX_PER_PAGE, type ApolloClient } from './client.js';
import { APOLLO } from './identity.js';

/**
 * What an Apollo teammate owns, and handing it over (published spec, apollo-openapi.json; the notes call
 * reassignment manual, the spec has endpoints for it, and the spec wins):
 * - contacts and accounts: handed over in bulk, `POST /contacts/update_owners` and
 *   `POST /accounts/update_owners` with `contact_ids[]` / `account_ids[]` and `owner_id` in the query string
 *   (the spec defines them as query parameters, no body);
 * - sequences: `PUT /sequences/{id}` `{"user_id"}`, one each (the notes: "each sequence must be updated
 *   individually");
 * - tasks (scheduled ones only can move): `PATCH /tasks/{id}` with `user_id`, and the task's current
 *   `priority` and `creator_id` (the spec: omitting them resets them);
 * - deals: `PATCH /opportunities/{id}` `{"owner_id"}`, one each;
 * - mailboxes: `GET /email_accounts` lists them; no endpoint unlinks one, so that step is manual.
 * No search endpoint filters by owner: a count walks the whole collection (100 per page, at most 500 pages,
 * the display limit) and filters here. One walk per collection serves every person of a plan (the planning
 * context's memo); a collection larger than the display limit gives a lower bound, never a false zero.
 */

/** Ids per update_owners call. The spec states no maximum; the ids ride in the URL, so keep it modest. */
export const UPDATE_OWNERS_BATCH = 100;

const Row = z.looseObject({
  id: z.string(),
  owner_id: z.string().nullish(),
  user_id: z.string().nullish(),
  status: z.string().nullish(),
  priority: z.string().nullish(),
  creator_id: z.string().nullish(),
});
type Row = z.infer<typeof Row>;
const Pagination = z.looseObject({ total_pages: z.coerce.number().nullish(), total_entries: z.coerce.number().nullish() }).nullish();

type Kind = 'contacts' | 'accounts' | 'sequences' | 'tasks' | 'deals';

/** Each collection's search: method, path, where paging goes, the list key, the owner field, the limiter bucket. */
const SEARCH: Record<Kind, { method: 'GET' | 'POST'; path: string; paging: 'body' | 'query'; key: string; owner: 'owner_id' | 'user_id'; bucket: string }> = {
  contacts: { method: 'POST', path: '/contacts/search', paging: 'body', key: 'contacts', owner: 'owner_id', bucket: 'contacts/search' },
  accounts: { method: 'POST', path: '/accounts/search', paging: 'body', key: 'accounts', owner: 'owner_id', bucket: 'accounts/search' },
  sequences: { method: 'POST', path: '/emailer_campaigns/search', paging: 'query', key: 'emailer_campaigns', owner: 'user_id', bucket: 'emailer_campaigns/search' },
  tasks: { method: 'POST', path: '/tasks/search', paging: 'query', key: 'tasks', owner: 'user_id', bucket: 'tasks/search' },
  deals: { method: 'GET', path: '/opportunities/search', paging: 'query', key: 'opportunities', owner: 'owner_id', bucket: 'opportunities/search' },
};

export class ApolloRecords {
  constructor(private readonly client: ApolloClient) {}

  /** One page of a collection (no owner filter exists). */
  async page(kind: Kind, page: number, signal?: AbortSignal): Promise<{ rows: Row[]; totalPages: number | undefined }> {
    const s = SEARCH[kind];
    const paging = { page, per_page: MAX_PER_PAGE };
    const schema = z.looseObject({ [s.key]: z.array(Row).default([]), pagination: Pagination });
    const { body } = await this.client.call(schema, {
      method: s.method,
      path: s.path,
      ...(s.paging === 'body' ? { body: paging } : { query: paging }),
      idempotent: true,
      bucket: s.bucket,
      signal,
    });
    const b = body as Record<string, unknown> & { pagination?: z.infer<typeof Pagination> };
    return { rows: (b[s.key] as Row[]) ?? [], totalPages: b.pagination?.total_pages ?? undefined };
  }

  /**
   * Walks a collection from `fromPage`, collecting up to `want` rows that `pick` keeps; stops at the last
   * page or the display limit (`ceiling: true`).
   */
  async walk(kind: Kind, pick: (r: Row) => boolean, o: { fromPage?: number; want?: number; signal?: AbortSignal } = {}): Promise<{ rows: Row[]; nextPage: number | null; ceiling: boolean }> {
    const out: Row[] = [];
    for (let page = o.fromPage ?? 1; ; page++) {
      if (page > MAX_PAGES) return { rows: out, nextPage: null, ceiling: true };
      const { rows, totalPages } = await this.page(kind, page, o.signal);
      out.push(...rows.filter(pick));
      const last = rows.length < MAX_PER_PAGE || (totalPages !== undefined && page >= totalPages);
      if (last) return { rows: out, nextPage: null, ceiling: false };
      if (o.want !== undefined && out.length >= o.want) return { rows: out, nextPage: page + 1, ceiling: false };
    }
  }

  ownerOf(kind: Kind, r: Row): string | null {
    return (SEARCH[kind].owner === 'owner_id' ? r.owner_id : r.user_id) ?? null;
  }

  /** `POST /{contacts|accounts}/update_owners?{contact|account}_ids[]=…&owner_id=`. */
  async updateOwners(kind: 'contacts' | 'accounts', ids: readonly string[], ownerId: string, signal?: AbortSignal): Promise<{ requestId: string | undefined; owners: Map<string, string | null> }> {
    const param = kind === 'contacts' ? 'contact_ids[]' : 'account_ids[]';
    const schema = z.looseObject({ [kind]: z.array(z.looseObject({ id: z.string(), owner_id: z.string().nullish() })).default([]) });
    const { body, requestId } = await this.client.call(schema, {
      method: 'POST',
      path: `/${kind}/update_owners`,
      query: { [param]: ids, owner_id: ownerId },
      // The same owner set twice is the same state: safe to repeat after a lost answer.
      idempotent: true,
      bucket: `${kind}/update_owners`,
      signal,
    });
    const rows = body[kind] as { id: string; owner_id?: string | null }[];
    return { requestId, owners: new Map(rows.map((r) => [r.id, r.owner_id ?? null])) };
  }

  /** `GET /tasks/{id}`: the task's current priority and creator, which a PATCH must send back. */
  async taskKeeps(id: string, signal?: AbortSignal): Promise<{ priority: string | null; creator_id: string | null }> {
    const schema = z.looseObject({ task: z.looseObject({ priority: z.string().nullish(), creator_id: z.string().nullish() }).nullish() });
    const { body } = await this.client.call(schema, { method: 'GET', path: `/tasks/${encodeURIComponent(id)}`, idempotent: true, bucket: 'tasks/show', signal });
    return { priority: body.task?.priority ?? null, creator_id: body.task?.creator_id ?? null };
  }

  /** The one-record owner changes: sequences (`user_id`), tasks (`user_id` + current priority and creator), deals (`owner_id`). */
  async setOwner(kind: 'sequences' | 'tasks' | 'deals', record: OwnedRecord, ownerId: string, signal?: AbortSignal): Promise<{ requestId: string | undefined; owner: string | null }> {
    const id = encodeURIComponent(record.id);
    let req: { method: 'PUT' | 'PATCH'; path: string; body: Record<string, unknown>; bucket: string; key: string; field: 'user_id' | 'owner_id' };
    if (kind === 'sequences') {
      req = { method: 'PUT', path: `/sequences/${id}`, body: { user_id: ownerId }, bucket: 'sequences/update', key: 'emailer_campaign', field: 'user_id' };
    } else if (kind === 'tasks') {
      // The spec: a PATCH without priority or creator_id resets them. A search row that lacks either is
      // completed by reading the task, so the hand-over changes the owner and nothing else.
      let keep = { priority: record.extra?.priority ?? null, creator_id: record.extra?.creator_id ?? null };
      if (keep.priority === null || keep.creator_id === null) keep = await this.taskKeeps(record.id, signal);
      req = { method: 'PATCH', path: `/tasks/${id}`, body: { user_id: ownerId, priority: keep.priority ?? undefined, creator_id: keep.creator_id ?? undefined }, bucket: 'tasks/update', key: 'task', field: 'user_id' };
    } else {
      req = { method: 'PATCH', path: `/opportunities/${id}`, body: { owner_id: ownerId }, bucket: 'opportunities/update', key: 'opportunity', field: 'owner_id' };
    }
    const Owner = z.looseObject({ user_id: z.string().nullish(), owner_id: z.string().nullish(), object_owner_id: z.string().nullish() });
    const schema = Owner.extend({ [req.key]: Owner.nullish() });
    const { body, requestId } = await this.client.call(schema, { method: req.method, path: req.path, body: req.body, idempotent: true, bucket: req.bucket, signal });
    const nested = body[req.key] as z.infer<typeof Owner> | null | undefined;
    // The spec says a sequence's answer carries `user_id` and its alias `object_owner_id` without saying
    // where; its example's emailer_campaign has only id, name and active. Read the record's object first,
    // then the top level.
    const top = body as z.infer<typeof Owner>;
    const owner = nested?.[req.field] ?? nested?.object_owner_id ?? top[req.field] ?? top.object_owner_id ?? null;
    return { requestId, owner };
  }

  async mailboxes(userId: string, signal?: AbortSignal): Promise<{ id: string; email: string | null }[]> {
    const schema = z.looseObject({ email_accounts: z.array(z.looseObject({ id: z.string(), user_id: z.string().nullish(), email: z.string().nullish(), active: z.boolean().nullish() })).default([]) });
    const { body } = await this.client.call(schema, { method: 'GET', path: '/email_accounts', bucket: 'email_accounts/index', signal });
    return body.email_accounts.filter((m) => m.user_id === userId && m.active !== false).map((m) => ({ id: m.id, email: m.email ?? null }));
  }
}

// ---------------------------------------------------------------------------------------------------------

/** The whole collection walked once per plan, grouped by owner (Apollo has no owner filter). */
async function owners(records: ApolloRecords, kind: Kind, ctx: PlanningContext, pick: (r: Row) => boolean): Promise<{ byOwner: Map<string, number>; ceiling: boolean }> {
  const key = `${APOLLO.id}:owners:${kind}`;
  let walk = ctx.memo.get(key) as Promise<{ byOwner: Map<string, number>; ceiling: boolean }> | undefined;
  if (!walk) {
    walk = records.walk(kind, pick, { signal: ctx.signal }).then(({ rows, ceiling }) => {
      const byOwner = new Map<string, number>();
      for (const r of rows) {
        const o = records.ownerOf(kind, r);
        if (o) byOwner.set(o, (byOwner.get(o) ?? 0) + 1);
      }
      return { byOwner, ceiling };
    });
    ctx.memo.set(key, walk);
  }
  return walk;
}

/** Which rows can be handed over: tasks only while scheduled (the spec). */
function movable(kind: Kind): (r: Row) => boolean {
  return kind === 'tasks' ? (r) => r.status === 'scheduled' : () => true;
}

function recordType(records: ApolloRecords, kind: Kind): OwnedRecordType {
  const bulk = kind === 'contacts' || kind === 'accounts';
  const pageSize = bulk ? UPDATE_OWNERS_BATCH : MAX_PER_PAGE;
  // A hand-over continues its walk where the previous round stopped: re-walking from page 1 every round
  // would cost the whole collection per batch. Only a pass that started at page 1 and found nothing proves
  // nothing is left, so a walk that reaches the end after finding records starts one more pass from page 1
  // (records handed over are no longer the leaver's, so each pass finds fewer; a failed run's cursor is harmless).
  const cursors = new Map<string, { page: number; found: boolean }>();
  return {
    type: kind,
    count: async (owner, ctx) => {
      const { byOwner, ceiling } = await owners(records, kind, ctx, movable(kind));
      return { count: byOwner.get(owner.id) ?? 0, lowerBound: ceiling };
    },
    transfer: {
      batchSize: bulk ? UPDATE_OWNERS_BATCH : 1,
      pageSize,
      next: async (owner, signal) => {
        const pick = (r: Row) => movable(kind)(r) && records.ownerOf(kind, r) === owner.id;
        // `found`: this pass has found records already (so it cannot prove that none are left).
        let c = cursors.get(owner.id) ?? { page: 1, found: false };
        for (;;) {
          const { rows, nextPage } = await records.walk(kind, pick, { fromPage: c.page, want: pageSize, signal });
          if (rows.length > 0) {
            cursors.set(owner.id, nextPage === null ? { page: 1, found: false } : { page: nextPage, found: true });
            return rows.map((r) => ({ id: r.id, extra: kind === 'tasks' ? { priority: r.priority ?? null, creator_id: r.creator_id ?? null } : undefined }));
          }
          // The end of the collection: a whole pass from page 1 that found nothing is the proof.
          if (c.page === 1 && !c.found) {
            cursors.delete(owner.id);
            return [];
          }
          c = { page: 1, found: false };
        }
      },
      change: (batch, owner, to) =>
        ownerChange(APOLLO, kind, batch, owner, to, async (signal) => {
          if (kind === 'contacts' || kind === 'accounts') {
            const r = await records.updateOwners(kind, batch.map((b) => b.id), to.id, signal);
            const all = batch.every((b) => r.owners.get(b.id) === to.id);
            return { requestId: r.requestId, owner: all ? to.id : null };
          }
          return records.setOwner(kind, batch[0]!, to.id, signal);
        }),
    },
  };
}


export function apolloRecordTypes(records: ApolloRecords): OwnedRecordType[] {
  return [
    recordType(records, 'contacts'),
    recordType(records, 'accounts'),
    recordType(records, 'sequences'),
    recordType(records, 'tasks'),
    recordType(records, 'deals'),
  ];
}

export function apolloMailboxes(records: ApolloRecords): Mailboxes {
  return {
    list: (owner, signal) => records.mailboxes(owner.id, signal),
    unlink: {
      manual:
        "Apollo's API cannot unlink a mailbox: in Apollo, Settings > Mailboxes (see 'Link Your Mailbox to Apollo', https://knowledge.apollo.io/hc/en-us/articles/4409127806093-Link-Your-Mailbox-to-Apollo), remove the leaver's mailbox, or emails scheduled from it are marked 'Not sent'.",
    },
  };
}

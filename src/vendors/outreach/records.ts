import * as z from 'zod';
import type { VendorAccount } from '../../domain/account.js';
import type { Clock } from '../../clock.js';
import type { HttpCore } from '../../http/core.js';
import { VendorError } from '../../errors.js';
import { parseVendorBody } from '../../http/parse.js';
import type { VendorRequest } from '../../http/types.js';
import type { Change, Mailboxes, OwnedRecordType } from '../adapter.js';
import { ownerChange } from '../ownership.js';
import { JSON_API, MAX_PAGE_SIZE, userIdPath } from './client.js';
import { OUTREACH } from './identity.js';

/**
 * What an Outreach user owns, and handing it over (published spec, outreach-v2-openapi.json; JSON:API
 * throughout, `application/vnd.api+json` both ways):
 * - prospects and accounts: listed with `filter[owner][id]`, handed over in bulk with the batch actions
 *   `POST /batches/actions/prospectsAssignOwner` / `accountsAssignOwner` (`data.attributes.{ids, ownerId}`),
 *   then the batch is read back until it is finished;
 * - sequences and opportunities: `PATCH /{type}/{id}` with the `owner` relationship, one record per request
 *   (the spec has no batch action for them);
 * - tasks (open ones: pending and incomplete): `POST /tasks/{id}/actions/reassignOwner?actionParams[ownerId]=`, one per request;
 * - mailboxes: listed with `filter[user][id]`, unlinked with `DELETE /mailboxes/{id}` (204).
 * The spec declares no query parameters for collections: the filter and paging syntax is the notes' and the
 * relationship descriptions' ("filter[owner][id]=X"), so every returned record's owner is checked here too.
 */

/** Ids per batch action. The spec states no maximum; this is the collection page size, which bounds a round. */
export const BATCH_SIZE = MAX_PAGE_SIZE;
/** How long a batch may take to finish before the step gives up and re-reads (the owner filter decides). */
const BATCH_POLLS = 20;

const Related = z.object({ data: z.object({ type: z.string(), id: z.coerce.string() }).nullable().optional() }).passthrough().optional();
const Owned = z.object({
  type: z.string(),
  id: z.coerce.string(),
  attributes: z.object({ state: z.string().nullish(), email: z.string().nullish() }).passthrough().default({}),
  relationships: z.object({ owner: Related, user: Related }).passthrough().optional(),
});
const OwnedList = z.object({ data: z.array(Owned), meta: z.object({ count: z.number().int().nonnegative().optional() }).passthrough().optional() });
const Batch = z.object({
  data: z.object({
    id: z.coerce.string(),
    attributes: z.object({ state: z.string().nullish(), failures: z.number().nullish(), total: z.number().nullish() }).passthrough().default({}),
  }),
});

export const RECORD_KINDS = ['prospects', 'accounts', 'sequences', 'opportunities', 'tasks'] as const;
type Kind = (typeof RECORD_KINDS)[number];

/**
 * The OAuth scopes an offboarding needs here. The spec names no scopes and the notes list only users.*,
 * roles.read and profiles.read: these follow the notes' `<collection>.<action>` pattern per collection
 * (inferred, like the simulator's), plus the batches the bulk hand-over runs as and the mailbox delete.
 */
export const RECORD_SCOPES = [
  ...RECORD_KINDS.flatMap((k) => [`${k}.read`, `${k}.write`]),
  'mailboxes.read',
  'mailboxes.delete',
  'batches.read',
  'batches.write',
] as const;

type Slice = Record<string, string | boolean>;
/**
 * The parts of a collection that hold what a person owns and can hand over, each listed with its own filter:
 * accounts, since the spec says "only named accounts will show up on the collection index" (`filter[named]=
 * false` lists the others); tasks, whose open states are 'pending' and 'incomplete' (a complete task stays).
 */
const SLICES: Record<Kind, Slice[]> = {
  prospects: [{}],
  accounts: [{}, { 'filter[named]': false }],
  sequences: [{}],
  opportunities: [{}],
  tasks: [{ 'filter[state]': 'incomplete' }, { 'filter[state]': 'pending' }],
};

/** JSON:API resource type of each collection. */
const RESOURCE: Record<Kind | 'mailboxes', string> = {
  prospects: 'prospect',
  accounts: 'account',
  sequences: 'sequence',
  opportunities: 'opportunity',
  tasks: 'task',
  mailboxes: 'mailbox',
};

export class OutreachRecords {
  constructor(
    private readonly core: HttpCore,
    private readonly clock: Clock,
  ) {}

  private async call<T>(schema: z.ZodType<T>, req: VendorRequest): Promise<{ body: T; requestId: string | undefined }> {
    const res = await this.core.request<unknown>({ ...req, mediaType: JSON_API });
    return { body: parseVendorBody(this.core, schema, res, req), requestId: res.requestId };
  }

  /** One page of what `ownerId` owns in one slice of the collection (see SLICES). */
  async page(kind: Kind, ownerId: string, size: number, o: { slice?: Slice; offset?: number; signal?: AbortSignal } = {}): Promise<{ ids: string[]; total: number | undefined; listed: number }> {
    const { body } = await this.call(OwnedList, {
      method: 'GET',
      path: `/${kind}`,
      query: { 'filter[owner][id]': ownerId, ...o.slice, 'page[size]': Math.min(MAX_PAGE_SIZE, Math.max(1, size)), 'page[offset]': o.offset ?? 0 },
      signal: o.signal,
    });
    // The filter narrows; the owner relationship decides (an unsupported filter may be ignored, notes).
    const ids = body.data.filter((r) => r.relationships?.owner?.data?.id === ownerId).map((r) => r.id);
    return { ids, total: body.meta?.count, listed: body.data.length };
  }

  /** One record of a collection, whoever owns it: a read that shows the token may list it (doctor). */
  async probe(kind: Kind | 'mailboxes', signal?: AbortSignal): Promise<void> {
    await this.call(OwnedList, { method: 'GET', path: `/${kind}`, query: { 'page[size]': 1 }, signal });
  }

  /** How many `ownerId` owns: the count Outreach reports per slice, else a walk of the owner filter. */
  async count(kind: Kind, ownerId: string, signal?: AbortSignal): Promise<number> {
    let n = 0;
    for (const slice of SLICES[kind]) {
      const first = await this.page(kind, ownerId, 1, { slice, signal });
      if (first.total !== undefined) {
        n += first.total;
        continue;
      }
      for (let offset = 0; ; offset += MAX_PAGE_SIZE) {
        const page = await this.page(kind, ownerId, MAX_PAGE_SIZE, { slice, offset, signal });
        n += page.ids.length;
        if (page.listed < MAX_PAGE_SIZE) break;
      }
    }
    return n;
  }

  /** Up to `size` records `ownerId` still owns: the first slice that has any. */
  async next(kind: Kind, ownerId: string, size: number, signal?: AbortSignal): Promise<string[]> {
    for (const slice of SLICES[kind]) {
      const { ids } = await this.page(kind, ownerId, size, { slice, signal });
      if (ids.length > 0) return ids;
    }
    return [];
  }

  /**
   * A batch action handing `ids` to `ownerId`, with the confirmation stop skipped, then read back until the
   * batch is finished. The body is the spec's request schema: `type` beside `data` (not inside it, as plain
   * JSON:API would have it; the spec wins).
   */
  async assignOwner(kind: 'prospects' | 'accounts', ids: readonly string[], ownerId: string, signal?: AbortSignal): Promise<{ requestId: string | undefined }> {
    const { body, requestId } = await this.call(Batch, {
      method: 'POST',
      path: `/batches/actions/${kind}AssignOwner`,
      query: { 'actionParams[skipConfirmation]': true },
      body: { data: { attributes: { ids: ids.map(Number), ownerId: Number(ownerId) } }, type: 'batch' },
      signal,
    });
    let batch = body.data;
    for (let i = 0; i < BATCH_POLLS && !finished(batch.attributes.state); i++) {
      await this.clock.sleep(250 * (i + 1), signal);
      batch = (await this.call(Batch, { method: 'GET', path: `/batches/${encodeURIComponent(batch.id)}`, signal })).body.data;
    }
    if ((batch.attributes.failures ?? 0) > 0) {
      throw new VendorError({
        vendor: OUTREACH.id,
        code: 'invalid_response',
        requestId,
        message: `Outreach's batch ${batch.id} handed over only part of the ${kind} (${batch.attributes.failures} failed); the rest stay with their owner and the next round retries them.`,
      });
    }
    return { requestId };
  }

  /** `PATCH /{kind}/{id}` with the `owner` relationship: one record. Setting the same owner again is harmless. */
  async patchOwner(kind: 'sequences' | 'opportunities', id: string, ownerId: string, signal?: AbortSignal): Promise<{ requestId: string | undefined; owner: string | null }> {
    const { body, requestId } = await this.call(z.object({ data: Owned }), {
      method: 'PATCH',
      path: `/${kind}/${userIdPath(id)}`,
      body: { data: { type: RESOURCE[kind], id: Number(id), relationships: { owner: { data: { type: 'user', id: Number(ownerId) } } } } },
      idempotent: true,
      signal,
    });
    return { requestId, owner: body.data.relationships?.owner?.data?.id ?? null };
  }

  /** `POST /tasks/{id}/actions/reassignOwner?actionParams[ownerId]=`: the spec's member action, no body. */
  async reassignTask(id: string, ownerId: string, signal?: AbortSignal): Promise<{ requestId: string | undefined; owner: string | null }> {
    const { body, requestId } = await this.call(z.object({ data: Owned }), {
      method: 'POST',
      path: `/tasks/${userIdPath(id)}/actions/reassignOwner`,
      query: { 'actionParams[ownerId]': ownerId },
      // Reassigning to the same owner again is harmless.
      idempotent: true,
      signal,
    });
    return { requestId, owner: body.data.relationships?.owner?.data?.id ?? null };
  }

  async mailboxes(userId: string, signal?: AbortSignal): Promise<{ id: string; email: string | null }[]> {
    const { body } = await this.call(OwnedList, { method: 'GET', path: '/mailboxes', query: { 'filter[user][id]': userId, 'page[size]': MAX_PAGE_SIZE }, signal });
    return body.data.filter((m) => m.relationships?.user?.data?.id === userId).map((m) => ({ id: m.id, email: m.attributes.email ?? null }));
  }

  /** Whether the mailbox still exists. */
  async mailboxExists(id: string, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.call(z.object({ data: Owned }), { method: 'GET', path: `/mailboxes/${userIdPath(id)}`, signal });
      return true;
    } catch (err) {
      if (err instanceof VendorError && err.code === 'not_found') return false;
      throw err;
    }
  }

  /** `DELETE /mailboxes/{id}` (204). A mailbox already gone counts as done. */
  async deleteMailbox(id: string, signal?: AbortSignal): Promise<{ requestId: string | undefined }> {
    try {
      const res = await this.core.request({ method: 'DELETE', path: `/mailboxes/${userIdPath(id)}`, mediaType: JSON_API, idempotent: true, signal });
      return { requestId: res.requestId };
    } catch (err) {
      if (err instanceof VendorError && err.code === 'not_found') return { requestId: err.requestId };
      throw err;
    }
  }
}

function finished(state: string | null | undefined): boolean {
  return state === 'finished' || state === 'completed' || state === 'done' || state === 'failed';
}

// ---------------------------------------------------------------------------------------------------------
// The adapter's record types and mailboxes, built on OutreachRecords.

/** A bulk type (prospects, accounts): one batch action per up to BATCH_SIZE records. */
function bulkType(records: OutreachRecords, kind: 'prospects' | 'accounts'): OwnedRecordType {
  return {
    type: kind,
    count: async (owner, ctx) => ({ count: await records.count(kind, owner.id, ctx.signal), lowerBound: false }),
    transfer: {
      batchSize: BATCH_SIZE,
      pageSize: BATCH_SIZE,
      next: async (owner, signal) => (await records.next(kind, owner.id, BATCH_SIZE, signal)).map((id) => ({ id })),
      change: (batch, owner, to) => ownerChange(OUTREACH, kind, batch, owner, to, async (signal) => ({ ...(await records.assignOwner(kind, batch.map((r) => r.id), to.id, signal)), owner: to.id })),
    },
  };
}

/** A type changed one record per request (sequences, opportunities, tasks). */
function singleType(records: OutreachRecords, kind: 'sequences' | 'opportunities' | 'tasks'): OwnedRecordType {
  const write = (id: string, to: string, signal?: AbortSignal) => (kind === 'tasks' ? records.reassignTask(id, to, signal) : records.patchOwner(kind, id, to, signal));
  return {
    type: kind,
    count: async (owner, ctx) => ({ count: await records.count(kind, owner.id, ctx.signal), lowerBound: false }),
    transfer: {
      batchSize: 1,
      pageSize: 100,
      next: async (owner, signal) => (await records.next(kind, owner.id, 100, signal)).map((id) => ({ id })),
      change: (batch, owner, to) => ownerChange(OUTREACH, kind, batch, owner, to, (signal) => write(batch[0]!.id, to.id, signal)),
    },
  };
}

export function outreachRecordTypes(records: OutreachRecords): OwnedRecordType[] {
  return [bulkType(records, 'prospects'), bulkType(records, 'accounts'), singleType(records, 'sequences'), singleType(records, 'opportunities'), singleType(records, 'tasks')];
}

export function outreachMailboxes(records: OutreachRecords): Mailboxes {
  return {
    list: (owner, signal) => records.mailboxes(owner.id, signal),
    unlink: (box, owner) => ({
      vendor: OUTREACH.id,
      kind: 'unlink_mailbox',
      via: 'rest',
      target: { id: owner.id, email: owner.email },
      summary: `Unlink the Outreach mailbox ${box.email ?? box.id} of ${owner.email ?? owner.id}`,
      action: `delete the mailbox ${box.email ?? box.id} (DELETE /mailboxes/${box.id})`,
      caveats: ['Sequences still sending from this mailbox stop; hand them over first (the plan does).'],
      read: async (signal) => ({ exists: await records.mailboxExists(box.id, signal) }),
      satisfied: (s: { exists: boolean }) => !s.exists,
      apply: async (_s, signal) => records.deleteMailbox(box.id, signal),
    }),
  };
}

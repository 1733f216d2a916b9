import type { Collection } from '../../collection.js';
import { orFail, readBody } from '../../http-util.js';
import { isRecord } from '../../values.js';
import type { OwnedRecordBase } from '../book.js';
import { pathId, requireScope, respond, type OutreachCall } from '../http.js';
import { apiError, fail, failAll, included, includable, listDocument, listOf, readDocument, serialize, type JsonApiError, type ResourceDef } from '../jsonapi.js';
import { mailboxResource, taskResource } from '../resources.js';
import type { OutreachRecords, OutreachStore } from '../store.js';

/*
 * What users own: prospects, accounts, sequences, opportunities, tasks (collection and member reads), the owner
 * changes the spec has one record at a time (PATCH on sequences and opportunities, the reassignOwner member
 * action of tasks), and mailboxes (read, delete). Batch hand-overs of prospects and accounts are batches.ts.
 *
 * - Scopes: the spec names none; the notes' users.read/users.write pattern is followed per collection
 *   (`prospects.read`, `sequences.write`, `mailboxes.delete`...), so a token authorised only for users cannot
 *   touch records.
 * - Ids: the spec types `data.id` as integer in PATCH bodies; JSON:API (and this simulator's users PATCH) say
 *   string. Both are accepted here as long as they name the path's record; anything else (null, 1.5, true) is a
 *   400. Served ids are strings, as everywhere in this simulator.
 * - A new owner must be a user who can own records: one that exists, not locked, not deprovisioned (active).
 *   The spec states no rule; handing records to a locked seat would strand them, and a client that does is
 *   wrong, so it fails here (422) rather than passing silently.
 * - Accounts: the spec says "Only named accounts will show up on the collection index": without a
 *   `filter[named]` the list holds named accounts only; `filter[named]=false` lists the others.
 */

type Owned = 'prospects' | 'accounts' | 'sequences' | 'opportunities' | 'tasks';

/** A single resource document, with `include` and `fields[type]` as on the users endpoint. */
function single<T>(c: OutreachCall, def: ResourceDef<T, OutreachCall>, item: T): Record<string, unknown> {
  const q = c.url.searchParams;
  let fields: Set<string> | undefined;
  let include: string[] = [];
  for (const key of new Set(q.keys())) {
    if (key === 'include') {
      include = listOf(q.get(key)!);
      const bad = include.find((n) => !includable(def).includes(n));
      if (bad) fail(400, `cannot include '${bad}' on ${def.type}`, { parameter: 'include' });
    } else if (key === `fields[${def.type}]`) {
      fields = new Set(listOf(q.get(key)!));
    } else if (!key.startsWith('fields[')) {
      fail(400, `unsupported query parameter '${key}'`, { parameter: key });
    }
  }
  const doc: Record<string, unknown> = { data: serialize(def, item, c.env.base, fields) };
  if (include.length) doc.included = included(c, def, [item], include);
  return doc;
}

/** List and read of one owned type, behind `<type>.read`. */
export function ownedReads<T extends OwnedRecordBase>(def: ResourceDef<T, OutreachCall>, type: Owned) {
  const collection = (s: OutreachStore) => s.records[type] as unknown as Collection<T, number>;
  return {
    list(c: OutreachCall): void {
      requireScope(c, `${type}.read`);
      let items: readonly T[] = collection(c.env.store).all();
      // The spec: "Only named accounts will show up on the collection index".
      if (type === 'accounts' && !c.url.searchParams.has('filter[named]')) items = items.filter((a) => (a as unknown as { named: boolean }).named);
      respond(c, 200, listDocument(c, def, items, c.url.searchParams, c.env.base));
    },
    get(c: OutreachCall): void {
      const id = pathId(c);
      requireScope(c, `${type}.read`);
      const item = collection(c.env.store).get(id);
      if (!item) fail(404, `${def.type} ${id} not found`);
      respond(c, 200, single(c, def, item));
    },
  };
}

/** An id in a request body: an integer (the spec) or a string of one (JSON:API); anything else is a 400. */
function bodyId(v: unknown, pointer: string): string {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return String(v);
  if (typeof v === 'string' && /^[1-9]\d*$/.test(v)) return v;
  fail(400, `${pointer.split('/').slice(-2).join('.')} must be an integer id (or a string of one)`, { pointer });
}

/** A user records can be handed to, or the 422 that says why not. */
export function newOwner(store: OutreachStore, id: number, source: JsonApiError['source']): number {
  const problem = store.ownerProblem(id);
  if (problem) fail(422, problem, source);
  return id;
}

/**
 * PATCH /sequences/{id} and /opportunities/{id}: the `owner` relationship (and `name`), one record per request;
 * the spec has no batch action for these. Body: `{"data":{"type":"sequence","id":N,"relationships":{"owner":
 * {"data":{"type":"user","id":V}}}}}`; type and id are required and must name the path's record (409 otherwise).
 */
export function ownerPatch<T extends OwnedRecordBase & { name: string }>(def: ResourceDef<T, OutreachCall>, type: 'sequences' | 'opportunities') {
  return async (c: OutreachCall): Promise<void> => {
    const id = pathId(c);
    requireScope(c, `${type}.write`);
    const { store } = c.env;
    const data = await readDocument(c.req);
    const collection = store.records[type] as unknown as Collection<T, number>;
    const record = collection.get(id);
    if (!record) fail(404, `${def.type} ${id} not found`);
    if (data.type === undefined) fail(400, 'data.type is required', { pointer: '/data/type' });
    if (data.id === undefined) fail(400, 'data.id is required and must equal the id in the path', { pointer: '/data/id' });
    const bid = bodyId(data.id, '/data/id');
    if (data.type !== def.type) fail(409, `data.type must be '${def.type}'`, { pointer: '/data/type' });
    if (bid !== String(id)) fail(409, `data.id '${bid}' does not match the path id ${id}`, { pointer: '/data/id' });

    const errors: JsonApiError[] = [];
    let name: string | undefined;
    const attrs = data.attributes ?? {};
    if (!isRecord(attrs)) fail(400, 'data.attributes must be an object', { pointer: '/data/attributes' });
    for (const [k, v] of Object.entries(attrs)) {
      const pointer = `/data/attributes/${k}`;
      if (k !== 'name') errors.push(apiError(422, `attribute '${k}' is not writable here (the sandbox models the owner and the name)`, { pointer }));
      else if (typeof v !== 'string' || !v.trim()) errors.push(apiError(422, "name can't be blank", { pointer }));
      else name = v;
    }
    let owner: number | null | undefined;
    const rels = data.relationships ?? {};
    if (!isRecord(rels)) fail(400, 'data.relationships must be an object', { pointer: '/data/relationships' });
    for (const [k, rel] of Object.entries(rels)) {
      const pointer = `/data/relationships/${k}`;
      if (k !== 'owner') {
        errors.push(apiError(422, `relationship '${k}' is not supported by the sandbox`, { pointer }));
        continue;
      }
      if (!isRecord(rel) || !('data' in rel)) fail(400, 'owner must be a relationship object with data', { pointer });
      if (rel.data === null) {
        owner = null;
        continue;
      }
      if (!isRecord(rel.data)) fail(400, 'owner.data must be a resource identifier or null', { pointer: `${pointer}/data` });
      const uid = bodyId(rel.data.id, `${pointer}/data/id`);
      if (rel.data.type !== 'user') {
        errors.push(apiError(422, "owner.data.type must be 'user'", { pointer: `${pointer}/data/type` }));
        continue;
      }
      const problem = store.ownerProblem(Number(uid));
      if (problem) errors.push(apiError(422, problem, { pointer: `${pointer}/data/id` }));
      else owner = Number(uid);
    }
    if (errors.length) failAll(422, errors);
    if (name !== undefined && name !== record.name) {
      record.name = name;
      record.updatedAt = new Date(c.env.clock.now()).toISOString();
      collection.changed(record);
    }
    if (owner !== undefined) store.setOwner(collection, record, owner);
    respond(c, 200, { data: serialize(def, record, c.env.base) });
  };
}

/**
 * POST /tasks/{id}/actions/reassignOwner?actionParams[ownerId]=V: the spec's member action, `ownerId` required,
 * no request body (a body is refused, so a client that sends the owner there fails here).
 */
export async function reassignTaskOwner(c: OutreachCall): Promise<void> {
  const id = pathId(c);
  requireScope(c, 'tasks.write');
  const { store } = c.env;
  const body = await orFail(readBody(c.req), fail);
  if (body.length > 0) fail(400, 'reassignOwner takes no request body; send actionParams[ownerId] in the query');
  const q = c.url.searchParams;
  for (const key of new Set(q.keys())) if (key !== 'actionParams[ownerId]') fail(400, `unsupported query parameter '${key}'`, { parameter: key });
  const task = store.records.tasks.get(id);
  if (!task) fail(404, `task ${id} not found`);
  const raw = q.get('actionParams[ownerId]');
  const source = { parameter: 'actionParams[ownerId]' };
  if (raw === null || raw.trim() === '') fail(422, 'actionParams[ownerId] is required', source);
  if (!/^[1-9]\d*$/.test(raw)) fail(422, `actionParams[ownerId] '${raw}' is not a user id`, source);
  store.setOwner(store.records.tasks, task, newOwner(store, Number(raw), source));
  respond(c, 200, { data: serialize(taskResource, task, c.env.base) });
}

function mailboxes(store: OutreachStore): OutreachRecords['mailboxes'] {
  return store.records.mailboxes;
}

export function listMailboxes(c: OutreachCall): void {
  requireScope(c, 'mailboxes.read');
  respond(c, 200, listDocument(c, mailboxResource, mailboxes(c.env.store).all(), c.url.searchParams, c.env.base));
}

export function getMailbox(c: OutreachCall): void {
  const id = pathId(c);
  requireScope(c, 'mailboxes.read');
  const m = mailboxes(c.env.store).get(id);
  if (!m) fail(404, `mailbox ${id} not found`);
  respond(c, 200, single(c, mailboxResource, m));
}

/** DELETE /mailboxes/{id}: 204 without a body (the spec), then 404 for the mailbox. */
export function deleteMailbox(c: OutreachCall): void {
  const id = pathId(c);
  requireScope(c, 'mailboxes.delete');
  const box = mailboxes(c.env.store);
  const m = box.get(id);
  if (!m) fail(404, `mailbox ${id} not found`);
  box.delete(m);
  respond(c, 204, undefined);
}

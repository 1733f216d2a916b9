import type { Collection } from '../../collection.js';
import { isRecord } from '../../values.js';
import { pathId, requireScope, respond, type OutreachCall } from '../http.js';
import { fail, filterItems, listDocument, readTopDocument, serialize, type ResourceDef } from '../jsonapi.js';
import { accountResource, batchResource, prospectResource } from '../resources.js';
import type { BatchTarget, OutreachStore, SimBatch } from '../store.js';
import { newOwner } from './records.js';

/*
 * Batch actions (the spec's "Bulk Action"s): POST /batches/actions/prospectsAssignOwner and accountsAssignOwner
 * "assign an user with {ownerId} as owner to all the targeted prospects", then the batch resource:
 * GET /batches/{id}, POST /batches/{id}/actions/confirm and /cancel.
 *
 * - Body: the spec's schema is `{"data":{"attributes":{"ids":[int],"ownerId":int}},"type":string}`, `type`
 *   BESIDE `data`; JSON:API puts it in `data.type`. Either (or both) is accepted; at least one must say
 *   `batch`, and one saying anything else is a 409 (JSON:API's conflict).
 * - `ids` are integers and `ownerId` an integer (the spec); other JSON types are a 400. An unknown, locked or
 *   deprovisioned owner is a 422 and no batch is made. Targets that do not exist are the batch's `failures`.
 *   Targets may instead be selected with `actionParams[filter][...]` (the spec's "Filter to apply to select the
 *   records"), in the list filters' syntax (`actionParams[filter][owner][id]=X`); not both.
 * - `actionParams[skipConfirmation]=true`: the batch runs at once and answers `finished`. Without it the batch
 *   answers `pending` with `confirmedCountRequired: true` and runs on POST /batches/{id}/actions/confirm with
 *   `actionParams[confirmedCount]` equal to its `confirmCount` (422 otherwise). The spec describes batches as
 *   asynchronous; this one finishes within the request that runs it, which a client polling GET /batches/{id}
 *   handles the same way.
 * - Scopes: the targets' `.write` (prospects.write, accounts.write) to start one; `batches.read` and
 *   `batches.write` for the batch itself.
 */

const ACTIONS: Record<BatchTarget, string> = { prospects: 'prospectsAssignOwner', accounts: 'accountsAssignOwner' };

function batchOf(c: OutreachCall): SimBatch {
  const id = pathId(c);
  const b = c.env.store.batches.get(id);
  if (!b) fail(404, `batch ${id} not found`);
  return b;
}

/** `actionParams[...]` of a batch action: whether to skip the confirmation, and the filter, as list-filter pairs. */
function actionParams(q: URLSearchParams): { skip: boolean; filter: [string, string][] } {
  let skip = false;
  const filter: [string, string][] = [];
  for (const [key, value] of q) {
    if (key === 'actionParams[skipConfirmation]') {
      if (value !== 'true' && value !== 'false') fail(400, 'actionParams[skipConfirmation] must be true or false', { parameter: key });
      skip = value === 'true';
    } else if (key.startsWith('actionParams[filter][')) {
      filter.push([key.slice('actionParams['.length).replace(/^filter\]/, 'filter'), value]);
    } else {
      fail(400, `unsupported query parameter '${key}'`, { parameter: key });
    }
  }
  return { skip, filter };
}

function integerOrFail(v: unknown, pointer: string, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(400, `${what} must be an integer (the spec types it so)`, { pointer });
  return v;
}

/** The targets' ids `filter` selects (every record of the type, unnamed accounts included), and whether an id exists. */
function targets(store: OutreachStore, target: BatchTarget): { select(filter: [string, string][]): number[]; has(id: number): boolean } {
  const pick = <T extends { id: number }>(def: ResourceDef<T, OutreachCall>, items: Collection<T, number>) => ({
    select: (filter: [string, string][]) => filterItems(def, items.all(), filter).map((r) => r.id),
    has: (id: number) => items.get(id) !== undefined,
  });
  return target === 'prospects' ? pick(prospectResource, store.records.prospects) : pick(accountResource, store.records.accounts);
}

/** POST /batches/actions/{prospects|accounts}AssignOwner. */
export function assignOwner(target: BatchTarget) {
  return async (c: OutreachCall): Promise<void> => {
    requireScope(c, `${target}.write`);
    const { store } = c.env;
    const { skip, filter } = actionParams(c.url.searchParams);
    const doc = await readTopDocument(c.req);
    const data = doc.data as Record<string, unknown>;
    // `type`: beside `data` in the spec's schema, in `data` by JSON:API; see the top of this file.
    const types = [doc.type, data.type].filter((t) => t !== undefined);
    if (types.length === 0) fail(400, "type is required: 'batch', beside data (the spec) or as data.type", { pointer: '/type' });
    if (types.some((t) => t !== 'batch')) fail(409, "the document's type must be 'batch'", { pointer: doc.type !== 'batch' ? '/type' : '/data/type' });
    if (data.id !== undefined) fail(403, 'client-generated ids are not supported', { pointer: '/data/id' });
    const attrs = data.attributes;
    if (!isRecord(attrs)) fail(400, 'data.attributes must be an object with ownerId and ids', { pointer: '/data/attributes' });
    for (const k of Object.keys(attrs)) if (k !== 'ids' && k !== 'ownerId') fail(422, `unknown attribute '${k}' of a ${ACTIONS[target]} batch`, { pointer: `/data/attributes/${k}` });
    if (attrs.ownerId === undefined) fail(422, 'ownerId is required', { pointer: '/data/attributes/ownerId' });
    const ownerId = integerOrFail(attrs.ownerId, '/data/attributes/ownerId', 'ownerId');

    const records = targets(store, target);
    let ids: number[];
    if (attrs.ids !== undefined) {
      if (filter.length) fail(422, 'give either data.attributes.ids or actionParams[filter], not both', { pointer: '/data/attributes/ids' });
      if (!Array.isArray(attrs.ids)) fail(400, 'ids must be an array of integers', { pointer: '/data/attributes/ids' });
      ids = [...new Set(attrs.ids.map((v, i) => integerOrFail(v, `/data/attributes/ids/${i}`, `ids[${i}]`)))];
      if (ids.length === 0) fail(422, 'ids must name at least one record', { pointer: '/data/attributes/ids' });
    } else if (filter.length) {
      ids = records.select(filter);
    } else {
      fail(422, 'the records to act on are missing: give data.attributes.ids or actionParams[filter]', { pointer: '/data/attributes/ids' });
    }
    newOwner(store, ownerId, { pointer: '/data/attributes/ownerId' });

    const batch = store.createBatch({
      action: ACTIONS[target],
      target,
      ownerId,
      ids,
      missing: ids.filter((id) => !records.has(id)),
      creatorId: null,
      confirmationRequired: !skip,
    });
    if (skip) store.runBatch(batch);
    respond(c, 200, { data: serialize(batchResource, batch, c.env.base) });
  };
}

export function listBatches(c: OutreachCall): void {
  requireScope(c, 'batches.read');
  respond(c, 200, listDocument(c, batchResource, c.env.store.batches.all(), c.url.searchParams, c.env.base));
}

export function getBatch(c: OutreachCall): void {
  const b = batchOf(c);
  requireScope(c, 'batches.read');
  respond(c, 200, { data: serialize(batchResource, b, c.env.base) });
}

/** POST /batches/{id}/actions/confirm?actionParams[confirmedCount]=N: runs a pending batch. */
export function confirmBatch(c: OutreachCall): void {
  const b = batchOf(c);
  requireScope(c, 'batches.write');
  const q = c.url.searchParams;
  for (const key of new Set(q.keys())) if (key !== 'actionParams[confirmedCount]') fail(400, `unsupported query parameter '${key}'`, { parameter: key });
  if (b.state !== 'pending') fail(422, `batch ${b.id} is ${b.state}; only a pending batch can be confirmed`);
  const expected = b.ids.length - b.missing.length;
  const raw = q.get('actionParams[confirmedCount]');
  const source = { parameter: 'actionParams[confirmedCount]' };
  if (raw === null) fail(422, `actionParams[confirmedCount] is required: confirm the ${expected} records this batch changes`, source);
  if (!/^\d+$/.test(raw) || Number(raw) !== expected) fail(422, `actionParams[confirmedCount] ${raw} does not match the batch's confirmCount ${expected}`, source);
  b.confirmedAt = new Date(c.env.clock.now()).toISOString();
  c.env.store.runBatch(b);
  respond(c, 200, { data: serialize(batchResource, b, c.env.base) });
}

/** POST /batches/{id}/actions/cancel: a pending batch is canceled and changes nothing. */
export function cancelBatch(c: OutreachCall): void {
  const b = batchOf(c);
  requireScope(c, 'batches.write');
  if (b.state !== 'pending') fail(422, `batch ${b.id} is ${b.state}; only a pending batch can be canceled`);
  const at = new Date(c.env.clock.now()).toISOString();
  b.state = 'canceled';
  b.canceledAt = at;
  b.updatedAt = at;
  c.env.store.batches.changed(b);
  respond(c, 200, { data: serialize(batchResource, b, c.env.base) });
}

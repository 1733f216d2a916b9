import type { Collection } from '../../collection.js';
import { pageOf } from '../../collection.js';
import { parseMediaType } from '../../http-util.js';
import type { SimApolloAccount, SimApolloTask, SimDeal, SimSequence } from '../book.js';
import { MAX_PAGES, fail, truthy, type ApolloCall } from '../http.js';
import type { SimContact } from '../seed.js';

/*
 * What teammates own, and handing it over, as the spec defines each endpoint (the notes call reassignment
 * manual; the spec has endpoints for it, and the spec wins):
 *
 * - Searches: POST /accounts/search takes a JSON body (`page`, `per_page`, `q_organization_name`,
 *   `sort_by_field`); POST /emailer_campaigns/search and POST /tasks/search take query parameters and no body;
 *   GET /opportunities/search takes query parameters. None filters by owner (the spec has no such filter).
 *   Answers: `{<key>: [...], pagination: {page, per_page, total_entries, total_pages}}`. per_page is at most 100
 *   (capped, except tasks, where the spec's 422 "Per page not supported" is answered); pages past 500 come back
 *   empty with the totals unchanged (the 50,000-record display limit).
 * - Where the spec puts parameters in the query and defines no body (the two query searches, update_owners), a
 *   body carrying parameters is refused (422): a client putting them there would otherwise read page 1 forever
 *   or move nothing without noticing.
 * - Where the spec defines a JSON body (accounts search, the PUT and PATCHes), another media type is a 415.
 * - POST /contacts/update_owners and /accounts/update_owners: `contact_ids[]` / `account_ids[]` (repeated) and
 *   `owner_id` in the query; 422 `{"error":"Required parameter 'contact_ids' missing"}` (and 'owner_id') as the
 *   spec shows; an owner who is not an active teammate is a 422. Ids that do not exist are left out of the
 *   answer. Cap: the spec states none; the ids ride in the URL, and the dispatcher refuses a request line past
 *   8 KiB (414, the common edge default), about 190 24-character ids per call. The client sends at most 100.
 * - PUT /sequences/{id} `{"user_id"}`: the spec says the response "reflects it in both user_id and its alias
 *   object_owner_id"; its 200 example is the sequence with a nested `emailer_campaign {id, name, active}`. Both
 *   the top level and `emailer_campaign` carry user_id and object_owner_id here (where they sit is not
 *   specified); `sequenceOwnerAt: 'top'` answers them at the top level only. 404 `{"error":"Record not found."}`.
 * - PATCH /tasks/{id}: `user_id` only while the task is `scheduled` (422 otherwise: a completed or skipped task
 *   can change only note, priority, priority_cd and contact_id); omitting `priority` or `creator_id` on a
 *   scheduled task RESETS them to `medium` and to the key's owner, as the spec warns. Unknown task: the spec's
 *   422 "This task has been deleted. Please refresh your page."
 * - PATCH /opportunities/{id} `{"owner_id"}`; unknown deal: the spec's 422 "Opportunity does not exist."
 * - GET /email_accounts: every teammate's linked mailboxes; the spec has no parameters and no write.
 */

const DEFAULT_PER_PAGE = 25;
const MAX_PER_PAGE = 100;

/** A query-defined endpoint's body must carry nothing (the spec defines none). */
function noBody(c: ApolloCall): void {
  const keys = Object.keys(c.body);
  if (keys.length) fail(422, { error: `Parameters of ${c.method} ${c.url.pathname.replace(/^\/api\/v1/, '')} go in the query string; the request body is not read (got ${keys.join(', ')})` });
}

/** A JSON-defined endpoint's body must be JSON. */
function jsonBody(c: ApolloCall): void {
  const ct = parseMediaType(c.req.headers['content-type']);
  if ((ct && ct.type !== 'application/json') || (!ct && Object.keys(c.body).length)) fail(415, { error: 'Content-Type must be application/json' });
}

function positive(raw: unknown, name: string, dflt: number): number {
  if (raw === undefined || raw === null || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) fail(422, { error: `Invalid parameters: ${name} must be a positive integer` });
  return n;
}

/** page and per_page from the query or the body (by the spec of the endpoint). */
function pagingOf(c: ApolloCall, from: 'query' | 'body', o: { refuseLarge?: boolean } = {}): { page: number; perPage: number } {
  const get = (k: string) => (from === 'query' ? (c.url.searchParams.get(k) ?? undefined) : c.body[k]);
  const page = positive(get('page'), 'page', 1);
  let perPage = positive(get('per_page'), 'per_page', DEFAULT_PER_PAGE);
  if (perPage > MAX_PER_PAGE) {
    // The spec's tasks search example: 422 "Per page not supported".
    if (o.refuseLarge) fail(422, { error: 'Per page not supported' });
    perPage = MAX_PER_PAGE;
  }
  return { page, perPage };
}

/** One page of a search answer; nothing past page 500 (the display limit), totals unchanged. */
function searched<T>(key: string, items: readonly T[], p: { page: number; perPage: number }, serialize: (x: T) => unknown) {
  const shown = p.page > MAX_PAGES ? [] : pageOf(items, p.page, p.perPage);
  return {
    [key]: shown.map(serialize),
    breadcrumbs: [],
    partial_results_only: false,
    pagination: { page: p.page, per_page: p.perPage, total_entries: items.length, total_pages: Math.ceil(items.length / p.perPage) },
  };
}

function sortedBy<T>(items: readonly T[], key: ((x: T) => string | number) | undefined, asc: boolean): readonly T[] {
  if (!key) return items;
  const sign = asc ? 1 : -1;
  return [...items].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -sign : x > y ? sign : 0;
  });
}

const accountAnswer = (c: ApolloCall) => (a: SimApolloAccount) => ({
  id: a.id,
  domain: a.domain,
  name: a.name,
  team_id: c.env.store.team.team_id,
  account_stage_id: a.account_stage_id,
  source: 'api',
  creator_id: a.creator_id,
  owner_id: a.owner_id,
  created_at: a.created_at,
  updated_at: a.updated_at,
  crm_owner_id: null,
  label_ids: [],
  typed_custom_fields: {},
});

export function searchAccounts(c: ApolloCall) {
  jsonBody(c);
  const p = pagingOf(c, 'body');
  const name = typeof c.body.q_organization_name === 'string' ? c.body.q_organization_name.trim().toLowerCase() : '';
  const sort = c.body.sort_by_field;
  const keys: Record<string, (a: SimApolloAccount) => string> = {
    account_created_at: (a) => a.created_at,
    account_updated_at: (a) => a.updated_at,
    account_last_activity_date: (a) => a.updated_at,
  };
  if (sort !== undefined && (typeof sort !== 'string' || !Object.hasOwn(keys, sort))) fail(422, { error: 'Invalid sort criteria', skip_alert_dialog: true });
  const all = c.env.store.records.accounts.all().filter((a) => !name || a.name.toLowerCase().includes(name));
  return searched('accounts', sortedBy(all, sort === undefined ? undefined : keys[sort as string], truthy(c.body.sort_ascending)), p, accountAnswer(c));
}

const sequenceFields = (s: SimSequence) => ({ id: s.id, name: s.name, active: s.active, user_id: s.user_id, object_owner_id: s.user_id });

function sequenceAnswer(s: SimSequence) {
  return { ...sequenceFields(s), archived: s.archived, created_at: s.created_at, updated_at: s.updated_at, num_steps: s.num_steps, label_ids: [], creation_type: 'new' };
}

export function searchSequences(c: ApolloCall) {
  noBody(c);
  const p = pagingOf(c, 'query');
  const name = c.url.searchParams.get('q_name')?.trim().toLowerCase();
  const all = c.env.store.records.sequences.all().filter((s) => !name || s.name.toLowerCase().includes(name));
  return searched('emailer_campaigns', all, p, sequenceAnswer);
}

const taskAnswer = (t: SimApolloTask) => ({
  id: t.id,
  user_id: t.user_id,
  creator_id: t.creator_id,
  status: t.status,
  priority: t.priority,
  type: t.type,
  note: t.note,
  contact_id: t.contact_id,
  due_at: t.due_at,
  completed_at: t.completed_at,
  created_at: t.created_at,
});

const PRIORITY_ORDER: Record<string, number> = { high: 0, medium: 1, low: 2 };

export function searchTasks(c: ApolloCall) {
  noBody(c);
  const p = pagingOf(c, 'query', { refuseLarge: true });
  const sort = c.url.searchParams.get('sort_by_field');
  const keys: Record<string, (t: SimApolloTask) => string | number> = { task_due_at: (t) => t.due_at, task_priority: (t) => PRIORITY_ORDER[t.priority]! };
  if (sort !== null && !Object.hasOwn(keys, sort)) fail(422, { error: 'Invalid sort criteria' });
  return searched('tasks', sortedBy(c.env.store.records.tasks.all(), sort === null ? undefined : keys[sort], true), p, taskAnswer);
}

const dealAnswer = (c: ApolloCall) => (d: SimDeal) => ({
  id: d.id,
  team_id: c.env.store.team.team_id,
  owner_id: d.owner_id,
  name: d.name,
  amount: d.amount,
  is_closed: d.is_closed,
  is_won: d.is_won,
  stage_name: d.stage_name,
  closed_date: d.closed_date,
  created_at: d.created_at,
  crm_owner_id: null,
  currency: { name: 'US Dollar', iso_code: 'USD', symbol: '$' },
});

export function searchDeals(c: ApolloCall) {
  const p = pagingOf(c, 'query');
  const sort = c.url.searchParams.get('sort_by_field');
  const keys: Record<string, (d: SimDeal) => number> = { amount: (d) => d.amount, is_closed: (d) => Number(d.is_closed), is_won: (d) => Number(d.is_won) };
  if (sort !== null && !Object.hasOwn(keys, sort)) fail(422, { error: 'Invalid sort criteria' });
  return searched('opportunities', sortedBy(c.env.store.records.deals.all(), sort === null ? undefined : keys[sort], false), p, dealAnswer(c));
}

/** A `name` a write sets: a non-empty string. */
function nameOf(raw: unknown): string {
  if (typeof raw !== 'string' || !raw.trim()) fail(422, { error: 'Invalid parameters: name must be a non-empty string' });
  return raw;
}

/** The owner a write names: an active teammate, or the 422 that says why not. */
function owner(c: ApolloCall, raw: unknown, name: string): string {
  if (typeof raw !== 'string' || raw.trim() === '') fail(422, { error: `Invalid parameters: ${name} must be an Apollo user ID` });
  const problem = c.env.store.ownerProblem(raw.trim());
  if (problem) fail(422, { error: problem });
  return raw.trim();
}

/** POST /contacts/update_owners and /accounts/update_owners: ids and owner in the query (the spec), no body. */
export function updateOwners(kind: 'contacts' | 'accounts') {
  const param = kind === 'contacts' ? 'contact_ids' : 'account_ids';
  return (c: ApolloCall) => {
    noBody(c);
    const q = c.url.searchParams;
    const ids = [...new Set(q.getAll(`${param}[]`).map((s) => s.trim()).filter(Boolean))];
    if (ids.length === 0) fail(422, { error: `Required parameter '${param}' missing` });
    if (!q.get('owner_id')?.trim()) fail(422, { error: "Required parameter 'owner_id' missing" });
    const to = owner(c, q.get('owner_id'), 'owner_id');
    const { store } = c.env;
    const collection = (kind === 'contacts' ? store.contacts : store.records.accounts) as Collection<SimContact | SimApolloAccount>;
    const out: { id: string; owner_id: string; crm_owner_id: null }[] = [];
    for (const id of ids) {
      const r = collection.get(id);
      if (!r) continue;
      store.update(collection, r, { owner_id: to });
      out.push({ id: r.id, owner_id: r.owner_id, crm_owner_id: null });
    }
    return { [kind]: out };
  };
}

/** PUT /sequences/{id}: `user_id` reassigns the sequence (also `name`, `active`). */
export function updateSequence(c: ApolloCall) {
  jsonBody(c);
  const { store } = c.env;
  const s = store.records.sequences.get(c.params.id!);
  if (!s) fail(404, { error: 'Record not found.' });
  const b = c.body;
  const changes: Partial<SimSequence> = {};
  if (b.user_id !== undefined) changes.user_id = owner(c, b.user_id, 'user_id');
  if (b.name !== undefined) changes.name = nameOf(b.name);
  if (b.active !== undefined) {
    if (typeof b.active !== 'boolean') fail(422, { error: 'Invalid parameters: active must be true or false' });
    changes.active = b.active;
  }
  store.update(store.records.sequences, s, changes);
  // Where the spec's "user_id and its alias object_owner_id" sit is not said: both places carry them, unless
  // the simulator is told to answer the literal example shape (the nested object: id, name, active).
  const nested = c.env.sequenceOwnerAt === 'both' ? sequenceFields(s) : { id: s.id, name: s.name, active: s.active };
  return { ...sequenceAnswer(s), emailer_campaign: nested, emailer_steps: [], emailer_touches: [] };
}

/** GET /tasks/{id}: one task as the search shows it (priority and creator_id included). */
export function showTask(c: ApolloCall) {
  const t = c.env.store.records.tasks.get(c.params.id!);
  if (!t) fail(404, { error: 'Record not found.' });
  return { task: taskAnswer(t) };
}

const PRIORITIES = new Set(['high', 'medium', 'low']);
const AFTER_SCHEDULED = new Set(['note', 'priority', 'priority_cd', 'contact_id']);

/** PATCH /tasks/{id}: see the top of this file for what may change and what resets. */
export function updateTask(c: ApolloCall) {
  jsonBody(c);
  const { store } = c.env;
  const t = store.records.tasks.get(c.params.id!);
  if (!t) fail(422, { error: 'This task has been deleted. Please refresh your page.' });
  const b = c.body;
  if (b.priority !== undefined && (typeof b.priority !== 'string' || !PRIORITIES.has(b.priority))) fail(422, { error: 'Invalid parameters: priority must be high, medium or low' });
  const changes: Partial<SimApolloTask> = {};
  if (t.status !== 'scheduled') {
    // The spec: "For a task that's already completed or skipped, you can only update note, priority, priority_cd, and contact_id."
    const refused = Object.keys(b).filter((k) => !AFTER_SCHEDULED.has(k));
    if (refused.length) fail(422, { error: `This task is ${t.status}: only note, priority, priority_cd and contact_id can change (got ${refused.join(', ')})` });
  } else {
    if (b.user_id !== undefined) changes.user_id = owner(c, b.user_id, 'user_id');
    // The spec: omitting priority or creator_id on a scheduled task resets them (medium; the key's user).
    changes.priority = b.priority === undefined ? 'medium' : (b.priority as SimApolloTask['priority']);
    if (b.creator_id === undefined) changes.creator_id = c.cred!.owner.id;
    else if (typeof b.creator_id !== 'string' || !store.teammates.get(b.creator_id)) fail(422, { error: 'Invalid parameters: creator_id must be a user on your team' });
    else changes.creator_id = b.creator_id;
    if (b.due_at !== undefined) {
      if (typeof b.due_at !== 'string' || Number.isNaN(Date.parse(b.due_at))) fail(422, { error: 'Invalid parameters: due_at must be an ISO 8601 time' });
      changes.due_at = new Date(b.due_at).toISOString();
    }
  }
  if (b.priority !== undefined) changes.priority = b.priority as SimApolloTask['priority'];
  if (b.note !== undefined) changes.note = b.note === null ? null : String(b.note);
  store.update(store.records.tasks, t, changes);
  return { task: taskAnswer(t) };
}

/** PATCH /opportunities/{id}: `owner_id` hands the deal over (also `name`, `amount`). */
export function updateDeal(c: ApolloCall) {
  jsonBody(c);
  const { store } = c.env;
  const d = store.records.deals.get(c.params.id!);
  if (!d) fail(422, { error: 'Opportunity does not exist.' });
  const b = c.body;
  const changes: Partial<SimDeal> = {};
  if (b.owner_id !== undefined) changes.owner_id = owner(c, b.owner_id, 'owner_id');
  if (b.name !== undefined) changes.name = nameOf(b.name);
  if (b.amount !== undefined) {
    const n = Number(b.amount);
    if (!Number.isFinite(n) || n < 0) fail(422, { error: 'Invalid parameters: amount must be a number' });
    changes.amount = n;
  }
  store.update(store.records.deals, d, changes);
  return { opportunity: dealAnswer(c)(d) };
}

/** GET /email_accounts: every teammate's linked mailboxes (the spec: "doesn't require any parameters"). */
export function listEmailAccounts(c: ApolloCall) {
  return { email_accounts: c.env.store.records.emailAccounts.all().map((m) => ({ aliases: [], ...m, provider_display_name: m.type === 'gmail' ? 'Gmail' : 'Outlook' })) };
}

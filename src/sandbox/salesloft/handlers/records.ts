import type { Collection } from '../../collection.js';
import { SimError, orFail, parseMediaType, readBody } from '../../http-util.js';
import type { SimCadence, SimPerson, SimSlAccount, SimSlTask, SlRecordBase } from '../book.js';
import { boolParam, fail, href, invalid, listParam, paginate, requireRead, type SalesloftCall } from '../http.js';
import type { SalesloftStore } from '../store.js';
import { renderMicros } from '../time.js';

/*
 * What users own: /v2/people, /v2/accounts, /v2/cadences and /v2/tasks (`.json` optional, as for users), in
 * the live API's `{data, metadata}` envelope the users endpoint serves, team-scoped (another team's record is a
 * 404, as an unknown one), each GET costed by its page like every request (deep pages cost 3 to 30).
 *
 * - Filters as the spec names them: people `owner_id[]` (integers) or `owned_by_guid[]`, `ids[]`,
 *   `account_id[]`, `owner_is_active`; accounts `owner_id[]` (strings, `_is_null` for unowned), `ids[]`,
 *   `domain`, `archived`, `owner_is_active`; cadences `owned_by_guid[]` (the owner's guid: the spec has no
 *   owner_id filter on cadences), `ids[]`, `archived` (absent: both), `team_cadence`, `shared`; tasks
 *   `user_id[]`, `person_id[]`, `current_state[]` (scheduled, completed), `task_type[]`, `ids[]`. Each takes
 *   `name[]` repeated or `name=a,b`. Unknown parameters are ignored (Rails); a malformed known one is a 422.
 * - Sort: `sort_by` created_at or updated_at (cadences also name, tasks also due_date), `sort_direction`
 *   (default DESC), ties by id; anything else is a 422, as on users.
 * - Writes: the spec's PUT with `application/x-www-form-urlencoded` bodies only; a JSON body is a 415 (the spec
 *   defines none, so a client sending one fails here first, though the users PUT keeps accepting it).
 *   PUT /v2/people/{id}.json and /v2/accounts/{id}.json take `owner_id`, which must be an active user of the
 *   team (422 otherwise). Accounts: the spec REQUIRES `name` and `domain` (422 without them), and the domain
 *   "must be unique on the current team". PUT /v2/tasks/{id}.json takes what the spec lists (current_state
 *   `completed`, subject, description, due_date, remind_at, is_logged); anything else, `user_id` included, is
 *   ignored as Rails ignores unpermitted parameters: the spec has no way to change a task's assignee. Cadences
 *   have no write at all in the spec: PUT is a 405.
 */

const micros = (us: number | null) => (us === null ? null : renderMicros(us));

function userRef(c: SalesloftCall, id: number | null) {
  return id === null ? null : { id, _href: href(c, `users/${id}`) };
}

function serializePerson(c: SalesloftCall, p: SimPerson) {
  const owner = p.owner_id === null ? undefined : c.env.store.users.get(p.owner_id);
  return {
    id: p.id,
    created_at: micros(p.created_us),
    updated_at: micros(p.updated_us),
    first_name: p.first_name,
    last_name: p.last_name,
    display_name: `${p.first_name} ${p.last_name}`,
    email_address: p.email_address,
    full_email_address: `"${p.first_name} ${p.last_name}" <${p.email_address}>`,
    title: p.title,
    person_company_name: p.company,
    owner: userRef(c, p.owner_id),
    owner_crm_id: owner?.crm_id ?? null,
    account: p.account_id === null ? null : { id: p.account_id, _href: href(c, `accounts/${p.account_id}`) },
  };
}

function serializeAccount(c: SalesloftCall, a: SimSlAccount) {
  const owner = a.owner_id === null ? undefined : c.env.store.users.get(a.owner_id);
  return {
    id: a.id,
    created_at: micros(a.created_us),
    updated_at: micros(a.updated_us),
    archived_at: micros(a.archived_at_us),
    name: a.name,
    domain: a.domain,
    owner: userRef(c, a.owner_id),
    owner_crm_id: owner?.crm_id ?? null,
  };
}

function serializeCadence(c: SalesloftCall, x: SimCadence) {
  return {
    id: x.id,
    created_at: micros(x.created_us),
    updated_at: micros(x.updated_us),
    archived_at: micros(x.archived_at_us),
    name: x.name,
    team_cadence: x.team_cadence,
    shared: x.shared,
    draft: x.draft,
    owner: userRef(c, x.owner_id),
    creator: userRef(c, x.owner_id),
  };
}

function serializeTask(c: SalesloftCall, t: SimSlTask) {
  return {
    id: t.id,
    created_at: micros(t.created_us),
    updated_at: micros(t.updated_us),
    subject: t.subject,
    task_type: t.task_type,
    current_state: t.current_state,
    due_date: t.due_date,
    completed_at: micros(t.completed_at_us),
    user: userRef(c, t.user_id),
    person: t.person_id === null ? null : { id: t.person_id, _href: href(c, `people/${t.person_id}`) },
    created_by_user: userRef(c, t.created_by_user_id),
  };
}

type Pred<T> = (r: T) => boolean;

/** Integers of a list parameter (`name[]` or `name=a,b`); 422 for anything else. */
function intList(q: URLSearchParams, name: string): number[] | undefined {
  const values = listParam(q, name);
  if (!values) return undefined;
  if (values.some((v) => !/^\d+$/.test(v))) invalid(name, 'must be integers');
  return values.map(Number);
}

/** The users of the team whose guid is listed (`owned_by_guid[]`): the ids records carry. */
function ownersByGuid(store: SalesloftStore, guids: readonly string[]): Set<number> {
  const wanted = new Set(guids);
  return new Set(store.teamUsers().filter((u) => wanted.has(u.guid)).map((u) => u.id));
}

function ownerIsActive(store: SalesloftStore, want: boolean): Pred<{ owner_id: number | null }> {
  return (r) => r.owner_id !== null && (store.users.get(r.owner_id)?.active ?? false) === want;
}

/** Sorted, filtered, paged: the list answer of one record type (the team's records only). */
function listOf<T extends SlRecordBase>(
  c: SalesloftCall,
  collection: Collection<T, number>,
  preds: Pred<T>[],
  filtering: Record<string, unknown>,
  serialize: (c: SalesloftCall, r: T) => unknown,
  sortKeys: Record<string, (r: T) => string | number>,
) {
  requireRead(c);
  const q = c.url.searchParams;
  const team = c.env.store.teamId;
  const keys: Record<string, (r: T) => string | number> = { created_at: (r) => r.created_us, updated_at: (r) => r.updated_us, ...sortKeys };
  const sortBy = q.get('sort_by') || 'updated_at';
  if (!Object.hasOwn(keys, sortBy)) invalid('sort_by', `must be one of: ${Object.keys(keys).join(', ')}`);
  const dir = (q.get('sort_direction') ?? 'DESC').toUpperCase();
  if (dir !== 'ASC' && dir !== 'DESC') invalid('sort_direction', 'must be one of: ASC, DESC');
  const key = keys[sortBy]!;
  const sign = dir === 'ASC' ? 1 : -1;
  const matched = collection
    .all()
    .filter((r) => r.team_id === team && preds.every((p) => p(r)))
    .sort((a, b) => {
      const x = key(a);
      const y = key(b);
      return x < y ? -sign : x > y ? sign : (a.id - b.id) * sign;
    });
  const { page, paging } = paginate(q, matched);
  return { data: page.map((r) => serialize(c, r)), metadata: { filtering, paging, sorting: { sort_by: sortBy, sort_direction: dir } } };
}

/** `ids[]` of any type. */
function idsFilter<T extends { id: number }>(q: URLSearchParams, preds: Pred<T>[], filtering: Record<string, unknown>): void {
  const ids = intList(q, 'ids');
  if (!ids) return;
  const wanted = new Set(ids);
  preds.push((r) => wanted.has(r.id));
  filtering.ids = ids;
}

export function listPeople(c: SalesloftCall) {
  const { store } = c.env;
  const q = c.url.searchParams;
  const preds: Pred<SimPerson>[] = [];
  const filtering: Record<string, unknown> = {};
  idsFilter(q, preds, filtering);
  const owners = intList(q, 'owner_id');
  if (owners) {
    const wanted = new Set(owners);
    preds.push((p) => p.owner_id !== null && wanted.has(p.owner_id));
    filtering.owner_id = owners;
  }
  const guids = listParam(q, 'owned_by_guid');
  if (guids) {
    const wanted = ownersByGuid(store, guids);
    preds.push((p) => p.owner_id !== null && wanted.has(p.owner_id));
    filtering.owned_by_guid = guids;
  }
  const accounts = intList(q, 'account_id');
  if (accounts) {
    const wanted = new Set(accounts);
    preds.push((p) => p.account_id !== null && wanted.has(p.account_id));
    filtering.account_id = accounts;
  }
  const active = boolParam(q, 'owner_is_active');
  if (active !== undefined) {
    preds.push(ownerIsActive(store, active));
    filtering.owner_is_active = active;
  }
  return listOf(c, store.records.people, preds, filtering, serializePerson, { id: (p) => p.id });
}

export function listAccounts(c: SalesloftCall) {
  const { store } = c.env;
  const q = c.url.searchParams;
  const preds: Pred<SimSlAccount>[] = [];
  const filtering: Record<string, unknown> = {};
  idsFilter(q, preds, filtering);
  // The spec: owner_id is string[] here, with "_is_null" for unowned accounts.
  const owners = listParam(q, 'owner_id');
  if (owners) {
    if (owners.some((o) => o !== '_is_null' && !/^\d+$/.test(o))) invalid('owner_id', 'must be user ids or _is_null');
    const unowned = owners.includes('_is_null');
    const wanted = new Set(owners.filter((o) => o !== '_is_null').map(Number));
    preds.push((a) => (a.owner_id === null ? unowned : wanted.has(a.owner_id)));
    filtering.owner_id = owners;
  }
  const domain = q.get('domain');
  if (domain) {
    preds.push((a) => a.domain.toLowerCase() === domain.toLowerCase());
    filtering.domain = domain;
  }
  const archived = boolParam(q, 'archived');
  if (archived !== undefined) {
    preds.push((a) => (a.archived_at_us !== null) === archived);
    filtering.archived = archived;
  }
  const active = boolParam(q, 'owner_is_active');
  if (active !== undefined) {
    preds.push(ownerIsActive(store, active));
    filtering.owner_is_active = active;
  }
  return listOf(c, store.records.accounts, preds, filtering, serializeAccount, { id: (a) => a.id, name: (a) => a.name.toLowerCase() });
}

export function listCadences(c: SalesloftCall) {
  const { store } = c.env;
  const q = c.url.searchParams;
  const preds: Pred<SimCadence>[] = [];
  const filtering: Record<string, unknown> = {};
  idsFilter(q, preds, filtering);
  const guids = listParam(q, 'owned_by_guid');
  if (guids) {
    const wanted = ownersByGuid(store, guids);
    preds.push((x) => wanted.has(x.owner_id));
    filtering.owned_by_guid = guids;
  }
  // The spec: "Excluding this field will result in both archived and unarchived Cadences to return".
  for (const [name, get] of [
    ['archived', (x: SimCadence) => x.archived_at_us !== null],
    ['team_cadence', (x: SimCadence) => x.team_cadence],
    ['shared', (x: SimCadence) => x.shared],
  ] as const) {
    const v = boolParam(q, name);
    if (v === undefined) continue;
    preds.push((x) => get(x) === v);
    filtering[name] = v;
  }
  return listOf(c, store.records.cadences, preds, filtering, serializeCadence, { name: (x) => x.name.toLowerCase() });
}

export function listTasks(c: SalesloftCall) {
  const { store } = c.env;
  const q = c.url.searchParams;
  const preds: Pred<SimSlTask>[] = [];
  const filtering: Record<string, unknown> = {};
  idsFilter(q, preds, filtering);
  for (const [name, get] of [
    ['user_id', (t: SimSlTask) => t.user_id],
    ['person_id', (t: SimSlTask) => t.person_id],
  ] as const) {
    const values = intList(q, name);
    if (!values) continue;
    const wanted = new Set(values);
    preds.push((t) => {
      const v = get(t);
      return v !== null && wanted.has(v);
    });
    filtering[name] = values;
  }
  const states = listParam(q, 'current_state');
  if (states) {
    if (states.some((s) => s !== 'scheduled' && s !== 'completed')) invalid('current_state', "must be 'scheduled' or 'completed'");
    preds.push((t) => states.includes(t.current_state));
    filtering.current_state = states;
  }
  const types = listParam(q, 'task_type');
  if (types) {
    preds.push((t) => types.includes(t.task_type));
    filtering.task_type = types;
  }
  return listOf(c, store.records.tasks, preds, filtering, serializeTask, { due_date: (t) => t.due_date, due_at: (t) => t.due_date });
}

/** The record the path names, on the token's team (another team's is a 404, as an unknown one). */
function pathRecord<T extends SlRecordBase>(c: SalesloftCall, collection: Collection<T, number>): T {
  const raw = c.params.id!;
  const r = /^\d+$/.test(raw) ? c.env.store.teamRecord(collection, Number(raw)) : undefined;
  if (!r) fail(404, 'Not Found');
  return r;
}

/** GET of one record: `{data}`, as for users. */
function getOne<T extends SlRecordBase>(pick: (s: SalesloftStore) => Collection<T, number>, serialize: (c: SalesloftCall, r: T) => unknown) {
  return (c: SalesloftCall) => {
    const r = pathRecord(c, pick(c.env.store));
    requireRead(c);
    return { data: serialize(c, r) };
  };
}

export const getPerson = getOne((s) => s.records.people, serializePerson);
export const getAccount = getOne((s) => s.records.accounts, serializeAccount);
export const getCadence = getOne((s) => s.records.cadences, serializeCadence);
export const getTask = getOne((s) => s.records.tasks, serializeTask);

/** A write's form body (the spec's only media type for writes); 415 for JSON or anything else. */
async function readForm(c: SalesloftCall): Promise<URLSearchParams> {
  const text = (await orFail(readBody(c.req), fail)).toString('utf8');
  const ct = parseMediaType(c.req.headers['content-type']);
  if (text.trim() === '' && !ct) return new URLSearchParams();
  if (ct?.type !== 'application/x-www-form-urlencoded') {
    fail(415, 'Unsupported Media Type: send the parameters as application/x-www-form-urlencoded (the only body this endpoint defines)');
  }
  if (!c.token!.scopes.has('write')) fail(403, 'the token lacks the write scope');
  return new URLSearchParams(text);
}

/** `owner_id` of a write: an active user of the token's team. */
function ownerParam(store: SalesloftStore, raw: string, problems: Record<string, string[]>): number | undefined {
  const u = /^\d+$/.test(raw) ? store.teamUser(Number(raw)) : undefined;
  if (!u || !u.active) {
    problems.owner_id = ['must be an active user of your team'];
    return undefined;
  }
  return u.id;
}

/** A field's problems, Rails-style: `{errors: {field: [messages]}}` in a 422, every problem at once. */
type Problems = Record<string, string[]>;

/**
 * A form PUT of one record: the path's record (team-scoped), the form, the changes `validate` reads from it
 * (noting problems), a 422 with every problem, else the changes applied and the record answered.
 */
function formUpdate<T extends SlRecordBase>(
  pick: (s: SalesloftStore) => Collection<T, number>,
  serialize: (c: SalesloftCall, r: T) => unknown,
  validate: (c: SalesloftCall, record: T, form: URLSearchParams, problems: Problems) => Partial<T>,
) {
  return async (c: SalesloftCall) => {
    const collection = pick(c.env.store);
    const record = pathRecord(c, collection);
    const form = await readForm(c);
    const problems: Problems = {};
    const changes = validate(c, record, form, problems);
    if (Object.keys(problems).length) throw new SimError(422, { errors: problems });
    c.env.store.updateRecord(collection, record, changes);
    return { data: serialize(c, record) };
  };
}

/** PUT /v2/people/{id}.json (form): `owner_id`, and the name, title and email fields. */
export const updatePerson = formUpdate(
  (s) => s.records.people,
  serializePerson,
  (c, _p, form, problems) => {
    const { store } = c.env;
    const changes: Partial<SimPerson> = {};
    const owner = form.get('owner_id');
    if (owner !== null) changes.owner_id = ownerParam(store, owner, problems);
    for (const name of ['first_name', 'last_name', 'title', 'email_address'] as const) {
      const v = form.get(name);
      if (v === null) continue;
      if (name === 'email_address' && !/^[^\s@]+@[^\s@]+$/.test(v)) problems.email_address = ['is invalid'];
      else changes[name] = v;
    }
    const account = form.get('account_id');
    if (account !== null) {
      const a = /^\d+$/.test(account) ? store.teamRecord(store.records.accounts, Number(account)) : undefined;
      if (!a) problems.account_id = ['is not an account of your team'];
      else changes.account_id = a.id;
    }
    return changes;
  },
);

/** PUT /v2/accounts/{id}.json (form): the spec requires `name` and `domain`; `owner_id` hands it over. */
export const updateAccount = formUpdate(
  (s) => s.records.accounts,
  serializeAccount,
  (c, a, form, problems) => {
    const { store } = c.env;
    const changes: Partial<SimSlAccount> = {};
    const name = form.get('name');
    const domain = form.get('domain')?.trim();
    if (!name?.trim()) problems.name = ["can't be blank"];
    else changes.name = name;
    // The spec: '"domain" must be unique on the current team'.
    const taken = (d: string) => store.records.accounts.all().some((x) => x !== a && x.team_id === a.team_id && x.domain.toLowerCase() === d.toLowerCase());
    if (!domain) problems.domain = ["can't be blank"];
    else if (taken(domain)) problems.domain = ['has already been taken'];
    else changes.domain = domain;
    const owner = form.get('owner_id');
    if (owner !== null) changes.owner_id = ownerParam(store, owner, problems);
    return changes;
  },
);

/** PUT /v2/tasks/{id}.json (form): what the spec lists; the assignee cannot change (user_id is ignored). */
export const updateTask = formUpdate(
  (s) => s.records.tasks,
  serializeTask,
  (c, t, form, problems) => {
    const changes: Partial<SimSlTask> = {};
    const state = form.get('current_state');
    if (state !== null) {
      // The spec: "Current state of the task, valid options are: completed".
      if (state !== 'completed') problems.current_state = ['valid options are: completed'];
      else if (t.current_state !== 'completed') {
        changes.current_state = 'completed';
        changes.completed_at_us = c.env.store.nowMicros();
      }
    }
    const subject = form.get('subject');
    if (subject !== null) changes.subject = subject;
    const due = form.get('due_date');
    if (due !== null) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(due)) problems.due_date = ['must be an ISO-8601 date'];
      else changes.due_date = due;
    }
    return changes;
  },
);

import { boolParam, fail, href, invalid, listParam, paginate, readParams, requireRead, type SalesloftCall } from '../http.js';
import type { SimSalesloftUser } from '../seed.js';
import type { SalesloftStore } from '../store.js';
import { parseTimestampMicros } from '../time.js';

/*
 * /v2/users (and /v2/me). Choices where the notes and the spec disagree or are silent:
 *
 * - Deactivated users: the notes hide them unless `include_deactivated=true`; the spec has no such parameter but
 *   `visible_only` (default true; false "shows all users ... Deactivated users are also included"). The option
 *   `deactivatedParam` selects ONE behaviour (default the notes'); the other parameter is then unknown and
 *   ignored, as a Rails API ignores unknown parameters. `active=true|false` filters (spec) after visibility.
 *   GET by id shows deactivated users.
 * - Sort: the cursor guide spells `sort=updated_at&sort_direction=ASC`, the spec `sort_by`. Both names are
 *   accepted (option `sortParam` makes the simulator honour only one, or none); direction default DESC; ties in
 *   the sort key are ordered by id. Both names given with different values: 422.
 * - `updated_at[gt|gte|lt|lte]` / `created_at[...]`: compared with microsecond precision (the spec), values ISO
 *   8601 with any offset.
 * - Update: the spec documents PUT with a form body; PATCH and JSON bodies are accepted too. Writable: active,
 *   role_id ("Admin", "User" or a custom role id), group_id, work_country. Deactivating the token's own user is
 *   refused (422). A write that changes nothing leaves updated_at alone. No creation or deletion over REST (the
 *   notes: provisioning is SCIM or the UI).
 */

const fullName = (u: SimSalesloftUser) => `${u.first_name} ${u.last_name}`;

/** The sort keys of /v2/users, in the order the 422 lists them. */
const SORT_KEYS: Record<string, (u: SimSalesloftUser, store: SalesloftStore) => string | number> = {
  id: (u) => u.id,
  email: (u) => u.email.toLowerCase(),
  name: (u) => fullName(u).toLowerCase(),
  group: (u, store) => (u.group_id === null ? '' : (store.groups.get(u.group_id)?.name ?? '')),
  role: (u, store) => store.roles.get(u.role_id)?.name ?? u.role_id,
  updated_at: (u) => u.updated_us,
  created_at: (u) => u.created_us,
};

export function roleRef(c: SalesloftCall, id: string) {
  const role = c.env.store.roles.get(id);
  return { id, name: role?.name ?? id, _href: role?.custom ? href(c, `custom_roles/${id}`) : null };
}

export function groupRef(c: SalesloftCall, id: number | null) {
  return id === null ? null : { id, name: c.env.store.groups.get(id)?.name ?? null, _href: href(c, `groups/${id}`) };
}

export function serializeUser(c: SalesloftCall, u: SimSalesloftUser) {
  return {
    id: u.id,
    guid: u.guid,
    name: fullName(u),
    first_name: u.first_name,
    last_name: u.last_name,
    email: u.email,
    full_email_address: `"${fullName(u)}" <${u.email}>`,
    title: u.title,
    job_role: null,
    active: u.active,
    role: roleRef(c, u.role_id),
    group: groupRef(c, u.group_id),
    team: { id: u.team_id, _href: href(c, 'team') },
    team_id: u.team_id,
    team_admin: u.role_id === 'Admin',
    time_zone: u.time_zone,
    slug: `${u.first_name}-${u.last_name}-${u.id}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-'),
    crm_id: u.crm_id,
    work_country: u.work_country,
    email_client_configured: u.active,
    created_at: u.created_at,
    updated_at: u.updated_at,
  };
}

/** `field[gt|gte|lt|lte]` comparisons, microsecond precision. */
function timeFilters(q: URLSearchParams, field: 'updated_at' | 'created_at', get: (u: SimSalesloftUser) => number) {
  const preds: ((u: SimSalesloftUser) => boolean)[] = [];
  const applied: Record<string, string> = {};
  for (const op of ['gt', 'gte', 'lt', 'lte'] as const) {
    const raw = q.get(`${field}[${op}]`);
    if (raw === null) continue;
    const t = parseTimestampMicros(raw);
    if (t === undefined) invalid(`${field}[${op}]`, 'must be an iso8601 timestamp');
    applied[`${field}[${op}]`] = raw;
    preds.push(op === 'gt' ? (u) => get(u) > t : op === 'gte' ? (u) => get(u) >= t : op === 'lt' ? (u) => get(u) < t : (u) => get(u) <= t);
  }
  return { preds, applied };
}

export function listUsers(c: SalesloftCall) {
  requireRead(c);
  const { store, deactivatedParam, sortParam } = c.env;
  const q = c.url.searchParams;
  const filtering: Record<string, unknown> = {};
  let visibleDeactivated: boolean;
  if (deactivatedParam === 'include_deactivated') {
    visibleDeactivated = boolParam(q, 'include_deactivated') === true;
    if (visibleDeactivated) filtering.include_deactivated = true;
  } else {
    visibleDeactivated = boolParam(q, 'visible_only') === false;
    if (visibleDeactivated) filtering.visible_only = false;
  }
  const preds: ((u: SimSalesloftUser) => boolean)[] = [];
  if (!visibleDeactivated) preds.push((u) => u.active);
  const active = boolParam(q, 'active');
  if (active !== undefined) {
    preds.push((u) => u.active === active);
    filtering.active = active;
  }
  const ids = listParam(q, 'ids');
  if (ids) {
    if (ids.some((s) => !/^\d+$/.test(s))) invalid('ids', 'must be integers');
    const wanted = new Set(ids.map(Number));
    preds.push((u) => wanted.has(u.id));
    filtering.ids = ids;
  }
  const guids = listParam(q, 'guid');
  if (guids) {
    const wanted = new Set(guids);
    preds.push((u) => wanted.has(u.guid));
    filtering.guid = guids;
  }
  const groupIds = listParam(q, 'group_id');
  if (groupIds) {
    const nullOk = groupIds.includes('_is_null');
    const wanted = new Set(groupIds.filter((g) => g !== '_is_null').map(Number));
    preds.push((u) => (u.group_id === null ? nullOk : wanted.has(u.group_id)));
    filtering.group_id = groupIds;
  }
  const roleIds = listParam(q, 'role_id');
  if (roleIds) {
    const wanted = new Set(roleIds);
    preds.push((u) => wanted.has(u.role_id));
    filtering.role_id = roleIds;
  }
  const search = q.get('search');
  if (search && search.trim()) {
    const words = search.toLowerCase().split(/\s+/).filter(Boolean);
    preds.push((u) => words.every((w) => u.first_name.toLowerCase().includes(w) || u.last_name.toLowerCase().includes(w) || u.email.toLowerCase().includes(w)));
    filtering.search = search;
  }
  const upd = timeFilters(q, 'updated_at', (u) => u.updated_us);
  const crt = timeFilters(q, 'created_at', (u) => u.created_us);
  preds.push(...upd.preds, ...crt.preds);
  Object.assign(filtering, upd.applied, crt.applied);

  // Sort: `sort` (guide) and `sort_by` (spec), as configured; see the top of this file.
  const fromSort = sortParam === 'both' || sortParam === 'sort' ? q.get('sort') : null;
  const fromSortBy = sortParam === 'both' || sortParam === 'sort_by' ? q.get('sort_by') : null;
  if (fromSort && fromSortBy && fromSort !== fromSortBy) invalid('sort', 'sort and sort_by disagree');
  const sortBy = fromSort || fromSortBy || 'id';
  if (!Object.hasOwn(SORT_KEYS, sortBy)) invalid('sort_by', `must be one of: ${Object.keys(SORT_KEYS).join(', ')}`);
  const dirRaw = (q.get('sort_direction') ?? 'DESC').toUpperCase();
  if (dirRaw !== 'ASC' && dirRaw !== 'DESC') invalid('sort_direction', 'must be one of: ASC, DESC');
  const key = SORT_KEYS[sortBy]!;
  const sign = dirRaw === 'ASC' ? 1 : -1;
  const matched = store
    .sortedTeamUsers(`${sortBy}:${dirRaw}`, (a, b) => {
      const x = key(a, store);
      const y = key(b, store);
      if (x < y) return -sign;
      if (x > y) return sign;
      return (a.id - b.id) * sign;
    })
    .filter((u) => preds.every((p) => p(u)));
  const { page, paging } = paginate(q, matched);
  return { data: page.map((u) => serializeUser(c, u)), metadata: { filtering, paging, sorting: { sort_by: sortBy, sort_direction: dirRaw } } };
}

/** The user the path names, on the token's team. */
function pathUser(c: SalesloftCall): SimSalesloftUser {
  const raw = c.params.id!;
  const u = /^\d+$/.test(raw) ? c.env.store.teamUser(Number(raw)) : undefined;
  // Team scope (notes): another team's user is indistinguishable from a missing one.
  if (!u) fail(404, 'Not Found');
  return u;
}

export function getUser(c: SalesloftCall) {
  const u = pathUser(c);
  requireRead(c);
  return { data: serializeUser(c, u) };
}

export function me(c: SalesloftCall) {
  requireRead(c);
  return { data: serializeUser(c, c.env.store.users.get(c.env.store.meId)!) };
}

export async function updateUser(c: SalesloftCall) {
  const { store } = c.env;
  const u = pathUser(c);
  const params = await readParams(c);
  if (!c.token!.scopes.has('write')) fail(403, 'the token lacks the write scope');
  const changes: Partial<SimSalesloftUser> = {};
  if ('active' in params) {
    const v = params.active;
    const b = v === true || v === 'true' ? true : v === false || v === 'false' ? false : undefined;
    if (b === undefined) invalid('active', 'must be true or false');
    if (b === false && u.id === store.meId) invalid('active', 'you cannot deactivate your own user');
    changes.active = b;
  }
  if ('role_id' in params) {
    const v = String(params.role_id);
    if (!store.roles.get(v)) invalid('role_id', 'must be one of: Admin, User, or a custom role ID');
    changes.role_id = v;
  }
  if ('group_id' in params) {
    const v = params.group_id;
    if (v === null || v === '') changes.group_id = null;
    else if (!/^\d+$/.test(String(v)) || !store.groups.get(Number(v))) invalid('group_id', 'is not a group of this team');
    else changes.group_id = Number(v);
  }
  if ('work_country' in params) {
    const v = String(params.work_country);
    if (!/^[A-Z]{2}$/.test(v)) invalid('work_country', 'must be an ISO 3166 alpha-2 code');
    changes.work_country = v;
  }
  store.update(u, changes);
  return { data: serializeUser(c, u) };
}

/** Anything but GET, PUT and PATCH on a user (an unknown one is 404 first). */
export function userNotAllowed(c: SalesloftCall): never {
  pathUser(c);
  // No user creation or deletion through REST (the notes: provisioning is SCIM or the UI).
  fail(405, 'Method Not Allowed', { Allow: 'GET, PUT, PATCH' });
}

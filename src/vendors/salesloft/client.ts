import { AsyncLocalStorage } from 'node:async_hooks';
import type * as z from 'zod';
import type { AuthKind } from '../../auth/types.js';
import { sideLookup, type SideLookup } from '../../side-lookup.js';
import type { HttpCore } from '../../http/core.js';
import { ToolInputError, VendorError } from '../../errors.js';
import { parseVendorBody } from '../../http/parse.js';
import type { VendorRequest } from '../../http/types.js';
import { toSalesloftAccount, type NameLookup, type SalesloftAccount } from './map.js';
import { pageCost, pageTier } from './rate-headers.js';
import {
  GroupListDocument,
  PendingEmailAccountListDocument,
  RoleListDocument,
  TeamMemberListDocument,
  UserDocument,
  UserListDocument,
  parseMicros,
  type Group,
  type Paging,
  type PendingEmailAccount,
  type Role,
  type SalesloftUser,
  type TeamMember,
} from './wire.js';

/*
 * SalesLoft REST v2. Sources: the notes (shared/vendor-docs/salesloft-api.txt), rate-limits.md (the vendor's
 * current words on limits and the cursor poller) and the published OpenAPI document (older). Where they
 * differ, this client is written to be correct under either reading:
 *
 * - Deactivated users. The notes: hidden from GET /users unless `include_deactivated=true`. The spec: no such
 *   parameter, but `visible_only` (default true; false "shows all users on the team ... Deactivated users are
 *   also included") and an `active` filter. Every listing sends BOTH `include_deactivated=true` and
 *   `visible_only=false`: each says "include deactivated users" in one of the two dialects, and an API that
 *   does not know a parameter ignores it (Rails), so together they are right under either behaviour. The
 *   `visible_only=false` part also lists users the token's owner cannot act on, which an audit wants. Only
 *   users are filtered by `active`, and the result is filtered here again (the parameter narrows, this decides).
 * - Sort for the cursor. The cursor-poller guide spells it `sort=updated_at&sort_direction=ASC`; the spec
 *   names the parameter `sort_by` (and lists only id, email, name, group, role for users). Both `sort` and
 *   `sort_by` are sent with the same value, so whichever the API reads, it reads the same instruction. Nothing
 *   is trusted: every page is checked to be ascending by updated_at and past the cursor (and
 *   `metadata.sorting`, when present, must say updated_at ASC). A page that is not falls back to the
 *   page-number walk, with a warning; the listing is then complete but deep pages cost 3 to 30 each.
 * - per_page: "in the range [1, 100]" (spec), "Max page size: 100" (notes). Requests never ask for more.
 * - Paths: the spec writes `/v2/users.json`, the notes `/v2/users`; the spec's form is used wherever the spec
 *   has the resource (users, me, groups, team); resources only the notes name keep the notes' path.
 * - Update: the spec documents `PUT /v2/users/{id}.json` with a form body (active, group_id, role_id,
 *   work_country); the notes mention PATCH for "user-adjacent resources". This client sends the spec's PUT
 *   with `application/x-www-form-urlencoded` `active=false`.
 * - Roles: the notes' `/v2/roles` lists every role; the spec only has `/v2/custom_roles.json` (roles other
 *   than the built-in Admin and User). The spec's is asked first, with the built-ins added; a 404 falls back
 *   to the notes' `/roles`.
 * - Invitations: the notes' `/v2/pending_email_accounts` ("List Pending Invitations"); the spec has no
 *   invitations resource (its `/v2/pending_emails` are outgoing emails, a different thing). The spec is silent
 *   rather than contrary here, so the notes' endpoint is read, as a side lookup: a 404 degrades the listing.
 * - team_members: notes only (not used by the workflows).
 *
 * Cursor walk (listAllUsers): sort by updated_at ascending, 100 per page, always `page=1` (cost 1), the next
 * request asking `updated_at[gt]=<last item's updated_at, as returned, with microseconds>`. Ties: users
 * sharing the last timestamp of a page but not on it would be skipped by `gt`. With include_paging_counts each
 * response counts what its filter matches, so (count of this request) - (count of the next) is the number of
 * users at or below this page's last timestamp; when that exceeds what the page held, the missing users all
 * carry exactly that timestamp (anything earlier would have sorted into the page), and one extra request
 * (`updated_at[gte]=T&updated_at[lte]=T`) fetches them. Users are de-duplicated on id (a user updated during
 * the walk comes back later; the later copy wins). Without counts the walk re-reads the boundary with
 * `updated_at[gte]` instead (about one duplicate per page).
 */

export const MAX_PER_PAGE = 100;
/** Role and group names change rarely; a short cache saves two requests per tool call. */
const NAME_CACHE_MS = 5 * 60_000;
/** A search by email should never need more; past this the email is not selective enough to act on. */
const MAX_SEARCH_PAGES = 5;
const BUILTIN_ROLES: Role[] = [
  { id: 'Admin', name: 'Admin' },
  { id: 'User', name: 'User' },
];

export const FORM = 'application/x-www-form-urlencoded';

/** What `PUT /v2/users/{id}.json` can change. */
export interface UserUpdate {
  active?: boolean;
  /** "Admin", "User", or a custom role id. */
  role_id?: string;
  /** A group id of the team. */
  group_id?: string;
}

export interface UserFilters {
  /** Space-separated keywords, substring-matched case-insensitively against first name, last name and email (spec `search`). */
  search?: string;
  /** true: only active users; false: only deactivated users; undefined: both (an audit's default). */
  active?: boolean;
  /** ISO 8601; only users updated at or after it (`updated_at[gte]`). */
  updatedSince?: string;
  roleId?: string;
  groupId?: string;
}

export interface UpdatedAtRange {
  gt?: string;
  gte?: string;
  lt?: string;
  lte?: string;
}

export interface PagingInfo {
  perPage: number | undefined;
  currentPage: number | undefined;
  nextPage: number | null;
  prevPage: number | null;
  totalPages: number | undefined;
  totalCount: number | undefined;
}

export interface RawUserPage {
  users: SalesloftUser[];
  paging: PagingInfo;
  sorting: { sortBy: string | undefined; sortDirection: string | undefined } | undefined;
  /** What SalesLoft says this request cost (x-ratelimit-endpoint-cost), else the weight it was charged locally. */
  cost: number;
  requestId: string | undefined;
}

/** Where the next page of a one-page listing starts (serialised into the tool's cursor). */
export type UserPageCursor =
  /** `updated_at[gte]=ts` (or `[gt]` when strict), leaving out the ids already returned at exactly ts. */
  | { kind: 'after'; ts: string; strict: boolean; skip: string[] }
  /** More than a page of users share ts: page through `updated_at[gte]=ts&updated_at[lte]=ts`. */
  | { kind: 'tie'; ts: string; page: number };

export interface WalkStats {
  requests: number;
  cost: number;
}

export interface AllUsersResult extends WalkStats {
  users: SalesloftUser[];
  /** SalesLoft's count of matching users at the start of the walk (include_paging_counts), if it gave one. */
  total: number | undefined;
  /** cursor: the updated_at walk; pages: fell back to page numbers because the sort was not honoured. */
  mode: 'cursor' | 'pages';
  /** Requests spent fetching users that shared a page-boundary timestamp. */
  tieRequests: number;
  warnings: string[];
}

/** Progress of a walk: requests done, the estimated total, a message, and the records listed so far (where counted). */
export type ProgressFn = (done: number, total: number | undefined, message: string, records?: number) => Promise<void>;

const meters = new AsyncLocalStorage<WalkStats>();

/** The side lookups of nameLookup and of the listing's invitations, for their warnings. */
export const ROLE_NAMES: SideLookup = {
  vendor: 'SalesLoft',
  what: 'role names (GET /v2/custom_roles.json, /v2/roles)',
  without: 'accounts show role ids instead of names, and admins of a custom admin role are not recognised',
  fix: { forbidden: 'Use a SalesLoft API key or OAuth token of an admin (scope `read`).' },
};
const GROUP_NAMES: SideLookup = {
  vendor: 'SalesLoft',
  what: 'group names (GET /v2/groups)',
  without: 'accounts show group ids instead of names',
  fix: { forbidden: 'Use a SalesLoft API key or OAuth token of an admin (scope `read`).', not_found: 'Groups are not offered to this team; the ids stay as they are.' },
};
export const INVITATIONS: SideLookup = {
  vendor: 'SalesLoft',
  what: 'pending invitations (GET /v2/pending_email_accounts)',
  without: 'stale invitations are not checked (STALE_INVITATION undetermined)',
  fix: {
    not_found: 'This API has no pending invitations (the published spec has none): check them in Settings > Users.',
    forbidden: 'Use a SalesLoft API key or OAuth token of an admin (scope `read`).',
  },
};

export class SalesloftClient {
  private names: { at: number; value: NameLookup } | undefined;
  /** Costs reported by x-ratelimit-endpoint-cost, by path and page tier: the next request is weighted with them. */
  private readonly learnedCost = new Map<string, number>();
  private spentRequests = 0;
  private spentCost = 0;

  constructor(
    readonly core: HttpCore,
    readonly authKind: AuthKind,
    private readonly now: () => number = Date.now,
  ) {}

  /** Requests and SalesLoft cost this client has spent so far (for list_connections and benchmarks). */
  spent(): WalkStats {
    return { requests: this.spentRequests, cost: this.spentCost };
  }

  /** Runs `fn` and counts the requests and cost it (and only it, whatever runs concurrently) spent. */
  async measure<T>(fn: () => Promise<T>): Promise<{ value: T } & WalkStats> {
    const meter: WalkStats = { requests: 0, cost: 0 };
    const value = await meters.run(meter, fn);
    return { value, ...meter };
  }

  /** The limiter weight of a GET on `path` at `page`: what SalesLoft last charged for that tier, else the documented cost. */
  weightFor(path: string, page: number | undefined): number {
    return this.learnedCost.get(`${costPath(path)}|${pageTier(page)}`) ?? pageCost(page);
  }

  /** One request, metered and weighted by its page's cost; public for this vendor's own modules (records.ts). */
  async call<T>(
    schema: z.ZodType<T>,
    req: VendorRequest & { page?: number },
  ): Promise<{ body: T; cost: number; requestId: string | undefined }> {
    const weight = req.weight ?? (req.method === 'GET' ? this.weightFor(req.path, req.page) : 1);
    const { page: _page, ...rest } = req;
    const res = await this.core.request<unknown>({ ...rest, weight });
    const cost = res.cost !== undefined && res.cost >= 0 ? res.cost : weight;
    if (res.cost !== undefined && res.cost > 0 && req.method === 'GET') this.learnedCost.set(`${costPath(req.path)}|${pageTier(req.page)}`, res.cost);
    this.spentRequests += 1;
    this.spentCost += cost;
    const meter = meters.getStore();
    if (meter) {
      meter.requests += 1;
      meter.cost += cost;
    }
    const body = parseVendorBody(this.core, schema, res, req);
    return { body, cost, requestId: res.requestId };
  }

  // ------------------------------------------------------------------------------------------------------
  // Users

  /**
   * List Users, one raw page: sends both deactivated-user parameters (see top), `include_paging_counts=true`
   * and, with `cursorSort`, both spellings of the updated_at ascending sort. No client-side filtering.
   */
  async fetchUserPage(opts: {
    filters?: UserFilters;
    page?: number;
    perPage?: number;
    updatedAt?: UpdatedAtRange;
    cursorSort?: boolean;
    signal?: AbortSignal;
  }): Promise<RawUserPage> {
    const f = opts.filters ?? {};
    const page = Math.max(1, Math.floor(opts.page ?? 1));
    const perPage = clampPerPage(opts.perPage);
    const range: UpdatedAtRange = { ...(f.updatedSince !== undefined ? { gte: f.updatedSince } : {}), ...(opts.updatedAt ?? {}) };
    const query: Record<string, string | number | boolean | undefined> = {
      page,
      per_page: perPage,
      include_paging_counts: true,
      // Both dialects of "include deactivated users" (see top): the notes' and the published spec's.
      include_deactivated: true,
      visible_only: false,
      active: f.active,
      search: f.search,
      role_id: f.roleId,
      group_id: f.groupId,
      'updated_at[gt]': range.gt,
      'updated_at[gte]': range.gte,
      'updated_at[lt]': range.lt,
      'updated_at[lte]': range.lte,
    };
    if (opts.cursorSort) {
      // The guide's spelling and the spec's, with one meaning (see top).
      query.sort = 'updated_at';
      query.sort_by = 'updated_at';
      query.sort_direction = 'ASC';
    } else {
      // A stable order for page-number walks (the spec's default is id DESC, also stable; ASC reads naturally).
      query.sort_by = 'id';
      query.sort_direction = 'ASC';
    }
    const { body, cost, requestId } = await this.call(UserListDocument, { method: 'GET', path: '/users.json', query, page, signal: opts.signal });
    return {
      users: body.data,
      paging: pagingInfo(body.metadata?.paging),
      sorting: body.metadata?.sorting ? { sortBy: body.metadata.sorting.sort_by ?? undefined, sortDirection: body.metadata.sorting.sort_direction ?? undefined } : undefined,
      cost,
      requestId,
    };
  }

  /**
   * One page of users for a tool call, continuing from `cursor` (undefined: from the start). Ordered by
   * updated_at; the cursor re-reads the boundary timestamp with `[gte]` and leaves out the ids it already
   * returned there, so ties are neither lost nor repeated; more than a page of ties is paged through.
   */
  async listUsersPage(opts: { filters?: UserFilters; perPage?: number; cursor?: UserPageCursor; signal?: AbortSignal }): Promise<{
    users: SalesloftUser[];
    /** SalesLoft's count of users matching this request (from the cursor on). */
    count: number | undefined;
    next: UserPageCursor | null;
    stats: WalkStats;
  }> {
    const filters = opts.filters ?? {};
    const perPage = clampPerPage(opts.perPage);
    const c = opts.cursor;
    if (c?.kind === 'tie') {
      const page = await this.fetchUserPage({ filters, page: c.page, perPage, updatedAt: { gte: c.ts, lte: c.ts }, cursorSort: true, signal: opts.signal });
      const more = morePages(page.paging, c.page, page.users.length, perPage);
      return {
        users: applyActive(page.users, filters.active),
        count: page.paging.totalCount,
        next: more ? { kind: 'tie', ts: c.ts, page: c.page + 1 } : { kind: 'after', ts: c.ts, strict: true, skip: [] },
        stats: { requests: 1, cost: page.cost },
      };
    }
    const updatedAt: UpdatedAtRange | undefined = c ? (c.strict ? { gt: c.ts } : { gte: c.ts }) : undefined;
    const page = await this.fetchUserPage({ filters, page: 1, perPage, updatedAt, cursorSort: true, signal: opts.signal });
    const problem = orderProblem(page, c ? { ts: c.ts, strict: c.strict } : filters.updatedSince ? { ts: filters.updatedSince, strict: false } : undefined);
    if (problem) {
      throw new VendorError({
        vendor: 'salesloft',
        code: 'invalid_response',
        requestId: page.requestId,
        message: `SalesLoft did not return users sorted by updated_at ascending (${problem}), so a page cursor cannot be trusted. Call again with \`all: true\`, which falls back to a complete page-number walk.`,
      });
    }
    const skip = new Set(c?.kind === 'after' ? c.skip : []);
    const raw = page.users;
    const fresh = raw.filter((u) => !skip.has(u.id));
    const done = raw.length < perPage || (page.paging.totalCount !== undefined && page.paging.totalCount <= raw.length);
    let next: UserPageCursor | null = null;
    if (!done) {
      const lastTs = raw[raw.length - 1]!.updated_at as string;
      const lastUs = parseMicros(lastTs);
      const atLast = raw.filter((u) => parseMicros(u.updated_at) === lastUs).map((u) => u.id);
      // A whole page on one timestamp: the ties may not fit in a page, so page through exactly that time.
      next = atLast.length === raw.length ? { kind: 'tie', ts: lastTs, page: 2 } : { kind: 'after', ts: lastTs, strict: false, skip: atLast };
    }
    return { users: applyActive(fresh, filters.active), count: page.paging.totalCount, next, stats: { requests: 1, cost: page.cost } };
  }

  /**
   * Every user matching `filters`, deactivated ones included unless `filters.active` is true, by the updated_at
   * cursor (cost 1 per request; see top). `onProgress` is called after each request.
   */
  async listAllUsers(filters: UserFilters = {}, onProgress?: ProgressFn, signal?: AbortSignal): Promise<AllUsersResult> {
    const seen = new Map<string, SalesloftUser>();
    const stats: WalkStats = { requests: 0, cost: 0 };
    const warnings: string[] = [];
    let tieRequests = 0;
    let total: number | undefined;
    let range: UpdatedAtRange = {};
    let lower: { ts: string; strict: boolean } | undefined = filters.updatedSince !== undefined ? { ts: filters.updatedSince, strict: false } : undefined;
    let prev: { count: number; len: number; lastTs: string } | undefined;
    const estimate = () => (total === undefined ? undefined : Math.max(stats.requests, Math.ceil(total / MAX_PER_PAGE)));

    for (;;) {
      const page = await this.fetchUserPage({ filters, page: 1, perPage: MAX_PER_PAGE, updatedAt: range, cursorSort: true, signal });
      stats.requests += 1;
      stats.cost += page.cost;
      if (total === undefined) total = page.paging.totalCount;

      const problem = orderProblem(page, lower);
      if (problem) {
        warnings.push(
          `SalesLoft did not honour the updated_at cursor (${problem}); the listing fell back to page numbers, which is complete but costs more (pages past 100 cost 3 to 30 each).`,
        );
        const rest = await this.walkUserPages(filters, stats, onProgress, signal);
        return { users: applyActive(rest.users, filters.active), total: rest.total ?? total, mode: 'pages', tieRequests, warnings, ...stats };
      }

      // Ties across the previous page boundary (see top).
      const count = page.paging.totalCount;
      if (prev && count !== undefined && prev.count - count > prev.len) {
        const ties = await this.fetchTies(filters, prev.lastTs, signal);
        stats.requests += ties.requests;
        stats.cost += ties.cost;
        tieRequests += ties.requests;
        for (const u of ties.users) if (!seen.has(u.id)) seen.set(u.id, u);
        await onProgress?.(stats.requests - 1, estimate(), `Fetched ${ties.users.length} SalesLoft users sharing the timestamp ${prev.lastTs}`);
      }
      for (const u of page.users) {
        seen.delete(u.id); // a later copy (updated during the walk) replaces the earlier one, in its new place
        seen.set(u.id, u);
      }
      await onProgress?.(stats.requests, estimate(), `Fetched ${seen.size}${total !== undefined ? ` of ${total}` : ''} SalesLoft users (${stats.requests} requests, cost ${stats.cost})`, seen.size);

      const raw = page.users;
      if (raw.length === 0 || raw.length < MAX_PER_PAGE || (count !== undefined && count <= raw.length)) break;
      const lastTs = raw[raw.length - 1]!.updated_at as string;
      if (count !== undefined) {
        prev = { count, len: raw.length, lastTs };
        range = { gt: lastTs };
        lower = { ts: lastTs, strict: true };
      } else {
        // No counts to detect skipped ties: re-read the boundary (gte) and de-duplicate. A full page on the
        // very timestamp we asked from means more ties than a page holds: page through them, then go past.
        const lastUs = parseMicros(lastTs);
        if (range.gte !== undefined && parseMicros(range.gte) === lastUs && raw.every((u) => parseMicros(u.updated_at) === lastUs)) {
          const ties = await this.fetchTies(filters, lastTs, signal);
          stats.requests += ties.requests;
          stats.cost += ties.cost;
          tieRequests += ties.requests;
          for (const u of ties.users) if (!seen.has(u.id)) seen.set(u.id, u);
          range = { gt: lastTs };
          lower = { ts: lastTs, strict: true };
        } else {
          range = { gte: lastTs };
          lower = { ts: lastTs, strict: false };
        }
        prev = undefined;
      }
    }

    if (total !== undefined && seen.size < total) {
      warnings.push(
        `SalesLoft counted ${total} matching users at the start but the walk found ${seen.size}; users may have changed team or visibility during the listing. Run it again to confirm.`,
      );
    }
    return { users: applyActive([...seen.values()], filters.active), total, mode: 'cursor', tieRequests, warnings, ...stats };
  }

  /** Every user whose updated_at is exactly `ts`, paged (normally one request). */
  private async fetchTies(filters: UserFilters, ts: string, signal?: AbortSignal): Promise<{ users: SalesloftUser[]; requests: number; cost: number }> {
    const users = new Map<string, SalesloftUser>();
    let requests = 0;
    let cost = 0;
    for (let page = 1; ; page++) {
      const res = await this.fetchUserPage({ filters, page, perPage: MAX_PER_PAGE, updatedAt: { gte: ts, lte: ts }, cursorSort: true, signal });
      requests += 1;
      cost += res.cost;
      const before = users.size;
      for (const u of res.users) users.set(u.id, u);
      if (!morePages(res.paging, page, res.users.length, MAX_PER_PAGE) || users.size === before) break;
    }
    return { users: [...users.values()], requests, cost };
  }

  /** The fallback: pages 1..n of 100 by id, weighted by SalesLoft's deep-page costs. */
  private async walkUserPages(
    filters: UserFilters,
    stats: WalkStats,
    onProgress: ProgressFn | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ users: SalesloftUser[]; total: number | undefined }> {
    const users = new Map<string, SalesloftUser>();
    let total: number | undefined;
    const since = filters.updatedSince === undefined ? undefined : parseMicros(filters.updatedSince);
    for (let page = 1; ; page++) {
      const res = await this.fetchUserPage({ filters, page, perPage: MAX_PER_PAGE, signal });
      stats.requests += 1;
      stats.cost += res.cost;
      total ??= res.paging.totalCount;
      const before = users.size;
      for (const u of res.users) {
        // The updated_at filter may have been ignored along with the sort: apply it here.
        if (since !== undefined && !((parseMicros(u.updated_at) ?? Infinity) >= since)) continue;
        users.set(u.id, u);
      }
      const pages = res.paging.totalPages ?? (total === undefined ? undefined : Math.ceil(total / MAX_PER_PAGE));
      await onProgress?.(stats.requests, pages === undefined ? undefined : stats.requests - page + pages, `Fetched page ${page}${pages ? ` of ${pages}` : ''} of SalesLoft users (cost ${stats.cost})`, users.size);
      if (!morePages(res.paging, page, res.users.length, MAX_PER_PAGE) || (res.users.length > 0 && users.size === before && since === undefined)) break;
    }
    return { users: [...users.values()], total };
  }

  /**
   * Get User. Watch out for: "Returns 404 if the user ID does not belong to the authenticated user's team";
   * the error says so rather than just "not found".
   */
  async getUser(id: string, signal?: AbortSignal): Promise<SalesloftUser> {
    const path = `/users/${userIdPath(id)}.json`;
    try {
      const { body } = await this.call(UserDocument, { method: 'GET', path, signal });
      return body.data;
    } catch (err) {
      throw teamScoped404(err, id);
    }
  }

  /** Get Current User: the owner of the token (notes: resolves the identity behind an OAuth token or API key). */
  async getMe(signal?: AbortSignal): Promise<SalesloftUser> {
    const { body } = await this.call(UserDocument, { method: 'GET', path: '/me.json', signal });
    return body.data;
  }

  /**
   * Users whose email equals `email` case-insensitively, deactivated ones included. The API has no email
   * filter; `search` narrows (substring on names and email) and the exact match is decided here.
   */
  async findByEmail(email: string, signal?: AbortSignal): Promise<SalesloftUser[]> {
    const wanted = email.trim().toLowerCase();
    const found = new Map<string, SalesloftUser>();
    const returned = new Set<string>();
    for (let page = 1; page <= MAX_SEARCH_PAGES; page++) {
      const res = await this.fetchUserPage({ filters: { search: email.trim() }, page, perPage: MAX_PER_PAGE, signal });
      const before = returned.size;
      for (const u of res.users) {
        returned.add(u.id);
        if ((u.email ?? '').trim().toLowerCase() === wanted) found.set(u.id, u);
      }
      if (!morePages(res.paging, page, res.users.length, MAX_PER_PAGE) || returned.size === before) return [...found.values()];
    }
    // Never report "not found" from a search that was cut short: an offboarding would skip the account.
    throw new VendorError({
      vendor: 'salesloft',
      code: 'invalid_response',
      message: `SalesLoft's search for ${email.trim()} matched more than ${MAX_SEARCH_PAGES * MAX_PER_PAGE} users, so the lookup is incomplete; look the user up by id (salesloft_list_users) instead.`,
    });
  }

  /**
   * The one user a write addressed by id or email acts on. By email it acts only when exactly one user matches
   * case-insensitively; otherwise the candidates come back in the error so the agent can pick an id.
   */
  async resolveUser(ref: { id?: string; email?: string }, signal?: AbortSignal): Promise<SalesloftUser> {
    if (ref.id !== undefined) return this.getUser(ref.id, signal);
    const email = ref.email as string;
    const matches = await this.findByEmail(email, signal);
    if (matches.length === 1) return matches[0]!;
    if (matches.length === 0) {
      throw new ToolInputError(
        `No SalesLoft user on this team has the email ${email} (compared case-insensitively, deactivated users included). SalesLoft API tokens are team-scoped, so a user of another team is invisible here. Check the spelling, or list users with salesloft_list_users.`,
      );
    }
    const candidates = await this.toAccounts([...matches].sort((a, b) => Number(a.id) - Number(b.id)), signal);
    throw new ToolInputError(
      `${matches.length} SalesLoft users match ${email} case-insensitively; nothing was changed. Call again with the \`id\` of the one you mean.`,
      { candidates: candidates.map((c) => ({ id: c.id, email: c.email, name: c.name, status: c.status })) },
    );
  }

  /**
   * Update a user (spec: `PUT /v2/users/{id}.json`, form body with `active`, `role_id` ("Admin, User, or a
   * custom role ID") and `group_id`). Setting the same values again is harmless, so the request may be
   * retried after a gateway error.
   */
  async updateUser(id: string, fields: UserUpdate, signal?: AbortSignal): Promise<{ user: SalesloftUser; requestId: string | undefined }> {
    const path = `/users/${userIdPath(id)}.json`;
    const form = new URLSearchParams();
    if (fields.active !== undefined) form.set('active', String(fields.active));
    if (fields.role_id !== undefined) form.set('role_id', fields.role_id);
    if (fields.group_id !== undefined) form.set('group_id', fields.group_id);
    try {
      const { body, requestId } = await this.call(UserDocument, {
        method: 'PUT',
        path,
        body: form.toString(),
        mediaType: FORM,
        headers: { accept: 'application/json' },
        idempotent: true,
        signal,
      });
      return { user: body.data, requestId };
    } catch (err) {
      throw teamScoped404(err, id);
    }
  }

  // ------------------------------------------------------------------------------------------------------
  // Team members, groups, roles, invitations

  /** List Team Members, one page (notes only: "a separate resource from users ... hierarchy fields"). */
  async listTeamMembers(opts: { page?: number; perPage?: number; signal?: AbortSignal } = {}): Promise<{ members: TeamMember[]; paging: PagingInfo; cost: number }> {
    const page = Math.max(1, Math.floor(opts.page ?? 1));
    const perPage = clampPerPage(opts.perPage);
    const { body, cost } = await this.call(TeamMemberListDocument, {
      method: 'GET',
      path: '/team_members',
      query: { page, per_page: perPage, include_paging_counts: true },
      page,
      signal: opts.signal,
    });
    return { members: body.data, paging: pagingInfo(body.metadata?.paging), cost };
  }

  async listAllTeamMembers(onProgress?: ProgressFn, signal?: AbortSignal): Promise<{ members: TeamMember[]; total: number | undefined } & WalkStats> {
    const r = await this.walkPages('/team_members', TeamMemberListDocument, {}, onProgress, 'team members', signal);
    return { members: r.items, total: r.total, requests: r.requests, cost: r.cost };
  }

  /**
   * List Groups: every group, with parent_id (hierarchical). The spec's `/groups.json` takes no paging
   * parameters (only ids and sort): one request answers them all.
   */
  async listGroups(signal?: AbortSignal): Promise<Group[]> {
    const { body } = await this.call(GroupListDocument, { method: 'GET', path: '/groups.json', page: 1, signal });
    return body.data;
  }

  /**
   * Every role: the spec's `/custom_roles.json` plus the built-in Admin and User (the spec: role ids are
   * "Admin, User, or a custom role ID"); when that is 404, the notes' `/roles` (which lists all of them).
   */
  async listRoles(signal?: AbortSignal): Promise<{ roles: Role[]; source: 'roles' | 'custom_roles' }> {
    try {
      const custom = (await this.walkPages('/custom_roles.json', RoleListDocument, {}, undefined, 'custom roles', signal)).items;
      const ids = new Set(custom.map((r) => r.id));
      return { roles: [...BUILTIN_ROLES.filter((r) => !ids.has(r.id)), ...custom], source: 'custom_roles' };
    } catch (err) {
      if (!(err instanceof VendorError) || err.code !== 'not_found') throw err;
    }
    return { roles: (await this.walkPages('/roles', RoleListDocument, {}, undefined, 'roles', signal)).items, source: 'roles' };
  }

  /** List Pending Invitations (`/pending_email_accounts`, notes). */
  async listPendingInvitations(signal?: AbortSignal): Promise<PendingEmailAccount[]> {
    try {
      return (await this.walkPages('/pending_email_accounts', PendingEmailAccountListDocument, {}, undefined, 'pending invitations', signal)).items;
    } catch (err) {
      if (err instanceof VendorError && err.code === 'not_found') {
        throw new VendorError({
          vendor: 'salesloft',
          code: 'not_found',
          status: err.status,
          requestId: err.requestId,
          detail: err.detail,
          message:
            'This SalesLoft API does not offer /v2/pending_email_accounts (the notes list it for pending invitations; the published spec has no invitations resource). Check pending invitations in SalesLoft Settings > Users.',
        });
      }
      throw err;
    }
  }

  /**
   * Pages 1..n at 100 per page, each weighted by its page tier. Stops at the last page as the metadata says,
   * on a short page, or when a page adds nothing new (an API that ignores `page` would repeat itself).
   */
  private async walkPages<T extends { id: string }>(
    path: string,
    schema: z.ZodType<{ data: T[]; metadata?: { paging?: Paging | null } | null | undefined }>,
    query: Record<string, string | number | boolean | undefined>,
    onProgress: ProgressFn | undefined,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<{ items: T[]; total: number | undefined } & WalkStats> {
    const items = new Map<string, T>();
    let total: number | undefined;
    let requests = 0;
    let cost = 0;
    for (let page = 1; ; page++) {
      const r = await this.call(schema, { method: 'GET', path, query: { ...query, page, per_page: MAX_PER_PAGE, include_paging_counts: true }, page, signal });
      requests += 1;
      cost += r.cost;
      const paging = pagingInfo(r.body.metadata?.paging);
      total ??= paging.totalCount;
      const before = items.size;
      for (const it of r.body.data) items.set(it.id, it);
      const pages = paging.totalPages ?? (total === undefined ? undefined : Math.ceil(total / MAX_PER_PAGE));
      await onProgress?.(page, pages, `Fetched page ${page}${pages ? ` of ${pages}` : ''} of SalesLoft ${what}`);
      if (!morePages(paging, page, r.body.data.length, MAX_PER_PAGE) || items.size === before) break;
    }
    return { items: [...items.values()], total, requests, cost };
  }

  // ------------------------------------------------------------------------------------------------------
  // Accounts

  /**
   * Role id → name and group id → name, cached briefly. The names sit beside the users asked for: a list that
   * fails (a token without access to groups, a 5xx) leaves the ids in place and reports a warning
   * (side-lookup.ts) instead of failing the call; such a partial answer is not cached.
   */
  async nameLookup(signal?: AbortSignal): Promise<NameLookup> {
    if (this.names && this.now() - this.names.at < NAME_CACHE_MS) return this.names.value;
    let complete = true;
    const degraded = <T>(v: T | undefined, empty: T): T => {
      if (v === undefined) complete = false;
      return v ?? empty;
    };
    const [roles, groups] = await Promise.all([
      sideLookup(ROLE_NAMES, async () => (await this.listRoles(signal)).roles, undefined, signal).then((v) => degraded(v, [] as Role[])),
      sideLookup(GROUP_NAMES, () => this.listGroups(signal), undefined, signal).then((v) => degraded(v, [] as Group[])),
    ]);
    const value: NameLookup = {
      roles: new Map(roles.map((r) => [r.id, r.name ?? r.id])),
      groups: new Map(groups.map((g) => [g.id, g.name ?? g.id])),
    };
    if (complete) this.names = { at: this.now(), value };
    return value;
  }

  /** Canonical accounts. Role and group names are looked up only when a user carries an id without a name. */
  async toAccounts(users: SalesloftUser[], signal?: AbortSignal): Promise<SalesloftAccount[]> {
    const needNames = users.some((u) => (u.role?.id && !u.role.name) || (u.group?.id && !u.group.name));
    const names = needNames ? await this.nameLookup(signal) : undefined;
    return users.map((u) => toSalesloftAccount(u, names));
  }
}

// ---------------------------------------------------------------------------------------------------------

function clampPerPage(n: number | undefined): number {
  return Math.min(MAX_PER_PAGE, Math.max(1, Math.floor(n ?? MAX_PER_PAGE)));
}

/** `/users/123` and `/users` share costs; the id is not part of the key. */
function costPath(path: string): string {
  return path.replace(/\/\d+(?=\/|$)/g, '/:id').replace(/\.json$/, '');
}

function pagingInfo(p: Paging | undefined): PagingInfo {
  return {
    perPage: p?.per_page ?? undefined,
    currentPage: p?.current_page ?? undefined,
    nextPage: p ? (p.next_page ?? null) : null,
    prevPage: p ? (p.prev_page ?? null) : null,
    totalPages: p?.total_pages ?? undefined,
    totalCount: p?.total_count ?? undefined,
  };
}

/** Whether another page may exist after `page`, from the metadata when it is there, else from a full page. */
function morePages(p: PagingInfo, page: number, got: number, perPage: number): boolean {
  if (got === 0) return false;
  if (p.totalPages !== undefined) return page < p.totalPages;
  if (p.totalCount !== undefined) return page * perPage < p.totalCount;
  if (p.currentPage !== undefined) return p.nextPage !== null;
  return got >= perPage;
}

function applyActive(users: SalesloftUser[], active: boolean | undefined): SalesloftUser[] {
  return active === undefined ? users : users.filter((u) => u.active === active);
}

/**
 * Why a cursor page cannot be trusted, or undefined when it can: `metadata.sorting` says another order, an
 * updated_at is missing or unreadable, the page is not ascending, or an item is not past the cursor.
 */
export function orderProblem(page: RawUserPage, lower: { ts: string; strict: boolean } | undefined): string | undefined {
  const s = page.sorting;
  if (s && ((s.sortBy !== undefined && s.sortBy !== 'updated_at') || (s.sortDirection !== undefined && s.sortDirection.toUpperCase() !== 'ASC'))) {
    return `metadata.sorting says ${s.sortBy ?? '?'} ${s.sortDirection ?? ''}`.trim();
  }
  let floor = lower === undefined ? undefined : parseMicros(lower.ts);
  let strict = lower?.strict ?? false;
  for (const u of page.users) {
    const t = parseMicros(u.updated_at);
    if (t === undefined) return `user ${u.id} has no readable updated_at`;
    if (floor !== undefined && (strict ? t <= floor : t < floor)) return `user ${u.id} is not after ${strict ? '' : 'or at '}the cursor`;
    floor = t;
    strict = false;
  }
  return undefined;
}

/** SalesLoft user ids are integers; refuse anything else before a request. */
export function userIdPath(id: string): string {
  const s = String(id).trim();
  if (!/^[1-9]\d{0,17}$/.test(s)) throw new ToolInputError(`\`id\`: SalesLoft user ids are positive integers such as "12345"; got ${JSON.stringify(id).slice(0, 40)}.`);
  return s;
}

function teamScoped404(err: unknown, id: string): unknown {
  if (!(err instanceof VendorError) || err.code !== 'not_found') return err;
  return new VendorError({
    vendor: 'salesloft',
    code: 'not_found',
    status: err.status,
    requestId: err.requestId,
    detail: err.detail,
    message: `SalesLoft has no user ${id} on this team: either the id does not exist, or it belongs to another team. SalesLoft API tokens are team-scoped and cannot see or change other teams' users; use a token of that team.`,
  });
}

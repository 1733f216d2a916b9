import type * as z from 'zod';
import type { HttpCore } from '../../http/core.js';
import { ToolInputError, VendorError } from '../../errors.js';
import type { HttpMethod, VendorRequest, VendorResponse } from '../../http/types.js';
import { sideLookupWarning, warn } from '../../side-lookup.js';
import { groupFilter, memberPath, quoteFilterValue, userFilter, type UserFilter } from './filter.js';
import { scimToAccount } from './map.js';
import {
  GroupList,
  normaliseKeys,
  SCHEMA,
  ScimGroup,
  ScimUser,
  ServiceProviderConfig,
  UserList,
  type PatchOperation,
} from './wire.js';

/**
 * A generic SCIM 2.0 client (RFC 7643 schema, RFC 7644 protocol) over the shared HttpCore, used by every
 * vendor's SCIM connection. What it does that a naive client does not:
 *
 * - reads /ServiceProviderConfig once and obeys it: `filter.maxResults` caps `count`, `etag.supported` turns on
 *   If-Match, `patch.supported: false` sends PUT instead of PATCH. A server without the endpoint gets
 *   conservative defaults (PATCH assumed, no ETags, 100 per page);
 * - builds filters from structured values only (filter.ts), quoted and escaped;
 * - deprovisions idempotently (no write when `active` is already false), falls back from PATCH to PUT on 405/501
 *   with the resource as read minus read-only attributes, accepts 200 or 204, and re-reads to confirm;
 * - treats a 412 (or a 409 answering an If-Match) as "changed meanwhile: re-read" and never repeats that write.
 */

export const SCIM_MEDIA_TYPE = 'application/scim+json';
/** Page size when the server does not publish `filter.maxResults`. */
export const DEFAULT_MAX_RESULTS = 100;
/** Upper bound on one page whatever the server publishes. */
export const MAX_PAGE_SIZE = 1000;
/** A walk that needs more pages than this is a server paging bug, not an org. */
const MAX_PAGES = 10_000;
/** Limiter bucket of SCIM requests, apart from the vendor's REST budget even if a token were shared. */
const BUCKET = 'scim';


/** What the ServiceProviderConfig says, reduced to what changes this client's behaviour. */
export interface ScimCapabilities {
  patch: boolean;
  etag: boolean;
  filter: boolean;
  /** Largest `count` the server accepts (filter.maxResults), capped at MAX_PAGE_SIZE. */
  maxResults: number;
  /** `server` when read from /ServiceProviderConfig, `default` when the server has none. */
  source: 'server' | 'default';
  /** ISO time it was read. */
  readAt: string;
}

/**
 * Capabilities kept beyond one client (in Redis, so that replicas read a server's config once an hour, not
 * once each). Only what was read is put in it, never a failure.
 */
export interface CapabilityCache {
  get(): Promise<ScimCapabilities | undefined>;
  set(caps: ScimCapabilities): Promise<void>;
}

export interface ListPage<T> {
  items: T[];
  /** As the server counts them; undefined when it does not say. */
  totalResults: number | undefined;
  /** 1-based index of the first item. */
  startIndex: number;
  itemsPerPage: number;
  /** The `count` actually sent (after capping by maxResults). */
  count: number;
}

export interface WalkResult<T> {
  items: T[];
  totalResults: number | undefined;
  pages: number;
}

export interface ProvisionInput {
  userName: string;
  email?: string;
  givenName?: string;
  familyName?: string;
  displayName?: string;
  externalId?: string;
  title?: string;
}

/** Attributes scim_update_user may change; `active: true` reactivates (deactivation is `deprovision`). */
export interface UserChanges {
  givenName?: string;
  familyName?: string;
  displayName?: string;
  title?: string;
  externalId?: string;
  active?: boolean;
}

export interface UserWrite {
  /** False when the user already had the requested values: nothing was sent. */
  changed: boolean;
  method: 'patch' | 'put' | 'none';
  /** The user as re-read after the write (or as given, when nothing was sent). */
  after: ScimUser;
  requestId: string | undefined;
}

type Page = { startIndex: number; count: number };
type CallResult<T> = { body: T | undefined; status: number; headers: Record<string, string>; requestId: string | undefined };

/** What a server without a readable ServiceProviderConfig is taken to support. */
function defaultCapabilities(readAt: string): ScimCapabilities {
  return { patch: true, etag: false, filter: true, maxResults: DEFAULT_MAX_RESULTS, source: 'default', readAt };
}

export class ScimClient {
  readonly name: string;
  private readonly now: () => number;
  private caps: Promise<ScimCapabilities> | undefined;
  private known: ScimCapabilities | undefined;
  /** Set when the server answered 405/501 to a PATCH although its config said it supports PATCH. */
  private patchRefused = false;
  /** The resource exactly as the server sent it (keys normalised), for PUT: parsing may have dropped bad values. */
  private readonly raw = new WeakMap<object, Record<string, unknown>>();

  /** The vendor id this connection belongs to (its HttpCore's). */
  readonly vendor: string;

  private readonly cache: CapabilityCache | undefined;

  constructor(
    readonly core: HttpCore,
    opts: { now?: () => number; cache?: CapabilityCache } = {},
  ) {
    this.vendor = core.vendor;
    this.name = `${core.label} SCIM`;
    this.now = opts.now ?? Date.now;
    this.cache = opts.cache;
  }

  /** The capabilities, once read; undefined before the first call (for list_connections). */
  knownCapabilities(): ScimCapabilities | undefined {
    return this.known;
  }

  async close(): Promise<void> {
    await this.core.close();
  }

  // ---------------------------------------------------------------- ServiceProviderConfig

  /**
   * GET /ServiceProviderConfig once per client (concurrent callers share the request). A server without it
   * (404, 405, 501, 400 or an unreadable body) gets conservative defaults. A failure that may pass (403, 429,
   * 5xx, no answer) is not cached, so the next call tries again; meanwhile this call goes on with the same
   * defaults and a warning (side-lookup.ts), since the config only tunes how the users asked for are read.
   * A refused credential (401) propagates: the call itself would fail the same way. With a shared cache
   * (Redis), what another replica read is used, and a cache that cannot be reached fails the call.
   */
  serviceProviderConfig(): Promise<ScimCapabilities> {
    if (!this.caps) {
      const p = this.loadCapabilities().then((c) => (this.known = c));
      this.caps = p;
      p.catch(() => {
        if (this.caps === p) this.caps = undefined;
      });
    }
    return this.caps.catch((err: unknown) => {
      if (!(err instanceof VendorError) || err.vendor === 'redis' || !['forbidden', 'rate_limited', 'unavailable', 'network'].includes(err.code)) throw err;
      warn(
        sideLookupWarning(
          {
            vendor: this.name,
            what: 'capabilities (GET /ServiceProviderConfig)',
            without: 'this call assumed the defaults (PATCH and filters supported, no ETags, 100 results per page)',
            fix: { forbidden: 'Let the SCIM token read /ServiceProviderConfig (RFC 7644 §4 allows it without authentication).' },
          },
          err,
        ),
      );
      return defaultCapabilities(new Date(this.now()).toISOString());
    });
  }

  private async loadCapabilities(): Promise<ScimCapabilities> {
    const shared = await this.cache?.get();
    if (shared) return shared;
    const caps = await this.readCapabilities();
    await this.cache?.set(caps);
    return caps;
  }

  private async readCapabilities(): Promise<ScimCapabilities> {
    const readAt = new Date(this.now()).toISOString();
    try {
      const { body } = await this.call(ServiceProviderConfig, { method: 'GET', path: '/ServiceProviderConfig' });
      const max = body?.filter?.maxResults;
      return {
        // RFC 7643 §5 makes each flag required; a server that leaves one out gets the tolerant reading.
        patch: body?.patch?.supported !== false,
        etag: body?.etag?.supported === true,
        filter: body?.filter?.supported !== false,
        maxResults: typeof max === 'number' && max > 0 ? Math.min(max, MAX_PAGE_SIZE) : DEFAULT_MAX_RESULTS,
        source: 'server',
        readAt,
      };
    } catch (err) {
      if (err instanceof VendorError && (err.code === 'not_found' || err.code === 'invalid_response' || err.status === 400 || err.status === 405 || err.status === 501)) {
        return defaultCapabilities(readAt);
      }
      throw err;
    }
  }

  // ---------------------------------------------------------------- users: read

  /** GET /Users: one page. `startIndex` is 1-based (RFC 7644 §3.4.2.4); `count` is capped by maxResults. */
  async listUsers(opts: { filter?: UserFilter; startIndex?: number; count?: number; signal?: AbortSignal } = {}): Promise<ListPage<ScimUser>> {
    return this.usersPage(opts, true);
  }

  /** One page of users; `keepRaw` remembers each user's document as sent, for a later PUT of that user. */
  private async usersPage(opts: { filter?: UserFilter; startIndex?: number; count?: number; signal?: AbortSignal }, keepRaw: boolean): Promise<ListPage<ScimUser>> {
    const filter = userFilter(opts.filter);
    const caps = await this.serviceProviderConfig();
    if (filter !== undefined && !caps.filter) {
      throw new ToolInputError(`${this.name} says it does not support filtering (ServiceProviderConfig filter.supported is false); list without user_name, external_id or active.`);
    }
    return this.listPage(UserList, '/Users', { filter }, this.page(opts, caps), opts.signal, keepRaw);
  }

  /**
   * Every user matching `filter`, walking startIndex/count at the server's maxResults. Stops when totalResults
   * is reached or a page is empty; advances by the number of items actually returned, so a server that
   * returns fewer than `count` is not skipped over; fails on a server that returns the same page again.
   */
  async listAllUsers(
    filter: UserFilter = {},
    onPage?: (pages: number, totalPages: number | undefined, items: number) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<WalkResult<ScimUser>> {
    // A whole directory is read for reading: no raw copies (findByUserName keeps them for the users it finds).
    return this.walkUsers(filter, false, onPage, signal);
  }

  private async walkUsers(
    filter: UserFilter,
    keepRaw: boolean,
    onPage: ((pages: number, totalPages: number | undefined, items: number) => Promise<void>) | undefined,
    signal: AbortSignal | undefined,
  ): Promise<WalkResult<ScimUser>> {
    userFilter(filter);
    const caps = await this.serviceProviderConfig();
    return this.walk((p) => this.usersPage({ filter, ...p, signal }, keepRaw), caps.maxResults, onPage, signal);
  }

  /** GET /Users/{id}. The ETag header, when sent, becomes `meta.version` (RFC 7644 §3.14). */
  async getUser(id: string, signal?: AbortSignal): Promise<ScimUser> {
    const res = await this.call(ScimUser, { method: 'GET', path: `/Users/${scimIdPath(id)}`, signal });
    if (res.body === undefined) throw this.invalid(res.status, res.requestId, `GET /Users/{id} answered ${res.status} without a user`);
    return withVersion(res.body, res.headers.etag);
  }

  /**
   * Users whose userName equals `userName` case-insensitively (RFC 7643 §4.1.1: userName is caseExact false).
   * Servers are asked with the value as given and lower-cased (a case-exact server would miss the other
   * spelling), and every answer is checked here too: the filter narrows, this decides. When the server cannot
   * filter, every user is listed and compared here.
   */
  async findByUserName(userName: string, signal?: AbortSignal): Promise<ScimUser[]> {
    const trimmed = userName.trim();
    quoteFilterValue(trimmed, 'user_name');
    const wanted = trimmed.toLowerCase();
    const match = (u: ScimUser) => (u.userName ?? '').trim().toLowerCase() === wanted;
    const caps = await this.serviceProviderConfig();
    // A match may be written back (a PUT replaces the whole user), so this walk keeps the raw documents.
    if (!caps.filter) return (await this.walkUsers({}, true, undefined, signal)).items.filter(match);
    const found = new Map<string, ScimUser>();
    for (const variant of new Set([trimmed, wanted])) {
      const page = await this.listUsers({ filter: { userName: variant }, startIndex: 1, count: caps.maxResults, signal });
      for (const u of page.items) if (match(u)) found.set(u.id, u);
    }
    return [...found.values()];
  }

  /**
   * The one user a call names by id or by userName. By userName it acts only when exactly one user matches
   * case-insensitively; otherwise the error lists the candidates so the agent can pick an id.
   */
  async resolveUser(ref: { id?: string; userName?: string }, signal?: AbortSignal): Promise<ScimUser> {
    if ((ref.id === undefined) === (ref.userName === undefined)) {
      throw new ToolInputError('Give exactly one of `id` (the SCIM user id, e.g. "2819c223") or `user_name` (e.g. "jane.doe@acme.example").');
    }
    if (ref.id !== undefined) return this.getUser(ref.id, signal);
    const userName = ref.userName as string;
    const matches = await this.findByUserName(userName, signal);
    if (matches.length === 1) return this.getUser(matches[0].id, signal);
    if (matches.length === 0) {
      throw new ToolInputError(`\`user_name\`: no ${this.name} user has the userName ${JSON.stringify(userName)} (compared case-insensitively). Check the spelling, or list users with scim_list_users.`);
    }
    throw new ToolInputError(
      `${matches.length} ${this.name} users match the userName ${JSON.stringify(userName)} case-insensitively; nothing was changed. Call again with the \`id\` of the one you mean.`,
      { candidates: matches.map((u) => scimToAccount(this.vendor, u)).map((a) => ({ id: a.id, user_name: a.user_name, email: a.email, name: a.name, status: a.status })) },
    );
  }

  // ---------------------------------------------------------------- users: write

  /**
   * POST /Users unless a user with this userName already exists (then `created: false` and no write). A 409
   * (scimType uniqueness, RFC 7644 §3.3) from a concurrent create also returns the existing user.
   */
  async provisionUser(input: ProvisionInput, signal?: AbortSignal): Promise<{ user: ScimUser; created: boolean; requestId: string | undefined }> {
    const existing = await this.findByUserName(input.userName, signal);
    if (existing.length > 0) return { user: await this.oneExisting(input.userName, existing, signal), created: false, requestId: undefined };
    return this.createUser(input, signal);
  }

  /**
   * The write half of provisionUser: POST /Users without looking first (the caller just did). A 409 still
   * returns the existing user with `created: false`.
   */
  async createUser(input: ProvisionInput, signal?: AbortSignal): Promise<{ user: ScimUser; created: boolean; requestId: string | undefined }> {
    quoteFilterValue(input.userName, 'user_name');
    let res: CallResult<ScimUser>;
    try {
      res = await this.call(ScimUser, { method: 'POST', path: '/Users', body: provisionBody(input), signal });
    } catch (err) {
      if (!(err instanceof VendorError) || err.status !== 409) throw err;
      const again = await this.findByUserName(input.userName, signal);
      if (again.length === 0) {
        throw new VendorError({
          vendor: this.vendor,
          code: 'conflict',
          status: 409,
          requestId: err.requestId,
          detail: err.detail,
          message: `${this.name} says a user with the userName ${JSON.stringify(input.userName)} already exists (409), but a userName search does not find it (it may be hidden or deactivated); check the user in the vendor's admin console.`,
        });
      }
      return { user: await this.oneExisting(input.userName, again, signal), created: false, requestId: err.requestId };
    }
    // A 201 without a body is against RFC 7644 §3.3, but the user exists: read it back.
    const user = res.body ?? (await this.oneExisting(input.userName, await this.findByUserName(input.userName, signal), signal));
    return { user: withVersion(user, res.headers.etag), created: true, requestId: res.requestId };
  }

  private async oneExisting(userName: string, found: ScimUser[], signal?: AbortSignal): Promise<ScimUser> {
    if (found.length === 1) return this.getUser(found[0].id, signal);
    // Several case variants exist: resolveUser's error lists them.
    return this.resolveUser({ userName }, signal);
  }

  /**
   * Changes some attributes of `current` (the user as just read): PATCH with the PatchOp schema (RFC 7644
   * §3.5.2), or PUT of the read resource when PATCH is unsupported. Only differing values are sent; nothing
   * differs → `changed: false` and no request. Always re-reads the user afterwards.
   */
  async updateUser(current: ScimUser, changes: UserChanges, signal?: AbortSignal): Promise<UserWrite> {
    const ops = changeOps(current, changes);
    if (ops.length === 0) return { changed: false, method: 'none', after: current, requestId: undefined };
    const result = await this.writeUser(current, ops, (r) => applyChanges(r, changes), signal);
    if (changes.active !== undefined && result.after.active !== changes.active) throw this.notApplied(current, result, changes.active);
    return result;
  }

  /**
   * Deactivates `current` (the user as just read): `active` already false → `changed: false`, no write. Else
   * PATCH `{op: "replace", path: "active", value: false}`: the RFC 7644 §3.5.2.3 form with a path, and what
   * SalesLoft's notes show. Okta itself sends the path-less `{op: "replace", value: {active: false}}` (also valid
   * RFC 7644), so a server built only for Okta might accept only that; this client does not send it. Falls
   * back to PUT on 405/501 or when the server says it has no PATCH. 200 with a body and 204 without are both success; the user is re-read and must now
   * report `active: false`, else the call fails saying the server accepted but did not deactivate.
   */
  async deprovision(current: ScimUser, signal?: AbortSignal): Promise<UserWrite> {
    if (current.active === false) return { changed: false, method: 'none', after: current, requestId: undefined };
    const result = await this.writeUser(current, [{ op: 'replace', path: 'active', value: false }], (r) => ({ ...r, active: false }), signal);
    if (result.after.active !== false) throw this.notApplied(current, result, false);
    return result;
  }

  private async writeUser(
    current: ScimUser,
    ops: PatchOperation[],
    modify: (resource: Record<string, unknown>) => Record<string, unknown>,
    signal: AbortSignal | undefined,
  ): Promise<UserWrite> {
    const caps = await this.serviceProviderConfig();
    const path = `/Users/${scimIdPath(current.id)}`;
    const ifMatch = caps.etag ? (current.meta?.version ?? undefined) : undefined;
    let method: 'patch' | 'put' = caps.patch && !this.patchRefused ? 'patch' : 'put';
    let requestId: string | undefined;
    if (method === 'patch') {
      try {
        requestId = (await this.write('PATCH', path, { schemas: [SCHEMA.patchOp], Operations: ops }, ifMatch, signal)).requestId;
      } catch (err) {
        if (!patchUnsupported(err)) throw err;
        // The server has no PATCH after all (405 Method Not Allowed / 501 Not Implemented): nothing was
        // changed, so the replace below is the first write. Remembered for this connection.
        this.patchRefused = true;
        method = 'put';
      }
    }
    if (method === 'put') {
      requestId = (await this.write('PUT', path, putBody(modify(this.rawOf(current))), ifMatch, signal)).requestId;
    }
    // A 200 body may be partial and a 204 has none: the state the server really holds is read back.
    const after = await this.getUser(current.id, signal);
    return { changed: true, method, after, requestId };
  }

  /**
   * DELETE /Users/{id}: a hard delete. 404 → `deleted: false` (already gone). With ETags, `ifMatch` guards
   * against deleting a user that changed since it was read.
   */
  async deleteUser(id: string, opts: { ifMatch?: string; signal?: AbortSignal } = {}): Promise<{ deleted: boolean; requestId: string | undefined }> {
    const path = `/Users/${scimIdPath(id)}`;
    const caps = await this.serviceProviderConfig();
    const ifMatch = caps.etag ? opts.ifMatch : undefined;
    try {
      const res = await this.write('DELETE', path, undefined, ifMatch, opts.signal);
      return { deleted: true, requestId: res.requestId };
    } catch (err) {
      if (err instanceof VendorError && err.code === 'not_found') return { deleted: false, requestId: err.requestId };
      if (err instanceof VendorError && (err.status === 405 || err.status === 501)) {
        throw new VendorError({
          vendor: this.vendor,
          code: 'forbidden',
          status: err.status,
          requestId: err.requestId,
          detail: err.detail,
          message: `${this.name} does not support deleting users (${err.status}); use scim_deprovision_user to deactivate the user instead.`,
        });
      }
      throw err;
    }
  }

  // ---------------------------------------------------------------- groups

  /** GET /Groups: one page. Members are left out (`excludedAttributes=members`) unless asked for. */
  async listGroups(opts: { displayName?: string; members?: boolean; startIndex?: number; count?: number; signal?: AbortSignal } = {}): Promise<ListPage<ScimGroup>> {
    const filter = groupFilter({ displayName: opts.displayName });
    const caps = await this.serviceProviderConfig();
    if (filter !== undefined && !caps.filter) {
      throw new ToolInputError(`${this.name} says it does not support filtering (ServiceProviderConfig filter.supported is false); list groups without display_name.`);
    }
    return this.listPage(GroupList, '/Groups', { filter, excludedAttributes: opts.members ? undefined : 'members' }, this.page(opts, caps), opts.signal, true).catch((err: unknown) => {
      throw this.groupsUnsupported(err);
    });
  }

  async listAllGroups(
    opts: { displayName?: string; members?: boolean } = {},
    onPage?: (pages: number, totalPages: number | undefined, items: number) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<WalkResult<ScimGroup>> {
    groupFilter({ displayName: opts.displayName });
    const caps = await this.serviceProviderConfig();
    return this.walk((p) => this.listGroups({ ...opts, ...p, signal }), caps.maxResults, onPage, signal);
  }

  async getGroup(id: string, signal?: AbortSignal): Promise<ScimGroup> {
    const res = await this.call(ScimGroup, { method: 'GET', path: `/Groups/${scimIdPath(id, 'group_id')}`, signal }).catch((err: unknown) => {
      throw this.groupsUnsupported(err, id);
    });
    if (res.body === undefined) throw this.invalid(res.status, res.requestId, `GET /Groups/{id} answered ${res.status} without a group`);
    return withVersion(res.body, res.headers.etag);
  }

  /**
   * A 501 from /Groups means the server has no groups at all (Apollo: "supports users but not user groups"),
   * not a passing outage: said so, naming the argument to change, instead of "unavailable; retry later".
   */
  private groupsUnsupported(err: unknown, id?: string): unknown {
    if (id !== undefined && err instanceof VendorError && err.code === 'not_found') {
      return new VendorError({
        vendor: err.vendor,
        code: 'not_found',
        status: err.status,
        requestId: err.requestId,
        detail: err.detail,
        message: `\`group_id\`: ${this.name} has no group with id ${JSON.stringify(id)}. List the groups with scim_list_groups.`,
      });
    }
    if (!(err instanceof VendorError) || err.status !== 501) return err;
    return new VendorError({
      vendor: err.vendor,
      code: 'bad_request',
      status: 501,
      requestId: err.requestId,
      detail: err.detail,
      message: `${this.name} does not offer SCIM groups (it answers 501 Not Implemented to /Groups): pick another \`connection\`, or manage this vendor's teams in its admin console. Retrying will not help.`,
    });
  }

  /**
   * PATCH /Groups/{id}: `add` members (one `add` operation with every id) and `remove` members (one
   * `remove` with path `members[value eq "<id>"]` each, the value quoted and escaped). Without PATCH this
   * refuses: replacing a whole group with PUT could drop members added meanwhile.
   */
  async updateGroupMembers(
    groupId: string,
    change: { add: string[]; remove: string[] },
    opts: { ifMatch?: string; signal?: AbortSignal } = {},
  ): Promise<{ requestId: string | undefined }> {
    const path = `/Groups/${scimIdPath(groupId, 'group_id')}`;
    for (const id of [...change.add, ...change.remove]) scimIdPath(id, 'member id');
    if (change.add.length === 0 && change.remove.length === 0) throw new ToolInputError('Nothing to change: give at least one user id in `add` or `remove`.');
    const ops: PatchOperation[] = [];
    if (change.add.length > 0) ops.push({ op: 'add', path: 'members', value: change.add.map((value) => ({ value })) });
    for (const id of change.remove) ops.push({ op: 'remove', path: memberPath(id) });
    const caps = await this.serviceProviderConfig();
    const noPatch = () =>
      new ToolInputError(`${this.name} does not support SCIM PATCH, and replacing a whole group with PUT could drop members added meanwhile; nothing was changed. Change the membership in the vendor's admin console or in the identity provider.`);
    if (!caps.patch || this.patchRefused) throw noPatch();
    try {
      const res = await this.write('PATCH', path, { schemas: [SCHEMA.patchOp], Operations: ops }, caps.etag ? opts.ifMatch : undefined, opts.signal);
      return { requestId: res.requestId };
    } catch (err) {
      if (patchUnsupported(err)) {
        this.patchRefused = true;
        throw noPatch();
      }
      throw err;
    }
  }

  /**
   * POST /Groups (RFC 7644 §3.3): a group with `displayName` and optional members. Idempotent by name: a
   * group with that displayName already there is returned with `created: false` (a 409 is read the same way).
   * Not repeated blindly after a lost answer: the name check finds a group the lost answer created.
   */
  async createGroup(displayName: string, members: readonly string[], signal?: AbortSignal): Promise<{ group: ScimGroup; created: boolean; requestId: string | undefined }> {
    for (const id of members) scimIdPath(id, 'member id');
    const existing = async () => (await this.listGroups({ displayName, signal })).items.find((g) => (g.displayName ?? '').toLowerCase() === displayName.toLowerCase());
    const before = await existing();
    if (before) return { group: before, created: false, requestId: undefined };
    try {
      const res = await this.write('POST', '/Groups', { schemas: [SCHEMA.group], displayName, ...(members.length > 0 ? { members: members.map((value) => ({ value })) } : {}) }, undefined, signal);
      const group = ScimGroup.safeParse(normaliseKeys(res.body));
      if (!group.success) throw this.invalid(res.status, res.requestId, 'POST /Groups answered without a group');
      return { group: group.data, created: true, requestId: res.requestId };
    } catch (err) {
      if (err instanceof VendorError && err.status === 409) {
        const found = await existing();
        if (found) return { group: found, created: false, requestId: err.requestId };
      }
      throw err;
    }
  }

  /** DELETE /Groups/{id}: a group already gone counts as done (`deleted: false`). */
  async deleteGroup(id: string, signal?: AbortSignal): Promise<{ deleted: boolean; requestId: string | undefined }> {
    try {
      const res = await this.write('DELETE', `/Groups/${scimIdPath(id, 'group_id')}`, undefined, undefined, signal);
      return { deleted: true, requestId: res.requestId };
    } catch (err) {
      if (err instanceof VendorError && err.code === 'not_found') return { deleted: false, requestId: err.requestId };
      throw err;
    }
  }

  // ---------------------------------------------------------------- plumbing

  private page(opts: { startIndex?: number; count?: number }, caps: ScimCapabilities): Page {
    const startIndex = opts.startIndex ?? 1;
    if (!Number.isInteger(startIndex) || startIndex < 1) throw new ToolInputError('`start_index` is 1-based: give an integer of 1 or more (RFC 7644 §3.4.2.4).');
    const asked = opts.count ?? caps.maxResults;
    if (!Number.isInteger(asked) || asked < 1) throw new ToolInputError('`count` must be an integer of 1 or more.');
    return { startIndex, count: Math.min(asked, caps.maxResults) };
  }

  private async listPage<T extends { id: string }>(
    schema: z.ZodType<{ totalResults?: number | null; startIndex?: number | null; itemsPerPage?: number | null; Resources?: T[] | null }>,
    path: string,
    query: Record<string, string | undefined>,
    page: Page,
    signal: AbortSignal | undefined,
    keepRaw: boolean,
  ): Promise<ListPage<T>> {
    const res = await this.call(schema, { method: 'GET', path, query: { ...query, startIndex: page.startIndex, count: page.count }, signal });
    const items = res.body?.Resources ?? [];
    // Each item's raw form (for a later PUT) is its entry in the raw list document.
    const rawItems = keepRaw && res.body ? this.raw.get(res.body as object)?.Resources : undefined;
    if (Array.isArray(rawItems)) {
      items.forEach((item, i) => {
        const raw = rawItems[i];
        if (raw && typeof raw === 'object') this.raw.set(item, raw as Record<string, unknown>);
      });
    }
    return {
      items,
      totalResults: res.body?.totalResults ?? undefined,
      startIndex: res.body?.startIndex ?? page.startIndex,
      itemsPerPage: res.body?.itemsPerPage ?? items.length,
      count: page.count,
    };
  }

  private async walk<T extends { id: string }>(
    fetch: (page: Page) => Promise<ListPage<T>>,
    pageSize: number,
    onPage: ((pages: number, totalPages: number | undefined, items: number) => Promise<void>) | undefined,
    signal: AbortSignal | undefined,
  ): Promise<WalkResult<T>> {
    const items: T[] = [];
    const seen = new Set<string>();
    let startIndex = 1;
    let pages = 0;
    let total: number | undefined;
    for (;;) {
      signal?.throwIfAborted();
      const page = await fetch({ startIndex, count: pageSize });
      pages += 1;
      total = page.totalResults ?? total;
      let fresh = 0;
      for (const it of page.items) {
        if (seen.has(it.id)) continue;
        seen.add(it.id);
        items.push(it);
        fresh += 1;
      }
      await onPage?.(pages, total === undefined ? undefined : Math.max(1, Math.ceil(total / pageSize)), items.length);
      if (page.items.length === 0) break;
      if (fresh === 0) {
        throw this.invalid(200, undefined, `startIndex=${startIndex} returned only resources already seen`, `${this.name} returned the same resources again for startIndex ${startIndex}: it seems to ignore startIndex, so the complete list cannot be read reliably. List one page at a time instead.`);
      }
      const reached = startIndex - 1 + page.items.length;
      if (total !== undefined && reached >= total) break;
      if (total === undefined && page.items.length < page.count) break;
      if (pages >= MAX_PAGES) throw this.invalid(200, undefined, `more than ${MAX_PAGES} pages`, `${this.name} kept returning pages past ${MAX_PAGES}; stopped. List one page at a time instead.`);
      // Advance by what the server returned: one that caps count lower than asked is not skipped over.
      startIndex += page.items.length;
    }
    return { items, totalResults: total, pages };
  }

  /** One request with the SCIM media type; the body is key-normalised and parsed. 204/empty → body undefined. */
  private async call<T>(schema: z.ZodType<T>, req: VendorRequest): Promise<CallResult<T>> {
    const res = await this.core.request<unknown>({ ...req, mediaType: SCIM_MEDIA_TYPE, bucket: BUCKET });
    return { body: this.parse(schema, res, req), status: res.status, headers: res.headers, requestId: res.requestId };
  }

  private parse<T>(schema: z.ZodType<T>, res: VendorResponse<unknown>, req: VendorRequest): T | undefined {
    let body = res.body;
    if (body === undefined) return undefined;
    if (typeof body === 'string') {
      // A server that labels JSON as text/plain or text/html: read it if it parses.
      try {
        body = JSON.parse(body);
      } catch {
        throw this.invalid(res.status, res.requestId, `${req.method} ${req.path}: ${res.headers['content-type'] ?? 'no content-type'} body is not JSON`);
      }
    }
    const normalised = normaliseKeys(body);
    const parsed = schema.safeParse(normalised);
    if (!parsed.success) {
      throw this.invalid(res.status, res.requestId, parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), `${this.name} answered ${req.method} ${req.path.replace(/\/Users\/.+/, '/Users/{id}').replace(/\/Groups\/.+/, '/Groups/{id}')} with a document this server cannot read; nothing was assumed. Retry later or report it.`);
    }
    if (parsed.data && typeof parsed.data === 'object' && normalised && typeof normalised === 'object') {
      this.raw.set(parsed.data as object, normalised as Record<string, unknown>);
    }
    return parsed.data;
  }

  private rawOf(resource: ScimUser): Record<string, unknown> {
    return structuredClone(this.raw.get(resource) ?? (resource as Record<string, unknown>));
  }

  /** A write: never repeated after a 412; a 412 (or 409 answering an If-Match) says "re-read and retry". */
  private async write(method: HttpMethod, path: string, body: unknown, ifMatch: string | undefined, signal: AbortSignal | undefined): Promise<VendorResponse<unknown>> {
    try {
      return await this.core.request<unknown>({
        method,
        path,
        body,
        mediaType: SCIM_MEDIA_TYPE,
        bucket: BUCKET,
        // PATCH replace and PUT leave the same state when repeated; a repeated DELETE would report a 404.
        // A conditional write is not repeated automatically: if the first attempt landed, the version moved and
        // the repeat would answer 412, which would read as "nothing was changed" for a change that was made.
        idempotent: (method === 'PATCH' || method === 'PUT') && !ifMatch,
        headers: ifMatch ? { 'If-Match': ifMatch } : undefined,
        signal,
      });
    } catch (err) {
      if (err instanceof VendorError && (err.status === 412 || (err.status === 409 && ifMatch !== undefined && !/uniqueness/i.test(err.message)))) {
        throw new VendorError({
          vendor: this.vendor,
          code: 'conflict',
          status: err.status,
          requestId: err.requestId,
          detail: err.detail,
          message: `The ${this.name} resource changed since it was read (${err.status}${err.status === 412 ? ' Precondition Failed' : ' Conflict'}: the version sent in If-Match is no longer current); nothing was changed. Read it again and retry if the change is still wanted.`,
        });
      }
      throw err;
    }
  }

  private notApplied(current: ScimUser, result: UserWrite, wanted: boolean): VendorError {
    return new VendorError({
      vendor: this.vendor,
      code: 'invalid_response',
      requestId: result.requestId,
      detail: `${result.method.toUpperCase()} /Users/{id} accepted; re-read shows active=${String(result.after.active)}`,
      message: `${this.name} accepted the ${result.method.toUpperCase()} for user ${current.id} but, read again, still reports active=${String(result.after.active ?? 'absent')} instead of ${String(wanted)}; the user was NOT ${wanted ? 'reactivated' : 'deactivated'}. Check the user in the vendor's admin console.`,
    });
  }

  private invalid(status: number, requestId: string | undefined, detail: string, message?: string): VendorError {
    return new VendorError({
      vendor: this.vendor,
      code: 'invalid_response',
      status,
      requestId,
      detail,
      message: message ?? `${this.name} answered with something this server cannot read; nothing was assumed. Retry later or report it.`,
    });
  }
}

function patchUnsupported(err: unknown): boolean {
  return err instanceof VendorError && (err.status === 405 || err.status === 501);
}

function withVersion<T extends { meta?: { version?: string | null } | null }>(resource: T, etag: string | undefined): T {
  if (!etag) return resource;
  resource.meta = { ...(resource.meta ?? {}), version: etag };
  return resource;
}

/**
 * A SCIM id as a path segment, refused before any request when it cannot be one: empty, longer than 256
 * characters, containing whitespace, control characters, `/`, `\`, `?` or `#`, or `.`/`..`. What remains is
 * percent-encoded, so an id never changes the path it is sent to.
 */
export function scimIdPath(id: string, field = 'id'): string {
  if (typeof id !== 'string' || id.length === 0) {
    throw new ToolInputError(`\`${field}\` must not be empty; copy the id from scim_list_users or scim_get_user.`);
  }
  if (id.length > 256 || /[\s\u0000-\u001f\u007f/\\?#]/.test(id) || id === '.' || id === '..') {
    throw new ToolInputError(
      `\`${field}\`: ${JSON.stringify(id.slice(0, 60))} is not a SCIM resource id (ids have no slashes, whitespace, '?', '#' or control characters and are not "." or ".."); copy the id from scim_list_users or scim_get_user.`,
    );
  }
  return encodeURIComponent(id);
}

/** The POST body for a new user: core User schema, `active: true`, the email as the primary work email. */
export function provisionBody(input: ProvisionInput): Record<string, unknown> {
  const email = input.email ?? (/^[^@\s]+@[^@\s]+$/.test(input.userName) ? input.userName : undefined);
  const name: Record<string, string> = {};
  if (input.givenName) name.givenName = input.givenName;
  if (input.familyName) name.familyName = input.familyName;
  const full = [input.givenName, input.familyName].filter(Boolean).join(' ');
  if (full) name.formatted = full;
  const displayName = input.displayName ?? (full || undefined);
  return {
    schemas: [SCHEMA.user],
    userName: input.userName,
    ...(input.externalId ? { externalId: input.externalId } : {}),
    ...(Object.keys(name).length > 0 ? { name } : {}),
    ...(displayName ? { displayName } : {}),
    ...(input.title ? { title: input.title } : {}),
    ...(email ? { emails: [{ value: email, type: 'work', primary: true }] } : {}),
    active: true,
  };
}

/** PatchOp operations for the values of `changes` that differ from `current`. */
export function changeOps(current: ScimUser, changes: UserChanges): PatchOperation[] {
  const ops: PatchOperation[] = [];
  const put = (path: string, now: unknown, wanted: unknown) => {
    if (wanted !== undefined && wanted !== now) ops.push({ op: 'replace', path, value: wanted });
  };
  put('name.givenName', current.name?.givenName ?? undefined, changes.givenName);
  put('name.familyName', current.name?.familyName ?? undefined, changes.familyName);
  put('displayName', current.displayName ?? undefined, changes.displayName);
  put('title', current.title ?? undefined, changes.title);
  put('externalId', current.externalId ?? undefined, changes.externalId);
  put('active', current.active ?? undefined, changes.active);
  return ops;
}

function applyChanges(resource: Record<string, unknown>, changes: UserChanges): Record<string, unknown> {
  const out = { ...resource };
  if (changes.givenName !== undefined || changes.familyName !== undefined) {
    const name = { ...((out.name as Record<string, unknown> | undefined) ?? {}) };
    if (changes.givenName !== undefined) name.givenName = changes.givenName;
    if (changes.familyName !== undefined) name.familyName = changes.familyName;
    out.name = name;
  }
  if (changes.displayName !== undefined) out.displayName = changes.displayName;
  if (changes.title !== undefined) out.title = changes.title;
  if (changes.externalId !== undefined) out.externalId = changes.externalId;
  if (changes.active !== undefined) out.active = changes.active;
  return out;
}

/** Read-only attributes of the core User and Group (RFC 7643 §§3.1, 4.1.2): left out of a PUT. */
const READ_ONLY = new Set(['id', 'meta', 'groups']);

/**
 * The body of a PUT replacing a resource: the resource as read, minus `meta` and the read-only attributes
 * (RFC 7644 §3.5.1 has the server ignore them, but not every server does), with `schemas` present.
 */
export function putBody(resource: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(resource)) if (!READ_ONLY.has(k)) out[k] = v;
  if (!Array.isArray(out.schemas) || out.schemas.length === 0) out.schemas = [SCHEMA.user];
  return out;
}

import type * as z from 'zod';
import { ToolInputError } from '../../errors.js';
import { parseVendorBody } from '../../http/parse.js';
import type { HttpCore } from '../../http/core.js';
import type { VendorRequest } from '../../http/types.js';
import type { AuthKind } from '../../auth/types.js';
import { sideLookup, type SideLookup } from '../../side-lookup.js';
import { toOutreachAccount, type NameLookup, type OutreachAccount } from './map.js';
import { NamedListDocument, UserDocument, UserListDocument, type NamedResource, type UserResource } from './wire.js';

/**
 * Outreach REST v2 (JSON:API). Doc sections named on each call are from the Outreach notes
 * (shared/vendor-docs/outreach-api.txt) and https://developers.outreach.io/api/reference/.
 */

export const JSON_API = 'application/vnd.api+json';
export const MAX_PAGE_SIZE = 1000;
/** Role and profile names change rarely; a short cache saves a request per tool call. */
const NAME_CACHE_MS = 5 * 60_000;

export interface UserFilters {
  email?: string;
  locked?: boolean;
  /** ISO 8601; sent as JSON:API range `filter[updatedAt]=<from>..inf` (notes, "Alternative event strategy"). */
  updatedSince?: string;
}

export interface UserPage {
  users: UserResource[];
  total: number | undefined;
  /** Offset of the next page, or null on the last page. */
  nextOffset: number | null;
}

export interface UserAttributesInput {
  firstName?: string;
  lastName?: string;
  /** Only on create: the spec says the email "Cannot be updated via the API". */
  email?: string;
  title?: string;
  locked?: boolean;
}

/** The side lookups of nameLookup, for their warnings (the scopes are the OAuth app's, adapter.ts). */
const ROLE_NAMES: SideLookup = {
  vendor: 'Outreach',
  what: 'role names (GET /roles)',
  without: 'accounts show role ids instead of names, and admins recognised by their role name are not flagged',
  fix: { forbidden: 'Add the scope roles.read to the Outreach OAuth app and authorize again (`sales-access-mcp auth outreach`), or use a token that has it.' },
};
const PROFILE_NAMES: SideLookup = {
  vendor: 'Outreach',
  what: 'profile names (GET /profiles)',
  without: 'accounts show profile ids instead of names, and admins recognised by their profile name are not flagged',
  fix: { forbidden: 'Add the scope profiles.read to the Outreach OAuth app and authorize again (`sales-access-mcp auth outreach`), or use a token that has it.' },
};

export class OutreachClient {
  private names: { at: number; value: NameLookup } | undefined;

  constructor(
    readonly core: HttpCore,
    readonly authKind: AuthKind,
    private readonly now: () => number = Date.now,
  ) {}

  private async call<T>(schema: z.ZodType<T>, req: VendorRequest): Promise<{ body: T; requestId: string | undefined }> {
    // Watch out for (List Users): "Must include Accept: application/vnd.api+json".
    const res = await this.core.request<unknown>({ ...req, mediaType: JSON_API });
    const body = parseVendorBody(this.core, schema, res, req);
    return { body, requestId: res.requestId };
  }

  /** List Users: one page. Page size up to 1000 (notes, "Rate limits, pagination"). */
  async listUsers(opts: UserFilters & { pageSize: number; offset: number; signal?: AbortSignal }): Promise<UserPage> {
    const pageSize = Math.min(Math.max(1, opts.pageSize), MAX_PAGE_SIZE);
    const { body } = await this.call(UserListDocument, {
      method: 'GET',
      path: '/users',
      query: {
        'page[size]': pageSize,
        'page[offset]': opts.offset,
        'filter[email]': opts.email,
        'filter[locked]': opts.locked,
        'filter[updatedAt]': opts.updatedSince === undefined ? undefined : `${opts.updatedSince}..inf`,
        sort: 'id',
      },
      signal: opts.signal,
    });
    const total = body.meta?.count;
    const seen = opts.offset + body.data.length;
    const more = total !== undefined ? seen < total : body.data.length === pageSize;
    return { users: body.data, total, nextOffset: more && body.data.length > 0 ? seen : null };
  }

  /** Walks every page at the maximum page size: 10,000 users cost 10 requests. `onPage` also gets the users so far. */
  async listAllUsers(
    filters: UserFilters,
    onPage?: (fetched: number, totalPages: number | undefined, users: number) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<{ users: UserResource[]; total: number | undefined; pages: number }> {
    const users: UserResource[] = [];
    let offset: number | null = 0;
    let pages = 0;
    let total: number | undefined;
    while (offset !== null) {
      const page: UserPage = await this.listUsers({ ...filters, pageSize: MAX_PAGE_SIZE, offset, signal });
      pages += 1;
      total = page.total ?? total;
      users.push(...page.users);
      offset = page.nextOffset;
      await onPage?.(pages, total === undefined ? undefined : Math.max(1, Math.ceil(total / MAX_PAGE_SIZE)), users.length);
    }
    return { users, total, pages };
  }

  /** Get User. Watch out for: the id is an integer in the path, a string in the body. */
  async getUser(id: string, signal?: AbortSignal): Promise<UserResource> {
    const { body } = await this.call(UserDocument, { method: 'GET', path: `/users/${userIdPath(id)}`, signal });
    return body.data;
  }

  /**
   * Users whose email equals `email` case-insensitively. Outreach's filter[email] match rules are not
   * documented, so the result is filtered here too: the filter narrows, this decides.
   */
  async findByEmail(email: string, signal?: AbortSignal): Promise<UserResource[]> {
    const wanted = email.trim().toLowerCase();
    const found = new Map<string, UserResource>();
    for (const variant of new Set([email.trim(), wanted])) {
      const page = await this.listUsers({ email: variant, pageSize: 100, offset: 0, signal });
      for (const u of page.users) if ((u.attributes.email ?? '').toLowerCase() === wanted) found.set(u.id, u);
    }
    return [...found.values()];
  }

  /** Create User: relationships must carry ids resolved from /roles and /profiles (never hard-coded). */
  async createUser(
    attrs: UserAttributesInput,
    rel: { roleId?: string; profileId?: string },
    signal?: AbortSignal,
  ): Promise<{ user: UserResource; requestId: string | undefined }> {
    const { body, requestId } = await this.call(UserDocument, {
      method: 'POST',
      path: '/users',
      body: { data: { type: 'user', attributes: attrs, ...relationships(rel) } },
      signal,
    });
    return { user: body.data, requestId };
  }

  /**
   * Update User. Watch out for: PATCH is partial and "the id must be included in the request body data
   * object, not just the URL". Setting the same values again is harmless, so the request may be retried.
   */
  async updateUser(
    id: string,
    attrs: UserAttributesInput,
    rel: { roleId?: string; profileId?: string } = {},
    signal?: AbortSignal,
  ): Promise<{ user: UserResource; requestId: string | undefined }> {
    const { body, requestId } = await this.call(UserDocument, {
      method: 'PATCH',
      path: `/users/${userIdPath(id)}`,
      body: { data: { type: 'user', id: String(id), attributes: attrs, ...relationships(rel) } },
      idempotent: true,
      signal,
    });
    return { user: body.data, requestId };
  }

  async listRoles(signal?: AbortSignal): Promise<NamedResource[]> {
    return this.listNamed('/roles', signal);
  }

  async listProfiles(signal?: AbortSignal): Promise<NamedResource[]> {
    return this.listNamed('/profiles', signal);
  }

  private async listNamed(path: string, signal?: AbortSignal): Promise<NamedResource[]> {
    const out: NamedResource[] = [];
    for (let offset = 0; ; offset += MAX_PAGE_SIZE) {
      const { body } = await this.call(NamedListDocument, {
        method: 'GET',
        path,
        query: { 'page[size]': MAX_PAGE_SIZE, 'page[offset]': offset },
        signal,
      });
      out.push(...body.data);
      const total = body.meta?.count;
      if (body.data.length < MAX_PAGE_SIZE || (total !== undefined && out.length >= total)) return out;
    }
  }

  /**
   * Role and profile id → name, cached briefly, so accounts show names rather than opaque ids. The names sit
   * beside the users asked for: a list that fails (a token without roles.read, a 5xx) leaves the ids in place
   * and reports a warning (side-lookup.ts) instead of failing the listing; such a partial answer is not cached.
   */
  async nameLookup(signal?: AbortSignal): Promise<NameLookup> {
    if (this.names && this.now() - this.names.at < NAME_CACHE_MS) return this.names.value;
    let complete = true;
    const named = async (spec: SideLookup, list: () => Promise<NamedResource[]>) => {
      const got = await sideLookup(spec, list, undefined, signal);
      if (got === undefined) complete = false;
      return got ?? [];
    };
    const [roles, profiles] = await Promise.all([named(ROLE_NAMES, () => this.listRoles(signal)), named(PROFILE_NAMES, () => this.listProfiles(signal))]);
    const value: NameLookup = {
      roles: new Map(roles.map((r) => [r.id, r.attributes.name ?? r.id])),
      profiles: new Map(profiles.map((p) => [p.id, p.attributes.name ?? p.id])),
    };
    if (complete) this.names = { at: this.now(), value };
    return value;
  }

  async toAccounts(users: UserResource[], signal?: AbortSignal): Promise<OutreachAccount[]> {
    const names = await this.nameLookup(signal);
    return users.map((u) => toOutreachAccount(u, names));
  }

  /**
   * The one user a write addressed by id or email acts on. By email it acts only when exactly one account
   * matches case-insensitively; otherwise the candidates come back in the error so the agent can pick an id.
   */
  async resolveUser(ref: { id?: string; email?: string }, signal?: AbortSignal): Promise<UserResource> {
    if (ref.id !== undefined) return this.getUser(ref.id, signal);
    const email = ref.email as string;
    const matches = await this.findByEmail(email, signal);
    if (matches.length === 1) return matches[0];
    if (matches.length === 0) {
      throw new ToolInputError(`No Outreach user has the email ${email} (compared case-insensitively). Check the spelling, or list users with outreach_list_users.`);
    }
    const candidates = await this.toAccounts(matches, signal);
    throw new ToolInputError(
      `${matches.length} Outreach users match ${email} case-insensitively; nothing was changed. Call again with the \`id\` of the one you mean.`,
      { candidates: candidates.map((c) => ({ id: c.id, email: c.email, name: c.name, status: c.status })) },
    );
  }

  /** The user and its canonical account; role and profile names are fetched alongside, not after. */
  async resolveAccount(ref: { id?: string; email?: string }, signal?: AbortSignal): Promise<{ user: UserResource; account: OutreachAccount }> {
    const [user, names] = await Promise.all([this.resolveUser(ref, signal), this.nameLookup(signal)]);
    return { user, account: toOutreachAccount(user, names) };
  }

  /**
   * Resolves a role or profile given by id or by name (case-insensitive) against the live list; an unknown
   * value lists the valid names (Watch out for: ids "are not stable across orgs").
   */
  async resolveNamed(kind: 'role' | 'profile', value: string, signal?: AbortSignal): Promise<string> {
    const list = kind === 'role' ? await this.listRoles(signal) : await this.listProfiles(signal);
    const byId = list.find((r) => r.id === value);
    if (byId) return byId.id;
    const byName = list.filter((r) => (r.attributes.name ?? '').toLowerCase() === value.trim().toLowerCase());
    if (byName.length === 1) return byName[0].id;
    const valid = list.map((r) => `${r.attributes.name ?? '(unnamed)'} (id ${r.id})`).join(', ');
    if (byName.length > 1) throw new ToolInputError(`Several Outreach ${kind}s are named "${value}"; pass the id instead. ${kind}s: ${valid}.`);
    throw new ToolInputError(`\`${kind}\`: Outreach has no ${kind} "${value}". Valid ${kind}s: ${valid}.`);
  }
}

function relationships(rel: { roleId?: string; profileId?: string }): { relationships?: Record<string, unknown> } {
  const out: Record<string, unknown> = {};
  if (rel.roleId !== undefined) out.role = { data: { type: 'role', id: rel.roleId } };
  if (rel.profileId !== undefined) out.profile = { data: { type: 'profile', id: rel.profileId } };
  return Object.keys(out).length === 0 ? {} : { relationships: out };
}

/** Outreach user ids are integers in the path (Watch out for, Get User); refuse anything else early. */
export function userIdPath(id: string): string {
  const s = String(id).trim();
  if (!/^[1-9]\d{0,15}$/.test(s)) throw new ToolInputError(`\`id\`: Outreach user ids are positive integers such as "123"; got ${JSON.stringify(id).slice(0, 40)}.`);
  return s;
}

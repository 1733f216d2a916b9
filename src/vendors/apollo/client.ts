import type * as z from 'zod';
import type { AuthKind } from '../../auth/types.js';
import type { Clock } from '../../clock.js';
import type { HttpCore } from '../../http/core.js';
import { defaultErrorDetail } from '../../http/core.js';
import { ToolInputError, VendorError } from '../../errors.js';
import { parseVendorBody } from '../../http/parse.js';
import { warn } from '../../side-lookup.js';
import type { RateLimitPolicy, VendorRequest } from '../../http/types.js';
import { BULK_BUCKETS, bucketOfUsageKey, learnFromUsageStats, type WindowUsage } from './limits.js';
import { toApolloAccount, type ApolloAccount } from './map.js';
import {
  ApiProfile,
  ApiUsageStats,
  AuthHealth,
  BulkMatchResponse,
  ContactDocument,
  ContactsSearchResponse,
  CreditUsageStats,
  MatchResponse,
  PeopleSearchResponse,
  UsersPage,
  type Contact,
  type EnrichedPerson,
  type Prospect,
  type Teammate,
} from './wire.js';

/**
 * Apollo.io REST API v1 (https://docs.apollo.io/reference). "The notes" are
 * shared/vendor-docs/apollo-api.txt and apollo-admin-console.txt; "the spec" is Apollo's published OpenAPI
 * document (shared/vendor-specs/apollo-openapi.json). Every "Watch out for" of the notes is handled here
 * or in the tools, and named where it is.
 *
 * What this client deliberately cannot do: invite, change the role of, or deactivate a teammate. Apollo has
 * no REST endpoint for any of that (notes: "there is no REST endpoint to invite, update roles for, or
 * deactivate seat users"); it takes SCIM (Organization plan, Okta or Entra ID) or Settings > Users and Teams.
 */

/** Apollo's maximum page size (notes: "Max page size: 100"). */
export const MAX_PER_PAGE = 100;
/** People API Search and Search for Contacts show at most 50,000 records: 100 per page, up to 500 pages. */
export const DISPLAY_LIMIT = 50_000;
export const MAX_PAGES = 500;

/**
 * Credits per enriched person (spec, People Enrichment: "1 credit for demographics or email, plus 8 credits
 * if a mobile phone is returned"; none when nothing is found). Personal emails are "potentially" charged
 * with no number given, so the worst case counts one more credit for them. Phone reveals are asynchronous
 * (webhook) and refused here, so their 8 credits never enter an estimate.
 */
export const CREDIT_COST = { record: 1, personalEmails: 1, mobilePhone: 8 } as const;
/** Bulk People Enrichment takes up to 10 people per request. */
export const MAX_BULK = 10;

/** OAuth scope each endpoint needs (spec, "Endpoint essentials"), for the 403 message of an OAuth token. */
const OAUTH_SCOPES: Record<string, string> = {
  'users/search': 'users_list',
  'users/index': 'users_list',
  'users/api_profile': 'read_user_profile',
  'usage_stats/api_usage_stats': 'api_usage_stats_read',
  'usage_stats/credit_usage_stats': 'credit_usage_stats_read',
  'mixed_people/api_search': 'mixed_people_api_search',
  'contacts/search': 'contacts_search',
  'contacts/create': 'contact_write',
  'people/match': 'people_match',
  'people/bulk_match': 'people_bulk_match',
};

export const MASTER_KEY_HINT =
  'this needs a master API key, created under Settings > Integrations > API with "Set as master key" turned on (or a key whose scope includes this endpoint). Set APOLLO_API_KEY to that key and restart';

export interface TeammatePage {
  users: Teammate[];
  page: number;
  totalEntries: number | undefined;
  totalPages: number | undefined;
  nextPage: number | null;
}

export interface PeopleFilters {
  person_titles?: string[];
  include_similar_titles?: boolean;
  person_seniorities?: string[];
  person_locations?: string[];
  organization_locations?: string[];
  /** Sent as `q_organization_domains_list` (no www., no @). */
  organization_domains?: string[];
  q_keywords?: string;
}

export interface ContactFilters {
  q_keywords?: string;
  contact_stage_ids?: string[];
  sort_by_field?: 'contact_last_activity_date' | 'contact_email_last_opened_at' | 'contact_email_last_clicked_at' | 'contact_created_at' | 'contact_updated_at';
  sort_ascending?: boolean;
}

/** Where a search page sits against the 50,000-record / 500-page display limit. */
export interface SearchPageInfo {
  page: number;
  perPage: number;
  totalEntries: number | null;
  /** Pages Apollo will show for this page size (at most 500). */
  reachablePages: number | null;
  nextPage: number | null;
  /** True when records exist beyond what Apollo will ever show for these filters. */
  ceilingReached: boolean;
  /** What to tell the agent about the ceiling, or null. */
  notice: string | null;
}

export interface PersonQuery {
  id?: string;
  email?: string;
  first_name?: string;
  last_name?: string;
  name?: string;
  domain?: string;
  organization_name?: string;
  linkedin_url?: string;
}

export interface RevealOptions {
  revealPersonalEmails?: boolean;
  /** Refused: Apollo delivers phone numbers to a webhook, asynchronously. */
  revealPhoneNumber?: boolean;
  /** Refused: waterfall enrichment delivers to a webhook, asynchronously. */
  runWaterfallEmail?: boolean;
  runWaterfallPhone?: boolean;
}

export interface ContactInput {
  first_name?: string;
  last_name?: string;
  email?: string;
  title?: string;
  organization_name?: string;
  website_url?: string;
  present_raw_address?: string;
}

export interface ApiUsageEntry {
  /** Apollo's endpoint name, e.g. `api/v1/users/search`. */
  endpoint: string;
  /** The limiter bucket of this client, e.g. `users/search`; null when the key could not be read. */
  bucket: string | null;
  minute: WindowUsage | null;
  hour: WindowUsage | null;
  day: WindowUsage | null;
}

export interface TokenOwner {
  via: 'GET /users/api_profile' | 'GET /auth/health';
  id: string;
  email: string | null;
  name: string | null;
  team_id: string | null;
}

export interface ApolloClientOptions {
  core: HttpCore;
  /** The core for bulk enrichment: same credential, limiter defaults a tenth of the others. */
  bulkCore: HttpCore;
  authKind: AuthKind;
  /** The credential's non-secret identity (limiter key). */
  identity: string;
  clock: Clock;
  /** Window scale (1 against Apollo). */
  scale: number;
  policy: RateLimitPolicy;
  bulkPolicy: RateLimitPolicy;
}

export class ApolloClient {
  readonly core: HttpCore;
  readonly authKind: AuthKind;
  private readonly opts: ApolloClientOptions;
  /**
   * The spec's GET /users/search is tried first; the notes' GET /users is the fallback, used from the first
   * 404 of /users/search on (cheap to keep: same parameters, same `users` array).
   */
  private usersPath: '/users/search' | '/users' = '/users/search';

  constructor(opts: ApolloClientOptions) {
    this.opts = opts;
    this.core = opts.core;
    this.authKind = opts.authKind;
  }

  /** Releases both HTTP cores (Deps.close). */
  async close(): Promise<void> {
    await Promise.all([this.core.close(), this.opts.bulkCore.close()]);
  }

  /** One request in its endpoint's limiter bucket; public for this vendor's own modules (records.ts). */
  async call<T>(schema: z.ZodType<T>, req: VendorRequest & { bucket: string }): Promise<{ body: T; requestId: string | undefined; status: number }> {
    const core = BULK_BUCKETS.has(req.bucket) ? this.opts.bulkCore : this.core;
    let res;
    try {
      res = await core.request<unknown>(req);
    } catch (err) {
      if (err instanceof VendorError && err.code === 'forbidden') throw this.forbidden(err, req.bucket);
      throw err;
    }
    const body = parseVendorBody(core, schema, res, req);
    return { body, requestId: res.requestId, status: res.status };
  }

  /**
   * Watch out for (List Users, usage stats, People API Search): "Requires a master API key. Scoped keys will
   * return HTTP 403". The spec has two 403 bodies: API_INACCESSIBLE (key scope) and "only available to
   * Apollo users on paid plans"; each gets its own instruction.
   */
  private forbidden(err: VendorError, bucket: string): VendorError {
    const endpoint = `api/v1/${bucket}`;
    const text = `${err.message} ${err.detail ?? ''}`;
    let message: string;
    if (/paid plan/i.test(text)) {
      message = `Apollo.io refused ${endpoint} (403): this endpoint is only available on paid Apollo plans. Upgrading the plan is the only fix; retrying will not help.`;
    } else if (this.authKind === 'api_key') {
      message = `Apollo.io refused ${endpoint} (403): ${MASTER_KEY_HINT}. Retrying with the same key will not help.`;
    } else {
      const scope = OAUTH_SCOPES[bucket];
      message =
        `Apollo.io refused ${endpoint} (403): the OAuth token lacks ${scope ? `the scope \`${scope}\`` : 'the scope for this endpoint'}. ` +
        'Add it to the OAuth app and repeat the whole authorization flow (Apollo requires that after any scope change); only Admin or Billing and Seat Manager users can authorize.';
    }
    return new VendorError({ vendor: 'apollo', code: 'forbidden', status: err.status, requestId: err.requestId, detail: err.detail, message });
  }

  // --- teammates ------------------------------------------------------------------------------------

  /** One page of teammates (seat users), at most 100 per page. */
  async listUsersPage(opts: { page: number; perPage?: number; signal?: AbortSignal }): Promise<TeammatePage> {
    const perPage = clampPerPage(opts.perPage ?? MAX_PER_PAGE);
    const query = { page: opts.page, per_page: perPage };
    let body;
    if (this.usersPath === '/users/search') {
      try {
        ({ body } = await this.call(UsersPage, { method: 'GET', path: '/users/search', query, bucket: 'users/search', signal: opts.signal }));
      } catch (err) {
        if (!(err instanceof VendorError && err.code === 'not_found')) throw err;
        // The notes document GET /users; an account (or proxy) without /users/search still works.
        this.usersPath = '/users';
      }
    }
    if (body === undefined) {
      ({ body } = await this.call(UsersPage, { method: 'GET', path: '/users', query, bucket: 'users/index', signal: opts.signal }));
    }
    const totalEntries = body.pagination?.total_entries ?? undefined;
    const totalPages = body.pagination?.total_pages ?? (totalEntries !== undefined ? Math.ceil(totalEntries / perPage) : undefined);
    const more = totalPages !== undefined ? opts.page < totalPages : body.users.length === perPage;
    return { users: body.users, page: opts.page, totalEntries, totalPages, nextPage: more && body.users.length > 0 ? opts.page + 1 : null };
  }

  /** Every teammate, 100 per page: 10,000 teammates cost 100 requests. `onPage` also gets the teammates so far. */
  async listAllUsers(
    onPage?: (fetched: number, totalPages: number | undefined, teammates: number) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<{ users: Teammate[]; total: number | undefined; pages: number }> {
    const users: Teammate[] = [];
    const seen = new Set<string>();
    let page: number | null = 1;
    let pages = 0;
    let total: number | undefined;
    while (page !== null) {
      const p: TeammatePage = await this.listUsersPage({ page, perPage: MAX_PER_PAGE, signal });
      pages += 1;
      total = p.totalEntries ?? total;
      // A teammate added while paging shifts the pages; never list one twice.
      for (const u of p.users) {
        if (seen.has(u.id)) continue;
        seen.add(u.id);
        users.push(u);
      }
      page = p.nextPage;
      await onPage?.(pages, p.totalPages, users.length);
    }
    return { users, total, pages };
  }

  toAccounts(users: Teammate[]): ApolloAccount[] {
    return users.map(toApolloAccount);
  }

  // --- usage ----------------------------------------------------------------------------------------

  /**
   * View API Usage Stats (master key): per-endpoint limits and usage per minute, hour and day. As a side
   * effect every endpoint's limiter learns its limits, so later calls are paced before their first response.
   */
  async apiUsageStats(signal?: AbortSignal): Promise<ApiUsageEntry[]> {
    const { body } = await this.call(ApiUsageStats, {
      method: 'POST',
      path: '/usage_stats/api_usage_stats',
      bucket: 'usage_stats/api_usage_stats',
      idempotent: true,
      signal,
    });
    const entries: ApiUsageEntry[] = Object.entries(body).map(([key, v]) => {
      const bucket = bucketOfUsageKey(key) ?? null;
      return {
        endpoint: bucket ? `api/v1/${bucket}` : key,
        bucket,
        minute: v.minute ?? null,
        hour: v.hour ?? null,
        day: v.day ?? null,
      };
    });
    // Learning the limits is a side effect beside the statistics asked for: if it fails, the statistics stand.
    try {
      learnFromUsageStats(
        entries
          .filter((e): e is ApiUsageEntry & { bucket: string } => e.bucket !== null)
          .map((e) => ({ bucket: e.bucket, minute: e.minute ?? undefined, hour: e.hour ?? undefined, day: e.day ?? undefined })),
        {
          identity: this.opts.identity,
          clock: this.opts.clock,
          scale: this.opts.scale,
          policyFor: (b) => (BULK_BUCKETS.has(b) ? this.opts.bulkPolicy : this.opts.policy),
        },
      );
    } catch {
      warn('Apollo.io rate limits could not be learned from these statistics (a value this server cannot use), so later calls are paced by the defaults until their own responses teach the limits. Nothing to do.');
    }
    return entries.sort((a, b) => a.endpoint.localeCompare(b.endpoint));
  }

  /** View Credit Usage Stats (master key): the team's credits in the current billing cycle. */
  async creditUsageStats(signal?: AbortSignal): Promise<CreditUsageStats> {
    const { body } = await this.call(CreditUsageStats, {
      method: 'POST',
      path: '/usage_stats/credit_usage_stats',
      bucket: 'usage_stats/credit_usage_stats',
      idempotent: true,
      signal,
    });
    return body;
  }

  /** Get Current User Profile: the key's owner; with credits, that user's usage this cycle (any key). */
  async apiProfile(opts: { includeCreditUsage?: boolean; signal?: AbortSignal } = {}): Promise<ApiProfile> {
    const { body } = await this.call(ApiProfile, {
      method: 'GET',
      path: '/users/api_profile',
      query: opts.includeCreditUsage ? { include_credit_usage: true } : undefined,
      bucket: 'users/api_profile',
      signal: opts.signal,
    });
    return body;
  }

  /**
   * Who owns the credential. Watch out for (Get User Profile (OAuth)): GET /auth/health "Requires Bearer
   * token in Authorization header, not X-Api-Key", so a key asks GET /users/api_profile instead.
   */
  async tokenOwner(signal?: AbortSignal): Promise<TokenOwner> {
    if (this.authKind === 'api_key') {
      const p = await this.apiProfile({ signal });
      const name = [p.first_name, p.last_name].filter((s) => s && s.trim()).join(' ') || p.name || null;
      return { via: 'GET /users/api_profile', id: p.id, email: p.email ?? null, name, team_id: p.team_id ?? null };
    }
    const { body } = await this.call(AuthHealth, { method: 'GET', path: '/auth/health', bucket: 'auth/health', signal });
    if (body.is_logged_in === false || !body.user) {
      throw new VendorError({
        vendor: 'apollo',
        code: 'unauthorized',
        message: 'Apollo.io says the OAuth token is not logged in (auth/health: is_logged_in false). Re-authorize the Apollo OAuth app, or check APOLLO_ACCESS_TOKEN.',
      });
    }
    return { via: 'GET /auth/health', id: body.user.id, email: body.user.email ?? null, name: body.user.name ?? null, team_id: body.user.team_id ?? null };
  }

  // --- search ---------------------------------------------------------------------------------------

  /**
   * People API Search: one page of prospects from Apollo's database. Watch out for: "Does not return email
   * addresses or phone numbers. Does not consume credits. … Display limit is 50,000 records (100 per page,
   * up to 500 pages)": a page past the ceiling is refused before any request.
   *
   * Parameters go where the published spec puts them: every filter, `page` and `per_page` are query
   * parameters (arrays as `person_titles[]=…`, repeated), and the POST has no body. The notes' example sends a
   * JSON body instead; the spec wins, and the body form is not kept as well: sending both would be a body the
   * spec does not define, and a fallback could not tell when to apply (an API ignoring the query would answer
   * 200, unfiltered). Keywords in the URL stay out of this server's logs and errors, which name the path and
   * the query's keys, never its values.
   */
  async searchPeople(
    filters: PeopleFilters,
    opts: { page: number; perPage: number; signal?: AbortSignal },
  ): Promise<{ people: Prospect[] } & SearchPageInfo> {
    const perPage = clampPerPage(opts.perPage);
    checkCeiling(opts.page, 'people');
    const { organization_domains, ...rest } = filters;
    const query = specQuery({ ...rest, q_organization_domains_list: organization_domains, page: opts.page, per_page: perPage });
    const res = await this.call(PeopleSearchResponse, {
      method: 'POST',
      path: '/mixed_people/api_search',
      query,
      idempotent: true,
      bucket: 'mixed_people/api_search',
      signal: opts.signal,
    });
    const total = res.body.total_entries ?? res.body.pagination?.total_entries ?? null;
    return { people: res.body.people, ...searchPageInfo('people', total, opts.page, perPage, res.body.people.length) };
  }

  /**
   * Search for Contacts. Watch out for: "Only returns contacts explicitly added to your team's Apollo
   * account, not the broader Apollo database" (and contacts are CRM records, not seats). Same display limit.
   */
  async searchContacts(
    filters: ContactFilters,
    opts: { page: number; perPage: number; signal?: AbortSignal },
  ): Promise<{ contacts: Contact[] } & SearchPageInfo> {
    const perPage = clampPerPage(opts.perPage);
    checkCeiling(opts.page, 'contacts');
    const res = await this.call(ContactsSearchResponse, {
      method: 'POST',
      path: '/contacts/search',
      body: dropEmpty({ ...filters, page: opts.page, per_page: perPage }),
      idempotent: true,
      bucket: 'contacts/search',
      signal: opts.signal,
    });
    const total = res.body.pagination?.total_entries ?? null;
    return { contacts: res.body.contacts, ...searchPageInfo('contacts', total, opts.page, perPage, res.body.contacts.length) };
  }

  /** Contacts whose email equals `email` case-insensitively (keyword search narrows, this decides). */
  async findContactsByEmail(email: string, signal?: AbortSignal): Promise<Contact[]> {
    const wanted = email.trim().toLowerCase();
    const r = await this.searchContacts({ q_keywords: email.trim() }, { page: 1, perPage: MAX_PER_PAGE, signal });
    return r.contacts.filter((c) => (c.email ?? '').trim().toLowerCase() === wanted);
  }

  // --- writes ---------------------------------------------------------------------------------------

  /**
   * Create a Contact. Watch out for: "Creates a contact in your Apollo account database, not a platform
   * user/teammate". `run_dedupe` is never sent: on a match it silently overwrites the existing contact in
   * place (spec); callers check for an existing contact by email first instead.
   */
  async createContact(input: ContactInput, signal?: AbortSignal): Promise<{ contact: Contact; requestId: string | undefined }> {
    const { body, requestId } = await this.call(ContactDocument, {
      method: 'POST',
      path: '/contacts',
      body: dropEmpty({ ...input }),
      bucket: 'contacts/create',
      signal,
    });
    return { contact: body.contact, requestId };
  }

  /**
   * People Enrichment (one person). Watch out for: "Consumes credits. Personal emails and phone numbers are
   * not returned by default; use reveal_personal_emails and reveal_phone_number parameters explicitly."
   * Phone reveals and waterfall enrichment need a webhook and arrive asynchronously: refused before any
   * request. Apollo reports no credit count for a single match, so the cost is estimated from the answer.
   *
   * The spec defines every parameter (the person's details and the reveal flags) as a query parameter and no
   * body; the notes' example sends a JSON body. The spec wins; the body form is not kept as a fallback, since
   * a second attempt of a credit-spending call is exactly what must never happen by accident.
   */
  async enrichPerson(
    query: PersonQuery,
    reveal: RevealOptions = {},
    signal?: AbortSignal,
  ): Promise<{ person: EnrichedPerson | null; estimatedCredits: number; requestId: string | undefined }> {
    assertSynchronousReveal(reveal);
    const details = personDetails(query, 0);
    const { body, requestId } = await this.call(MatchResponse, {
      method: 'POST',
      path: '/people/match',
      query: { ...details, reveal_personal_emails: reveal.revealPersonalEmails === true },
      bucket: 'people/match',
      signal,
    });
    const person = body.person ?? null;
    return { person, estimatedCredits: estimateCredits(person, reveal), requestId };
  }

  /**
   * Bulk People Enrichment (up to 10 people; a tenth of the single-record rate limit). Apollo reports
   * `credits_consumed`, so the cost is measured. Spec: `details` is the (required) JSON body; the reveal
   * flags are query parameters.
   */
  async bulkEnrich(
    queries: PersonQuery[],
    reveal: RevealOptions = {},
    signal?: AbortSignal,
  ): Promise<{ matches: (EnrichedPerson | null)[]; creditsConsumed: number | undefined; estimatedCredits: number; missing: number | undefined; requestId: string | undefined }> {
    assertSynchronousReveal(reveal);
    if (queries.length < 1 || queries.length > MAX_BULK) {
      throw new ToolInputError(`Bulk People Enrichment takes 1 to ${MAX_BULK} people per request; got ${queries.length}.`);
    }
    const details = queries.map((q, i) => personDetails(q, i));
    const { body, requestId } = await this.call(BulkMatchResponse, {
      method: 'POST',
      path: '/people/bulk_match',
      query: { reveal_personal_emails: reveal.revealPersonalEmails === true },
      body: { details },
      bucket: 'people/bulk_match',
      signal,
    });
    const matches = body.matches;
    const estimatedCredits = matches.reduce((s, m) => s + estimateCredits(m, reveal), 0);
    return {
      matches,
      creditsConsumed: body.credits_consumed ?? undefined,
      estimatedCredits,
      missing: body.missing_records ?? undefined,
      requestId,
    };
  }
}

/** Worst case of an enrichment of `people` people, with the arithmetic for messages. */
export function enrichmentWorstCase(people: number, reveal: RevealOptions): { credits: number; perPerson: number; detail: string } {
  const perPerson = CREDIT_COST.record + (reveal.revealPersonalEmails ? CREDIT_COST.personalEmails : 0);
  const what = reveal.revealPersonalEmails ? `${CREDIT_COST.record} for the record + ${CREDIT_COST.personalEmails} for personal emails` : `${CREDIT_COST.record} for the record`;
  return { credits: people * perPerson, perPerson, detail: `${people} ${people === 1 ? 'person' : 'people'} × ${perPerson} credit${perPerson === 1 ? '' : 's'} (${what})` };
}

function estimateCredits(person: EnrichedPerson | null | undefined, reveal: RevealOptions): number {
  if (!person) return 0;
  const personal = reveal.revealPersonalEmails && (person.personal_emails ?? []).length > 0 ? CREDIT_COST.personalEmails : 0;
  return CREDIT_COST.record + personal;
}

/**
 * Watch out for (spec, People Enrichment): "When you use reveal_phone_number, a valid webhook_url is
 * required" and waterfall results "are delivered asynchronously to the configured webhook". A tool call
 * cannot receive those, and the credits would be spent for nothing the caller sees: refused up front.
 */
export function assertSynchronousReveal(reveal: RevealOptions): void {
  if (reveal.revealPhoneNumber) {
    throw new ToolInputError(
      `\`reveal_phone_number\`: phone reveals are refused: Apollo delivers phone numbers asynchronously to a webhook (it requires webhook_url), which this server cannot receive, and each mobile number costs ${CREDIT_COST.mobilePhone} more credits. Nothing was sent. Reveal phones in the Apollo app instead.`,
    );
  }
  if (reveal.runWaterfallEmail || reveal.runWaterfallPhone) {
    throw new ToolInputError(
      '`run_waterfall`: waterfall enrichment is refused: Apollo delivers its results asynchronously to a webhook, which this server cannot receive, and third-party vendors may charge per lookup. Nothing was sent.',
    );
  }
}

/** The identifying fields of one person, or a ToolInputError when nothing could identify them. */
export function personDetails(q: PersonQuery, index: number): Record<string, string> {
  const d = dropEmpty({ ...q }) as Record<string, string>;
  const named = d.name !== undefined || (d.first_name !== undefined && d.last_name !== undefined);
  const org = d.domain !== undefined || d.organization_name !== undefined;
  if (d.id === undefined && d.email === undefined && d.linkedin_url === undefined && !(named && org)) {
    throw new ToolInputError(
      `Person ${index + 1}: give an Apollo person \`id\`, an \`email\`, a \`linkedin_url\`, or a name with a \`domain\` or \`organization_name\`. ` +
        'A name alone usually matches nobody, and Apollo answers 200 without enriching anything.',
    );
  }
  return d;
}

function clampPerPage(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new ToolInputError(`\`per_page\` must be a whole number from 1 to ${MAX_PER_PAGE}; got ${n}.`);
  return Math.min(n, MAX_PER_PAGE);
}

function ceilingNotice(kind: 'people' | 'contacts', total: number | null, perPage: number = MAX_PER_PAGE): string {
  const n = total === null ? 'More records' : `${total.toLocaleString('en-US')} ${kind}`;
  const smallPages =
    perPage < MAX_PER_PAGE
      ? ` With per_page ${perPage} only the first ${(MAX_PAGES * perPage).toLocaleString('en-US')} can be reached; per_page ${MAX_PER_PAGE} reaches ${DISPLAY_LIMIT.toLocaleString('en-US')}.`
      : '';
  return (
    `${n} match, but Apollo shows at most ${DISPLAY_LIMIT.toLocaleString('en-US')} records of a search (${MAX_PAGES} pages of ${MAX_PER_PAGE}).${smallPages} ` +
    (kind === 'people'
      ? 'Narrow the filters (titles, seniorities, locations, organization domains, keywords) to reach the rest.'
      : 'Narrow the filters (keywords, contact stages) to reach the rest.')
  );
}

/** Refuses a page past the 500-page ceiling before any request is made. */
export function checkCeiling(page: number, kind: 'people' | 'contacts'): void {
  if (!Number.isInteger(page) || page < 1) throw new ToolInputError(`\`page\` must be a whole number from 1 to ${MAX_PAGES}; got ${page}.`);
  if (page > MAX_PAGES) throw new ToolInputError(`Page ${page} is past Apollo's ceiling and would come back empty: ${ceilingNotice(kind, null)}`);
}

/** Paging facts of one search page against the display limit (50,000 records, 500 pages). */
export function searchPageInfo(kind: 'people' | 'contacts', total: number | null, page: number, perPage: number, returned: number): SearchPageInfo {
  const maxRecords = Math.min(DISPLAY_LIMIT, MAX_PAGES * perPage);
  const reachablePages = total === null ? null : Math.min(MAX_PAGES, Math.ceil(Math.min(total, maxRecords) / perPage));
  const more = total !== null ? page * perPage < total : returned === perPage;
  const nextPage = more && returned > 0 && page < (reachablePages ?? MAX_PAGES) ? page + 1 : null;
  const ceilingReached = total !== null ? total > maxRecords : more && page >= MAX_PAGES;
  return { page, perPage, totalEntries: total, reachablePages, nextPage, ceilingReached, notice: ceilingReached ? ceilingNotice(kind, total, perPage) : null };
}

/**
 * Query parameters in the spec's form: absent filters dropped (dropEmpty), and an array under `name[]` (the
 * spec's parameter names carry the brackets), sent once per item.
 */
function specQuery(o: Record<string, unknown>): Record<string, string | number | boolean | string[]> {
  const out: Record<string, string | number | boolean | string[]> = {};
  for (const [k, v] of Object.entries(dropEmpty(o))) {
    if (Array.isArray(v)) out[`${k}[]`] = v.map((x) => String(x).trim()).filter((x) => x !== '');
    else out[k] = v as string | number | boolean;
  }
  return out;
}

/** Drops undefined, empty strings and empty arrays, so absent filters are not sent as "match nothing". */
function dropEmpty(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === null) continue;
    if (typeof v === 'string' && v.trim() === '') continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = typeof v === 'string' ? v.trim() : v;
  }
  return out;
}

/**
 * Apollo's error bodies: `{error, error_code}` (403 API_INACCESSIBLE, 422), `{message}` (429, plan 403; the
 * spec's 429 example even nests a JSON document in `message`), and plain text for 401.
 */
export function apolloErrorDetail(status: number, body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim() || undefined;
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    if (typeof b.error === 'string' && typeof b.error_code === 'string') return `${b.error_code}: ${b.error}`;
    if (typeof b.message === 'string') {
      const m = b.message.trim();
      if (m.startsWith('{')) {
        try {
          const inner = JSON.parse(m) as { message?: unknown };
          if (typeof inner.message === 'string') return inner.message;
        } catch {
          // not JSON after all
        }
      }
      return m;
    }
  }
  return defaultErrorDetail(status, body);
}

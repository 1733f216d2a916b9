import type { IncomingMessage, ServerResponse } from 'node:http';
import { systemClock, type Clock } from '../clock.js';
import {
  FaultQueue,
  FixedWindow,
  HttpInputError,
  closeServer,
  newSecret,
  parseMediaType,
  readBody,
  safeEqual,
  sendJson,
  serveLoopback,
  type ServeOptions,
  type FaultOptions,
} from './http-util.js';
import { OAuthServer } from './oauth-server.js';
import { generatePeople, type Person } from './people.js';
import { Rng, deriveSeed } from './prng.js';
import { LinkListeners, type ScimLink, type ScimLinkUser } from './link.js';

/*
 * Embedded Apollo.io simulator: a loopback HTTP server behaving like api.apollo.io/api/v1 for the endpoints
 * the Apollo tools use. Sources: shared/vendor-docs/apollo-api.txt and apollo-admin-console.txt ("the
 * notes"), rate-limits.md, and Apollo's published OpenAPI document ("the spec"). Choices where they differ:
 *
 * - Teammates: the spec's GET /users/search (page, per_page; `pagination.page`/`per_page` as STRINGS, as in
 *   the spec's example) and the notes' GET /users, same data. Teammates carry the spec's `deleted` and
 *   `permission_set_id` and the notes' `role` (profile name). Deactivated teammates stay in the list with
 *   `deleted: true` (Apollo has no delete, only deactivate).
 * - Keys: a master key reaches everything; the scoped key reaches a configurable list of endpoints (the
 *   spec's "API key access: api/v1/<endpoint> or Master API key"). The notes say People API Search needs a
 *   master key; the spec says a key scoped to it is enough: we follow the spec. A key in the query or body
 *   is refused (401) and logged (`keyInQueryOrBody`), since Apollo stopped accepting those in 2024.
 * - GET /auth/health: bearer tokens only (notes), 401 for a key. GET /users/api_profile: keys and tokens.
 * - Rate limits: per team and per endpoint, fixed windows per minute, hour and day aligned to the clock
 *   (scaled by `windowScale`), the nine usage headers on every counted response, 429 WITHOUT Retry-After
 *   (and with the headers, whose zero shows which window ran out). Bulk enrichment gets a tenth.
 * - View API Usage Stats reports the real counts of the current windows, with `left_over` = limit - consumed
 *   (the spec's example shows left_over equal to the limit beside a non-zero consumed; we do not copy that).
 * - People API Search: filters from the JSON body (notes) or the query (`person_titles[]`, spec); per_page
 *   capped at 100; pages past 500 come back empty (the 50,000-record display limit) with total_entries
 *   unchanged; never an email or phone. The default database holds 60,000 prospects, above the ceiling.
 * - People Enrichment: 1 credit per matched person, +1 when personal emails are revealed (the spec says only
 *   "potentially consumes credits"; we charge one so the worst case is exercised), +8 for a mobile phone
 *   (needs webhook_url, else 400). Waterfall parameters need webhook_url too. No match: `{person: null}`,
 *   0 credits. Bulk: up to 10 `details`, `credits_consumed` reported.
 * - Create a Contact: no deduplication unless run_dedupe (which then overwrites the match in place, spec).
 */

export const APOLLO_SIM_DEFAULT_LIMITS = { minute: 200, hour: 600, day: 6000 };
const DEFAULT_USER_COUNT = 300;
const DEFAULT_PROSPECTS = 60_000;
const DEFAULT_CONTACTS = 240;
const DEFAULT_TOKEN_TTL_MS = 30 * 86_400_000;
const DEFAULT_PAGE_SIZE = 25;
const MAX_PAGE_SIZE = 100;
const MAX_PAGES = 500;
const DAY_MS = 86_400_000;
const WINDOW_MS = { minute: 60_000, hour: 3_600_000, day: DAY_MS } as const;
type WindowName = keyof typeof WINDOW_MS;
const WINDOWS: WindowName[] = ['minute', 'hour', 'day'];

export interface WindowLimits {
  minute: number;
  hour: number;
  day: number;
}

export interface ApolloSimOptions extends ServeOptions {
  clock?: Clock;
  /** People drawn from generatePeople (default 300); Apollo seats a subset of them (about three quarters). */
  userCount?: number;
  seed?: number;
  /**
   * Per-endpoint fixed windows (default 200/minute, 600/hour, 6,000/day, as in the spec's usage example; a
   * tenth for bulk enrichment). `windowScale` shortens every window (0.01: the minute lasts 600 ms).
   * `endpoints` overrides single endpoints by Apollo name, e.g. `{ 'api/v1/users/search': { minute: 5 } }`.
   */
  limits?: Partial<WindowLimits> & { windowScale?: number; endpoints?: Record<string, Partial<WindowLimits>> };
  /** Size of the simulated Apollo people database (default 60,000: above the 50,000 display limit). */
  prospectCount?: number;
  /** Contacts saved in the team's account (default 240). */
  contactCount?: number;
  /** Lead credits of the billing cycle (default 10,000) and those already used before the sim started (default 1,250). */
  credits?: { leadLimit?: number; initialConsumed?: number };
  /** Apollo names of the endpoints the scoped key may call. */
  scopedKeyEndpoints?: string[];
  tokenTtlMs?: number;
  clientId?: string;
  clientSecret?: string;
}

export interface SimTeammate {
  id: string;
  team_id: string;
  first_name: string | null;
  last_name: string | null;
  name: string;
  title: string | null;
  email: string;
  created_at: string;
  deleted: boolean;
  permission_set_id: string;
  role: string;
  /** Sandbox bookkeeping, never served: the generated person (null for none). */
  personKey: string | null;
}

export interface SimContact {
  id: string;
  first_name: string | null;
  last_name: string | null;
  name: string;
  title: string | null;
  email: string | null;
  organization_name: string | null;
  owner_id: string;
  creator_id: string;
  person_id: string | null;
  source: string;
  contact_stage_id: string;
  email_status: string | null;
  created_at: string;
  updated_at: string;
}

export interface SimProspect {
  id: string;
  first_name: string;
  last_name: string;
  title: string;
  seniority: string;
  organization: { id: string; name: string; domain: string };
  city: string;
  state: string;
  country: string;
  email: string;
  personal_email: string | null;
  mobile_phone: string | null;
  linkedin_url: string;
  last_refreshed_at: string;
}

export interface ApolloFailNextOptions extends FaultOptions {
  /** Adds Retry-After (Apollo never sends one; for negative tests only). */
  retryAfterSec?: number;
}

export interface ApolloRequestLogEntry {
  method: string;
  /** Path with query string, as sent. */
  path: string;
  /** Apollo's name of the endpoint (`api/v1/users/search`), or null when no route matched. */
  endpoint: string | null;
  /** 0 when the connection was dropped by failNext. */
  status: number;
  credential: 'master' | 'scoped' | 'oauth' | 'none' | 'invalid';
  /** An `api_key` in the query string or body (Apollo refuses those; the client must never send one). */
  keyInQueryOrBody: boolean;
  /** Credits this request spent. */
  credits: number;
}

export interface ApolloSim {
  origin: string;
  /** origin + '/api/v1' */
  baseUrl: string;
  /** origin + '/api/v1/oauth/token' */
  tokenUrl: string;
  masterKey: string;
  scopedKey: string;
  /** A 30-day OAuth access token of the admin, with every scope. */
  oauthAccessToken: string;
  clientId: string;
  clientSecret: string;
  /** A fresh single-use refresh token (rotated on use). */
  issueRefreshToken(): string;
  issueAccessToken(ttlMs?: number, scopes?: string[]): string;
  windowScale: number;
  /** Effective limits of an endpoint (Apollo name). */
  limitsOf(endpoint: string): WindowLimits;
  /** Requests counted in the current windows of an endpoint. */
  usage(endpoint: string): WindowLimits;
  /** The next `count` requests (matching opts.path) get `status` (no usage headers, not counted) or a dropped connection. */
  failNext(count: number, status: number, opts?: ApolloFailNextOptions): void;
  /** Every request answered so far, in order; tests may clear it with `requests.length = 0`. */
  readonly requests: ApolloRequestLogEntry[];
  users(): readonly SimTeammate[];
  /**
   * Deactivates (`deleted: true`) or reactivates a teammate as the Apollo UI would (Settings > Users: only
   * deactivation, no delete). Apollo's REST API has no such write and teammates carry no updated time.
   */
  setUserDeleted(id: string, deleted: boolean): void;
  /**
   * The teammates as the store of a linked SCIM simulator (`startScimSimulator({ vendor: 'apollo', link })`):
   * one user store behind both APIs. SCIM `active` is `!deleted`; a SCIM-created user becomes a teammate
   * (role User). See ScimLink in scim.ts.
   */
  linkUsers(): ScimLink;
  contacts(): readonly SimContact[];
  /** The prospect at an index of the database (deterministic; emails included, unlike search results). */
  prospect(index: number): SimProspect;
  prospectCount: number;
  /** Credits spent through the API since start. */
  creditsSpent(): number;
  /** The team's lead-credit counter (initial consumption + API spend). */
  creditsConsumed(): number;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// Seed

export const APOLLO_PROFILES = ['Admin', 'User', 'Billing and Seat Manager', 'Call Assistant'] as const;
type ProfileName = (typeof APOLLO_PROFILES)[number];

const SEAT_RATE: Record<string, number> = {
  Sales: 0.9,
  'Sales Development': 0.95,
  Marketing: 0.6,
  'Revenue Operations': 0.85,
  Executive: 0.5,
  'Customer Success': 0.35,
  'Solutions Engineering': 0.25,
  Finance: 0.2,
};

function hexId(rng: Rng): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += rng.int(0, 0xffff).toString(16).padStart(4, '0');
  return s;
}

export interface ApolloTeam {
  team_id: string;
  permissionSets: Record<ProfileName, string>;
  /** Sorted by created_at. */
  teammates: SimTeammate[];
}

/**
 * The team for a seed: deterministic for (userCount, seed). People come from generatePeople(userCount,
 * seed); about three quarters hold a seat (most of sales and SDRs, fewer elsewhere). Composition: exactly
 * one Admin (an employed RevOps person when there is one), up to two Billing and Seat Managers (Finance),
 * up to two Call Assistants (Customer Success), everyone else User. About 60% of the terminated people
 * with a seat are deactivated (`deleted: true`); the rest still hold an active seat, which is what an
 * access review should find. A few teammates have blank names (`name: ""`), as in the spec's example.
 */
export function buildApolloTeam(userCount = DEFAULT_USER_COUNT, seed = 42): ApolloTeam {
  if (!Number.isInteger(userCount) || userCount < 0) throw new RangeError(`userCount must be a non-negative integer, got ${userCount}`);
  const rng = new Rng(deriveSeed(seed, 'apollo'));
  const team_id = hexId(rng);
  const permissionSets = Object.fromEntries(APOLLO_PROFILES.map((p) => [p, hexId(rng)])) as Record<ProfileName, string>;
  const people = generatePeople(userCount, seed);

  interface Draft {
    person: Person;
    createdMs: number;
    deleted: boolean;
    role: ProfileName;
    blankName: boolean;
  }
  const seated: Draft[] = [];
  for (const p of people) {
    const seat = rng.chance(SEAT_RATE[p.department] ?? 0.1);
    const deactivate = rng.chance(0.6);
    const blank = rng.chance(0.03);
    const offsetDays = rng.int(0, 20);
    const offsetMin = rng.int(13 * 60, 22 * 60);
    if (!seat) continue;
    const createdMs = Date.parse(`${p.startDate}T00:00:00Z`) + offsetDays * DAY_MS + offsetMin * 60_000 + rng.int(0, 59_999);
    seated.push({ person: p, createdMs, deleted: p.employment === 'terminated' && deactivate, role: 'User', blankName: blank });
  }
  if (seated.length === 0 && people.length > 0) {
    const p = people.find((x) => x.employment === 'active') ?? people[0]!;
    seated.push({ person: p, createdMs: Date.parse(`${p.startDate}T12:00:00Z`), deleted: false, role: 'User', blankName: false });
  }
  const employed = seated.filter((d) => d.person.employment === 'active' && !d.deleted);
  const admin =
    employed.find((d) => d.person.department === 'Revenue Operations') ??
    employed.find((d) => d.person.department === 'Executive') ??
    employed[0] ??
    seated[0];
  if (admin) {
    admin.role = 'Admin';
    admin.deleted = false;
    admin.blankName = false;
  }
  for (const d of employed.filter((x) => x !== admin && x.person.department === 'Finance').slice(0, 2)) d.role = 'Billing and Seat Manager';
  for (const d of employed.filter((x) => x !== admin && x.person.department === 'Customer Success').slice(0, 2)) d.role = 'Call Assistant';

  seated.sort((a, b) => a.createdMs - b.createdMs || (a.person.email < b.person.email ? -1 : 1));
  const teammates = seated.map((d): SimTeammate => {
    const p = d.person;
    return {
      id: hexId(rng),
      team_id,
      first_name: d.blankName ? null : p.firstName,
      last_name: d.blankName ? null : p.lastName,
      name: d.blankName ? '' : `${p.firstName} ${p.lastName}`,
      title: d.blankName ? null : p.title,
      email: p.email,
      created_at: new Date(d.createdMs).toISOString(),
      deleted: d.deleted,
      permission_set_id: permissionSets[d.role],
      role: d.role,
      personKey: p.key,
    };
  });
  return { team_id, permissionSets, teammates };
}

// The prospect database: computed per index, so a test can ask for one prospect without building all.

const P_FIRST = ['Ana', 'Ben', 'Chloe', 'Dev', 'Erin', 'Felix', 'Gia', 'Hugo', 'Iris', 'Jon', 'Kara', 'Leo', 'Mina', 'Nico', 'Omar', 'Pia', 'Quinn', 'Rosa', 'Sam', 'Tara', 'Umar', 'Vera', 'Wes', 'Xena', 'Yara', 'Zane'];
const P_LAST = ['Abbott', 'Bauer', 'Castillo', 'Dalton', 'Eriksen', 'Farrow', 'Gallo', 'Hartley', 'Ibarra', 'Jansen', 'Kowal', 'Lindqvist', 'Moreau', 'Nakamura', 'Oduya', 'Petrov', 'Quist', 'Romero', 'Sorensen', 'Tran', 'Ueda', 'Varga', 'Whitaker', 'Xu', 'Yilmaz', 'Zeller'];
const P_TITLES: readonly (readonly [string, string])[] = [
  ['Chief Executive Officer', 'c_suite'], ['Chief Revenue Officer', 'c_suite'], ['VP of Sales', 'vp'], ['VP of Marketing', 'vp'],
  ['Director of Sales', 'director'], ['Director of Marketing', 'director'], ['Head of Revenue Operations', 'head'],
  ['Sales Manager', 'manager'], ['Marketing Manager', 'manager'], ['Engineering Manager', 'manager'],
  ['Account Executive', 'senior'], ['Senior Software Engineer', 'senior'], ['Sales Development Representative', 'entry'],
  ['Marketing Coordinator', 'entry'], ['Software Engineer', 'entry'], ['Customer Success Manager', 'senior'],
];
const P_PLACES: readonly (readonly [string, string, string])[] = [
  ['San Francisco', 'California', 'United States'], ['New York', 'New York', 'United States'], ['Austin', 'Texas', 'United States'],
  ['Chicago', 'Illinois', 'United States'], ['Boston', 'Massachusetts', 'United States'], ['London', 'England', 'United Kingdom'],
  ['Berlin', 'Berlin', 'Germany'], ['Toronto', 'Ontario', 'Canada'], ['Sydney', 'New South Wales', 'Australia'], ['Dublin', 'Leinster', 'Ireland'],
];
const ORG_A = ['North', 'Blue', 'Bright', 'Iron', 'Silver', 'Quantum', 'Cedar', 'Summit', 'Harbor', 'Nova', 'Atlas', 'Pioneer', 'Lumen', 'Vertex', 'Granite', 'Maple', 'Orbit', 'Crimson', 'Delta', 'Echo'];
const ORG_B = ['Labs', 'Systems', 'Analytics', 'Logistics', 'Health', 'Robotics', 'Capital', 'Software', 'Networks', 'Foods'];

/** The prospect word lists are ASCII: a lower-case slug without the Unicode normalisation of emailLocalPart. */
function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

const AS_OF_MS = Date.parse('2026-10-30T00:00:00Z');

/** Per-seed constants of the prospect database, computed once. */
function prospectPrefixes(seed: number): { id: string; org: string } {
  return { id: hex8(deriveSeed(seed, 'apollo-prospect-id')), org: hex8(deriveSeed(seed, 'apollo-org')) };
}

function makeProspect(seed: number, index: number, prefix: { id: string; org: string }): SimProspect {
  const rng = new Rng(deriveSeed(seed, `apollo-prospect-${index}`));
  const first = rng.pick(P_FIRST);
  const last = rng.pick(P_LAST);
  const [title, seniority] = rng.pick(P_TITLES);
  const [city, state, country] = rng.pick(P_PLACES);
  const orgIndex = rng.int(0, ORG_A.length * ORG_B.length - 1);
  const orgName = `${ORG_A[orgIndex % ORG_A.length]} ${ORG_B[Math.floor(orgIndex / ORG_A.length)]}`;
  const domain = `${slug(orgName)}.example`;
  const personal = rng.chance(0.4);
  const mobile = rng.chance(0.5);
  const refreshedDaysAgo = rng.int(1, 120);
  const middle = hex8(rng.int(0, 0x7fffffff));
  const local = `${slug(first)}.${slug(last)}${index}`;
  return {
    // The index is the tail of the id, so enrichment by id needs no lookup table.
    id: `${prefix.id}${middle}${hex8(index)}`,
    first_name: first,
    last_name: last,
    title,
    seniority,
    organization: { id: `${prefix.org}${hex8(orgIndex)}${hex8(orgIndex * 7919)}`, name: orgName, domain },
    city,
    state,
    country,
    email: `${local}@${domain}`,
    personal_email: personal ? `${local}@mail.example` : null,
    mobile_phone: mobile ? `+1 555 01${String(index % 100).padStart(2, '0')}` : null,
    linkedin_url: `http://www.linkedin.com/in/${slug(first)}-${slug(last)}-${index}`,
    last_refreshed_at: new Date(AS_OF_MS - refreshedDaysAgo * DAY_MS).toISOString(),
  };
}

function obfuscate(last: string): string {
  if (last.length <= 3) return `${last.charAt(0)}***`;
  return `${last.slice(0, 2)}***${last.charAt(last.length - 1)}`;
}

// ---------------------------------------------------------------------------------------------------------
// Endpoints

interface Endpoint {
  /** Apollo's name, as in the usage statistics and key scopes. */
  name: string;
  method: 'GET' | 'POST';
  path: string;
  /** OAuth scope (spec). */
  scope: string;
  /** auth/health: bearer tokens only. */
  bearerOnly?: boolean;
  bulk?: boolean;
}

const ENDPOINTS: Endpoint[] = [
  { name: 'api/v1/users/search', method: 'GET', path: '/users/search', scope: 'users_list' },
  { name: 'api/v1/users/index', method: 'GET', path: '/users', scope: 'users_list' },
  { name: 'api/v1/users/api_profile', method: 'GET', path: '/users/api_profile', scope: 'read_user_profile' },
  { name: 'api/v1/auth/health', method: 'GET', path: '/auth/health', scope: 'read_user_profile', bearerOnly: true },
  { name: 'api/v1/usage_stats/api_usage_stats', method: 'POST', path: '/usage_stats/api_usage_stats', scope: 'api_usage_stats_read' },
  { name: 'api/v1/usage_stats/credit_usage_stats', method: 'POST', path: '/usage_stats/credit_usage_stats', scope: 'credit_usage_stats_read' },
  { name: 'api/v1/mixed_people/api_search', method: 'POST', path: '/mixed_people/api_search', scope: 'mixed_people_api_search' },
  { name: 'api/v1/contacts/search', method: 'POST', path: '/contacts/search', scope: 'contacts_search' },
  { name: 'api/v1/contacts/create', method: 'POST', path: '/contacts', scope: 'contact_write' },
  { name: 'api/v1/people/match', method: 'POST', path: '/people/match', scope: 'people_match' },
  { name: 'api/v1/people/bulk_match', method: 'POST', path: '/people/bulk_match', scope: 'people_bulk_match', bulk: true },
];

/** What the default scoped key may call: everything but teammates and usage statistics. */
export const DEFAULT_SCOPED_KEY_ENDPOINTS = [
  'api/v1/users/api_profile',
  'api/v1/mixed_people/api_search',
  'api/v1/contacts/search',
  'api/v1/contacts/create',
  'api/v1/people/match',
  'api/v1/people/bulk_match',
];
const ALL_SCOPES = [...new Set(ENDPOINTS.map((e) => e.scope)), 'app_scopes'];

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string | number> = {},
    readonly contentType = 'application/json',
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
  }
}

const INVALID_KEY_TEXT = 'Invalid API key. See https://docs.apollo.io/reference/authentication for how to authenticate.';

function truthy(v: unknown): boolean {
  return v === true || v === 'true' || v === '1';
}

interface Credential {
  kind: 'master' | 'scoped' | 'oauth';
  owner: SimTeammate;
  scopes?: Set<string>;
}

export async function startApolloSimulator(opts: ApolloSimOptions = {}): Promise<ApolloSim> {
  const clock = opts.clock ?? systemClock;
  const seed = opts.seed ?? 42;
  const scale = opts.limits?.windowScale ?? 1;
  if (!(scale > 0)) throw new RangeError('limits.windowScale must be positive');
  const baseLimits: WindowLimits = {
    minute: opts.limits?.minute ?? APOLLO_SIM_DEFAULT_LIMITS.minute,
    hour: opts.limits?.hour ?? APOLLO_SIM_DEFAULT_LIMITS.hour,
    day: opts.limits?.day ?? APOLLO_SIM_DEFAULT_LIMITS.day,
  };
  const team = buildApolloTeam(opts.userCount ?? DEFAULT_USER_COUNT, seed);
  const teammates = team.teammates;
  const admin = teammates.find((t) => t.role === 'Admin');
  if (!admin) throw new RangeError('userCount 0 leaves the team without an admin; use at least 1');
  const scopedOwner = teammates.find((t) => t.role === 'User' && !t.deleted) ?? admin;
  const prospectCount = opts.prospectCount ?? DEFAULT_PROSPECTS;
  const clientId = opts.clientId ?? 'sandbox-apollo-client';
  const clientSecret = opts.clientSecret ?? 'sandbox-apollo-secret';
  const tokenTtlMs = opts.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS;
  const scopedAllowed = new Set(opts.scopedKeyEndpoints ?? DEFAULT_SCOPED_KEY_ENDPOINTS);

  const masterKey = newSecret('sim_master_', 18);
  const scopedKey = newSecret('sim_scoped_', 18);
  // The sandbox's partner app refreshes tokens it was given; the authorization itself (app.apollo.io's
  // /#/oauth/authorize, a page of the web app) is not simulated. Every token belongs to the admin, who may
  // authorise OAuth apps (notes).
  const oauth = new OAuthServer({
    clock,
    clientId,
    clientSecret,
    tokenTtlMs,
    grants: ['refresh_token'],
    allScopes: ALL_SCOPES,
    prefix: { access: 'sim_oat_', refresh: 'sim_ort_', code: 'sim_oac_' },
    tokenType: 'Bearer',
    realm: 'apollo',
  });
  const oauthAccessToken = oauth.mintAccess(ALL_SCOPES);

  // --- data ------------------------------------------------------------------------------------------

  const prefixes = prospectPrefixes(seed);
  const prospectCache = new Map<number, SimProspect>();
  const prospectAt = (i: number): SimProspect => {
    let p = prospectCache.get(i);
    if (!p) {
      p = makeProspect(seed, i, prefixes);
      if (prospectCache.size < 200_000) prospectCache.set(i, p);
    }
    return p;
  };
  let allProspects: SimProspect[] | undefined;
  const prospects = (): SimProspect[] => {
    allProspects ??= Array.from({ length: prospectCount }, (_, i) => prospectAt(i));
    return allProspects;
  };
  let byEmail: Map<string, SimProspect> | undefined;
  const prospectIdPrefix = prefixes.id;
  const prospectById = (id: string): SimProspect | undefined => {
    if (id.length !== 24 || !id.startsWith(prospectIdPrefix)) return undefined;
    const i = parseInt(id.slice(16), 16);
    if (!Number.isInteger(i) || i < 0 || i >= prospectCount) return undefined;
    const p = prospectAt(i);
    return p.id === id ? p : undefined;
  };

  const stageIds = { new: hexId(new Rng(deriveSeed(seed, 'apollo-stage-new'))), working: hexId(new Rng(deriveSeed(seed, 'apollo-stage-working'))) };
  const contactRng = new Rng(deriveSeed(seed, 'apollo-contacts'));
  const activeOwners = teammates.filter((t) => !t.deleted && t.role !== 'Billing and Seat Manager');
  const contacts: SimContact[] = [];
  for (let k = 0; k < (opts.contactCount ?? DEFAULT_CONTACTS); k++) {
    const p = prospectAt(contactRng.int(0, Math.max(0, prospectCount - 1)));
    const owner = contactRng.pick(activeOwners.length ? activeOwners : teammates);
    const created = Date.parse('2025-01-06T00:00:00Z') + contactRng.int(0, 600) * DAY_MS + contactRng.int(0, DAY_MS - 1);
    const updated = Math.min(created + contactRng.int(0, 90) * DAY_MS, Date.parse('2026-10-29T00:00:00Z'));
    contacts.push({
      id: hexId(contactRng),
      first_name: p.first_name,
      last_name: p.last_name,
      name: `${p.first_name} ${p.last_name}`,
      title: p.title,
      email: p.email,
      organization_name: p.organization.name,
      owner_id: owner.id,
      creator_id: owner.id,
      person_id: p.id,
      source: contactRng.chance(0.5) ? 'crm' : 'csv_import',
      contact_stage_id: contactRng.chance(0.7) ? stageIds.new : stageIds.working,
      email_status: 'verified',
      created_at: new Date(created).toISOString(),
      updated_at: new Date(Math.max(created, updated)).toISOString(),
    });
  }

  const leadLimit = opts.credits?.leadLimit ?? 10_000;
  const credits = { initial: opts.credits?.initialConsumed ?? 1_250, api: 0, directDial: 0, byOwner: new Map<string, number>() };

  // --- rate limits -----------------------------------------------------------------------------------

  const limitsOf = (name: string): WindowLimits => {
    const ep = ENDPOINTS.find((e) => e.name === name);
    const f = ep?.bulk ? 0.1 : 1;
    const base: WindowLimits = {
      minute: Math.max(1, Math.floor(baseLimits.minute * f)),
      hour: Math.max(1, Math.floor(baseLimits.hour * f)),
      day: Math.max(1, Math.floor(baseLimits.day * f)),
    };
    return { ...base, ...(opts.limits?.endpoints?.[name] ?? {}) };
  };
  const counters = new Map<string, Record<WindowName, FixedWindow>>();
  /** An endpoint's windows, moved to the ones the clock is in now (their limits come from limitsOf). */
  const windowsOf = (name: string) => {
    let c = counters.get(name);
    if (!c) {
      const l = limitsOf(name);
      const w = (n: WindowName) => new FixedWindow(clock, l[n], WINDOW_MS[n] * scale);
      c = { minute: w('minute'), hour: w('hour'), day: w('day') };
      counters.set(name, c);
    }
    for (const w of WINDOWS) c[w].roll();
    return c;
  };
  const usageOf = (name: string): WindowLimits => {
    const c = windowsOf(name);
    return { minute: c.minute.used, hour: c.hour.used, day: c.day.used };
  };
  const usageHeaders = (name: string): Record<string, number> => {
    const l = limitsOf(name);
    const u = usageOf(name);
    return {
      'x-rate-limit-minute': l.minute,
      'x-minute-usage': u.minute,
      'x-minute-requests-left': Math.max(0, l.minute - u.minute),
      'x-rate-limit-hourly': l.hour,
      'x-hourly-usage': u.hour,
      'x-hourly-requests-left': Math.max(0, l.hour - u.hour),
      'x-rate-limit-daily': l.day,
      'x-daily-usage': u.day,
      'x-daily-requests-left': Math.max(0, l.day - u.day),
    };
  };
  /** Counts one request, or throws the 429 (no Retry-After; the headers show which window is empty). */
  const count = (name: string) => {
    const l = limitsOf(name);
    const c = windowsOf(name);
    for (const w of WINDOWS) {
      if (c[w].used >= l[w]) {
        const per = w === 'minute' ? 'minute' : w === 'hour' ? 'hour' : 'day';
        throw new ApiError(
          429,
          { message: `The maximum number of api calls allowed for ${name} is ${l[w]} times per ${per}. Please upgrade your plan from https://app.apollo.io/#/settings/plans/upgrade.` },
          usageHeaders(name),
        );
      }
    }
    for (const w of WINDOWS) c[w].used++;
  };

  // --- plumbing ----------------------------------------------------------------------------------------

  const faults = new FaultQueue<ApolloFailNextOptions>();
  const requests: ApolloRequestLogEntry[] = [];

  interface Ctx {
    method: string;
    url: URL;
    body: Record<string, unknown>;
    endpoint: Endpoint | undefined;
    credential: ApolloRequestLogEntry['credential'];
    keyInQueryOrBody: boolean;
    credits: number;
    cred?: Credential;
  }

  const reply = (req: IncomingMessage, res: ServerResponse, ctx: Ctx | undefined, status: number, body: unknown, headers: Record<string, string | number> = {}, contentType = 'application/json') => {
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      endpoint: ctx?.endpoint?.name ?? null,
      status,
      credential: ctx?.credential ?? 'none',
      keyInQueryOrBody: ctx?.keyInQueryOrBody ?? false,
      credits: ctx?.credits ?? 0,
    });
    if (contentType === 'text/plain') {
      const text = String(body);
      res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    sendJson(res, status, body, headers, contentType);
  };

  /** A parameter from the JSON body (Apollo's documented form) or the query (`name` or `name[]`). */
  const param = (ctx: Ctx, name: string): unknown => {
    if (ctx.body[name] !== undefined) return ctx.body[name];
    const q = ctx.url.searchParams;
    if (q.has(`${name}[]`)) return q.getAll(`${name}[]`);
    return q.get(name) ?? undefined;
  };
  const listParam = (ctx: Ctx, name: string): string[] => {
    const v = param(ctx, name);
    if (v === undefined || v === null || v === '') return [];
    const arr = Array.isArray(v) ? v : [v];
    return arr.map((x) => String(x).trim().toLowerCase()).filter(Boolean);
  };
  const strParam = (ctx: Ctx, name: string): string | undefined => {
    const v = param(ctx, name);
    return v === undefined || v === null || String(v).trim() === '' ? undefined : String(v).trim();
  };
  const intParam = (ctx: Ctx, name: string, dflt: number): number => {
    const v = param(ctx, name);
    if (v === undefined || v === null || v === '') return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new ApiError(422, { error: `Invalid parameters: ${name} must be a positive integer` });
    return n;
  };

  const authenticate = (req: IncomingMessage, ctx: Ctx): Credential => {
    const key = req.headers['x-api-key'];
    const bearer = oauth.verifyBearer(req.headers.authorization);
    if (ctx.keyInQueryOrBody) {
      // Apollo stopped accepting keys outside the header (September 2024).
      ctx.credential = 'invalid';
      throw new ApiError(401, `${INVALID_KEY_TEXT} API keys are accepted only in the X-Api-Key header.`, {}, 'text/plain');
    }
    if (typeof key === 'string' && key !== '') {
      if (safeEqual(key, masterKey)) return { kind: 'master', owner: admin };
      if (safeEqual(key, scopedKey)) return { kind: 'scoped', owner: scopedOwner };
      ctx.credential = 'invalid';
      throw new ApiError(401, INVALID_KEY_TEXT, {}, 'text/plain');
    }
    if (bearer.failure !== 'missing') {
      if (bearer.failure) {
        ctx.credential = 'invalid';
        throw new ApiError(
          401,
          { error: 'invalid_token', error_description: bearer.failure === 'expired' ? 'The access token expired' : 'The access token is invalid' },
          { 'WWW-Authenticate': 'Bearer realm="apollo", error="invalid_token"' },
        );
      }
      return { kind: 'oauth', owner: admin, scopes: bearer.grant.scopes };
    }
    ctx.credential = 'none';
    throw new ApiError(401, INVALID_KEY_TEXT, {}, 'text/plain');
  };

  const authorize = (ctx: Ctx, cred: Credential, ep: Endpoint) => {
    if (ep.bearerOnly && cred.kind !== 'oauth') {
      throw new ApiError(401, `${ep.path.slice(1)} accepts only an OAuth access token (Authorization: Bearer), not X-Api-Key.`, {}, 'text/plain');
    }
    if (cred.kind === 'scoped' && !scopedAllowed.has(ep.name)) {
      throw new ApiError(403, {
        error: `This API key is not authorized to access ${ep.name}. Request an API key from your administrator that includes this endpoint in its configured scope.`,
        error_code: 'API_INACCESSIBLE',
      });
    }
    if (cred.kind === 'oauth' && !cred.scopes?.has(ep.scope)) {
      throw new ApiError(403, { error: `This access token is not authorized to access ${ep.name} (scope ${ep.scope} missing).`, error_code: 'API_INACCESSIBLE' });
    }
  };

  // --- serializers ----------------------------------------------------------------------------------

  const serializeTeammate = (t: SimTeammate) => ({
    id: t.id,
    team_id: t.team_id,
    first_name: t.first_name,
    last_name: t.last_name,
    title: t.title,
    email: t.email,
    created_at: t.created_at,
    credit_limit: null,
    direct_dial_credit_limit: null,
    salesforce_account: null,
    deleted: t.deleted,
    name: t.name,
    password_needs_reset: false,
    current_email_verified: true,
    permission_set_id: t.permission_set_id,
    role: t.role,
    email_oauth_signin_only: false,
    subteam_ids: [],
  });
  const serializeProspect = (p: SimProspect) => ({
    id: p.id,
    first_name: p.first_name,
    last_name_obfuscated: obfuscate(p.last_name),
    title: p.title,
    last_refreshed_at: p.last_refreshed_at,
    has_email: true,
    has_city: true,
    has_state: true,
    has_country: true,
    has_direct_phone: p.mobile_phone ? 'Yes' : 'Maybe: please request direct dial via people/bulk_match',
    organization: { name: p.organization.name, has_industry: true, has_phone: true, has_city: true, has_state: true, has_country: true },
  });
  const serializeEnriched = (p: SimProspect, personal: boolean) => ({
    id: p.id,
    first_name: p.first_name,
    last_name: p.last_name,
    name: `${p.first_name} ${p.last_name}`,
    linkedin_url: p.linkedin_url,
    title: p.title,
    email_status: 'verified',
    email: p.email,
    personal_emails: personal && p.personal_email ? [p.personal_email] : [],
    organization_id: p.organization.id,
    organization: { id: p.organization.id, name: p.organization.name, primary_domain: p.organization.domain },
    city: p.city,
    state: p.state,
    country: p.country,
    seniority: p.seniority,
    revealed_for_current_team: true,
  });
  const serializeContact = (c: SimContact) => ({ contact_roles: [], ...c, emailer_campaign_ids: [], label_ids: [], phone_numbers: [], typed_custom_fields: {} });

  // --- handlers -------------------------------------------------------------------------------------

  const pageOf = <T>(items: T[], page: number, perPage: number) => items.slice((page - 1) * perPage, page * perPage);

  const listTeammates = (ctx: Ctx) => {
    const page = intParam(ctx, 'page', 1);
    const perPage = Math.min(intParam(ctx, 'per_page', DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE);
    return {
      // The spec's example sends page and per_page as strings.
      pagination: { page: String(page), per_page: String(perPage), total_entries: teammates.length, total_pages: Math.ceil(teammates.length / perPage) },
      users: pageOf(teammates, page, perPage).map(serializeTeammate),
    };
  };

  let searchCache: { key: string; result: SimProspect[] } | undefined;
  const searchPeople = (ctx: Ctx) => {
    const page = intParam(ctx, 'page', 1);
    const perPage = Math.min(intParam(ctx, 'per_page', DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE);
    const titles = listParam(ctx, 'person_titles');
    const seniorities = listParam(ctx, 'person_seniorities');
    const locations = listParam(ctx, 'person_locations');
    const orgLocations = listParam(ctx, 'organization_locations');
    const domains = listParam(ctx, 'q_organization_domains_list').map((d) => d.replace(/^www\./, ''));
    const keywords = strParam(ctx, 'q_keywords')?.toLowerCase();
    const key = JSON.stringify([titles, seniorities, locations, orgLocations, domains, keywords]);
    if (searchCache?.key !== key) {
      const result = prospects().filter((p) => {
        if (titles.length && !titles.some((t) => p.title.toLowerCase().includes(t))) return false;
        if (seniorities.length && !seniorities.includes(p.seniority)) return false;
        const place = `${p.city} ${p.state} ${p.country}`.toLowerCase();
        if (locations.length && !locations.some((l) => place.includes(l))) return false;
        if (orgLocations.length && !orgLocations.some((l) => place.includes(l))) return false;
        if (domains.length && !domains.includes(p.organization.domain)) return false;
        if (keywords && !`${p.first_name} ${p.last_name} ${p.title} ${p.organization.name}`.toLowerCase().includes(keywords)) return false;
        return true;
      });
      searchCache = { key, result };
    }
    const all = searchCache.result;
    // Display limit: nothing past page 500 (50,000 records at 100 per page), whatever the total.
    const people = page > MAX_PAGES ? [] : pageOf(all, page, perPage);
    return { total_entries: all.length, people: people.map(serializeProspect) };
  };

  const searchContacts = (ctx: Ctx) => {
    const page = intParam(ctx, 'page', 1);
    const perPage = Math.min(intParam(ctx, 'per_page', DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE);
    const keywords = strParam(ctx, 'q_keywords')?.toLowerCase();
    const stages = listParam(ctx, 'contact_stage_ids');
    let list = contacts.filter((c) => {
      if (keywords && !`${c.name} ${c.title ?? ''} ${c.organization_name ?? ''} ${c.email ?? ''}`.toLowerCase().includes(keywords)) return false;
      if (stages.length && !stages.includes(c.contact_stage_id.toLowerCase())) return false;
      return true;
    });
    const sortBy = strParam(ctx, 'sort_by_field');
    if (sortBy === 'contact_created_at' || sortBy === 'contact_updated_at') {
      const field = sortBy === 'contact_created_at' ? 'created_at' : 'updated_at';
      const asc = truthy(param(ctx, 'sort_ascending'));
      list = [...list].sort((a, b) => (asc ? 1 : -1) * (a[field] < b[field] ? -1 : a[field] > b[field] ? 1 : 0));
    }
    const shown = page > MAX_PAGES ? [] : pageOf(list, page, perPage);
    return {
      contacts: shown.map(serializeContact),
      breadcrumbs: [],
      partial_results_only: false,
      pagination: { page, per_page: perPage, total_entries: list.length, total_pages: Math.ceil(list.length / perPage) },
    };
  };

  const createContact = (ctx: Ctx, cred: Credential) => {
    const first = strParam(ctx, 'first_name');
    const last = strParam(ctx, 'last_name');
    const email = strParam(ctx, 'email');
    if (!first && !last && !email) throw new ApiError(422, { error: 'Parameters misconfigured. A contact needs a name or an email.' });
    if (email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw new ApiError(422, { error: `Parameters misconfigured. ${email} is not a valid email` });
    const at = new Date(clock.now()).toISOString();
    const fields = {
      first_name: first ?? null,
      last_name: last ?? null,
      title: strParam(ctx, 'title') ?? null,
      organization_name: strParam(ctx, 'organization_name') ?? null,
    };
    if (truthy(param(ctx, 'run_dedupe')) && email) {
      // Spec: on a match, the existing contact is overwritten in place with the values sent.
      const existing = contacts.find((c) => (c.email ?? '').toLowerCase() === email.toLowerCase());
      if (existing) {
        for (const [k, v] of Object.entries(fields)) if (v !== null) (existing as unknown as Record<string, unknown>)[k] = v;
        existing.name = [existing.first_name, existing.last_name].filter(Boolean).join(' ');
        existing.updated_at = at;
        return { contact: serializeContact(existing), labels: [], dedupe_result: { found_existing: true, match_reason: 'email_match', existing_contact_id: existing.id } };
      }
    }
    const c: SimContact = {
      id: hexId(contactRng),
      ...fields,
      name: [first, last].filter(Boolean).join(' '),
      email: email ?? null,
      owner_id: cred.owner.id,
      creator_id: cred.owner.id,
      person_id: null,
      source: 'api',
      contact_stage_id: stageIds.new,
      email_status: email ? 'verified' : null,
      created_at: at,
      updated_at: at,
    };
    contacts.push(c);
    return { contact: serializeContact(c), labels: [] };
  };

  const findProspect = (d: Record<string, unknown>): SimProspect | undefined => {
    const s = (k: string) => (typeof d[k] === 'string' && (d[k] as string).trim() !== '' ? (d[k] as string).trim() : undefined);
    const id = s('id');
    if (id) return prospectById(id);
    const email = s('email')?.toLowerCase();
    if (email) {
      byEmail ??= new Map(prospects().map((p) => [p.email, p]));
      return byEmail.get(email);
    }
    const linkedin = s('linkedin_url');
    if (linkedin) {
      const m = /-(\d+)\/?$/.exec(linkedin);
      const p = m ? prospectAt(Number(m[1])) : undefined;
      return p && Number(m![1]) < prospectCount && p.linkedin_url === linkedin ? p : undefined;
    }
    const name = (s('name') ?? [s('first_name'), s('last_name')].filter(Boolean).join(' ')).toLowerCase();
    const domain = s('domain')?.toLowerCase().replace(/^www\./, '');
    const org = s('organization_name')?.toLowerCase();
    if (!name || (!domain && !org)) return undefined;
    return prospects().find(
      (p) => `${p.first_name} ${p.last_name}`.toLowerCase() === name && (domain ? p.organization.domain === domain : p.organization.name.toLowerCase() === org),
    );
  };

  const revealOptions = (ctx: Ctx) => {
    const personal = truthy(param(ctx, 'reveal_personal_emails'));
    const phone = truthy(param(ctx, 'reveal_phone_number'));
    const waterfall = truthy(param(ctx, 'run_waterfall_email')) || truthy(param(ctx, 'run_waterfall_phone'));
    const webhook = strParam(ctx, 'webhook_url');
    if (phone && !webhook) throw new ApiError(400, { error: "Please add a valid 'webhook_url' parameter when using 'reveal_phone_number' = true" });
    if (waterfall && !webhook) throw new ApiError(400, { error: "Please add a valid 'webhook_url' parameter when running waterfall enrichment" });
    return { personal, phone, waterfall };
  };
  const charge = (ctx: Ctx, cred: Credential, p: SimProspect | undefined, r: { personal: boolean; phone: boolean }): number => {
    if (!p) return 0;
    let c = 1;
    if (r.personal && p.personal_email) c += 1;
    if (r.phone && p.mobile_phone) {
      c += 8;
      credits.directDial += 1;
    }
    credits.api += c;
    credits.byOwner.set(cred.owner.id, (credits.byOwner.get(cred.owner.id) ?? 0) + c);
    ctx.credits += c;
    return c;
  };

  const match = (ctx: Ctx, cred: Credential) => {
    const r = revealOptions(ctx);
    const details: Record<string, unknown> = { ...Object.fromEntries(ctx.url.searchParams), ...ctx.body };
    const p = findProspect(details);
    charge(ctx, cred, p, r);
    const out: Record<string, unknown> = { person: p ? serializeEnriched(p, r.personal) : null, request_id: Number(`1${String(requests.length).padStart(9, '0')}`) };
    if (r.waterfall) out.waterfall = { status: 'accepted', message: 'Waterfall enrichment request accepted. Results will be sent to the provided webhook URL.' };
    return out;
  };

  const bulkMatch = (ctx: Ctx, cred: Credential) => {
    const r = revealOptions(ctx);
    const details = ctx.body.details;
    if (!Array.isArray(details) || details.length === 0) throw new ApiError(422, { error: 'details is required: an array of up to 10 people' });
    if (details.length > 10) throw new ApiError(422, { error: `You can enrich up to 10 people per request; got ${details.length}` });
    let consumed = 0;
    let enriched = 0;
    const matches = details.map((d) => {
      const p = typeof d === 'object' && d !== null ? findProspect(d as Record<string, unknown>) : undefined;
      const c = charge(ctx, cred, p, r);
      consumed += c;
      if (c > 0) enriched += 1;
      return p ? serializeEnriched(p, r.personal) : null;
    });
    return {
      status: 'success',
      error_code: null,
      error_message: null,
      total_requested_enrichments: details.length,
      unique_enriched_records: enriched,
      missing_records: matches.filter((m) => m === null).length,
      credits_consumed: consumed,
      matches,
      request_id: Number(`2${String(requests.length).padStart(9, '0')}`),
    };
  };

  const apiUsageStats = () => {
    const out: Record<string, unknown> = {};
    for (const ep of ENDPOINTS) {
      const l = limitsOf(ep.name);
      const u = usageOf(ep.name);
      const cut = ep.name.lastIndexOf('/');
      // Keys are JSON arrays as strings, spaced as in the spec: ["api/v1/contacts", "search"].
      const key = `["${ep.name.slice(0, cut)}", "${ep.name.slice(cut + 1)}"]`;
      out[key] = {
        day: { limit: l.day, consumed: u.day, left_over: Math.max(0, l.day - u.day) },
        hour: { limit: l.hour, consumed: u.hour, left_over: Math.max(0, l.hour - u.hour) },
        minute: { limit: l.minute, consumed: u.minute, left_over: Math.max(0, l.minute - u.minute) },
      };
    }
    return out;
  };

  const cycle = () => {
    const d = new Date(clock.now());
    const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    return { start_date: new Date(start).toISOString(), end_date: new Date(end).toISOString() };
  };
  const counter = (limit: number, consumed: number) => ({ limit, consumed, left_over: Math.max(0, limit - consumed) });
  const creditUsageStats = () => ({
    credit_usage_stats: {
      lead_credit: counter(leadLimit, credits.initial + credits.api),
      direct_dial_credit: counter(1000, credits.directDial * 8),
      export_credit: counter(5000, 0),
      conversation_credit: counter(500, 0),
      ai_credit: counter(2000, 0),
      power_up_credit: counter(1000, 0),
      inbound_website_visitor_credit: counter(0, 0),
      contact_website_visitor_credit: counter(0, 0),
      web_search_record_credit: counter(0, 0),
      dialer: counter(500, 0),
    },
    current_credit_cycle: cycle(),
  });

  const apiProfile = (ctx: Ctx, cred: Credential) => {
    const o = cred.owner;
    const base: Record<string, unknown> = { id: o.id, team_id: o.team_id, first_name: o.first_name, last_name: o.last_name, title: o.title, email: o.email };
    if (truthy(param(ctx, 'include_credit_usage'))) {
      const used = credits.byOwner.get(o.id) ?? 0;
      Object.assign(base, {
        num_credits_remaining: Math.max(0, leadLimit - credits.initial - credits.api),
        effective_num_lead_credits: leadLimit,
        num_lead_credits_used: used,
        effective_num_direct_dial_credits: 1000,
        num_direct_dial_credits_used: 0,
      });
    }
    return base;
  };

  const handleToken = (req: IncomingMessage, res: ServerResponse, ctx: Ctx) => {
    const r = oauth.token(req, ctx.body);
    return reply(req, res, ctx, r.status, r.body, r.headers);
  };

  const readParams = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    if (req.method !== 'POST' && req.method !== 'PATCH' && req.method !== 'PUT') {
      await readBody(req).catch(() => undefined);
      return {};
    }
    const buf = await readBody(req);
    if (buf.length === 0) return {};
    const ct = parseMediaType(req.headers['content-type']);
    const text = buf.toString('utf8');
    if (ct?.type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(text));
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw new ApiError(400, { error: 'request body is not valid JSON' });
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ApiError(422, { error: 'Invalid parameters: the body must be a JSON object' });
    return v as Record<string, unknown>;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const method = req.method ?? 'GET';
    const rel = url.pathname.startsWith('/api/v1/') ? url.pathname.slice('/api/v1'.length).replace(/\/+$/, '') : undefined;
    const endpoint = rel === undefined ? undefined : ENDPOINTS.find((e) => e.path === rel && e.method === method);
    const ctx: Ctx = { method, url, body: {}, endpoint, credential: 'none', keyInQueryOrBody: false, credits: 0 };

    const fault = faults.take(req);
    if (fault) {
      if (fault.opts.dropConnection) {
        requests.push({ method, path: req.url ?? '', endpoint: endpoint?.name ?? null, status: 0, credential: 'none', keyInQueryOrBody: false, credits: 0 });
        req.socket.destroy();
        return;
      }
      await readBody(req).catch(() => undefined);
      // An edge/load balancer answering: not counted, no usage headers.
      const headers: Record<string, string | number> = {};
      if (fault.opts.retryAfterSec !== undefined) headers['Retry-After'] = fault.opts.retryAfterSec;
      return reply(req, res, ctx, fault.status, { message: 'injected fault' }, headers);
    }

    let counted = false;
    try {
      try {
        ctx.body = await readParams(req);
      } catch (err) {
        if (err instanceof HttpInputError) throw new ApiError(err.status, { error: err.message });
        throw err;
      }
      ctx.keyInQueryOrBody = url.searchParams.has('api_key') || ctx.body.api_key !== undefined;

      if (rel === '/oauth/token' && method === 'POST') return handleToken(req, res, ctx);
      if (!endpoint) {
        const known = rel !== undefined && ENDPOINTS.some((e) => e.path === rel);
        throw new ApiError(known ? 405 : 404, { error: known ? `${method} is not allowed on ${url.pathname}` : `no route for ${method} ${url.pathname}` });
      }
      const cred = authenticate(req, ctx);
      ctx.cred = cred;
      ctx.credential = cred.kind;
      authorize(ctx, cred, endpoint);
      count(endpoint.name);
      counted = true;
      const headers = () => usageHeaders(endpoint.name);

      let body: unknown;
      switch (endpoint.name) {
        case 'api/v1/users/search':
        case 'api/v1/users/index':
          body = listTeammates(ctx);
          break;
        case 'api/v1/users/api_profile':
          body = apiProfile(ctx, cred);
          break;
        case 'api/v1/auth/health':
          body = { healthy: true, is_logged_in: true, user: { id: cred.owner.id, email: cred.owner.email, name: cred.owner.name, team_id: cred.owner.team_id } };
          break;
        case 'api/v1/usage_stats/api_usage_stats':
          body = apiUsageStats();
          break;
        case 'api/v1/usage_stats/credit_usage_stats':
          body = creditUsageStats();
          break;
        case 'api/v1/mixed_people/api_search':
          body = searchPeople(ctx);
          break;
        case 'api/v1/contacts/search':
          body = searchContacts(ctx);
          break;
        case 'api/v1/contacts/create':
          body = createContact(ctx, cred);
          break;
        case 'api/v1/people/match':
          body = match(ctx, cred);
          break;
        case 'api/v1/people/bulk_match':
          body = bulkMatch(ctx, cred);
          break;
        default:
          throw new ApiError(404, { error: `no route for ${method} ${url.pathname}` });
      }
      return reply(req, res, ctx, 200, body, headers());
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof ApiError) {
        // Counted requests carry the usage headers, errors included; a 429 brings its own.
        const extra = counted && endpoint && err.status !== 429 ? usageHeaders(endpoint.name) : {};
        return reply(req, res, ctx, err.status, err.body, { ...extra, ...err.headers }, err.contentType);
      }
      return reply(req, res, ctx, 500, { error: err instanceof Error ? err.message : String(err) });
    }
  };

  // --- the SCIM link ---------------------------------------------------------------------------------

  /** linkUsers() listeners: told the id of every teammate that changed or was created, by any route. */
  const changeListeners = new LinkListeners();
  const changed = (t: SimTeammate) => {
    changeListeners.notify(t.id);
  };
  const teammatesById = new Map(teammates.map((t) => [t.id, t]));
  const teammateById = (id: string) => teammatesById.get(id);
  const setDeleted = (t: SimTeammate, deleted: boolean) => {
    if (t.deleted === deleted) return;
    t.deleted = deleted;
    changed(t);
  };

  const linkView = (): ScimLink => {
    // Mapping (the notes): SCIM `active` is the inverse of the teammate's `deleted`. Apollo "does not offer a
    // permanent user deletion option ... Admins can only deactivate users", deactivated teammates stay in the
    // list with deleted: true, and "Apollo provisions and deprovisions on IdP assignment changes": so SCIM
    // active false (PATCH, PUT or DELETE) is deleted: true here, and SCIM active true reactivates. Teammates
    // have no updated time to move. In-place email changes stay refused by the SCIM simulator ("requires
    // unassigning and re-assigning the user in the IdP").
    const view = (t: SimTeammate): ScimLinkUser => ({
      id: t.id,
      email: t.email,
      givenName: t.first_name || null,
      familyName: t.last_name || null,
      title: t.title,
      timeZone: null,
      active: !t.deleted,
      created: Date.parse(t.created_at),
      lastModified: null,
      personKey: t.personKey,
      kind: t.personKey ? 'person' : 'created',
    });
    return {
      seed,
      list: () => teammates.map(view),
      get: (id) => {
        const t = teammateById(id);
        return t ? view(t) : undefined;
      },
      update(id, c) {
        const t = teammateById(id);
        if (!t) throw new RangeError(`no Apollo teammate ${id}`);
        let dirty = false;
        if (c.email !== undefined && t.email !== c.email) {
          t.email = c.email;
          dirty = true;
        }
        if (c.givenName !== undefined && t.first_name !== c.givenName) {
          t.first_name = c.givenName;
          dirty = true;
        }
        if (c.familyName !== undefined && t.last_name !== c.familyName) {
          t.last_name = c.familyName;
          dirty = true;
        }
        if (dirty) t.name = [t.first_name, t.last_name].filter(Boolean).join(' ');
        if (c.active !== undefined && t.deleted === c.active) {
          t.deleted = !c.active;
          dirty = true;
        }
        if (dirty) changed(t);
      },
      create(input) {
        // A seat assigned in the IdP: a standard user (the permission profile is chosen in Apollo).
        const t: SimTeammate = {
          id: hexId(new Rng(deriveSeed(seed, `apollo-scim-created-${teammates.length}-${input.email.toLowerCase()}`))),
          team_id: team.team_id,
          first_name: input.givenName,
          last_name: input.familyName,
          name: [input.givenName, input.familyName].filter(Boolean).join(' '),
          title: input.title,
          email: input.email,
          created_at: new Date(clock.now()).toISOString(),
          deleted: !input.active,
          permission_set_id: team.permissionSets.User,
          role: 'User',
          personKey: null,
        };
        teammates.push(t);
        teammatesById.set(t.id, t);
        changed(t);
        return view(t);
      },
      onChange: (listener) => changeListeners.add(listener),
    };
  };

  const { server, origin } = await serveLoopback(handle, { latencyMs: opts.latencyMs });

  return {
    origin,
    baseUrl: `${origin}/api/v1`,
    tokenUrl: `${origin}/api/v1/oauth/token`,
    masterKey,
    scopedKey,
    oauthAccessToken,
    clientId,
    clientSecret,
    issueRefreshToken: () => oauth.mintRefresh(ALL_SCOPES),
    issueAccessToken: (ttlMs?: number, scopes?: string[]) => oauth.mintAccess(scopes ?? ALL_SCOPES, ttlMs),
    windowScale: scale,
    limitsOf,
    usage: usageOf,
    failNext(n: number, status: number, o: ApolloFailNextOptions = {}) {
      faults.add(n, status, o);
    },
    requests,
    users: () => teammates.map((t) => ({ ...t })),
    setUserDeleted(id: string, deleted: boolean) {
      const t = teammateById(id);
      if (!t) throw new RangeError(`no Apollo teammate ${id}`);
      setDeleted(t, deleted);
    },
    linkUsers: () => linkView(),
    contacts: () => contacts.map((c) => ({ ...c })),
    prospect: (i: number) => ({ ...prospectAt(i), organization: { ...prospectAt(i).organization } }),
    prospectCount,
    creditsSpent: () => credits.api,
    creditsConsumed: () => credits.initial + credits.api,
    close: () => closeServer(server),
  };
}

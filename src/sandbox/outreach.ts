import type { IncomingMessage, ServerResponse } from 'node:http';
import { systemClock, type Clock } from '../clock.js';
import {
  FaultQueue,
  FixedWindow,
  HttpInputError,
  closeServer,
  newSecret,
  parseAccept,
  parseMediaType,
  readBody,
  readJsonBody,
  sendJson,
  serveLoopback,
  type ServeOptions,
  type FaultOptions,
} from './http-util.js';
import { OAuthServer, oauthError, type AccessGrant, type OAuthReply } from './oauth-server.js';
import { PEOPLE_AS_OF, PEOPLE_EMAIL_DOMAIN, generatePeople, type Person } from './people.js';
import { Rng, deriveSeed } from './prng.js';
import { LinkListeners, type ScimLink, type ScimLinkUser } from './link.js';

/*
 * Embedded Outreach simulator: a real HTTP server on loopback that behaves like api.outreach.io for the
 * users/roles/profiles endpoints and the OAuth endpoints. Sources: /work/shared/vendor-docs/outreach-api.txt
 * ("the notes"), rate-limits.md, and Outreach's published OpenAPI document ("the spec"). Where they
 * disagree, the choice and the reason sit next to the code that makes it; they are summarised here:
 *
 * - ids: the spec types `id` as integer everywhere; the notes and JSON:API say bodies carry strings. We
 *   serve strings, and reject a non-string `data.id` in request bodies (400), so an adapter that would
 *   work only by luck against a lenient server fails here first.
 * - `active`: the notes list it (writable); the spec's user schema has no `active` at all. We serve it (it
 *   is how SCIM deprovisioning shows) but treat it as read-only over REST: 422 when a PATCH/POST sets it.
 *   The notes' own deprovisioning recipe is `locked: true`.
 * - `email`: the notes say optional on update; the spec says "Cannot be updated via the API". We follow the
 *   spec: a PATCH that changes email is a 422.
 * - `timeZone`, `locale`, `mobilePhoneNumber`, `externalId`, `externalSource`: in the notes, not in the
 *   spec (which has scimExternalId/scimSource). We follow the notes.
 * - Unsupported filters: the notes say they "may return unfiltered results or errors". We answer 400,
 *   because silently unfiltered results would let an offboarding tool act on the wrong users.
 * - `filter[updatedAt]`: the notes suggest `filter[updatedAt][gt]=`; Outreach's range syntax is
 *   `filter[updatedAt]=<from>..<to>`. Both are accepted.
 * - DELETE /users/{id}: the notes list a users.delete scope but also say there is no hard delete over
 *   REST, and the spec has no DELETE on users. 405.
 */

export const OUTREACH_SCOPES = ['users.read', 'users.write', 'users.delete', 'roles.read', 'profiles.read'] as const;
export const JSONAPI_MEDIA_TYPE = 'application/vnd.api+json';

const DEFAULT_USER_COUNT = 300;
const DEFAULT_TOKEN_TTL_MS = 2 * 60 * 60 * 1000;
const DEFAULT_RATE_LIMIT = { limit: 10_000, windowMs: 60 * 60 * 1000 };
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;
const DAY_MS = 86_400_000;

export interface OutreachSimOptions extends ServeOptions {
  clock?: Clock;
  userCount?: number;
  seed?: number;
  rateLimit?: { limit: number; windowMs: number };
  tokenTtlMs?: number;
  clientId?: string;
  clientSecret?: string;
}

export interface SimRole {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

export interface SimProfile {
  id: string;
  name: string;
  isAdmin: boolean;
  specialId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface SimUser {
  id: number;
  firstName: string;
  lastName: string;
  email: string;
  username: string;
  locked: boolean;
  active: boolean;
  title: string | null;
  phoneNumber: string | null;
  mobilePhoneNumber: string | null;
  timeZone: string | null;
  locale: string | null;
  externalId: string | null;
  externalSource: string | null;
  createdAt: string;
  updatedAt: string;
  currentSignInAt: string | null;
  lastSignInAt: string | null;
  roleId: string | null;
  profileId: string | null;
  /** Sandbox bookkeeping, never served: the generated person this seat belongs to (null for bots). */
  personKey: string | null;
  /** Sandbox bookkeeping, never served: why the seed (or a POST) created this user. */
  seedKind: 'person' | 'case-duplicate' | 'service' | 'created';
}

export interface OutreachOrg {
  roles: SimRole[];
  profiles: SimProfile[];
  /** Sorted by id. */
  users: SimUser[];
}

export interface FailNextOptions extends FaultOptions {
  /** Adds `Retry-After: <n>`; omit to inject a 429 or 503 without one. */
  retryAfterSec?: number;
}

export interface SimRequestLogEntry {
  method: string;
  /** Path with query string, as sent. */
  path: string;
  /** 0 when the connection was dropped by failNext. */
  status: number;
}

export interface OutreachSim {
  origin: string;
  /** origin + '/api/v2' */
  baseUrl: string;
  /** origin + '/oauth/token' */
  tokenUrl: string;
  /** origin + '/oauth/authorize' */
  authorizeUrl: string;
  clientId: string;
  clientSecret: string;
  /** Never expires and carries every scope: what `--sandbox` hands the Outreach adapter. */
  staticAccessToken: string;
  /** A fresh, valid, single-use refresh token for this client, carrying every scope. */
  issueRefreshToken(): string;
  /** An access token expiring `ttlMs` from the clock's now (default tokenTtlMs), carrying every scope. */
  issueAccessToken(ttlMs?: number): string;
  /** Replaces the limit and starts a fresh window. */
  setRateLimit(limit: number, windowMs: number): void;
  /** The next `count` requests (matching opts.path, if given) get `status` or a dropped connection. */
  failNext(count: number, status: number, opts?: FailNextOptions): void;
  /** Every request answered so far, in order. Tests may clear it with `requests.length = 0`. */
  readonly requests: SimRequestLogEntry[];
  /** A snapshot (copies) of the users, sorted by id. */
  users(): readonly SimUser[];
  roles(): readonly SimRole[];
  profiles(): readonly SimProfile[];
  /**
   * The users as the store of a linked SCIM simulator (`startScimSimulator({ vendor: 'outreach', link })`): one
   * user store behind both APIs, as in Outreach. SCIM `active` is this `active`; `locked` stays REST-only. A
   * SCIM write moves `updatedAt`; a SCIM-created user is created here too. See ScimLink in scim.ts.
   */
  linkUsers(): ScimLink;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// Seed

const ROLE_NAMES = ['Admin', 'VP Sales', 'Manager', 'Sales Rep', 'SDR', 'User'] as const;
type RoleName = (typeof ROLE_NAMES)[number];
const PROFILE_DEFS = [
  { name: 'Admin', isAdmin: true, specialId: 'admin' },
  { name: 'Sales Manager', isAdmin: false, specialId: null },
  { name: 'Sales Rep', isAdmin: false, specialId: 'default' },
  { name: 'Read Only', isAdmin: false, specialId: null },
] as const;
type ProfileName = (typeof PROFILE_DEFS)[number]['name'];

const MANAGER_TITLES = new Set([
  'Sales Manager', 'SDR Manager', 'Regional Sales Director', 'Director of Customer Success',
  'Director of Solutions Engineering', 'Sales Operations Manager',
]);
const EXECUTIVE_TITLES = new Set(['VP of Sales', 'Chief Revenue Officer', 'VP of Marketing']);

const LOCALE_BY_ZONE: Record<string, string> = {
  'Europe/London': 'en-GB',
  'Europe/Berlin': 'de-DE',
  'Asia/Singapore': 'en-SG',
  'Australia/Sydney': 'en-AU',
};

/** The org moved to Okta SCIM on this day; seats created since carry externalSource/externalId. */
const SCIM_SINCE_MS = Date.parse('2024-03-04T00:00:00Z');
const AS_OF_MS = Date.parse(`${PEOPLE_AS_OF}T00:00:00Z`);
const ORG_CREATED_MS = Date.parse('2015-01-05T15:00:00Z');

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Ids with random gaps that start somewhere random: hard-coding "Admin is 1" must break. */
function sparseIds(rng: Rng, n: number): string[] {
  const ids: string[] = [];
  let next = rng.int(3, 40);
  for (let i = 0; i < n; i++) {
    ids.push(String(next));
    next += rng.int(2, 9);
  }
  return ids;
}

function defaultRoleFor(p: Person): RoleName {
  if (EXECUTIVE_TITLES.has(p.title)) return 'VP Sales';
  if (MANAGER_TITLES.has(p.title)) return 'Manager';
  if (p.department === 'Sales Development') return 'SDR';
  if (p.department === 'Sales' || p.department === 'Customer Success' || p.department === 'Solutions Engineering')
    return 'Sales Rep';
  return 'User';
}

function defaultProfileFor(role: RoleName, p: Person): ProfileName {
  if (role === 'VP Sales' || role === 'Manager' || p.department === 'Revenue Operations') return 'Sales Manager';
  if (p.department === 'Finance' || p.department === 'Marketing') return 'Read Only';
  return 'Sales Rep';
}

/** `dana.lee2@acme.example` -> `Dana.Lee2@acme.example`: the legacy, hand-typed variant of an address. */
function titleCaseEmail(email: string): string {
  const at = email.indexOf('@');
  const local = email
    .slice(0, at)
    .split('.')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('.');
  return local + email.slice(at);
}

/**
 * Builds the org for a seed: deterministic for (userCount, seed), independent of the clock, and fast
 * enough for 10,000 users (linear apart from one sort). Composition (rounded from userCount N):
 * 3 service accounts, max(2, N/200) case-duplicate pairs, ~3% admins (role Admin + profile Admin, one of
 * them a terminated person still unlocked), ~8% locked (a third of the terminated people plus some
 * employees), ~4% without a profile (SCIM-provisioned seats: group push maps to Teams, not Profiles),
 * and every other terminated person still unlocked. Small N scales these down.
 */
export function buildOutreachOrg(userCount = DEFAULT_USER_COUNT, seed = 42): OutreachOrg {
  if (!Number.isInteger(userCount) || userCount < 0) {
    throw new RangeError(`userCount must be a non-negative integer, got ${userCount}`);
  }
  const rng = new Rng(deriveSeed(seed, 'outreach'));
  const N = userCount;

  const roleIds = sparseIds(rng, ROLE_NAMES.length);
  const roleOrder = rng.shuffle(ROLE_NAMES);
  const roles: SimRole[] = roleOrder.map((name, i) => ({
    id: roleIds[i]!,
    name,
    createdAt: iso(ORG_CREATED_MS + i * 60_000),
    updatedAt: iso(ORG_CREATED_MS + i * 60_000),
  }));
  const profileIds = sparseIds(rng, PROFILE_DEFS.length);
  const profileOrder = rng.shuffle(PROFILE_DEFS);
  const profiles: SimProfile[] = profileOrder.map((d, i) => ({
    id: profileIds[i]!,
    name: d.name,
    isAdmin: d.isAdmin,
    specialId: d.specialId,
    createdAt: iso(ORG_CREATED_MS + i * 60_000),
    updatedAt: iso(ORG_CREATED_MS + i * 60_000),
  }));
  roles.sort((a, b) => Number(a.id) - Number(b.id));
  profiles.sort((a, b) => Number(a.id) - Number(b.id));
  const roleId = (name: RoleName) => roles.find((r) => r.name === name)!.id;
  const profileId = (name: ProfileName) => profiles.find((p) => p.name === name)!.id;

  const serviceCount = Math.min(3, Math.floor(N / 10));
  const dupPairs = Math.min(Math.max(2, Math.floor(N / 200)), Math.floor(N / 10));
  const people = generatePeople(N - serviceCount - dupPairs, seed);

  type Draft = Omit<SimUser, 'id'> & { createdMs: number; person: Person | null };
  const drafts: Draft[] = [];
  const byPerson: Draft[] = [];

  for (const p of people) {
    const startMs = Date.parse(`${p.startDate}T00:00:00Z`);
    const createdMs = Math.min(
      startMs + rng.int(0, 6) * DAY_MS + rng.int(13 * 60, 22 * 60) * 60_000 + rng.int(0, 59) * 1000,
      AS_OF_MS - DAY_MS,
    );
    const endMs = p.terminatedOn ? Date.parse(`${p.terminatedOn}T00:00:00Z`) : AS_OF_MS;
    const currentSignInMs = Math.max(createdMs, endMs - rng.int(0, 20) * DAY_MS - rng.int(0, 600) * 60_000);
    const lastSignInMs = Math.max(createdMs, currentSignInMs - rng.int(1, 7) * DAY_MS);
    const updatedMs = Math.min(createdMs + rng.int(0, 400) * DAY_MS, currentSignInMs);
    const role = defaultRoleFor(p);
    const scim = createdMs >= SCIM_SINCE_MS;
    const externalId = scim ? `00u${randomish(rng, 17)}` : null;
    const d: Draft = {
      firstName: p.firstName,
      lastName: p.lastName,
      email: p.email,
      username: p.email,
      locked: false,
      active: true,
      title: p.title,
      phoneNumber: `+1 555-01${String(rng.int(0, 99)).padStart(2, '0')}`,
      mobilePhoneNumber: rng.chance(0.4) ? `+1 555-02${String(rng.int(0, 99)).padStart(2, '0')}` : null,
      timeZone: p.timeZone,
      locale: LOCALE_BY_ZONE[p.timeZone] ?? 'en-US',
      externalId,
      externalSource: scim ? 'okta' : null,
      createdAt: iso(createdMs),
      updatedAt: iso(Math.max(createdMs, updatedMs)),
      currentSignInAt: iso(currentSignInMs),
      lastSignInAt: iso(lastSignInMs),
      roleId: roleId(role),
      profileId: profileId(defaultProfileFor(role, p)),
      personKey: p.key,
      seedKind: 'person',
      createdMs,
      person: p,
    };
    drafts.push(d);
    byPerson.push(d);
  }

  const taken = new Set<Draft>();
  const takeFrom = (pool: Draft[], n: number): Draft[] => {
    const out: Draft[] = [];
    for (const d of pool) {
      if (out.length >= n) break;
      if (taken.has(d)) continue;
      taken.add(d);
      out.push(d);
    }
    return out;
  };

  const terminated = rng.shuffle(byPerson.filter((d) => d.person!.employment === 'terminated'));
  const employed = byPerson.filter((d) => d.person!.employment === 'active');

  // Admins: one terminated person who still holds Admin (the finding an access review exists for), then
  // RevOps, executives and managers before anyone else. The integration bot is an admin too.
  const adminTarget = Math.round(N * 0.03);
  const adminHumans = Math.max(0, adminTarget - (serviceCount > 0 ? 1 : 0));
  const admins = takeFrom(terminated, Math.min(1, adminHumans));
  const preferred = rng.shuffle(
    employed.filter(
      (d) =>
        d.person!.department === 'Revenue Operations' ||
        EXECUTIVE_TITLES.has(d.person!.title) ||
        MANAGER_TITLES.has(d.person!.title),
    ),
  );
  admins.push(...takeFrom(preferred, adminHumans - admins.length));
  admins.push(...takeFrom(rng.shuffle(employed), adminHumans - admins.length));
  for (const d of admins) {
    d.roleId = roleId('Admin');
    d.profileId = profileId('Admin');
  }

  // Locked: a third of the leavers were offboarded properly (locked, and SCIM turned them inactive);
  // the rest of the locked seats belong to current employees (leave, lock-outs).
  const lockedTarget = Math.round(N * 0.08);
  const lockedLeavers = takeFrom(terminated, Math.min(lockedTarget, Math.round(terminated.length * 0.35)));
  for (const d of lockedLeavers) {
    const endMs = Date.parse(`${d.person!.terminatedOn}T00:00:00Z`);
    d.locked = true;
    d.active = false;
    d.updatedAt = iso(Math.max(d.createdMs, endMs + rng.int(0, 5) * DAY_MS + rng.int(14 * 60, 23 * 60) * 60_000));
  }
  const shuffledEmployed = rng.shuffle(employed);
  const lockedEmployees = takeFrom(shuffledEmployed, lockedTarget - lockedLeavers.length);
  for (const d of lockedEmployees) {
    d.locked = true;
    const lockMs = Math.max(d.createdMs, AS_OF_MS - rng.int(5, 200) * DAY_MS);
    d.updatedAt = iso(lockMs);
    d.currentSignInAt = iso(Math.max(d.createdMs, Math.min(Date.parse(d.currentSignInAt!), lockMs)));
    d.lastSignInAt = iso(Math.min(Date.parse(d.lastSignInAt!), Date.parse(d.currentSignInAt)));
  }

  // Seats with no profile: SCIM-created ones first, because Okta group push maps to Teams, not Profiles.
  const noProfileTarget = Math.round(N * 0.04);
  const scimFirst = [
    ...rng.shuffle(byPerson.filter((d) => d.externalSource !== null)),
    ...rng.shuffle(byPerson.filter((d) => d.externalSource === null)),
  ];
  for (const d of takeFrom(scimFirst, noProfileTarget)) d.profileId = null;

  // Case duplicates: an older hand-typed `Dana.Lee@` seat next to the SCIM-made `dana.lee@` one. Outreach
  // rejects case-insensitive duplicates today; these predate that (or came in through an import).
  for (const d of takeFrom(rng.shuffle(employed), dupPairs)) {
    const createdMs = Math.max(ORG_CREATED_MS, d.createdMs - rng.int(30, 400) * DAY_MS);
    const signInMs = Math.max(createdMs, d.createdMs - rng.int(1, 20) * DAY_MS);
    drafts.push({
      ...d,
      email: titleCaseEmail(d.email),
      username: titleCaseEmail(d.email),
      externalId: null,
      externalSource: null,
      mobilePhoneNumber: null,
      createdAt: iso(createdMs),
      updatedAt: iso(signInMs),
      currentSignInAt: iso(signInMs),
      lastSignInAt: iso(Math.max(createdMs, signInMs - 3 * DAY_MS)),
      seedKind: 'case-duplicate',
      createdMs,
    });
  }

  const SERVICES = [
    { first: 'Integration', last: 'Bot', local: 'integration.bot', title: 'Integration Service Account', role: 'Admin', profile: 'Admin' },
    { first: 'Salesforce', last: 'Sync', local: 'salesforce.sync', title: 'CRM Sync Service Account', role: null, profile: 'Sales Manager' },
    { first: 'Reporting', last: 'API', local: 'reporting.api', title: 'BI Export Service Account', role: null, profile: 'Read Only' },
  ] as const;
  for (const s of SERVICES.slice(0, serviceCount)) {
    const createdMs = ORG_CREATED_MS + rng.int(20, 900) * DAY_MS;
    const signInMs = AS_OF_MS - rng.int(0, 3) * 3_600_000;
    const email = `${s.local}@${PEOPLE_EMAIL_DOMAIN}`;
    drafts.push({
      firstName: s.first,
      lastName: s.last,
      email,
      username: email,
      locked: false,
      active: true,
      title: s.title,
      phoneNumber: null,
      mobilePhoneNumber: null,
      timeZone: 'America/New_York',
      locale: 'en-US',
      externalId: null,
      externalSource: null,
      createdAt: iso(createdMs),
      updatedAt: iso(createdMs),
      currentSignInAt: iso(signInMs),
      lastSignInAt: iso(signInMs - 3_600_000),
      roleId: s.role ? roleId(s.role) : null,
      profileId: profileId(s.profile),
      personKey: null,
      seedKind: 'service',
      createdMs,
      person: null,
    });
  }

  // Ids follow creation order, with gaps (seats Outreach support purged), from a seed-dependent start.
  drafts.sort((a, b) => a.createdMs - b.createdMs || (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
  let nextId = 1000 + rng.int(0, 800);
  const users: SimUser[] = drafts.map(({ createdMs: _c, person: _p, ...rest }) => {
    const u: SimUser = { id: nextId, ...rest };
    nextId += rng.chance(0.15) ? rng.int(2, 5) : 1;
    return u;
  });
  return { roles, profiles, users };
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
function randomish(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[rng.int(0, ALNUM.length - 1)];
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// JSON:API helpers

interface JsonApiError {
  id: string;
  status: string;
  title: string;
  detail?: string;
  source?: { pointer?: string; parameter?: string; header?: string };
}

/** Carries a JSON:API error response out of deep validation code. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: JsonApiError[],
    readonly headers: Record<string, string | number> = {},
  ) {
    super(errors[0]?.detail ?? errors[0]?.title ?? String(status));
  }
}

const TITLES: Record<number, [string, string]> = {
  400: ['badRequest', 'Bad Request'],
  401: ['unauthorizedRequest', 'Unauthorized'],
  403: ['forbidden', 'Forbidden'],
  404: ['resourceNotFound', 'Resource Not Found'],
  405: ['methodNotAllowed', 'Method Not Allowed'],
  406: ['notAcceptable', 'Not Acceptable'],
  409: ['conflict', 'Conflict'],
  413: ['payloadTooLarge', 'Payload Too Large'],
  415: ['unsupportedMediaType', 'Unsupported Media Type'],
  422: ['validationError', 'Validation Error'],
  429: ['rateLimitExceeded', 'Rate Limit Exceeded'],
  500: ['internalServerError', 'Internal Server Error'],
  502: ['badGateway', 'Bad Gateway'],
  503: ['serviceUnavailable', 'Service Unavailable'],
  504: ['gatewayTimeout', 'Gateway Timeout'],
};

function apiError(status: number, detail?: string, source?: JsonApiError['source']): JsonApiError {
  const [id, title] = TITLES[status] ?? ['error', 'Error'];
  return { id, status: String(status), title, ...(detail ? { detail } : {}), ...(source ? { source } : {}) };
}

function fail(status: number, detail?: string, source?: JsonApiError['source'], headers?: Record<string, string | number>): never {
  throw new ApiError(status, [apiError(status, detail, source)], headers);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const USER_ATTRIBUTES = [
  'createdAt', 'currentSignInAt', 'email', 'externalId', 'externalSource', 'firstName', 'lastName',
  'lastSignInAt', 'locale', 'locked', 'active', 'mobilePhoneNumber', 'name', 'phoneNumber', 'timeZone',
  'title', 'updatedAt', 'username',
] as const;
const USER_RELATIONSHIPS = ['role', 'profile'] as const;
const READ_ONLY_ATTRIBUTES = new Set(['createdAt', 'updatedAt', 'currentSignInAt', 'lastSignInAt', 'name', 'active', 'id']);
type Writable = 'requiredString' | 'optionalString' | 'boolean' | 'timeZone' | 'email';
const WRITABLE_ATTRIBUTES: Record<string, Writable> = {
  firstName: 'requiredString',
  lastName: 'requiredString',
  email: 'email',
  username: 'optionalString',
  title: 'optionalString',
  locked: 'boolean',
  phoneNumber: 'optionalString',
  mobilePhoneNumber: 'optionalString',
  timeZone: 'timeZone',
  locale: 'optionalString',
  externalId: 'optionalString',
  externalSource: 'optionalString',
};
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Server

export async function startOutreachSimulator(opts: OutreachSimOptions = {}): Promise<OutreachSim> {
  const clock = opts.clock ?? systemClock;
  const clientId = opts.clientId ?? 'sandbox-outreach-client';
  const clientSecret = opts.clientSecret ?? 'sandbox-outreach-secret';
  const tokenTtlMs = opts.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS;
  const org = buildOutreachOrg(opts.userCount ?? DEFAULT_USER_COUNT, opts.seed ?? 42);
  const users = org.users;
  const usersById = new Map(users.map((u) => [u.id, u]));
  const rolesById = new Map(org.roles.map((r) => [r.id, r]));
  const profilesById = new Map(org.profiles.map((p) => [p.id, p]));

  // The notes: Authorization Code flow, "also supports Client Credentials for server-to-server".
  const oauth = new OAuthServer({
    clock,
    clientId,
    clientSecret,
    tokenTtlMs,
    grants: ['authorization_code', 'refresh_token', 'client_credentials'],
    allScopes: OUTREACH_SCOPES,
    prefix: { access: 'oat_', refresh: 'ort_', code: 'oac_' },
    tokenType: 'bearer',
    realm: 'outreach',
  });
  /** linkUsers() listeners: told the id of every user that changed or was created, by any route. */
  const changeListeners = new LinkListeners();
  const changed = (u: SimUser) => {
    changeListeners.notify(String(u.id));
  };
  const faults = new FaultQueue<FailNextOptions>();
  const requests: SimRequestLogEntry[] = [];
  const rateLimit = opts.rateLimit ?? DEFAULT_RATE_LIMIT;
  const rate = new FixedWindow(clock, rateLimit.limit, rateLimit.windowMs);

  const staticAccessToken = newSecret('oat_static_');
  oauth.addStaticToken(staticAccessToken, OUTREACH_SCOPES);

  let origin = '';

  // --- rate limit ---------------------------------------------------------------------------------------

  const rateHeaders = (resetMs: number): Record<string, string | number> => ({
    'X-RateLimit-Limit': rate.limit,
    'X-RateLimit-Remaining': rate.remaining(),
    'X-RateLimit-Reset': Math.ceil(resetMs / 1000),
  });

  // --- responses ----------------------------------------------------------------------------------------

  const reply = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string | number> = {},
    contentType = JSONAPI_MEDIA_TYPE,
  ) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', status });
    sendJson(res, status, body, headers, contentType);
  };

  // --- serialisation ------------------------------------------------------------------------------------

  const relData = (type: 'role' | 'profile', id: string | null) => ({ data: id === null ? null : { type, id } });

  const serializeUser = (u: SimUser, fields?: Set<string>) => {
    const all: Record<string, unknown> = {
      createdAt: u.createdAt,
      currentSignInAt: u.currentSignInAt,
      email: u.email,
      externalId: u.externalId,
      externalSource: u.externalSource,
      firstName: u.firstName,
      lastName: u.lastName,
      lastSignInAt: u.lastSignInAt,
      locale: u.locale,
      locked: u.locked,
      active: u.active,
      mobilePhoneNumber: u.mobilePhoneNumber,
      name: `${u.firstName} ${u.lastName}`,
      phoneNumber: u.phoneNumber,
      timeZone: u.timeZone,
      title: u.title,
      updatedAt: u.updatedAt,
      username: u.username,
    };
    const attributes = fields ? Object.fromEntries(Object.entries(all).filter(([k]) => fields.has(k))) : all;
    const relationships: Record<string, unknown> = {};
    if (!fields || fields.has('role')) relationships.role = relData('role', u.roleId);
    if (!fields || fields.has('profile')) relationships.profile = relData('profile', u.profileId);
    return { type: 'user', id: String(u.id), attributes, relationships, links: { self: `${origin}/api/v2/users/${u.id}` } };
  };
  const serializeRole = (r: SimRole, fields?: Set<string>) => {
    const all = { createdAt: r.createdAt, externalId: null, name: r.name, updatedAt: r.updatedAt };
    return {
      type: 'role',
      id: r.id,
      attributes: fields ? Object.fromEntries(Object.entries(all).filter(([k]) => fields.has(k))) : all,
      links: { self: `${origin}/api/v2/roles/${r.id}` },
    };
  };
  const serializeProfile = (p: SimProfile, fields?: Set<string>) => {
    const all = { createdAt: p.createdAt, isAdmin: p.isAdmin, name: p.name, specialId: p.specialId, updatedAt: p.updatedAt };
    return {
      type: 'profile',
      id: p.id,
      attributes: fields ? Object.fromEntries(Object.entries(all).filter(([k]) => fields.has(k))) : all,
      links: { self: `${origin}/api/v2/profiles/${p.id}` },
    };
  };

  // --- query parsing ------------------------------------------------------------------------------------

  const parseIntParam = (q: URLSearchParams, name: string, dflt: number, min: number, max: number): number => {
    const raw = q.get(name);
    if (raw === null) return dflt;
    if (!/^\d+$/.test(raw)) fail(400, `${name} must be a non-negative integer`, { parameter: name });
    const n = Number(raw);
    if (n < min || n > max) fail(400, `${name} must be between ${min} and ${max}`, { parameter: name });
    return n;
  };

  const parseTime = (raw: string, param: string, edge: 'from' | 'to'): number => {
    if (raw === '' || raw === (edge === 'from' ? 'neginf' : 'inf')) return edge === 'from' ? -Infinity : Infinity;
    const t = Date.parse(raw);
    if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(t)) fail(400, `${param}: '${raw}' is not an ISO 8601 time`, { parameter: param });
    return t;
  };

  type Pred<T> = (item: T) => boolean;

  /** `filter[x]=a..b` (inclusive, `neginf`/`inf` open ends) and `filter[x][gt|gte|lt|lte]=t`. */
  const timeFilter = <T>(key: string, field: string, op: string | undefined, value: string, get: (i: T) => string | null): Pred<T> => {
    if (op === undefined) {
      const parts = value.split('..');
      if (parts.length !== 2) fail(400, `${key} must be a range '<from>..<to>'`, { parameter: key });
      const from = parseTime(parts[0]!, key, 'from');
      const to = parseTime(parts[1]!, key, 'to');
      return (i) => {
        const v = get(i);
        if (v === null) return false;
        const t = Date.parse(v);
        return t >= from && t <= to;
      };
    }
    const t = parseTime(value, key, 'from');
    const cmp: Record<string, (a: number) => boolean> = {
      gt: (a) => a > t,
      gte: (a) => a >= t,
      lt: (a) => a < t,
      lte: (a) => a <= t,
    };
    const f = cmp[op];
    if (!f) fail(400, `unsupported filter operator '${op}' on ${field}`, { parameter: key });
    return (i) => {
      const v = get(i);
      return v !== null && f(Date.parse(v));
    };
  };

  const listOf = (value: string) => value.split(',').map((s) => s.trim()).filter(Boolean);

  const userFilter = (key: string, path: string[], value: string): Pred<SimUser> => {
    const [field, sub] = path;
    if (path.length === 1) {
      switch (field) {
        case 'email':
        case 'username': {
          // Case-insensitive exact match: the seed has addresses differing only in case, and both come back.
          const wanted = new Set(listOf(value).map((s) => s.toLowerCase()));
          return (u) => wanted.has(u[field].toLowerCase());
        }
        case 'firstName':
        case 'lastName': {
          const wanted = new Set(listOf(value).map((s) => s.toLowerCase()));
          return (u) => wanted.has(u[field].toLowerCase());
        }
        case 'locked': {
          if (value !== 'true' && value !== 'false') fail(400, `${key} must be true or false`, { parameter: key });
          const want = value === 'true';
          return (u) => u.locked === want;
        }
        case 'id': {
          const ids = listOf(value);
          if (ids.some((s) => !/^\d+$/.test(s))) fail(400, `${key} must be a comma-separated list of integers`, { parameter: key });
          const wanted = new Set(ids.map(Number));
          return (u) => wanted.has(u.id);
        }
        case 'updatedAt':
        case 'createdAt':
        case 'currentSignInAt':
          return timeFilter<SimUser>(key, field, undefined, value, (u) => u[field]);
      }
    } else if (path.length === 2) {
      if ((field === 'updatedAt' || field === 'createdAt' || field === 'currentSignInAt') && sub) {
        return timeFilter<SimUser>(key, field, sub, value, (u) => u[field]);
      }
      if ((field === 'role' || field === 'profile') && sub === 'id') {
        const wanted = new Set(listOf(value));
        return (u) => wanted.has((field === 'role' ? u.roleId : u.profileId) ?? '');
      }
    }
    // A choice: the notes allow "unfiltered results or errors"; an error cannot be mistaken for a match.
    fail(400, `unsupported filter '${key}' on users`, { parameter: key });
  };

  const namedFilter = <T extends { id: string; name: string }>(type: string) =>
    (key: string, path: string[], value: string): Pred<T> => {
      if (path.length === 1 && path[0] === 'id') {
        const wanted = new Set(listOf(value));
        return (i) => wanted.has(i.id);
      }
      if (path.length === 1 && path[0] === 'name') {
        const wanted = new Set(listOf(value).map((s) => s.toLowerCase()));
        return (i) => wanted.has(i.name.toLowerCase());
      }
      fail(400, `unsupported filter '${key}' on ${type}s`, { parameter: key });
    };

  interface ListSpec<T> {
    type: string;
    path: string;
    filter: (key: string, path: string[], value: string) => Pred<T>;
    sortable: Record<string, (i: T) => string | number>;
    fieldNames: readonly string[];
    includable: readonly string[];
  }

  /** Parses a bracketed key like `filter[role][id]` into ['filter', 'role', 'id']. */
  const splitKey = (key: string): string[] | undefined => {
    const m = /^([A-Za-z]+)((?:\[[^\[\]]*\])*)$/.exec(key);
    if (!m) return undefined;
    const rest = [...m[2]!.matchAll(/\[([^\[\]]*)\]/g)].map((x) => x[1]!);
    return [m[1]!, ...rest];
  };

  const listQuery = <T>(q: URLSearchParams, spec: ListSpec<T>, items: readonly T[]) => {
    const preds: Pred<T>[] = [];
    let fields: Set<string> | undefined;
    let include: string[] = [];
    let sortKeys: { get: (i: T) => string | number; desc: boolean }[] = [];
    for (const key of new Set(q.keys())) {
      const value = q.get(key)!;
      const parts = splitKey(key);
      const family = parts?.[0];
      if (family === 'page' && parts!.length === 2 && (parts![1] === 'size' || parts![1] === 'offset')) continue;
      if (family === 'filter' && parts!.length >= 2) {
        preds.push(spec.filter(key, parts!.slice(1), value));
        continue;
      }
      if (family === 'fields' && parts!.length === 2) {
        if (parts![1] !== spec.type) continue; // sparse fieldsets for other types only matter for `included`
        const names = listOf(value);
        const bad = names.find((n) => !spec.fieldNames.includes(n));
        if (bad) fail(400, `unknown field '${bad}' for ${spec.type}`, { parameter: key });
        fields = new Set(names);
        continue;
      }
      if (key === 'include') {
        include = listOf(value);
        const bad = include.find((n) => !spec.includable.includes(n));
        if (bad) fail(400, `cannot include '${bad}' on ${spec.type}`, { parameter: key });
        continue;
      }
      if (key === 'sort') {
        sortKeys = listOf(value).map((s) => {
          const desc = s.startsWith('-');
          const name = desc ? s.slice(1) : s;
          const get = spec.sortable[name];
          if (!get) fail(400, `cannot sort ${spec.type}s by '${name}'`, { parameter: key });
          return { get, desc };
        });
        continue;
      }
      fail(400, `unsupported query parameter '${key}'`, { parameter: key });
    }
    const size = parseIntParam(q, 'page[size]', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE);
    const offset = parseIntParam(q, 'page[offset]', 0, 0, Number.MAX_SAFE_INTEGER);

    let matched = preds.length ? items.filter((i) => preds.every((p) => p(i))) : items.slice();
    if (sortKeys.length) {
      // Array.prototype.sort is stable, and items arrive in id order, so ties keep id order.
      matched = matched.sort((a, b) => {
        for (const k of sortKeys) {
          const x = k.get(a);
          const y = k.get(b);
          if (x < y) return k.desc ? 1 : -1;
          if (x > y) return k.desc ? -1 : 1;
        }
        return 0;
      });
    }
    const page = matched.slice(offset, offset + size);
    const link = (off: number) => {
      const u = new URL(`${origin}${spec.path}`);
      for (const [k, v] of q) if (k !== 'page[size]' && k !== 'page[offset]') u.searchParams.append(k, v);
      u.searchParams.set('page[size]', String(size));
      u.searchParams.set('page[offset]', String(off));
      return u.toString();
    };
    const links: Record<string, string> = { first: link(0) };
    if (offset > 0) links.prev = link(Math.max(0, offset - size));
    if (offset + size < matched.length) links.next = link(offset + size);
    return { page, fields, include, count: matched.length, links };
  };

  const userSpec: ListSpec<SimUser> = {
    type: 'user',
    path: '/api/v2/users',
    filter: userFilter,
    sortable: {
      id: (u) => u.id,
      createdAt: (u) => u.createdAt,
      updatedAt: (u) => u.updatedAt,
      email: (u) => u.email.toLowerCase(),
      firstName: (u) => u.firstName,
      lastName: (u) => u.lastName,
      username: (u) => u.username,
    },
    fieldNames: [...USER_ATTRIBUTES, ...USER_RELATIONSHIPS],
    includable: ['role', 'profile'],
  };
  const roleSpec: ListSpec<SimRole> = {
    type: 'role',
    path: '/api/v2/roles',
    filter: namedFilter<SimRole>('role'),
    sortable: { id: (r) => Number(r.id), name: (r) => r.name },
    fieldNames: ['createdAt', 'externalId', 'name', 'updatedAt'],
    includable: [],
  };
  const profileSpec: ListSpec<SimProfile> = {
    type: 'profile',
    path: '/api/v2/profiles',
    filter: namedFilter<SimProfile>('profile'),
    sortable: { id: (p) => Number(p.id), name: (p) => p.name },
    fieldNames: ['createdAt', 'isAdmin', 'name', 'specialId', 'updatedAt'],
    includable: [],
  };

  const included = (list: SimUser[], include: string[]) => {
    const out: unknown[] = [];
    if (include.includes('role')) {
      const ids = new Set(list.map((u) => u.roleId).filter((x): x is string => x !== null));
      for (const id of ids) out.push(serializeRole(rolesById.get(id)!));
    }
    if (include.includes('profile')) {
      const ids = new Set(list.map((u) => u.profileId).filter((x): x is string => x !== null));
      for (const id of ids) out.push(serializeProfile(profilesById.get(id)!));
    }
    return out;
  };

  // --- write validation ---------------------------------------------------------------------------------

  const readDocument = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    const ct = parseMediaType(req.headers['content-type']);
    // JSON:API 1.1: 415 for any media type parameter other than ext/profile (so `charset` is refused too).
    const badParams = ct ? Object.keys(ct.params).filter((p) => p !== 'ext' && p !== 'profile') : [];
    if (!ct || ct.type !== JSONAPI_MEDIA_TYPE || badParams.length) {
      // Drain so the keep-alive connection stays usable.
      await readBody(req).catch(() => undefined);
      fail(415, `Content-Type must be ${JSONAPI_MEDIA_TYPE} without parameters`, { header: 'Content-Type' });
    }
    let body: unknown;
    try {
      body = await readJsonBody(req);
    } catch (err) {
      if (err instanceof HttpInputError) fail(err.status, err.message);
      throw err;
    }
    if (!isRecord(body) || !isRecord(body.data)) fail(400, 'the document must have a top-level data object', { pointer: '/data' });
    return body.data;
  };

  /** Validates attributes and relationships; returns the changes to apply. Collects every 422 at once. */
  const validateUserWrite = (data: Record<string, unknown>, existing: SimUser | undefined) => {
    const errors: JsonApiError[] = [];
    const changes: Partial<SimUser> = {};
    const attrs = data.attributes ?? {};
    if (!isRecord(attrs)) fail(400, 'data.attributes must be an object', { pointer: '/data/attributes' });
    for (const [name, value] of Object.entries(attrs)) {
      const pointer = `/data/attributes/${name}`;
      if (READ_ONLY_ATTRIBUTES.has(name)) {
        const why =
          name === 'active'
            ? 'is read-only over REST (SCIM sets it); deactivate with locked: true'
            : 'is read-only';
        errors.push(apiError(422, `${name} ${why}`, { pointer }));
        continue;
      }
      const kind = WRITABLE_ATTRIBUTES[name];
      if (!kind) {
        errors.push(apiError(422, `unknown attribute '${name}' (the sandbox models a subset of the user resource)`, { pointer }));
        continue;
      }
      switch (kind) {
        case 'requiredString':
          if (typeof value !== 'string' || !value.trim()) errors.push(apiError(422, `${name} can't be blank`, { pointer }));
          else (changes as Record<string, unknown>)[name] = value;
          break;
        case 'optionalString':
          if (value !== null && typeof value !== 'string') errors.push(apiError(422, `${name} must be a string or null`, { pointer }));
          else (changes as Record<string, unknown>)[name] = value;
          break;
        case 'boolean':
          if (typeof value !== 'boolean') errors.push(apiError(422, `${name} must be true or false`, { pointer }));
          else (changes as Record<string, unknown>)[name] = value;
          break;
        case 'timeZone':
          if (value !== null && (typeof value !== 'string' || !isTimeZone(value)))
            errors.push(apiError(422, `${name} must be an IANA time zone`, { pointer }));
          else changes.timeZone = value;
          break;
        case 'email':
          if (existing) {
            // The spec: "Cannot be updated via the API" (the notes say optional on update; see top).
            if (value !== existing.email) errors.push(apiError(422, 'email cannot be updated via the API', { pointer }));
          } else if (typeof value !== 'string' || !value.trim()) {
            errors.push(apiError(422, "email can't be blank", { pointer }));
          } else if (!EMAIL_RE.test(value)) {
            errors.push(apiError(422, 'email is invalid', { pointer }));
          } else {
            changes.email = value;
          }
          break;
      }
    }
    if (!existing) {
      for (const name of ['firstName', 'lastName', 'email'] as const) {
        if (!(name in attrs)) errors.push(apiError(422, `${name} can't be blank`, { pointer: `/data/attributes/${name}` }));
      }
      if (changes.email) {
        const lower = changes.email.toLowerCase();
        if (users.some((u) => u.email.toLowerCase() === lower)) {
          errors.push(apiError(422, 'email has already been taken', { pointer: '/data/attributes/email' }));
        }
      }
    }
    if (typeof changes.username === 'string') {
      const lower = changes.username.toLowerCase();
      if (users.some((u) => u !== existing && u.username.toLowerCase() === lower)) {
        errors.push(apiError(422, 'username has already been taken', { pointer: '/data/attributes/username' }));
      }
    }

    const rels = data.relationships ?? {};
    if (!isRecord(rels)) fail(400, 'data.relationships must be an object', { pointer: '/data/relationships' });
    for (const [name, rel] of Object.entries(rels)) {
      const pointer = `/data/relationships/${name}`;
      if (name !== 'role' && name !== 'profile') {
        errors.push(apiError(422, `relationship '${name}' is not supported by the sandbox`, { pointer }));
        continue;
      }
      if (!isRecord(rel) || !('data' in rel)) fail(400, `${name} must be a relationship object with data`, { pointer });
      const linkage = rel.data;
      if (linkage === null) {
        changes[name === 'role' ? 'roleId' : 'profileId'] = null;
        continue;
      }
      if (!isRecord(linkage)) fail(400, `${name}.data must be a resource identifier or null`, { pointer: `${pointer}/data` });
      if (typeof linkage.id !== 'string') fail(400, `${name}.data.id must be a string`, { pointer: `${pointer}/data/id` });
      if (linkage.type !== name) {
        errors.push(apiError(422, `${name}.data.type must be '${name}'`, { pointer: `${pointer}/data/type` }));
        continue;
      }
      const exists = name === 'role' ? rolesById.has(linkage.id) : profilesById.has(linkage.id);
      if (!exists) {
        errors.push(apiError(422, `${name} ${linkage.id} does not exist`, { pointer: `${pointer}/data/id` }));
        continue;
      }
      changes[name === 'role' ? 'roleId' : 'profileId'] = linkage.id;
    }
    if (errors.length) throw new ApiError(422, errors);
    return changes;
  };

  // --- API handlers -------------------------------------------------------------------------------------

  const requireScope = (token: AccessGrant, scope: string) => {
    if (!token.scopes.has(scope)) fail(403, `the access token lacks the ${scope} scope`);
  };

  const pathId = (raw: string): number => {
    // The notes: "id is an integer in the path but returned as a string".
    if (!/^[1-9]\d*$/.test(raw)) fail(400, `'${raw}' is not an integer id`, { parameter: 'id' });
    return Number(raw);
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const method = req.method ?? 'GET';

    const bearer = oauth.verifyBearer(req.headers.authorization);
    if (bearer.failure === 'missing') fail(401, 'missing bearer token', { header: 'Authorization' }, { 'WWW-Authenticate': 'Bearer realm="outreach"' });
    if (bearer.failure) {
      const desc = bearer.failure === 'expired' ? 'token expired' : 'invalid token';
      fail(401, desc, { header: 'Authorization' }, { 'WWW-Authenticate': `Bearer realm="outreach", error="invalid_token", error_description="${desc}"` });
    }
    const token = bearer.grant;

    // The limit is per OAuth application, so only requests we can attribute (valid token) count.
    const now = clock.now();
    const resetMs = rate.roll(now);
    if (rate.used >= rate.limit) {
      fail(429, 'rate limit exceeded', undefined, {
        ...rateHeaders(resetMs),
        'Retry-After': Math.max(1, Math.ceil((resetMs - now) / 1000)),
      });
    }
    rate.used++;
    const headers = rateHeaders(resetMs);

    try {
      const accept = parseAccept(req.headers.accept);
      const acceptable = accept.some(
        (m) =>
          m.type === '*/*' ||
          m.type === 'application/*' ||
          // JSON:API: a vnd.api+json range carrying parameters (other than q) does not count.
          (m.type === JSONAPI_MEDIA_TYPE && Object.keys(m.params).every((p) => p === 'q')),
      );
      if (!acceptable) fail(406, `Accept must include ${JSONAPI_MEDIA_TYPE}`, { header: 'Accept' });

      const segs = url.pathname.replace(/\/+$/, '').split('/').slice(3); // after '', 'api', 'v2'
      const [collection, rawId, ...extra] = segs;
      if (extra.length || !collection) fail(404, `no route for ${url.pathname}`);

      if (collection === 'users') {
        if (rawId === undefined) {
          if (method === 'GET') {
            requireScope(token, 'users.read');
            const r = listQuery(url.searchParams, userSpec, users);
            const doc: Record<string, unknown> = {
              data: r.page.map((u) => serializeUser(u, r.fields)),
              meta: { count: r.count },
              links: r.links,
            };
            if (r.include.length) doc.included = included(r.page, r.include);
            return reply(req, res, 200, doc, headers);
          }
          if (method === 'POST') {
            requireScope(token, 'users.write');
            const data = await readDocument(req);
            if (data.type === undefined) fail(400, 'data.type is required', { pointer: '/data/type' });
            if (data.type !== 'user') fail(409, `data.type must be 'user'`, { pointer: '/data/type' });
            // JSON:API: 403 for a client-generated id the server does not support.
            if (data.id !== undefined) fail(403, 'client-generated ids are not supported', { pointer: '/data/id' });
            const changes = validateUserWrite(data, undefined);
            const at = iso(clock.now());
            const last = users[users.length - 1];
            const u: SimUser = {
              id: (last?.id ?? 1000) + 1,
              firstName: changes.firstName!,
              lastName: changes.lastName!,
              email: changes.email!,
              username: changes.username ?? changes.email!,
              // Created users are active and unlocked; no invitation email is sent (the notes).
              locked: changes.locked ?? false,
              active: true,
              title: changes.title ?? null,
              phoneNumber: changes.phoneNumber ?? null,
              mobilePhoneNumber: changes.mobilePhoneNumber ?? null,
              timeZone: changes.timeZone ?? null,
              locale: changes.locale ?? null,
              externalId: changes.externalId ?? null,
              externalSource: changes.externalSource ?? null,
              createdAt: at,
              updatedAt: at,
              currentSignInAt: null,
              lastSignInAt: null,
              roleId: changes.roleId ?? null,
              profileId: changes.profileId ?? null,
              personKey: null,
              seedKind: 'created',
            };
            users.push(u);
            usersById.set(u.id, u);
            changed(u);
            return reply(req, res, 201, { data: serializeUser(u) }, { ...headers, Location: `${origin}/api/v2/users/${u.id}` });
          }
          fail(405, `${method} not allowed on /users`, undefined, { Allow: 'GET, POST' });
        }

        const id = pathId(rawId);
        if (method === 'GET') {
          requireScope(token, 'users.read');
          const u = usersById.get(id);
          if (!u) fail(404, `user ${id} not found`);
          const doc: Record<string, unknown> = { data: serializeUser(u) };
          for (const key of url.searchParams.keys()) {
            if (key !== 'include' && !key.startsWith('fields[')) fail(400, `unsupported query parameter '${key}'`, { parameter: key });
          }
          const inc = url.searchParams.get('include');
          if (inc) {
            const names = listOf(inc);
            const bad = names.find((n) => n !== 'role' && n !== 'profile');
            if (bad) fail(400, `cannot include '${bad}' on user`, { parameter: 'include' });
            doc.included = included([u], names);
          }
          return reply(req, res, 200, doc, headers);
        }
        if (method === 'PATCH') {
          requireScope(token, 'users.write');
          const data = await readDocument(req);
          const u = usersById.get(id);
          if (!u) fail(404, `user ${id} not found`);
          // JSON:API: type and id are required in the body; a mismatch with the endpoint is a 409.
          if (data.type === undefined) fail(400, 'data.type is required', { pointer: '/data/type' });
          if (data.id === undefined) fail(400, 'data.id is required and must equal the id in the path', { pointer: '/data/id' });
          // The spec types this id as integer; JSON:API and the notes say string. Strings only, see top.
          if (typeof data.id !== 'string') fail(400, 'data.id must be a string', { pointer: '/data/id' });
          if (data.type !== 'user') fail(409, `data.type must be 'user'`, { pointer: '/data/type' });
          if (data.id !== String(id)) fail(409, `data.id '${data.id}' does not match the path id ${id}`, { pointer: '/data/id' });
          const changes = validateUserWrite(data, u);
          let dirty = false;
          for (const [k, v] of Object.entries(changes) as [keyof SimUser, unknown][]) {
            if (u[k] !== v) {
              (u as unknown as Record<string, unknown>)[k] = v;
              dirty = true;
            }
          }
          // Rails semantics: a PATCH that changes nothing leaves updatedAt alone, so change pollers
          // (filter[updatedAt]) do not see phantom updates.
          if (dirty) {
            u.updatedAt = iso(clock.now());
            changed(u);
          }
          return reply(req, res, 200, { data: serializeUser(u) }, headers);
        }
        // No hard delete through REST (the notes); the spec has no DELETE on users either.
        fail(405, method === 'DELETE' ? 'users cannot be deleted via the REST API; PATCH locked: true instead' : `${method} not allowed`, undefined, {
          Allow: 'GET, PATCH',
        });
      }

      if (collection === 'roles' || collection === 'profiles') {
        const scope = collection === 'roles' ? 'roles.read' : 'profiles.read';
        if (method !== 'GET') fail(405, `${method} not allowed on /${collection}`, undefined, { Allow: 'GET' });
        requireScope(token, scope);
        if (rawId === undefined) {
          if (collection === 'roles') {
            const r = listQuery(url.searchParams, roleSpec, org.roles);
            return reply(req, res, 200, { data: r.page.map((x) => serializeRole(x, r.fields)), meta: { count: r.count }, links: r.links }, headers);
          }
          const r = listQuery(url.searchParams, profileSpec, org.profiles);
          return reply(req, res, 200, { data: r.page.map((x) => serializeProfile(x, r.fields)), meta: { count: r.count }, links: r.links }, headers);
        }
        const id = String(pathId(rawId));
        const item = collection === 'roles' ? rolesById.get(id) : profilesById.get(id);
        if (!item) fail(404, `${collection.slice(0, -1)} ${id} not found`);
        const data = collection === 'roles' ? serializeRole(item as SimRole) : serializeProfile(item as SimProfile);
        return reply(req, res, 200, { data }, headers);
      }

      fail(404, `no route for ${url.pathname}`);
    } catch (err) {
      // Rate-limit headers go on every counted response, errors included.
      if (err instanceof ApiError) throw new ApiError(err.status, err.errors, { ...headers, ...err.headers });
      throw err;
    }
  };

  // --- OAuth --------------------------------------------------------------------------------------------

  const send = (req: IncomingMessage, res: ServerResponse, r: OAuthReply) => reply(req, res, r.status, r.body, r.headers, 'application/json');

  const handleToken = async (req: IncomingMessage, res: ServerResponse) => {
    const ct = parseMediaType(req.headers['content-type']);
    let body: unknown;
    try {
      if (ct?.type === 'application/x-www-form-urlencoded') {
        body = Object.fromEntries(new URLSearchParams((await readBody(req)).toString('utf8')));
      } else if (ct?.type === 'application/json') {
        body = await readJsonBody(req);
        if (!isRecord(body)) return send(req, res, oauthError(400, 'invalid_request', 'body must be a JSON object'));
      } else {
        await readBody(req).catch(() => undefined);
        return send(req, res, oauthError(400, 'invalid_request', 'use application/x-www-form-urlencoded or application/json'));
      }
    } catch (err) {
      if (err instanceof HttpInputError) return send(req, res, oauthError(err.status, 'invalid_request', err.message));
      throw err;
    }
    send(req, res, oauth.token(req, body as Record<string, unknown>));
  };

  // --- dispatch -----------------------------------------------------------------------------------------

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const isApi = url.pathname === '/api/v2' || url.pathname.startsWith('/api/v2/');

    const fault = faults.take(req);
    if (fault) {
      if (fault.opts.dropConnection) {
        requests.push({ method: req.method ?? '', path: req.url ?? '', status: 0 });
        req.socket.destroy();
        return;
      }
      // Injected faults stand for an edge/load balancer answering: not counted, no rate-limit headers.
      const headers: Record<string, string | number> = {};
      if (fault.opts.retryAfterSec !== undefined) headers['Retry-After'] = fault.opts.retryAfterSec;
      const body = isApi ? { errors: [apiError(fault.status, 'injected fault')] } : { error: 'temporarily_unavailable', error_description: 'injected fault' };
      return reply(req, res, fault.status, body, headers, isApi ? JSONAPI_MEDIA_TYPE : 'application/json');
    }

    try {
      if (isApi) return await handleApi(req, res, url);
      if (url.pathname === '/oauth/authorize' && req.method === 'GET') return send(req, res, oauth.authorize(url));
      if (url.pathname === '/oauth/token' && req.method === 'POST') return await handleToken(req, res);
      return reply(req, res, 404, { error: 'not_found', error_description: `no route for ${req.method} ${url.pathname}` }, {}, 'application/json');
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof ApiError) return reply(req, res, err.status, { errors: err.errors }, err.headers);
      return reply(req, res, 500, { errors: [apiError(500, err instanceof Error ? err.message : String(err))] });
    }
  };

  // --- the SCIM link ------------------------------------------------------------------------------------

  const linkView = (): ScimLink => {
    // Mapping (the notes): SCIM `active` is the user's `active`: "active ... Deprovisioning sets active=false",
    // and SCIM deprovisioning "sets user to inactive"; a SCIM DELETE (which hides the user from SCIM) leaves
    // the data here with active false ("hard delete via SCIM DELETE may not permanently remove user data").
    // `locked` is independent: it is the REST deactivation ("deactivation is a PATCH setting locked: true"),
    // which SCIM does not see, so a locked user is still active: true in SCIM.
    const view = (u: SimUser): ScimLinkUser => ({
      id: String(u.id),
      email: u.email,
      givenName: u.firstName || null,
      familyName: u.lastName || null,
      title: u.title,
      timeZone: u.timeZone,
      active: u.active,
      created: Date.parse(u.createdAt),
      lastModified: Date.parse(u.updatedAt),
      personKey: u.personKey,
      kind: u.seedKind === 'case-duplicate' ? 'duplicate' : u.seedKind,
    });
    const find = (id: string) => (/^\d+$/.test(id) ? usersById.get(Number(id)) : undefined);
    return {
      seed: opts.seed ?? 42,
      list: () => users.map(view),
      get: (id) => {
        const u = find(id);
        return u ? view(u) : undefined;
      },
      update(id, c) {
        const u = find(id);
        if (!u) throw new RangeError(`no Outreach user ${id}`);
        let dirty = false;
        if (c.active !== undefined && u.active !== c.active) {
          u.active = c.active;
          dirty = true;
        }
        if (c.email !== undefined && u.email !== c.email) {
          // SCIM may change the login email, which REST cannot ("Cannot be updated via the API", the spec).
          if (u.username.toLowerCase() === u.email.toLowerCase()) u.username = c.email;
          u.email = c.email;
          dirty = true;
        }
        if (c.givenName !== undefined && u.firstName !== c.givenName) {
          u.firstName = c.givenName;
          dirty = true;
        }
        if (c.familyName !== undefined && u.lastName !== c.familyName) {
          u.lastName = c.familyName;
          dirty = true;
        }
        if (dirty) {
          u.updatedAt = iso(clock.now());
          changed(u);
        }
      },
      create(input) {
        const at = iso(clock.now());
        const last = users[users.length - 1];
        const u: SimUser = {
          id: (last?.id ?? 1000) + 1,
          firstName: input.givenName ?? '',
          lastName: input.familyName ?? '',
          email: input.email,
          username: input.email,
          locked: false,
          active: input.active,
          title: input.title,
          phoneNumber: null,
          mobilePhoneNumber: null,
          timeZone: input.timeZone,
          locale: null,
          // The notes: externalSource is "Set automatically when provisioned via SCIM"; externalId is "Used for
          // SCIM correlation".
          externalId: input.externalId,
          externalSource: 'scim',
          createdAt: at,
          updatedAt: at,
          currentSignInAt: null,
          lastSignInAt: null,
          // The notes: "group push maps to Outreach Teams, not to Roles or Profiles".
          roleId: null,
          profileId: null,
          personKey: null,
          seedKind: 'created',
        };
        users.push(u);
        usersById.set(u.id, u);
        changed(u);
        return view(u);
      },
      onChange: (listener) => changeListeners.add(listener),
    };
  };

  const { server, origin: listening } = await serveLoopback(handle, { latencyMs: opts.latencyMs });
  origin = listening;

  return {
    origin,
    baseUrl: `${origin}/api/v2`,
    tokenUrl: `${origin}/oauth/token`,
    authorizeUrl: `${origin}/oauth/authorize`,
    clientId,
    clientSecret,
    staticAccessToken,
    issueRefreshToken: () => oauth.mintRefresh(OUTREACH_SCOPES),
    issueAccessToken: (ttlMs?: number) => oauth.mintAccess(OUTREACH_SCOPES, ttlMs),
    setRateLimit(limit: number, windowMs: number) {
      if (!(limit >= 0) || !(windowMs > 0)) throw new RangeError('limit must be >= 0 and windowMs > 0');
      rate.reset(limit, windowMs);
    },
    failNext(count: number, status: number, o: FailNextOptions = {}) {
      faults.add(count, status, o);
    },
    requests,
    users: () => users.map((u) => ({ ...u })),
    roles: () => org.roles.map((r) => ({ ...r })),
    profiles: () => org.profiles.map((p) => ({ ...p })),
    linkUsers: () => linkView(),
    close: () => closeServer(server),
  };
}

import { randomBytes } from 'node:crypto';
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
  sendJson,
  serveLoopback,
  type ServeOptions,
  type FaultOptions,
} from './http-util.js';
import { OAuthServer, oauthError, type AccessGrant, type OAuthReply } from './oauth-server.js';
import { PEOPLE_AS_OF, generatePeople, type Person } from './people.js';
import { Rng, deriveSeed } from './prng.js';
import { LinkListeners, type ScimLink, type ScimLinkUser } from './link.js';

/*
 * Embedded SalesLoft simulator: a real HTTP server on loopback that behaves like api.salesloft.com/v2 for the
 * user-management endpoints, plus the OAuth token endpoint of accounts.salesloft.com (served on the same
 * origin). Sources: /work/shared/vendor-docs/salesloft-api.txt ("the notes"), rate-limits.md (SalesLoft's
 * current words on limits and the cursor poller) and the published OpenAPI document ("the spec", older).
 * Choices where they disagree or are silent:
 *
 * - Team scope (notes): the token belongs to one team. Users of another team exist in the data (same id space)
 *   and answer 404 by id, for reads and writes alike; listings never show them.
 * - Deactivated users: the notes hide them unless `include_deactivated=true`; the spec has no such parameter
 *   but `visible_only` (default true; false "shows all users ... Deactivated users are also included"). The
 *   option `deactivatedParam` selects ONE behaviour (default the notes'); the other parameter is then unknown
 *   and ignored, as a Rails API ignores unknown parameters. Tests use both to show a client is right under
 *   either. `active=true|false` filters (spec) after visibility. GET by id shows deactivated users.
 * - Unknown query parameters are ignored (Rails), which is what makes the two dialects above coexist.
 * - per_page: "[1, 100]" (spec), max 100 (notes). Outside the range: 422, not a silent clamp, so a client
 *   that would compute pages with the wrong size fails loudly here. Default 25 (notes; the spec's "returns all
 *   users without page" is not modelled: page defaults to 1).
 * - Sort: the cursor guide spells `sort=updated_at&sort_direction=ASC`, the spec `sort_by` (id, email, name,
 *   group, role for users). Both names are accepted (option `sortParam` makes the simulator honour only one,
 *   or none, so tests can show what a client does when its sort is ignored); keys id, email, name, group,
 *   role, updated_at, created_at; direction default DESC; ties in the sort key are ordered by id. Both names
 *   given with different values: 422.
 * - `updated_at[gt|gte|lt|lte]` / `created_at[...]`: compared with microsecond precision (the spec), values
 *   ISO 8601 with any offset. Timestamps are served with microseconds and the team's New York offset
 *   (e.g. "2026-03-04T10:22:10.123456-05:00"), so string comparison is wrong across DST and a client must
 *   parse them. The seed has users sharing one microsecond (bulk changes), including a group that straddles
 *   position 100 of the updated_at order, so a per_page=100 cursor walk meets a tie at its first boundary.
 * - Rate limit (rate-limits.md): `rateLimit.cost` (600) per `rateLimit.windowMs` (a minute) for the whole team,
 *   in fixed windows aligned to multiples of windowMs on the clock (so a time-scaled bench can use a 1 s
 *   "minute"). A request costs by its `page` parameter: 1..100 → 1, 101-150 → 3, 151-250 → 8, 251-500 → 10,
 *   501+ → 30; anything else 1. Every counted response, errors included, carries `x-ratelimit-endpoint-cost`
 *   and `x-ratelimit-remaining-minute`. A request that does not fit gets 429 WITHOUT Retry-After and is not
 *   charged. `consumeExternal(cost)` spends budget as the team's other integrations would. Requests with a
 *   missing or invalid token are not counted (they cannot be attributed to a team).
 * - Update: the spec documents PUT /v2/users/{id}.json with a form body; PATCH and JSON bodies are accepted
 *   too. Writable: active, role_id ("Admin", "User" or a custom role id), group_id, work_country. Deactivating
 *   the token's own user is refused (422). A write that changes nothing leaves updated_at alone.
 * - Paths: `/v2/users` (notes) and `/v2/users.json` (spec) are the same route.
 * - Roles: `/v2/roles` (notes) lists Admin, User and the custom roles; `/v2/custom_roles` (spec) only custom.
 * - Invitations: `/v2/pending_email_accounts` (notes). team_members (notes): one entry per active user.
 * - OAuth (notes: "OAuth 2.0 authorization code flow"): GET /oauth/authorize and POST /oauth/token of
 *   accounts.salesloft.com, served on this origin: authorization codes (PKCE S256 accepted), rotating refresh
 *   tokens (each works once; the response carries the next), client authentication in the form or HTTP
 *   Basic; no client_credentials grant. The static API key never expires. See oauth-server.ts.
 */

const DEFAULT_PEOPLE = 300;
const DEFAULT_RATE = { cost: 600, windowMs: 60_000 };
const DEFAULT_TOKEN_TTL_MS = 2 * 60 * 60 * 1000;
const DEFAULT_PER_PAGE = 25;
const MAX_PER_PAGE = 100;
const DAY_MS = 86_400_000;
const TEAM_ZONE = 'America/New_York';
const AS_OF_MS = Date.parse(`${PEOPLE_AS_OF}T00:00:00Z`);
const JSON_TYPE = 'application/json; charset=utf-8';

export const SALESLOFT_SCOPES = ['read', 'write'] as const;

export interface SalesloftSimOptions extends ServeOptions {
  clock?: Clock;
  /**
   * Users on the token's team, deactivated ones included (what a complete listing returns). Default: the
   * deterministic subset of the sandbox's 300 people that holds a SalesLoft seat.
   */
  userCount?: number;
  seed?: number;
  /** The team's budget: `cost` per `windowMs`. Default 600 per 60,000 ms. */
  rateLimit?: { cost: number; windowMs: number };
  /** The static API key the simulator accepts (default: a random one). */
  token?: string;
  clientId?: string;
  clientSecret?: string;
  tokenTtlMs?: number;
  /** Which parameter reveals deactivated users: the notes' (default) or the spec's `visible_only=false`. */
  deactivatedParam?: 'include_deactivated' | 'visible_only';
  /** Which spelling of the sort parameter is honoured; the others are ignored like any unknown parameter. */
  sortParam?: 'both' | 'sort' | 'sort_by' | 'none';
}

export interface SimSalesloftUser {
  id: number;
  guid: string;
  team_id: number;
  first_name: string;
  last_name: string;
  email: string;
  title: string | null;
  active: boolean;
  /** "Admin", "User" or a custom role id. */
  role_id: string;
  group_id: number | null;
  time_zone: string;
  work_country: string;
  crm_id: string | null;
  /** Microseconds since the epoch. */
  created_us: number;
  updated_us: number;
  /** As served, e.g. "2026-03-04T10:22:10.123456-05:00". */
  created_at: string;
  updated_at: string;
  /** Sandbox bookkeeping, never served: the generated person this seat belongs to. */
  personKey: string | null;
  /**
   * Sandbox bookkeeping: `other-team` users live in another team and must be invisible to the token;
   * `created` ones were provisioned through a linked SCIM simulator after start.
   */
  seedKind: 'person' | 'other-team' | 'created';
}

export interface SimRole {
  id: string;
  name: string;
  custom: boolean;
}

export interface SimGroup {
  id: number;
  name: string;
  parent_id: number | null;
}

export interface SimPendingInvitation {
  id: number;
  email: string;
  created_us: number;
}

export interface SalesloftOrg {
  teamId: number;
  otherTeamId: number;
  meId: number;
  roles: SimRole[];
  groups: SimGroup[];
  /** Both teams, sorted by id. */
  users: SimSalesloftUser[];
  pending: SimPendingInvitation[];
}

export interface SimRequestLogEntry {
  method: string;
  /** Path with query string, as sent. */
  path: string;
  /** 0 when the connection was dropped by failNext. */
  status: number;
  /** Cost charged to the team's budget (0 for 429s, faults and unauthenticated requests). */
  cost: number;
}

export type FailNextOptions = FaultOptions;

export interface SalesloftSim {
  origin: string;
  /** origin + '/v2' */
  baseUrl: string;
  /** origin + '/oauth/token' (accounts.salesloft.com in production) */
  tokenUrl: string;
  /** origin + '/oauth/authorize' (accounts.salesloft.com in production) */
  authorizeUrl: string;
  /** The static API key (never expires, every scope). */
  token: string;
  clientId: string;
  clientSecret: string;
  teamId: number;
  otherTeamId: number;
  /** The user the token belongs to (an admin of the team). */
  meId: number;
  /** A fresh, single-use refresh token for this client. */
  issueRefreshToken(): string;
  /** An OAuth access token expiring `ttlMs` from now (default tokenTtlMs). */
  issueAccessToken(ttlMs?: number, scopes?: string[]): string;
  /** Every user of both teams (copies), sorted by id; filter on `team_id === teamId` for the token's team. */
  users(): SimSalesloftUser[];
  roles(): SimRole[];
  groups(): SimGroup[];
  pendingInvitations(): SimPendingInvitation[];
  /** Every request answered so far, in order. Tests may clear it with `requests.length = 0`. */
  readonly requests: SimRequestLogEntry[];
  /** Total cost charged to the budget by requests (not by consumeExternal). */
  costSpent(): number;
  /** Budget spent in the current window by anyone, and what is left. */
  rateState(): { limit: number; windowMs: number; used: number; remaining: number; windowStart: number };
  /** Spends `cost` of the current window, as the team's other integrations would. */
  consumeExternal(cost: number): void;
  /** Replaces the budget and starts a fresh window. */
  setRateLimit(cost: number, windowMs: number): void;
  /** The next `count` requests (matching opts.path, if given) get `status` (or a dropped connection), uncharged. */
  failNext(count: number, status: number, opts?: FailNextOptions): void;
  /** Changes a user as the SalesLoft UI would (updated_at moves to now). */
  setUserActive(id: number, active: boolean): void;
  /**
   * The token's team as the store of a linked SCIM simulator (`startScimSimulator({ vendor: 'salesloft',
   * link })`): one user store behind both APIs. SCIM `active` is `active`; a SCIM write moves `updated_at` (so
   * the cursor walk sees it); a SCIM-created user is created here too (active, its invitation state stays in
   * the SCIM extension). See ScimLink in scim.ts.
   */
  linkUsers(): ScimLink;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// Time

const offsetFormat = new Intl.DateTimeFormat('en-US', { timeZone: TEAM_ZONE, timeZoneName: 'longOffset' });
const offsetCache = new Map<number, number>();

/** Minutes east of UTC in New York at `ms` (−300 or −240). */
function zoneOffsetMinutes(ms: number): number {
  const hour = Math.floor(ms / 3_600_000);
  let v = offsetCache.get(hour);
  if (v === undefined) {
    const name = offsetFormat.formatToParts(new Date(hour * 3_600_000)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
    const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
    v = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
    offsetCache.set(hour, v);
  }
  return v;
}

/** Microseconds since the epoch → "YYYY-MM-DDTHH:MM:SS.ffffff±hh:mm" in the team's zone. */
export function renderMicros(us: number): string {
  const secMs = Math.floor(us / 1_000_000) * 1000;
  const frac = String(us - secMs * 1000).padStart(6, '0');
  const off = zoneOffsetMinutes(secMs);
  const local = new Date(secMs + off * 60_000).toISOString().slice(0, 19);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${local}.${frac}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** ISO 8601 (date, or date-time with optional fraction and offset; UTC when none) → microseconds. */
export function parseTimestampMicros(raw: string): number | undefined {
  const m = ISO_RE.exec(raw.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac, zone] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms) || Number(mo) > 12 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  let off = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    off = (zone[0] === '-' ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
  }
  return (ms - off * 60_000) * 1000 + (frac ? Number(frac.padEnd(6, '0').slice(0, 6)) : 0);
}

/** SalesLoft's cost of a request by its `page` parameter (rate-limits.md). */
export function salesloftPageCost(page: number): number {
  if (page <= 100) return 1;
  if (page <= 150) return 3;
  if (page <= 250) return 8;
  if (page <= 500) return 10;
  return 30;
}

// ---------------------------------------------------------------------------------------------------------
// Seed

const GTM = new Set(['Sales', 'Sales Development', 'Customer Success', 'Revenue Operations', 'Executive', 'Solutions Engineering']);
const MANAGER_TITLES = new Set([
  'Sales Manager', 'SDR Manager', 'Regional Sales Director', 'Director of Customer Success',
  'Director of Solutions Engineering', 'Sales Operations Manager',
]);
const EXECUTIVE_TITLES = new Set(['VP of Sales', 'Chief Revenue Officer', 'VP of Marketing']);
const COUNTRY_BY_ZONE: Record<string, string> = {
  'Europe/London': 'GB',
  'Europe/Berlin': 'DE',
  'Asia/Singapore': 'SG',
  'Australia/Sydney': 'AU',
};
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const HEX = '0123456789abcdef';

function seatChance(p: Person): number {
  if (GTM.has(p.department)) return 0.95;
  if (p.department === 'Marketing') return 0.3;
  return 0.1;
}

function guidFrom(rng: Rng): string {
  let s = '';
  for (let i = 0; i < 32; i++) s += HEX[rng.int(0, 15)];
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-4${s.slice(13, 16)}-${'89ab'[rng.int(0, 3)]}${s.slice(17, 20)}-${s.slice(20, 32)}`;
}

function randomish(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[rng.int(0, ALNUM.length - 1)];
  return s;
}

/**
 * The org for a seed: deterministic for (userCount, seed), independent of the clock. The token's team holds
 * `userCount` users (default: the seated subset of the sandbox's 300 people; ~85%); about 60% of the leavers
 * are deactivated and the rest still active (the audit finding); ~3% are Admins (one of them a leaver still
 * active); every user's updated_at has microseconds; a few groups of users share one updated_at, one of them
 * straddling position 100 of the updated_at order. Another team (~3%, at least 3 users, domain
 * globex.example) shares the id space.
 */
export function buildSalesloftOrg(userCount?: number, seed = 42): SalesloftOrg {
  if (userCount !== undefined && (!Number.isInteger(userCount) || userCount < 0)) {
    throw new RangeError(`userCount must be a non-negative integer, got ${userCount}`);
  }
  const rng = new Rng(deriveSeed(seed, 'salesloft'));
  const teamId = 1000 + rng.int(0, 8999);
  const otherTeamId = teamId + rng.int(1, 500);

  // Seats: walk the people in order; each decision uses its own derived stream, so the first n people get the
  // same answer whatever the total (generatePeople is prefix-stable).
  const seatedOf = (people: Person[]) =>
    people.filter((p) => new Rng(deriveSeed(seed, `salesloft-seat-${p.key}`)).next() < seatChance(p));
  let people: Person[];
  let seated: Person[];
  if (userCount === undefined) {
    people = generatePeople(DEFAULT_PEOPLE, seed);
    seated = seatedOf(people);
  } else {
    let n = Math.ceil(userCount / 0.8) + 10;
    for (;;) {
      people = generatePeople(n, seed);
      seated = seatedOf(people);
      if (seated.length >= userCount) break;
      n *= 2;
    }
    seated = seated.slice(0, userCount);
  }
  const seatedKeys = new Set(seated.map((p) => p.key));

  // Roles: the two built-ins and custom roles with seed-dependent numeric ids.
  let roleIdNext = rng.int(10, 90);
  const custom = ['Sales Manager', 'SDR', 'Read Only'].map((name) => {
    const r: SimRole = { id: String(roleIdNext), name, custom: true };
    roleIdNext += rng.int(1, 7);
    return r;
  });
  const roles: SimRole[] = [{ id: 'Admin', name: 'Admin', custom: false }, { id: 'User', name: 'User', custom: false }, ...custom];
  const roleIdOf = (name: string) => roles.find((r) => r.name === name)!.id;

  // Groups: a hierarchy (parent_id), ids with gaps.
  let gid = 200 + rng.int(0, 300);
  const groups: SimGroup[] = [];
  const group = (name: string, parent: SimGroup | null) => {
    const g: SimGroup = { id: gid, name, parent_id: parent?.id ?? null };
    gid += rng.int(1, 6);
    groups.push(g);
    return g;
  };
  const revenue = group('Revenue', null);
  const sales = group('Sales', revenue);
  const salesAmericas = group('Sales - Americas', sales);
  const salesEmea = group('Sales - EMEA', sales);
  const salesApac = group('Sales - APAC', sales);
  const sdr = group('Sales Development', revenue);
  const cs = group('Customer Success', revenue);
  const revops = group('Revenue Operations', revenue);
  const marketing = group('Marketing', null);
  const groupFor = (p: Person): SimGroup | null => {
    switch (p.department) {
      case 'Sales':
      case 'Solutions Engineering':
      case 'Executive':
        if (p.timeZone.startsWith('Europe/')) return salesEmea;
        if (p.timeZone.startsWith('Asia/') || p.timeZone.startsWith('Australia/')) return salesApac;
        return salesAmericas;
      case 'Sales Development':
        return sdr;
      case 'Customer Success':
        return cs;
      case 'Revenue Operations':
        return revops;
      case 'Marketing':
        return marketing;
      default:
        return null;
    }
  };

  interface Draft extends Omit<SimSalesloftUser, 'id' | 'created_at' | 'updated_at'> {
    person: Person;
  }
  const drafts: Draft[] = [];
  const makeDraft = (p: Person, team: number, email: string, kind: SimSalesloftUser['seedKind']): Draft => {
    const startMs = Date.parse(`${p.startDate}T00:00:00Z`);
    const createdMs = Math.min(startMs + rng.int(0, 5) * DAY_MS + rng.int(13 * 60, 22 * 60) * 60_000 + rng.int(0, 59) * 1000, AS_OF_MS - DAY_MS);
    const endMs = p.terminatedOn ? Date.parse(`${p.terminatedOn}T00:00:00Z`) : AS_OF_MS;
    const updatedMs = Math.max(createdMs, Math.min(createdMs + rng.int(0, 500) * DAY_MS + rng.int(0, 86_399) * 1000, endMs));
    let roleName = 'User';
    if (MANAGER_TITLES.has(p.title) || EXECUTIVE_TITLES.has(p.title)) roleName = 'Sales Manager';
    else if (p.department === 'Sales Development') roleName = 'SDR';
    else if (p.department === 'Finance' || p.department === 'Marketing') roleName = rng.chance(0.5) ? 'Read Only' : 'User';
    const g = groupFor(p);
    return {
      guid: guidFrom(rng),
      team_id: team,
      first_name: p.firstName,
      last_name: p.lastName,
      email,
      title: p.title,
      active: true,
      role_id: roleIdOf(roleName),
      group_id: rng.chance(0.05) ? null : (g?.id ?? null),
      time_zone: p.timeZone,
      work_country: COUNTRY_BY_ZONE[p.timeZone] ?? 'US',
      crm_id: rng.chance(0.8) ? `005${randomish(rng, 15)}` : null,
      created_us: createdMs * 1000 + rng.int(0, 999_999),
      updated_us: updatedMs * 1000 + rng.int(0, 999_999),
      personKey: kind === 'person' ? p.key : null,
      seedKind: kind,
      person: p,
    };
  };

  const team: Draft[] = seated.map((p) => makeDraft(p, teamId, p.email, 'person'));
  drafts.push(...team);

  // Leavers: ~60% deactivated (updated at the offboarding), the rest still active.
  const leavers = rng.shuffle(team.filter((d) => d.person.employment === 'terminated'));
  const deactivateN = Math.round(leavers.length * 0.6);
  const stillActiveLeavers = leavers.slice(deactivateN);
  for (const d of leavers.slice(0, deactivateN)) {
    d.active = false;
    const endMs = Date.parse(`${d.person.terminatedOn}T00:00:00Z`);
    d.updated_us = Math.max(d.created_us, (endMs + rng.int(0, 4) * DAY_MS + rng.int(14 * 3600, 23 * 3600) * 1000) * 1000 + rng.int(0, 999_999));
  }
  // Admins: ~3%: one leaver still active (the finding), then RevOps, executives and managers.
  const adminTarget = Math.max(team.length > 0 ? 1 : 0, Math.round(team.length * 0.03));
  const admins: Draft[] = [];
  if (stillActiveLeavers.length > 0 && adminTarget > 1) admins.push(stillActiveLeavers[0]!);
  const employed = team.filter((d) => d.person.employment === 'active');
  const preferred = rng.shuffle(employed.filter((d) => d.person.department === 'Revenue Operations' || EXECUTIVE_TITLES.has(d.person.title) || MANAGER_TITLES.has(d.person.title)));
  for (const d of [...preferred, ...rng.shuffle(employed)]) {
    if (admins.length >= adminTarget) break;
    if (!admins.includes(d)) admins.push(d);
  }
  for (const d of admins) d.role_id = 'Admin';
  // The token's owner: the first employed admin (RevOps if any).
  const me = admins.find((d) => d.person.employment === 'active' && d.active) ?? team.find((d) => d.active);

  // The other team: a subsidiary on its own SalesLoft team, same id space, invisible to the token.
  const otherCount = team.length === 0 ? 0 : Math.max(3, Math.round(team.length * 0.03));
  for (const p of generatePeople(otherCount, seed + 7919)) {
    drafts.push(makeDraft(p, otherTeamId, p.email.replace(/@.*$/, '@globex.example'), 'other-team'));
  }

  // Ids follow creation order, with gaps, from a seed-dependent start.
  drafts.sort((a, b) => a.created_us - b.created_us || (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
  let nextId = 30_000 + rng.int(0, 9_000);
  const ids = new Map<Draft, number>();
  for (const d of drafts) {
    ids.set(d, nextId);
    nextId += rng.chance(0.2) ? rng.int(2, 6) : 1;
  }

  // Ties: bulk changes leave several users on one microsecond. One group straddles position 100 of the team's
  // updated_at order (so the first boundary of a 100-per-page cursor walk meets it); a few more sit well
  // inside pages.
  const byUpdated = [...team].sort((a, b) => a.updated_us - b.updated_us || ids.get(a)! - ids.get(b)!);
  const tie = (from: number, size: number) => {
    if (from < 0 || from + size > byUpdated.length) return;
    const t = byUpdated[from]!.updated_us;
    for (let i = from + 1; i < from + size; i++) byUpdated[i]!.updated_us = t;
  };
  if (byUpdated.length >= 110) tie(98, 4);
  const extraTies = Math.min(5, Math.floor(byUpdated.length / 50));
  for (let k = 0; k < extraTies; k++) {
    const base = Math.floor(((k + 1) * byUpdated.length) / (extraTies + 1));
    const from = base - (base % 100) + 20 + rng.int(0, 50);
    tie(Math.min(from, byUpdated.length - 3), rng.int(2, 3));
  }

  const users: SimSalesloftUser[] = drafts.map((d) => {
    const { person: _p, ...rest } = d;
    return { id: ids.get(d)!, ...rest, created_at: renderMicros(d.created_us), updated_at: renderMicros(d.updated_us) };
  });
  users.sort((a, b) => a.id - b.id);

  // Pending invitations: people without a seat who started recently, plus a few outside addresses.
  const pendingCount = team.length === 0 ? 0 : Math.max(2, Math.round(team.length * 0.01));
  let pid = 500 + rng.int(0, 400);
  const pending: SimPendingInvitation[] = [];
  const unseated = people.filter((p) => !seatedKeys.has(p.key) && p.employment === 'active').reverse();
  for (const p of unseated.slice(0, pendingCount)) {
    pending.push({ id: pid, email: p.email, created_us: (AS_OF_MS - rng.int(1, 20) * DAY_MS) * 1000 + rng.int(0, 999_999) });
    pid += rng.int(1, 4);
  }

  return { teamId, otherTeamId, meId: me ? ids.get(me)! : 0, roles, groups, users, pending };
}

// ---------------------------------------------------------------------------------------------------------
// Server

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string | number> = {},
  ) {
    super(String(body.error ?? status));
  }
}

/** Rails-style errors: `{error}` for 4xx without a field, `{errors: {field: [messages]}}` for validation. */
function fail(status: number, error: string, headers?: Record<string, string | number>): never {
  throw new ApiError(status, { error }, headers);
}
function invalid(field: string, message: string): never {
  throw new ApiError(422, { errors: { [field]: [message] } });
}

const SORT_KEYS = ['id', 'email', 'name', 'group', 'role', 'updated_at', 'created_at'] as const;

export async function startSalesloftSimulator(opts: SalesloftSimOptions = {}): Promise<SalesloftSim> {
  const clock = opts.clock ?? systemClock;
  const clientId = opts.clientId ?? 'sandbox-salesloft-client';
  const clientSecret = opts.clientSecret ?? 'sandbox-salesloft-secret';
  const tokenTtlMs = opts.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS;
  const deactivatedParam = opts.deactivatedParam ?? 'include_deactivated';
  const sortParam = opts.sortParam ?? 'both';
  const org = buildSalesloftOrg(opts.userCount, opts.seed ?? 42);
  const users = org.users;
  const usersById = new Map(users.map((u) => [u.id, u]));
  const rolesById = new Map(org.roles.map((r) => [r.id, r]));
  const groupsById = new Map(org.groups.map((g) => [g.id, g]));
  const rateLimit = opts.rateLimit ?? DEFAULT_RATE;
  if (!(rateLimit.cost >= 0) || !(rateLimit.windowMs > 0)) throw new RangeError('rateLimit.cost must be >= 0 and rateLimit.windowMs > 0');
  const rate = new FixedWindow(clock, rateLimit.cost, rateLimit.windowMs);

  const oauth = new OAuthServer({
    clock,
    clientId,
    clientSecret,
    tokenTtlMs,
    grants: ['authorization_code', 'refresh_token'],
    allScopes: SALESLOFT_SCOPES,
    prefix: { access: 'sl_at_', refresh: 'sl_rt_', code: 'sl_ac_' },
    tokenType: 'bearer',
    realm: 'salesloft',
  });
  const faults = new FaultQueue<FailNextOptions>();
  const requests: SimRequestLogEntry[] = [];
  let charged = 0;
  let lastWriteUs = 0;

  const staticToken = opts.token ?? newSecret('sl_key_');
  oauth.addStaticToken(staticToken, SALESLOFT_SCOPES);

  /** A write's timestamp: the clock's microsecond, strictly after the previous write's. */
  const nowMicros = () => {
    lastWriteUs = Math.max(clock.now() * 1000, lastWriteUs + 1);
    return lastWriteUs;
  };
  /** Bumped on every change to a user; sorted listings are cached per version (30,000-user benches). */
  let version = 0;
  /** linkUsers() listeners: told the id of every user that changed or was created, by any route. */
  const changeListeners = new LinkListeners();
  const touch = (u: SimSalesloftUser) => {
    u.updated_us = nowMicros();
    u.updated_at = renderMicros(u.updated_us);
    version++;
    changeListeners.notify(String(u.id));
  };

  let origin = '';

  // --- rate limit ---------------------------------------------------------------------------------------

  const rateHeaders = (cost: number): Record<string, string | number> => ({
    'x-ratelimit-endpoint-cost': cost,
    'x-ratelimit-remaining-minute': rate.remaining(),
  });

  // --- responses ----------------------------------------------------------------------------------------

  const reply = (req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string | number> = {}, cost = 0) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', status, cost });
    sendJson(res, status, body, headers, JSON_TYPE);
  };

  // --- serialisation ------------------------------------------------------------------------------------

  const href = (path: string) => `${origin}/v2/${path}`;
  const fullName = (u: SimSalesloftUser) => `${u.first_name} ${u.last_name}`;
  const roleRef = (id: string) => ({ id, name: rolesById.get(id)?.name ?? id, _href: rolesById.get(id)?.custom ? href(`custom_roles/${id}`) : null });
  const groupRef = (id: number | null) => (id === null ? null : { id, name: groupsById.get(id)?.name ?? null, _href: href(`groups/${id}`) });

  const serializeUser = (u: SimSalesloftUser) => ({
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
    role: roleRef(u.role_id),
    group: groupRef(u.group_id),
    team: { id: u.team_id, _href: href('team') },
    team_id: u.team_id,
    team_admin: u.role_id === 'Admin',
    time_zone: u.time_zone,
    slug: `${u.first_name}-${u.last_name}-${u.id}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-'),
    crm_id: u.crm_id,
    work_country: u.work_country,
    email_client_configured: u.active,
    created_at: u.created_at,
    updated_at: u.updated_at,
  });

  // --- query parsing ------------------------------------------------------------------------------------

  const intParam = (q: URLSearchParams, name: string, dflt: number, min: number, max: number): number => {
    const raw = q.get(name);
    if (raw === null || raw === '') return dflt;
    if (!/^\d+$/.test(raw)) invalid(name, 'must be an integer');
    const n = Number(raw);
    if (n < min || n > max) invalid(name, `must be in the range [${min}, ${max}]`);
    return n;
  };
  const boolParam = (q: URLSearchParams, name: string): boolean | undefined => {
    const raw = q.get(name);
    if (raw === null || raw === '') return undefined;
    if (raw !== 'true' && raw !== 'false') invalid(name, 'must be true or false');
    return raw === 'true';
  };
  const listParam = (q: URLSearchParams, name: string): string[] | undefined => {
    const values = [...q.getAll(name), ...q.getAll(`${name}[]`)];
    if (values.length === 0) return undefined;
    return values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  };

  /** `field[gt|gte|lt|lte]` comparisons, microsecond precision. */
  const timeFilters = (q: URLSearchParams, field: 'updated_at' | 'created_at', get: (u: SimSalesloftUser) => number) => {
    const preds: ((u: SimSalesloftUser) => boolean)[] = [];
    const applied: Record<string, string> = {};
    for (const op of ['gt', 'gte', 'lt', 'lte'] as const) {
      const raw = q.get(`${field}[${op}]`);
      if (raw === null) continue;
      const t = parseTimestampMicros(raw);
      if (t === undefined) invalid(`${field}[${op}]`, 'must be an iso8601 timestamp');
      applied[`${field}[${op}]`] = raw;
      preds.push(
        op === 'gt' ? (u) => get(u) > t : op === 'gte' ? (u) => get(u) >= t : op === 'lt' ? (u) => get(u) < t : (u) => get(u) <= t,
      );
    }
    return { preds, applied };
  };

  interface Paged<T> {
    page: T[];
    paging: Record<string, number | null>;
  }
  const paginate = <T>(q: URLSearchParams, items: T[]): Paged<T> => {
    const page = intParam(q, 'page', 1, 1, Number.MAX_SAFE_INTEGER);
    const perPage = intParam(q, 'per_page', DEFAULT_PER_PAGE, 1, MAX_PER_PAGE);
    const totalPages = Math.ceil(items.length / perPage);
    const paging: Record<string, number | null> = {
      per_page: perPage,
      current_page: page,
      next_page: page < totalPages ? page + 1 : null,
      prev_page: page > 1 ? page - 1 : null,
    };
    if (boolParam(q, 'include_paging_counts')) {
      paging.total_pages = totalPages;
      paging.total_count = items.length;
    }
    return { page: items.slice((page - 1) * perPage, page * perPage), paging };
  };

  const teamUsers = () => users.filter((u) => u.team_id === org.teamId);
  const sortedCache = new Map<string, { version: number; list: SimSalesloftUser[] }>();
  const sortedTeamUsers = (cacheKey: string, compare: (a: SimSalesloftUser, b: SimSalesloftUser) => number): SimSalesloftUser[] => {
    const hit = sortedCache.get(cacheKey);
    if (hit && hit.version === version) return hit.list;
    const list = teamUsers().sort(compare);
    sortedCache.set(cacheKey, { version, list });
    return list;
  };

  const listUsers = (q: URLSearchParams) => {
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
    if (!(SORT_KEYS as readonly string[]).includes(sortBy)) invalid('sort_by', `must be one of: ${SORT_KEYS.join(', ')}`);
    const dirRaw = (q.get('sort_direction') ?? 'DESC').toUpperCase();
    if (dirRaw !== 'ASC' && dirRaw !== 'DESC') invalid('sort_direction', 'must be one of: ASC, DESC');
    const key = (u: SimSalesloftUser): string | number => {
      switch (sortBy) {
        case 'email':
          return u.email.toLowerCase();
        case 'name':
          return fullName(u).toLowerCase();
        case 'group':
          return u.group_id === null ? '' : (groupsById.get(u.group_id)?.name ?? '');
        case 'role':
          return rolesById.get(u.role_id)?.name ?? u.role_id;
        case 'updated_at':
          return u.updated_us;
        case 'created_at':
          return u.created_us;
        default:
          return u.id;
      }
    };
    const sign = dirRaw === 'ASC' ? 1 : -1;
    const matched = sortedTeamUsers(`${sortBy}:${dirRaw}`, (a, b) => {
      const x = key(a);
      const y = key(b);
      if (x < y) return -sign;
      if (x > y) return sign;
      return (a.id - b.id) * sign;
    }).filter((u) => preds.every((p) => p(u)));
    const { page, paging } = paginate(q, matched);
    return { data: page.map(serializeUser), metadata: { filtering, paging, sorting: { sort_by: sortBy, sort_direction: dirRaw } } };
  };

  // --- writes -------------------------------------------------------------------------------------------

  const readParams = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    const ct = parseMediaType(req.headers['content-type']);
    let buf: Buffer;
    try {
      buf = await readBody(req);
    } catch (err) {
      if (err instanceof HttpInputError) fail(err.status, err.message);
      throw err;
    }
    const text = buf.toString('utf8');
    if (text.trim() === '') return {};
    if (ct?.type === 'application/json') {
      try {
        const v = JSON.parse(text) as unknown;
        if (!v || typeof v !== 'object' || Array.isArray(v)) fail(400, 'body must be a JSON object');
        return v as Record<string, unknown>;
      } catch (err) {
        if (err instanceof ApiError) throw err;
        fail(400, 'body is not valid JSON');
      }
    }
    if (ct?.type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(text));
    fail(415, 'use application/x-www-form-urlencoded or application/json');
  };

  const updateUser = (u: SimSalesloftUser, params: Record<string, unknown>, token: AccessGrant) => {
    if (!token.scopes.has('write')) fail(403, 'the token lacks the write scope');
    const changes: Partial<SimSalesloftUser> = {};
    if ('active' in params) {
      const v = params.active;
      const b = v === true || v === 'true' ? true : v === false || v === 'false' ? false : undefined;
      if (b === undefined) invalid('active', 'must be true or false');
      if (b === false && u.id === org.meId) invalid('active', 'you cannot deactivate your own user');
      changes.active = b;
    }
    if ('role_id' in params) {
      const v = String(params.role_id);
      if (!rolesById.has(v)) invalid('role_id', 'must be one of: Admin, User, or a custom role ID');
      changes.role_id = v;
    }
    if ('group_id' in params) {
      const v = params.group_id;
      if (v === null || v === '') changes.group_id = null;
      else if (!/^\d+$/.test(String(v)) || !groupsById.has(Number(v))) invalid('group_id', 'is not a group of this team');
      else changes.group_id = Number(v);
    }
    if ('work_country' in params) {
      const v = String(params.work_country);
      if (!/^[A-Z]{2}$/.test(v)) invalid('work_country', 'must be an ISO 3166 alpha-2 code');
      changes.work_country = v;
    }
    let changed = false;
    for (const [k, v] of Object.entries(changes) as [keyof SimSalesloftUser, unknown][]) {
      if (u[k] !== v) {
        (u as unknown as Record<string, unknown>)[k] = v;
        changed = true;
      }
    }
    if (changed) touch(u);
  };

  // --- API ----------------------------------------------------------------------------------------------

  const teamUser = (raw: string): SimSalesloftUser => {
    const u = /^\d+$/.test(raw) ? usersById.get(Number(raw)) : undefined;
    // Team scope (notes): another team's user is indistinguishable from a missing one.
    if (!u || u.team_id !== org.teamId) fail(404, 'Not Found');
    return u;
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const method = req.method ?? 'GET';
    const bearer = oauth.verifyBearer(req.headers.authorization);
    if (bearer.failure === 'missing') fail(401, 'Not Authorized', { 'WWW-Authenticate': 'Bearer realm="salesloft"' });
    if (bearer.failure) {
      const expired = bearer.failure === 'expired' ? ', error_description="token expired"' : '';
      fail(401, 'Not Authorized', { 'WWW-Authenticate': `Bearer realm="salesloft", error="invalid_token"${expired}` });
    }
    const token = bearer.grant;

    // Cost by the page parameter (an unreadable page costs 1 and is refused below).
    const pageRaw = url.searchParams.get('page');
    const cost = method === 'GET' && pageRaw !== null && /^\d+$/.test(pageRaw) ? salesloftPageCost(Number(pageRaw)) : 1;
    rate.roll();
    if (rate.used + cost > rate.limit) {
      // No Retry-After (rate-limits.md): the client must back off on its own.
      throw new ApiError(429, { error: 'Rate limit exceeded' }, rateHeaders(cost));
    }
    rate.used += cost;
    charged += cost;
    const headers = { ...rateHeaders(cost), 'x-request-id': randomBytes(8).toString('hex') };

    try {
      const segs = url.pathname.replace(/\/+$/, '').replace(/\.json$/, '').split('/').slice(2); // after '', 'v2'
      const [collection, rawId, ...extra] = segs;
      if (extra.length || !collection) fail(404, 'Not Found');
      const q = url.searchParams;
      const get = () => {
        if (method !== 'GET') fail(405, 'Method Not Allowed', { Allow: 'GET' });
        if (!token.scopes.has('read')) fail(403, 'the token lacks the read scope');
      };

      switch (collection) {
        case 'me': {
          if (rawId !== undefined) fail(404, 'Not Found');
          get();
          return reply(req, res, 200, { data: serializeUser(usersById.get(org.meId)!) }, headers, cost);
        }
        case 'users': {
          if (rawId === undefined) {
            get();
            return reply(req, res, 200, listUsers(q), headers, cost);
          }
          const u = teamUser(rawId);
          if (method === 'GET') {
            get();
            return reply(req, res, 200, { data: serializeUser(u) }, headers, cost);
          }
          if (method === 'PUT' || method === 'PATCH') {
            updateUser(u, await readParams(req), token);
            return reply(req, res, 200, { data: serializeUser(u) }, headers, cost);
          }
          // No user creation or deletion through REST (the notes: provisioning is SCIM or the UI).
          fail(405, 'Method Not Allowed', { Allow: 'GET, PUT, PATCH' });
          break;
        }
        case 'team_members': {
          if (rawId !== undefined) fail(404, 'Not Found');
          get();
          const members = teamUsers()
            .filter((u) => u.active)
            .map((u) => ({
              id: u.id + 7_000_000,
              user: { id: u.id, name: fullName(u), _href: href(`users/${u.id}`) },
              group: groupRef(u.group_id),
              role: roleRef(u.role_id),
              created_at: u.created_at,
              updated_at: u.updated_at,
            }));
          const { page, paging } = paginate(q, members);
          return reply(req, res, 200, { data: page, metadata: { paging } }, headers, cost);
        }
        case 'groups': {
          get();
          if (rawId !== undefined) {
            const g = /^\d+$/.test(rawId) ? groupsById.get(Number(rawId)) : undefined;
            if (!g) fail(404, 'Not Found');
            return reply(req, res, 200, { data: { ...g, accessible_groups: [] } }, headers, cost);
          }
          const { page, paging } = paginate(q, org.groups.map((g) => ({ ...g, accessible_groups: [] })));
          return reply(req, res, 200, { data: page, metadata: { paging } }, headers, cost);
        }
        case 'roles':
        case 'custom_roles': {
          if (rawId !== undefined) fail(404, 'Not Found');
          get();
          const list = org.roles.filter((r) => collection === 'roles' || r.custom).map((r) => ({ id: r.id, name: r.name }));
          const { page, paging } = paginate(q, list);
          return reply(req, res, 200, { data: page, metadata: { paging } }, headers, cost);
        }
        case 'pending_email_accounts': {
          if (rawId !== undefined) fail(404, 'Not Found');
          get();
          const list = org.pending.map((p) => ({ id: p.id, email: p.email, created_at: renderMicros(p.created_us), updated_at: renderMicros(p.created_us) }));
          const { page, paging } = paginate(q, list);
          return reply(req, res, 200, { data: page, metadata: { paging } }, headers, cost);
        }
        default:
          fail(404, 'Not Found');
      }
    } catch (err) {
      // Rate-limit headers go on every counted response, errors included.
      if (err instanceof ApiError) throw new ApiError(err.status, err.body, { ...headers, ...err.headers });
      throw err;
    }
  };

  // --- OAuth --------------------------------------------------------------------------------------------

  const send = (req: IncomingMessage, res: ServerResponse, r: OAuthReply) => reply(req, res, r.status, r.body, r.headers);

  const handleToken = async (req: IncomingMessage, res: ServerResponse) => {
    let body: Record<string, unknown>;
    try {
      body = await readParams(req);
    } catch (err) {
      // Whatever was wrong with the body (size, media type, JSON), the token endpoint says so the OAuth way.
      if (err instanceof ApiError) return send(req, res, oauthError(400, 'invalid_request', String(err.body.error ?? 'bad request')));
      throw err;
    }
    send(req, res, oauth.token(req, body));
  };

  // --- dispatch -----------------------------------------------------------------------------------------

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const fault = faults.take(req);
    if (fault) {
      if (fault.opts.dropConnection) {
        requests.push({ method: req.method ?? '', path: req.url ?? '', status: 0, cost: 0 });
        req.socket.destroy();
        return;
      }
      // Injected faults stand for an edge/load balancer answering: not charged, no rate-limit headers.
      return reply(req, res, fault.status, { error: 'injected fault' });
    }
    try {
      if (url.pathname === '/v2' || url.pathname.startsWith('/v2/')) return await handleApi(req, res, url);
      if (url.pathname === '/oauth/token' && req.method === 'POST') return await handleToken(req, res);
      if (url.pathname === '/oauth/authorize' && req.method === 'GET') return send(req, res, oauth.authorize(url));
      return reply(req, res, 404, { error: 'Not Found' });
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof ApiError) {
        const cost = err.status === 429 || err.status === 401 ? 0 : Number(err.headers['x-ratelimit-endpoint-cost'] ?? 0);
        return reply(req, res, err.status, err.body, err.headers, cost);
      }
      return reply(req, res, 500, { error: err instanceof Error ? err.message : String(err) });
    }
  };

  // --- the SCIM link ------------------------------------------------------------------------------------

  const linkView = (): ScimLink => {
    // Mapping (the notes): SCIM `active` is the user's `active` ("active: Setting to false deactivates the
    // user"; deprovisioning is "PATCH /scim/v2/Users/{id} with active=false; this deactivates the account but
    // does not delete it"), and "User deletion via SCIM deactivates the user rather than permanently deleting
    // the account", so a SCIM DELETE is active: false here too. The SCIM token, like the API key, covers one
    // team: other teams' users are not in the link. Changes go through touch(), so updated_at moves and the
    // cursor poller (updated_at[gt]) finds them.
    const view = (u: SimSalesloftUser): ScimLinkUser => ({
      id: String(u.id),
      email: u.email,
      givenName: u.first_name || null,
      familyName: u.last_name || null,
      title: u.title,
      timeZone: u.time_zone,
      active: u.active,
      created: Math.floor(u.created_us / 1000),
      lastModified: Math.floor(u.updated_us / 1000),
      personKey: u.personKey,
      kind: u.seedKind === 'created' ? 'created' : 'person',
    });
    const find = (id: string) => {
      const u = /^\d+$/.test(id) ? usersById.get(Number(id)) : undefined;
      return u && u.team_id === org.teamId ? u : undefined;
    };
    return {
      seed: opts.seed ?? 42,
      list: () => teamUsers().map(view),
      get: (id) => {
        const u = find(id);
        return u ? view(u) : undefined;
      },
      update(id, c) {
        const u = find(id);
        if (!u) throw new RangeError(`no SalesLoft user ${id} on team ${org.teamId}`);
        let dirty = false;
        // Not the REST rule against deactivating the token's own user: the IdP may deprovision anyone.
        if (c.active !== undefined && u.active !== c.active) {
          u.active = c.active;
          dirty = true;
        }
        if (c.email !== undefined && u.email !== c.email) {
          u.email = c.email;
          dirty = true;
        }
        if (c.givenName !== undefined && u.first_name !== c.givenName) {
          u.first_name = c.givenName;
          dirty = true;
        }
        if (c.familyName !== undefined && u.last_name !== c.familyName) {
          u.last_name = c.familyName;
          dirty = true;
        }
        if (dirty) touch(u);
      },
      create(input) {
        // The notes: "For provisioning, SCIM 2.0 ... is the only supported path for user creation".
        const id = (users.reduce((max, x) => Math.max(max, x.id), 0) || 30_000) + 1;
        const rng = new Rng(deriveSeed(opts.seed ?? 42, `salesloft-scim-created-${id}`));
        const zone = input.timeZone && isTimeZone(input.timeZone) ? input.timeZone : TEAM_ZONE;
        const us = nowMicros();
        const u: SimSalesloftUser = {
          id,
          guid: guidFrom(rng),
          team_id: org.teamId,
          first_name: input.givenName ?? '',
          last_name: input.familyName ?? '',
          email: input.email,
          title: input.title,
          active: input.active,
          role_id: 'User',
          group_id: null,
          time_zone: zone,
          work_country: COUNTRY_BY_ZONE[zone] ?? 'US',
          crm_id: null,
          created_us: us,
          updated_us: us,
          created_at: renderMicros(us),
          updated_at: renderMicros(us),
          personKey: null,
          seedKind: 'created',
        };
        users.push(u); // ids only grow, so users stays sorted by id
        usersById.set(u.id, u);
        version++;
        changeListeners.notify(String(u.id));
        return view(u);
      },
      onChange: (listener) => changeListeners.add(listener),
    };
  };

  const { server, origin: listening } = await serveLoopback(handle, { latencyMs: opts.latencyMs });
  origin = listening;

  const copy = (u: SimSalesloftUser): SimSalesloftUser => ({ ...u });
  return {
    origin,
    baseUrl: `${origin}/v2`,
    tokenUrl: `${origin}/oauth/token`,
    authorizeUrl: `${origin}/oauth/authorize`,
    token: staticToken,
    clientId,
    clientSecret,
    teamId: org.teamId,
    otherTeamId: org.otherTeamId,
    meId: org.meId,
    issueRefreshToken: () => oauth.mintRefresh(SALESLOFT_SCOPES),
    issueAccessToken: (ttlMs?: number, scopes?: string[]) => oauth.mintAccess(scopes ?? SALESLOFT_SCOPES, ttlMs),
    users: () => users.map(copy),
    roles: () => org.roles.map((r) => ({ ...r })),
    groups: () => org.groups.map((g) => ({ ...g })),
    pendingInvitations: () => org.pending.map((p) => ({ ...p })),
    requests,
    costSpent: () => charged,
    rateState() {
      rate.roll();
      return { limit: rate.limit, windowMs: rate.windowMs, used: rate.used, remaining: rate.remaining(), windowStart: rate.start };
    },
    consumeExternal(cost: number) {
      rate.roll();
      rate.used += Math.max(0, cost);
    },
    setRateLimit(cost: number, windowMs: number) {
      if (!(cost >= 0) || !(windowMs > 0)) throw new RangeError('cost must be >= 0 and windowMs > 0');
      rate.reset(cost, windowMs);
    },
    failNext(count: number, status: number, o: FailNextOptions = {}) {
      faults.add(count, status, o);
    },
    setUserActive(id: number, active: boolean) {
      const u = usersById.get(id);
      if (!u) throw new RangeError(`no user ${id}`);
      if (u.active !== active) {
        u.active = active;
        touch(u);
      }
    },
    linkUsers: () => linkView(),
    close: () => closeServer(server),
  };
}

/** Whether `zone` is an IANA zone this runtime knows. */
function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

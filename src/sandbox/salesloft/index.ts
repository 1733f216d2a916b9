import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../../clock.js';
import {
  FaultQueue,
  FixedWindow,
  SimError,
  bearerChallenge,
  closeServer,
  exchange,
  recorded,
  newSecret,
  serveLoopback,
  simulatorHandler,
  type FaultOptions,
  type ServeOptions,
} from '../http-util.js';
import type { ScimLink } from '../link.js';
import { OAuthServer } from '../oauth-server.js';
import { Router, splitPath } from '../router.js';
import { fail, rateHeaders, reply, salesloftPageCost, type SalesloftCall, type SalesloftEnv, type SimRequestLogEntry } from './http.js';
import { API_ROUTES, ROOT_ROUTES } from './routes.js';
import type { SimGroup, SimPendingInvitation, SimRole, SimSalesloftUser } from './seed.js';
import { SalesloftStore } from './store.js';
import type { BigBook, SimCadence, SimPerson, SimSlAccount, SimSlTask } from './book.js';

export { salesloftPageCost, type SimRequestLogEntry } from './http.js';
export { buildSalesloftOrg, type SalesloftOrg, type SimGroup, type SimPendingInvitation, type SimRole, type SimSalesloftUser } from './seed.js';
export { parseTimestampMicros, renderMicros } from './time.js';
export { DEFAULT_BIG_BOOK, buildSalesloftBook, emailClientOf, type BigBook, type SimCadence, type SimPerson, type SimSlAccount, type SimSlTask } from './book.js';

/*
 * Embedded SalesLoft simulator: a real HTTP server on loopback that behaves like api.salesloft.com/v2 for the
 * user-management endpoints and what users own (people, accounts, cadences, tasks: handlers/records.ts), plus the OAuth token endpoint of accounts.salesloft.com (served on the same
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
 *   too (on users only: the record PUTs take the spec's form bodies alone, see handlers/records.ts). Writable: active, role_id ("Admin", "User" or a custom role id), group_id, work_country. Deactivating
 *   the token's own user is refused (422). A write that changes nothing leaves updated_at alone.
 * - Paths: `/v2/users` (notes) and `/v2/users.json` (spec) are the same route.
 * - Roles: `/v2/roles` (notes) lists Admin, User and the custom roles; `/v2/custom_roles` (spec) only custom.
 * - Invitations: `/v2/pending_email_accounts` (notes). team_members (notes): one entry per active user.
 * - OAuth (notes: "OAuth 2.0 authorization code flow"): GET /oauth/authorize and POST /oauth/token of
 *   accounts.salesloft.com, served on this origin: authorization codes (PKCE S256 accepted), rotating refresh
 *   tokens (each works once; the response carries the next), client authentication in the form or HTTP
 *   Basic; no client_credentials grant. The static API key never expires. See oauth-server.ts.
 *
 * Layout: time.ts (microsecond timestamps), seed.ts (the org), book.ts (what users own, email clients),
 * store.ts (users, roles, groups, invitations, records; touch() and the SCIM link), http.ts (log, Rails
 * errors, parameters, paging, cost), handlers/ (users, team, records), routes.ts (the table).
 */

const DEFAULT_RATE = { cost: 600, windowMs: 60_000 };
const DEFAULT_TOKEN_TTL_MS = 2 * 60 * 60 * 1000;

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
  /** One user of the team (by email) also owns `count` records of each type (default 5,000): a big hand-over to measure. */
  bigBook?: BigBook;
  /**
   * false: nobody owns records and no mailbox is connected (a tenant before anyone worked in it), for tests of
   * deactivation alone. Default true: the seeded books.
   */
  books?: boolean;
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
  /** Snapshots (copies) of what users own, both teams, in id order (filter on `team_id === teamId`). */
  people(): SimPerson[];
  accounts(): SimSlAccount[];
  cadences(): SimCadence[];
  tasks(): SimSlTask[];
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
  /** Drops every fault failNext queued that has not been served yet; returns how many there were. */
  clearFaults(): number;
  /** Changes a user as the SalesLoft UI would (updated_at moves to now). */
  setUserActive(id: number, active: boolean): void;
  /**
   * The token's team as the store of a linked SCIM simulator (`startScimSimulator({ vendor: 'salesloft',
   * link })`): one user store behind both APIs. SCIM `active` is `active`; a SCIM write moves `updated_at` (so
   * the cursor walk sees it); a SCIM-created user is created here too (active, its invitation state stays in
   * the SCIM extension). See ScimLink in link.ts.
   */
  linkUsers(): ScimLink;
  close(): Promise<void>;
}

const apiRouter = new Router(API_ROUTES);
const rootRouter = new Router(ROOT_ROUTES);

export async function startSalesloftSimulator(opts: SalesloftSimOptions = {}): Promise<SalesloftSim> {
  const clock = opts.clock ?? systemClock;
  const clientId = opts.clientId ?? 'sandbox-salesloft-client';
  const clientSecret = opts.clientSecret ?? 'sandbox-salesloft-secret';
  const store = new SalesloftStore(clock, opts.seed ?? 42, opts.userCount, opts.books === false ? null : opts.bigBook);
  const rateLimit = opts.rateLimit ?? DEFAULT_RATE;
  if (!(rateLimit.cost >= 0) || !(rateLimit.windowMs > 0)) throw new RangeError('rateLimit.cost must be >= 0 and rateLimit.windowMs > 0');

  const oauth = new OAuthServer({
    clock,
    clientId,
    clientSecret,
    tokenTtlMs: opts.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS,
    grants: ['authorization_code', 'refresh_token'],
    allScopes: SALESLOFT_SCOPES,
    prefix: { access: 'sl_at_', refresh: 'sl_rt_', code: 'sl_ac_' },
    tokenType: 'bearer',
    realm: 'salesloft',
  });
  const staticToken = opts.token ?? newSecret('sl_key_');
  oauth.addStaticToken(staticToken, SALESLOFT_SCOPES);
  const env: SalesloftEnv = {
    clock,
    store,
    oauth,
    rate: new FixedWindow(clock, rateLimit.cost, rateLimit.windowMs),
    deactivatedParam: opts.deactivatedParam ?? 'include_deactivated',
    sortParam: opts.sortParam ?? 'both',
    requests: [],
    charged: 0,
    origin: '',
  };
  const faults = new FaultQueue<FailNextOptions>();

  const api = async (c: SalesloftCall) => {
    const bearer = oauth.verifyBearer(c.req.headers.authorization);
    if (bearer.failure === 'missing') fail(401, 'Not Authorized', { 'WWW-Authenticate': bearerChallenge('salesloft') });
    if (bearer.failure) fail(401, 'Not Authorized', { 'WWW-Authenticate': bearerChallenge('salesloft', 'invalid_token', bearer.failure === 'expired' ? 'token expired' : undefined) });
    c.token = bearer.grant;

    // Cost by the page parameter (an unreadable page costs 1 and is refused below).
    const pageRaw = c.url.searchParams.get('page');
    const cost = c.method === 'GET' && pageRaw !== null && /^\d+$/.test(pageRaw) ? salesloftPageCost(Number(pageRaw)) : 1;
    // No Retry-After (rate-limits.md): the client must back off on its own.
    if (!env.rate.take(cost)) fail(429, 'Rate limit exceeded', rateHeaders(env.rate, cost));
    env.charged += cost;
    c.cost = cost;
    const headers = { ...rateHeaders(env.rate, cost), 'x-request-id': randomBytes(8).toString('hex') };

    try {
      const match = apiRouter.match(c.method, splitPath(c.url.pathname.replace(/\/+$/, '').replace(/\.json$/, '')).slice(1)); // after 'v2'
      if (!match) fail(404, 'Not Found');
      if (!match.route) fail(405, 'Method Not Allowed', { Allow: match.allow.join(', ') });
      c.params = match.params;
      const body = await match.route.handler(c);
      return reply(c, 200, body, headers, cost);
    } catch (err) {
      // Rate-limit headers go on every counted response, errors included.
      if (err instanceof SimError) throw err.withHeaders(headers);
      throw err;
    }
  };

  const serve = (c: SalesloftCall) => {
    const path = c.url.pathname;
    if (path === '/v2' || path.startsWith('/v2/')) return api(c);
    const match = rootRouter.match(c.method, splitPath(path));
    if (match?.route) return match.route.handler(c);
    return reply(c, 404, { error: 'Not Found' });
  };

  const handle = simulatorHandler<SalesloftCall, FailNextOptions>(faults, {
    begin: (req, res) => ({ ...exchange(req, res), env, cost: 0 }),
    dropped: (c, status = 0) => env.requests.push({ ...recorded(c, status), cost: 0 }),
    // Injected faults stand for an edge/load balancer answering: not charged, no rate-limit headers.
    fault: (c, f) => reply(c, f.status, { error: 'injected fault' }),
    serve,
    error: (c, err) => {
      if (err instanceof SimError) return reply(c, err.status, err.body, err.headers, c.cost);
      return reply(c, 500, { error: err instanceof Error ? err.message : String(err) });
    },
  });
  const { server, origin } = await serveLoopback(handle, { latencyMs: opts.latencyMs });
  env.origin = origin;

  const { rate } = env;
  return {
    origin,
    baseUrl: `${origin}/v2`,
    tokenUrl: `${origin}/oauth/token`,
    authorizeUrl: `${origin}/oauth/authorize`,
    token: staticToken,
    clientId,
    clientSecret,
    teamId: store.teamId,
    otherTeamId: store.org.otherTeamId,
    meId: store.meId,
    issueRefreshToken: () => oauth.mintRefresh(SALESLOFT_SCOPES),
    issueAccessToken: (ttlMs?: number, scopes?: string[]) => oauth.mintAccess(scopes ?? SALESLOFT_SCOPES, ttlMs),
    users: () => store.users.copies(),
    roles: () => store.roles.copies(),
    groups: () => store.groups.copies(),
    pendingInvitations: () => store.pending.copies(),
    people: () => store.records.people.copies(),
    accounts: () => store.records.accounts.copies(),
    cadences: () => store.records.cadences.copies(),
    tasks: () => store.records.tasks.copies(),
    requests: env.requests,
    costSpent: () => env.charged,
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
    clearFaults() {
      return faults.clear();
    },
    setUserActive(id: number, active: boolean) {
      const u = store.users.get(id);
      if (!u) throw new RangeError(`no user ${id}`);
      store.update(u, { active });
    },
    linkUsers: () => store.linkUsers(),
    close: () => closeServer(server),
  };
}

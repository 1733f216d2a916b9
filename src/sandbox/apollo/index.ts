import { systemClock, type Clock } from '../../clock.js';
import {
  FaultQueue,
  SimError,
  closeServer,
  exchange,
  newSecret,
  orFail,
  readBody,
  retryAfterOf,
  serveLoopback,
  simulatorHandler,
  type FaultOptions,
  type ServeOptions,
} from '../http-util.js';
import type { ScimLink } from '../link.js';
import { OAuthServer } from '../oauth-server.js';
import { Router, splitPath } from '../router.js';
import { authenticate, authorize } from './auth.js';
import { fail, log, readParams, reply, type ApolloCall, type ApolloEnv, type ApolloRequestLogEntry } from './http.js';
import { APOLLO_SIM_DEFAULT_LIMITS, EndpointLimits, type WindowLimits } from './limits.js';
import { DEFAULT_SCOPED_KEY_ENDPOINTS, ROUTES } from './routes.js';
import { DEFAULT_USER_COUNT, type SimContact, type SimProspect, type SimTeammate } from './seed.js';
import { ApolloStore } from './store.js';
import type { BigBook, SimApolloAccount, SimApolloTask, SimDeal, SimEmailAccount, SimSequence } from './book.js';

export type { ApolloRequestLogEntry } from './http.js';
export { APOLLO_SIM_DEFAULT_LIMITS, type WindowLimits } from './limits.js';
export { DEFAULT_SCOPED_KEY_ENDPOINTS } from './routes.js';
export { APOLLO_PROFILES, buildApolloTeam, type ApolloTeam, type SimContact, type SimProspect, type SimTeammate } from './seed.js';
export { DEFAULT_BIG_BOOK, buildApolloBook, type BigBook, type SimApolloAccount, type SimApolloTask, type SimDeal, type SimEmailAccount, type SimSequence } from './book.js';

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
 * - What teammates own (accounts, sequences, tasks, deals; contacts above) and handing it over: the searches,
 *   update_owners, the sequence PUT and the task and deal PATCHes as the spec defines them, each its own
 *   endpoint with its own windows; GET /email_accounts. See handlers/records.ts.
 * - A request line past 8 KiB is a 414 from the edge (not counted): the practical cap on update_owners' ids.
 *
 * Layout: seed.ts (team, prospect database, contacts), book.ts (what else teammates own, mailboxes), store.ts
 * (them, credits, the SCIM link), limits.ts (per-endpoint windows), auth.ts (keys and tokens), http.ts (log,
 * errors, parameters), handlers/, routes.ts.
 */

const DEFAULT_PROSPECTS = 60_000;
/** nginx's default large_client_header_buffers (8k): the longest request line the edge takes. */
const MAX_REQUEST_LINE = 8 * 1024;
const DEFAULT_CONTACTS = 240;
const DEFAULT_TOKEN_TTL_MS = 30 * 86_400_000;

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
  /** One teammate (by email) also owns `count` records of each type, contacts included (default 5,000). */
  bigBook?: BigBook;
  /**
   * false: nobody owns records (no saved contacts unless `contactCount` says otherwise) and no mailbox is
   * linked (a tenant before anyone worked in it), for tests of deactivation alone. Default true.
   */
  books?: boolean;
  /**
   * Where PUT /sequences/{id} answers the new owner (`user_id` and its alias `object_owner_id`, which the spec
   * says the response carries without saying where): `both` (default) at the top level, beside the spec's
   * example fields, and in the nested `emailer_campaign`; `top` at the top level only, the nested object keeping
   * the spec example's id, name and active. `top` shows what a client reading only one place does.
   */
  sequenceOwnerAt?: 'both' | 'top';
}

export interface ApolloFailNextOptions extends FaultOptions {
  /** Adds Retry-After (Apollo never sends one; for negative tests only). */
  retryAfterSec?: number;
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
  /** Drops every fault failNext queued that has not been served yet; returns how many there were. */
  clearFaults(): number;
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
   * (role User). See ScimLink in link.ts.
   */
  linkUsers(): ScimLink;
  contacts(): readonly SimContact[];
  /** Snapshots (copies) of what teammates own beyond contacts, and their linked mailboxes. */
  accounts(): readonly SimApolloAccount[];
  sequences(): readonly SimSequence[];
  tasks(): readonly SimApolloTask[];
  deals(): readonly SimDeal[];
  emailAccounts(): readonly SimEmailAccount[];
  /** The prospect at an index of the database (deterministic; emails included, unlike search results). */
  prospect(index: number): SimProspect;
  prospectCount: number;
  /** Credits spent through the API since start. */
  creditsSpent(): number;
  /** The team's lead-credit counter (initial consumption + API spend). */
  creditsConsumed(): number;
  close(): Promise<void>;
}

const router = new Router(ROUTES);

/** A request as the dispatcher tracks it. */
interface Dispatch extends ApolloCall {
  /** The path under /api/v1 (trailing slashes dropped), or undefined outside it. */
  rel: string | undefined;
  /** Some endpoint has this path (another method: 405, not 404). */
  known: boolean;
  /** Counted in the endpoint's windows: its answer carries the usage headers, errors included. */
  counted: boolean;
}

const ALL_SCOPES = [...new Set(ROUTES.map((e) => e.scope)), 'app_scopes'];

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
  const store = new ApolloStore(clock, {
    seed,
    userCount: opts.userCount ?? DEFAULT_USER_COUNT,
    prospectCount: opts.prospectCount ?? DEFAULT_PROSPECTS,
    contactCount: opts.contactCount ?? (opts.books === false ? 0 : DEFAULT_CONTACTS),
    leadLimit: opts.credits?.leadLimit ?? 10_000,
    initialCreditsConsumed: opts.credits?.initialConsumed ?? 1_250,
    bigBook: opts.books === false ? null : opts.bigBook,
  });
  const clientId = opts.clientId ?? 'sandbox-apollo-client';
  const clientSecret = opts.clientSecret ?? 'sandbox-apollo-secret';

  // The sandbox's partner app refreshes tokens it was given; the authorization itself (app.apollo.io's
  // /#/oauth/authorize, a page of the web app) is not simulated. Every token belongs to the admin, who may
  // authorise OAuth apps (notes).
  const oauth = new OAuthServer({
    clock,
    clientId,
    clientSecret,
    tokenTtlMs: opts.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS,
    grants: ['refresh_token'],
    allScopes: ALL_SCOPES,
    prefix: { access: 'sim_oat_', refresh: 'sim_ort_', code: 'sim_oac_' },
    tokenType: 'Bearer',
    realm: 'apollo',
  });
  const env: ApolloEnv = {
    clock,
    store,
    oauth,
    limits: new EndpointLimits(clock, baseLimits, scale, opts.limits?.endpoints ?? {}, new Set(ROUTES.filter((e) => e.bulk).map((e) => e.name))),
    endpoints: ROUTES,
    masterKey: newSecret('sim_master_', 18),
    scopedKey: newSecret('sim_scoped_', 18),
    scopedAllowed: new Set(opts.scopedKeyEndpoints ?? DEFAULT_SCOPED_KEY_ENDPOINTS),
    requests: [],
    sequenceOwnerAt: opts.sequenceOwnerAt ?? 'both',
  };
  const oauthAccessToken = oauth.mintAccess(ALL_SCOPES);
  const faults = new FaultQueue<ApolloFailNextOptions>();

  const serve = async (c: Dispatch) => {
    c.body = await orFail(readParams(c), (status, message) => fail(status, { error: message }));
    c.keyInQueryOrBody = c.url.searchParams.has('api_key') || c.body.api_key !== undefined;
    // The edge in front of the API: a request line past 8 KiB is refused before anything counts it. The
    // practical cap of update_owners, whose ids ride in the query (the spec states none).
    if ((c.req.url ?? '').length > MAX_REQUEST_LINE) fail(414, { error: 'Request-URI Too Large' });

    if (c.rel === '/oauth/token' && c.method === 'POST') {
      const r = oauth.token(c.req, c.body);
      return reply(c, r.status, r.body, r.headers);
    }
    const endpoint = c.endpoint;
    if (!endpoint) fail(c.known ? 405 : 404, { error: c.known ? `${c.method} is not allowed on ${c.url.pathname}` : `no route for ${c.method} ${c.url.pathname}` });
    const cred = authenticate(c);
    c.cred = cred;
    c.credential = cred.kind;
    authorize(c, cred, endpoint);
    const spent = env.limits.count(endpoint.name);
    if (spent) {
      // No Retry-After; the usage headers' zero shows which window ran out.
      fail(
        429,
        { message: `The maximum number of api calls allowed for ${endpoint.name} is ${spent.limit} times per ${spent.window}. Please upgrade your plan from https://app.apollo.io/#/settings/plans/upgrade.` },
        env.limits.headers(endpoint.name),
      );
    }
    c.counted = true;
    const body = await endpoint.handler(c);
    return reply(c, 200, body, env.limits.headers(endpoint.name));
  };

  const handle = simulatorHandler<Dispatch, ApolloFailNextOptions>(faults, {
    begin: (req, res) => {
      const x = exchange(req, res);
      const rel = x.url.pathname.startsWith('/api/v1/') ? x.url.pathname.slice('/api/v1'.length).replace(/\/+$/, '') : undefined;
      const match = rel === undefined ? undefined : router.match(x.method, splitPath(rel));
      const params = match?.route ? match.params : {};
      return { ...x, params, env, body: {}, endpoint: match?.route, credential: 'none', keyInQueryOrBody: false, credits: 0, rel, known: match !== undefined, counted: false };
    },
    dropped: (c, status = 0) => log(c, status),
    fault: async (c, f) => {
      await readBody(c.req).catch(() => undefined);
      // An edge/load balancer answering: not counted, no usage headers.
      reply(c, f.status, { message: 'injected fault' }, retryAfterOf(f));
    },
    serve,
    error: (c, err) => {
      if (err instanceof SimError) {
        // Counted requests carry the usage headers, errors included; a 429 brings its own.
        const extra = c.counted && c.endpoint && err.status !== 429 ? env.limits.headers(c.endpoint.name) : {};
        return reply(c, err.status, err.body, { ...extra, ...err.headers }, err.contentType);
      }
      return reply(c, 500, { error: err instanceof Error ? err.message : String(err) });
    },
  });
  const { server, origin } = await serveLoopback(handle, { latencyMs: opts.latencyMs });

  return {
    origin,
    baseUrl: `${origin}/api/v1`,
    tokenUrl: `${origin}/api/v1/oauth/token`,
    masterKey: env.masterKey,
    scopedKey: env.scopedKey,
    oauthAccessToken,
    clientId,
    clientSecret,
    issueRefreshToken: () => oauth.mintRefresh(ALL_SCOPES),
    issueAccessToken: (ttlMs?: number, scopes?: string[]) => oauth.mintAccess(scopes ?? ALL_SCOPES, ttlMs),
    windowScale: scale,
    limitsOf: (name: string) => env.limits.limitsOf(name),
    usage: (name: string) => env.limits.usage(name),
    failNext(n: number, status: number, o: ApolloFailNextOptions = {}) {
      faults.add(n, status, o);
    },
    clearFaults() {
      return faults.clear();
    },
    requests: env.requests,
    users: () => store.teammates.copies(),
    setUserDeleted(id: string, deleted: boolean) {
      const t = store.teammates.get(id);
      if (!t) throw new RangeError(`no Apollo teammate ${id}`);
      store.setDeleted(t, deleted);
    },
    linkUsers: () => store.linkUsers(),
    contacts: () => store.contacts.copies(),
    accounts: () => store.records.accounts.copies(),
    sequences: () => store.records.sequences.copies(),
    tasks: () => store.records.tasks.copies(),
    deals: () => store.records.deals.copies(),
    emailAccounts: () => store.records.emailAccounts.copies(),
    prospect: (i: number) => ({ ...store.prospects.at(i), organization: { ...store.prospects.at(i).organization } }),
    prospectCount: store.prospects.count,
    creditsSpent: () => store.credits.api,
    creditsConsumed: () => store.credits.initial + store.credits.api,
    close: () => closeServer(server),
  };
}

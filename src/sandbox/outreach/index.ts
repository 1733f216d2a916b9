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
  parseAccept,
  retryAfterOf,
  serveLoopback,
  simulatorHandler,
  type FaultOptions,
  type ServeOptions,
} from '../http-util.js';
import type { ScimLink } from '../link.js';
import { OAuthServer } from '../oauth-server.js';
import { Router, splitPath } from '../router.js';
import { reply, type OutreachCall, type OutreachEnv, type SimRequestLogEntry } from './http.js';
import { JSONAPI_MEDIA_TYPE, apiError, fail } from './jsonapi.js';
import { API_ROUTES, ROOT_ROUTES } from './routes.js';
import { DEFAULT_USER_COUNT, type SimProfile, type SimRole, type SimUser } from './seed.js';
import { OutreachStore, type SimBatch } from './store.js';
import type { BigBook, SimAccount, SimMailbox, SimOpportunity, SimProspect, SimSequence, SimTask } from './book.js';

export type { SimRequestLogEntry } from './http.js';
export { JSONAPI_MEDIA_TYPE } from './jsonapi.js';
export { buildOutreachOrg, type OutreachOrg, type SimProfile, type SimRole, type SimUser } from './seed.js';
export { DEFAULT_BIG_BOOK, buildOutreachBook, type BigBook, type SimAccount, type SimMailbox, type SimOpportunity, type SimProspect, type SimSequence, type SimTask } from './book.js';
export type { SimBatch } from './store.js';

/*
 * Embedded Outreach simulator: a real HTTP server on loopback that behaves like api.outreach.io for the
 * users/roles/profiles endpoints, what users own (prospects, accounts, sequences, opportunities, tasks), their
 * mailboxes, the owner batch actions, and the OAuth endpoints. Sources: /work/shared/vendor-docs/outreach-api.txt
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
 * - Seats: a locked user still holds its seat ("Locked users still consume a license seat until fully removed
 *   by Outreach support or via SCIM DELETE on Enterprise"); a SCIM DELETE on the linked SCIM server removes the
 *   user (REST answers 404 for it afterwards) and frees the seat; `seats()` counts them.
 * - Owned records, mailboxes and batches: see handlers/records.ts and handlers/batches.ts.
 *
 * Layout: seed.ts (the org), book.ts (what users own), store.ts (roles, profiles, users, records, batches;
 * update(), setOwner() and the SCIM link), jsonapi.ts (errors, resource objects, list queries for any resource
 * type), resources.ts (the resource types), http.ts (log, scopes, ids), handlers/ (users, the read-only
 * catalog, records and mailboxes, batches, OAuth), routes.ts (the tables).
 */

export const OUTREACH_SCOPES = [
  'users.read',
  'users.write',
  'users.delete',
  'roles.read',
  'profiles.read',
  // What users own (handlers/records.ts): the spec names no scopes; the notes' users.* pattern, per collection.
  'prospects.read',
  'prospects.write',
  'accounts.read',
  'accounts.write',
  'sequences.read',
  'sequences.write',
  'opportunities.read',
  'opportunities.write',
  'tasks.read',
  'tasks.write',
  'mailboxes.read',
  'mailboxes.delete',
  'batches.read',
  'batches.write',
] as const;

const DEFAULT_TOKEN_TTL_MS = 2 * 60 * 60 * 1000;
const DEFAULT_RATE_LIMIT = { limit: 10_000, windowMs: 60 * 60 * 1000 };

export interface OutreachSimOptions extends ServeOptions {
  clock?: Clock;
  userCount?: number;
  seed?: number;
  rateLimit?: { limit: number; windowMs: number };
  tokenTtlMs?: number;
  clientId?: string;
  clientSecret?: string;
  /** One person (by email) also owns `count` records of each type (default 5,000): a big hand-over to measure. */
  bigBook?: BigBook;
  /**
   * false: nobody owns records and no mailbox is connected (a tenant before anyone worked in it), for tests of
   * deactivation alone. Default true: the seeded books.
   */
  books?: boolean;
}

export interface FailNextOptions extends FaultOptions {
  /** Adds `Retry-After: <n>`; omit to inject a 429 or 503 without one. */
  retryAfterSec?: number;
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
  /** Drops every fault failNext queued that has not been served yet; returns how many there were. */
  clearFaults(): number;
  /** Every request answered so far, in order. Tests may clear it with `requests.length = 0`. */
  readonly requests: SimRequestLogEntry[];
  /** A snapshot (copies) of the users, sorted by id. */
  users(): readonly SimUser[];
  /**
   * Licensed seats in use: every user Outreach still has. Locking does not free a seat (the notes: "Locked users
   * still consume a license seat"); only a SCIM DELETE on the linked SCIM server removes the user and frees it.
   */
  seats(): number;
  /** Snapshots (copies) of what users own, and their mailboxes and the batches run so far, in id order. */
  prospects(): readonly SimProspect[];
  accounts(): readonly SimAccount[];
  sequences(): readonly SimSequence[];
  opportunities(): readonly SimOpportunity[];
  tasks(): readonly SimTask[];
  mailboxes(): readonly SimMailbox[];
  batches(): readonly SimBatch[];
  roles(): readonly SimRole[];
  profiles(): readonly SimProfile[];
  /**
   * The users as the store of a linked SCIM simulator (`startScimSimulator({ vendor: 'outreach', link })`): one
   * user store behind both APIs, as in Outreach. SCIM `active` is this `active`; `locked` stays REST-only. A
   * SCIM write moves `updatedAt`; a SCIM-created user is created here too. See ScimLink in link.ts.
   */
  linkUsers(): ScimLink;
  close(): Promise<void>;
}

const apiRouter = new Router(API_ROUTES);
const rootRouter = new Router(ROOT_ROUTES);

export async function startOutreachSimulator(opts: OutreachSimOptions = {}): Promise<OutreachSim> {
  const clock = opts.clock ?? systemClock;
  const clientId = opts.clientId ?? 'sandbox-outreach-client';
  const clientSecret = opts.clientSecret ?? 'sandbox-outreach-secret';
  const store = new OutreachStore(clock, opts.seed ?? 42, opts.userCount ?? DEFAULT_USER_COUNT, opts.books === false ? null : opts.bigBook);

  // The notes: Authorization Code flow, "also supports Client Credentials for server-to-server".
  const oauth = new OAuthServer({
    clock,
    clientId,
    clientSecret,
    tokenTtlMs: opts.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS,
    grants: ['authorization_code', 'refresh_token', 'client_credentials'],
    allScopes: OUTREACH_SCOPES,
    prefix: { access: 'oat_', refresh: 'ort_', code: 'oac_' },
    tokenType: 'bearer',
    realm: 'outreach',
  });
  const staticAccessToken = newSecret('oat_static_');
  oauth.addStaticToken(staticAccessToken, OUTREACH_SCOPES);
  const rateLimit = opts.rateLimit ?? DEFAULT_RATE_LIMIT;
  const env: OutreachEnv = { clock, store, oauth, rate: new FixedWindow(clock, rateLimit.limit, rateLimit.windowMs), requests: [], base: '' };
  const faults = new FaultQueue<FailNextOptions>();
  const isApi = (c: OutreachCall) => c.url.pathname === '/api/v2' || c.url.pathname.startsWith('/api/v2/');

  const rateHeaders = (): Record<string, string | number> => ({
    'X-RateLimit-Limit': env.rate.limit,
    'X-RateLimit-Remaining': env.rate.remaining(),
    'X-RateLimit-Reset': Math.ceil(env.rate.end / 1000),
  });

  const api = async (c: OutreachCall) => {
    const bearer = oauth.verifyBearer(c.req.headers.authorization);
    if (bearer.failure === 'missing') fail(401, 'missing bearer token', { header: 'Authorization' }, { 'WWW-Authenticate': bearerChallenge('outreach') });
    if (bearer.failure) {
      const desc = bearer.failure === 'expired' ? 'token expired' : 'invalid token';
      fail(401, desc, { header: 'Authorization' }, { 'WWW-Authenticate': bearerChallenge('outreach', 'invalid_token', desc) });
    }
    c.grant = bearer.grant;

    // The limit is per OAuth application, so only requests we can attribute (valid token) count.
    const now = clock.now();
    if (!env.rate.take(1, now)) {
      fail(429, 'rate limit exceeded', undefined, { ...rateHeaders(), 'Retry-After': Math.max(1, Math.ceil((env.rate.end - now) / 1000)) });
    }
    c.rateHeaders = rateHeaders();

    try {
      const acceptable = parseAccept(c.req.headers.accept).some(
        (m) =>
          m.type === '*/*' ||
          m.type === 'application/*' ||
          // JSON:API: a vnd.api+json range carrying parameters (other than q) does not count.
          (m.type === JSONAPI_MEDIA_TYPE && Object.keys(m.params).every((p) => p === 'q')),
      );
      if (!acceptable) fail(406, `Accept must include ${JSONAPI_MEDIA_TYPE}`, { header: 'Accept' });

      const segs = splitPath(c.url.pathname.replace(/\/+$/, '')).slice(2); // after 'api', 'v2'
      const match = apiRouter.match(c.method, segs);
      if (!match) fail(404, `no route for ${c.url.pathname}`);
      if (!match.route) fail(405, `${c.method} not allowed on /${segs[0]}`, undefined, { Allow: match.allow.join(', ') });
      c.params = match.params;
      return await match.route.handler(c);
    } catch (err) {
      // Rate-limit headers go on every counted response, errors included.
      if (err instanceof SimError) throw err.withHeaders(c.rateHeaders);
      throw err;
    }
  };

  const serve = (c: OutreachCall) => {
    if (isApi(c)) return api(c);
    const match = rootRouter.match(c.method, splitPath(c.url.pathname));
    if (match?.route) return match.route.handler(c);
    return reply(c, 404, { error: 'not_found', error_description: `no route for ${c.req.method} ${c.url.pathname}` }, {}, 'application/json');
  };

  const handle = simulatorHandler<OutreachCall, FailNextOptions>(faults, {
    begin: (req, res) => ({ ...exchange(req, res), env, rateHeaders: {} }),
    dropped: (c, status = 0) => env.requests.push(recorded(c, status)),
    // Injected faults stand for an edge/load balancer answering: not counted, no rate-limit headers.
    fault: (c, f) =>
      isApi(c)
        ? reply(c, f.status, { errors: [apiError(f.status, 'injected fault')] }, retryAfterOf(f))
        : reply(c, f.status, { error: 'temporarily_unavailable', error_description: 'injected fault' }, retryAfterOf(f), 'application/json'),
    serve,
    error: (c, err) => {
      if (err instanceof SimError) return reply(c, err.status, err.body, err.headers);
      return reply(c, 500, { errors: [apiError(500, err instanceof Error ? err.message : String(err))] });
    },
  });
  const { server, origin } = await serveLoopback(handle, { latencyMs: opts.latencyMs });
  env.base = `${origin}/api/v2`;

  return {
    origin,
    baseUrl: env.base,
    tokenUrl: `${origin}/oauth/token`,
    authorizeUrl: `${origin}/oauth/authorize`,
    clientId,
    clientSecret,
    staticAccessToken,
    issueRefreshToken: () => oauth.mintRefresh(OUTREACH_SCOPES),
    issueAccessToken: (ttlMs?: number) => oauth.mintAccess(OUTREACH_SCOPES, ttlMs),
    setRateLimit(limit: number, windowMs: number) {
      if (!(limit >= 0) || !(windowMs > 0)) throw new RangeError('limit must be >= 0 and windowMs > 0');
      env.rate.reset(limit, windowMs);
    },
    failNext(count: number, status: number, o: FailNextOptions = {}) {
      faults.add(count, status, o);
    },
    clearFaults() {
      return faults.clear();
    },
    requests: env.requests,
    users: () => store.users.copies(),
    seats: () => store.seats(),
    prospects: () => store.records.prospects.copies(),
    accounts: () => store.records.accounts.copies(),
    sequences: () => store.records.sequences.copies(),
    opportunities: () => store.records.opportunities.copies(),
    tasks: () => store.records.tasks.copies(),
    mailboxes: () => store.records.mailboxes.copies(),
    batches: () => store.batches.copies(),
    roles: () => store.roles.copies(),
    profiles: () => store.profiles.copies(),
    linkUsers: () => store.linkUsers(),
    close: () => closeServer(server),
  };
}

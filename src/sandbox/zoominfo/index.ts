import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../../clock.js';
import {
  FaultQueue,
  FixedWindow,
  SimError,
  closeServer,
  exchange,
  logged,
  parseBearer,
  serveLoopback,
  simulatorHandler,
  type FaultOptions,
  type ServeOptions,
} from '../http-util.js';
import { PEOPLE_EMAIL_DOMAIN } from '../people.js';
import { Router, splitPath } from '../router.js';
import { JwtIssuer } from './auth.js';
import { fail, reply, type ZiCall, type ZiSimRequest, type ZoomInfoEnv } from './http.js';
import { ROUTES } from './routes.js';
import { DEFAULT_ACME_CONTACTS, type SimZiCompany, type SimZiContact } from './seed.js';
import { ZoomInfoStore } from './store.js';

export { buildZoomInfoData, managementLevelOf, type SimZiCompany, type SimZiContact } from './seed.js';
export type { ZiSimRequest } from './http.js';

/*
 * Embedded ZoomInfo Enterprise API simulator: a real HTTP server on loopback for /authenticate, contact and
 * company search, enrich, lookup by id and usage. Sources: /work/shared/vendor-docs/zoominfo-api.txt ("the
 * notes"), rate-limits.md, and the Enterprise collection (zoominfo-enterprise-openapi.from-postman.yml).
 * Every "Watch out for" of the notes is behaviour here:
 *
 * - /authenticate: a signed three-part JWT with `iat`/`exp`, valid 60 minutes on the injected clock; no
 *   refresh token. An expired, malformed or revoked token gets 401.
 * - search: POST, rpp 1..100 (default 25), page from 1; `outputFields` limits the fields returned. Without
 *   it every field comes back (notes: "Omitting the outputFields parameter returns all available fields and
 *   maximizes credit burn"), contact data included. Search records nest the employer as `company: {id,
 *   name}` as in the collection's examples.
 * - credits: every record returned costs credits (search, enrich, lookup; re-fetches too), whatever the
 *   match confidence. Default price 1 per record, plus `pricing.perContactReveal` for a contact record that
 *   carries email or phone. The account runs out: search and lookup then answer 403, enrich LIMIT_EXCEEDED.
 * - enrich: at most 25 inputs; each result carries `matchStatus`. Contact: FULL_MATCH; CONTACT_ONLY_MATCH
 *   (name found, but at another company); COMPANY_ONLY_MATCH (only the company matched; a company-only
 *   record, still charged); NO_MATCH; INVALID_INPUT (no usable input combination). Company: a name-only
 *   input is matched loosely ("Acme" matches the biggest company whose name contains it), the trap the
 *   notes' "providing both companyName and website improves match accuracy" is about.
 * - lookup: GET /lookup/contact/{id} (notes; not in the collection), charged like any record.
 * - usage: GET /lookup/usage (collection shape) and GET /usage (notes shape); `disableRoute()` makes either
 *   404 so a client's fallback can be tested.
 * - rate limit: over the configured requests per window the answer is 429 with no rate-limit headers and
 *   no Retry-After (notes: "no rate-limit headers or Retry-After values are emitted").
 * - input names follow the collection: enrich company takes `companyWebsite` (the notes' example says
 *   `website`, which is refused here as an unknown field).
 *
 * Layout: seed.ts (the companies and contacts), store.ts (them and the account's credits), auth.ts (JWTs),
 * http.ts (error format, log, body), handlers/ (one file per endpoint family), routes.ts (the table).
 */

export const ZOOMINFO_JWT_TTL_MS = 60 * 60_000;
const DEFAULT_RATE_LIMIT = { limit: 600, windowMs: 60_000 };
const DEFAULT_CREDITS = 10_000;

export interface ZoomInfoSimOptions extends ServeOptions {
  clock?: Clock;
  seed?: number;
  /** Default: a random `api-sandbox-<hex>@acme.example`, so limiter keys of two simulators never collide. */
  username?: string;
  password?: string;
  /** Credits the account starts with. Default 10,000. */
  credits?: number;
  /** Requests (all endpoints) per fixed window; more get 429 without headers. Default 600 per minute. */
  rateLimit?: { limit: number; windowMs: number };
  /** JWT lifetime. Default 60 minutes. */
  tokenTtlMs?: number;
  pricing?: { perRecord?: number; perContactReveal?: number };
  /** Contacts at Acme Corp, drawn from the shared generated people (active ones). Default 300. */
  acmeContacts?: number;
}

export type ZiFailNextOptions = FaultOptions;

export interface ZoomInfoSim {
  origin: string;
  /** The API root: paths such as /authenticate and /search/contact hang directly off it. */
  baseUrl: string;
  username: string;
  password: string;
  /** Successful /authenticate calls so far. */
  logins(): number;
  /** Every request answered so far, in order. Tests may clear it with `requests.length = 0`. */
  readonly requests: ZiSimRequest[];
  creditsUsed(): number;
  creditsRemaining(): number;
  setCredits(remaining: number): void;
  /** The next `count` requests (matching opts.path) get `status` (no headers) or a dropped connection. */
  failNext(count: number, status: number, opts?: ZiFailNextOptions): void;
  /** Drops every fault failNext queued that has not been served yet; returns how many there were. */
  clearFaults(): number;
  /** Requests to this exact path (e.g. '/lookup/usage') answer 404 from now on. */
  disableRoute(path: string): void;
  enableRoute(path: string): void;
  /** Calls `fn` after each answer is recorded, before the client reads it. Returns an unsubscribe function. */
  tap(fn: (entry: ZiSimRequest) => void): () => void;
  setRateLimit(limit: number, windowMs: number): void;
  /** A valid JWT for this account, expiring `ttlMs` from the clock's now (default 60 minutes). */
  issueJwt(ttlMs?: number): string;
  /** Every JWT issued so far stops working (401). */
  revokeAllTokens(): void;
  contacts(): readonly SimZiContact[];
  companies(): readonly SimZiCompany[];
  close(): Promise<void>;
}

const router = new Router(ROUTES);

export async function startZoomInfoSimulator(opts: ZoomInfoSimOptions = {}): Promise<ZoomInfoSim> {
  const clock = opts.clock ?? systemClock;
  const username = opts.username ?? `api-sandbox-${randomBytes(4).toString('hex')}@${PEOPLE_EMAIL_DOMAIN}`;
  const password = opts.password ?? `zi-sandbox-${randomBytes(12).toString('base64url')}`;
  const rateLimit = opts.rateLimit ?? DEFAULT_RATE_LIMIT;
  const env: ZoomInfoEnv = {
    clock,
    store: new ZoomInfoStore({
      seed: opts.seed ?? 42,
      acmeContacts: opts.acmeContacts ?? DEFAULT_ACME_CONTACTS,
      credits: opts.credits ?? DEFAULT_CREDITS,
      perRecord: opts.pricing?.perRecord ?? 1,
      perContactReveal: opts.pricing?.perContactReveal ?? 0,
    }),
    jwt: new JwtIssuer(clock, username, opts.tokenTtlMs ?? ZOOMINFO_JWT_TTL_MS),
    username,
    password,
    rate: new FixedWindow(clock, rateLimit.limit, rateLimit.windowMs),
    disabled: new Set<string>(),
    requests: [],
    taps: new Set(),
    logins: 0,
  };
  const faults = new FaultQueue<ZiFailNextOptions>();

  const serve = async (c: ZiCall) => {
    const path = c.url.pathname.replace(/\/+$/, '') || '/';
    // Watch out for: "Exceeding limits results in 429 responses", with no rate-limit headers or Retry-After.
    if (!env.rate.take()) return reply(c, 429, { responseCode: 429, message: 'Too Many Requests' });
    if (env.disabled.has(path)) fail(404, `No route for ${c.method} ${path}`);
    const match = router.match(c.method, splitPath(path));
    const routes = match?.route ? [match.route] : (match?.routes ?? []);
    if (!routes.some((r) => r.public)) {
      env.jwt.verify(parseBearer(c.req.headers.authorization));
      env.store.account.requestCount++;
    }
    if (!match) fail(404, `No route for ${c.method} ${path}`);
    if (!match.route) fail(405, `Use ${match.allow.join(', ')} ${match.routes[0]!.path.replace(/:(\w+)/g, '{$1}')}`);
    c.params = match.params;
    return match.route.handler(c);
  };

  const handle = simulatorHandler<ZiCall, ZiFailNextOptions>(faults, {
    begin: (req, res) => ({ ...exchange(req, res), env }),
    dropped: (c, status = 0) => env.requests.push({ ...logged(c, status), credits: 0 }),
    fault: (c, f) => reply(c, f.status, { responseCode: f.status, message: 'injected fault' }),
    serve,
    error: (c, err) => {
      if (err instanceof SimError) return reply(c, err.status, err.body);
      return reply(c, 500, { responseCode: 500, message: err instanceof Error ? err.message : String(err) });
    },
  });
  const { server, origin } = await serveLoopback(handle, { latencyMs: opts.latencyMs });

  return {
    origin,
    baseUrl: origin,
    username,
    password,
    logins: () => env.logins,
    requests: env.requests,
    creditsUsed: () => env.store.account.creditsUsed,
    creditsRemaining: () => env.store.remaining(),
    setCredits(n: number) {
      env.store.setCredits(n);
    },
    failNext(count: number, status: number, o: ZiFailNextOptions = {}) {
      faults.add(count, status, o);
    },
    clearFaults() {
      return faults.clear();
    },
    disableRoute: (p: string) => void env.disabled.add(p),
    enableRoute: (p: string) => void env.disabled.delete(p),
    tap(fn: (e: ZiSimRequest) => void) {
      env.taps.add(fn);
      return () => void env.taps.delete(fn);
    },
    setRateLimit(limit: number, windowMs: number) {
      if (!(limit >= 0) || !(windowMs > 0)) throw new RangeError('limit must be >= 0 and windowMs > 0');
      env.rate.reset(limit, windowMs);
    },
    issueJwt: (ttlMs?: number) => env.jwt.issue(ttlMs),
    revokeAllTokens() {
      env.jwt.revokeAll();
    },
    contacts: () => env.store.contacts.copies(),
    companies: () => env.store.companies.copies(),
    close: () => closeServer(server),
  };
}

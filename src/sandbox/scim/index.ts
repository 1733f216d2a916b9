import { systemClock, type Clock } from '../../clock.js';
import {
  FaultQueue,
  SimError,
  HttpInputError,
  bearerChallenge,
  closeServer,
  exchange,
  recorded,
  newSecret,
  parseAccept,
  parseBearer,
  retryAfterOf,
  safeEqual,
  serveLoopback,
  simulatorHandler,
  type FaultOptions,
  type ServeOptions,
} from '../http-util.js';
import type { ScimLink } from '../link.js';
import { Router } from '../router.js';
import { groupResource } from './handlers/groups.js';
import { userResource } from './handlers/users.js';
import { SCIM_VENDOR_BEHAVIOUR, type ScimVendor, type ScimVendorBehaviour } from './profiles.js';
import { SCIM_MEDIA_TYPE, errorBody, fail } from './protocol.js';
import { methodNotAllowed, reply, type PatchMode, type ScimCall, type ScimEnv, type ScimRequestLogEntry } from './resource.js';
import { scimRoutes } from './routes.js';
import { DEFAULT_USER_COUNT, type ScimSimGroup, type ScimSimUser } from './seed.js';
import { ScimStore } from './store.js';

export type { ScimLink, ScimLinkChanges, ScimLinkCreate, ScimLinkUser } from '../link.js';
export { SCIM_VENDORS, SCIM_VENDOR_BEHAVIOUR, type ScimVendor, type ScimVendorBehaviour } from './profiles.js';
export { SCIM_MEDIA_TYPE, SCIM_SCHEMA } from './protocol.js';
export type { ScimRequestLogEntry } from './resource.js';
export { buildScimDirectory, type ScimEmail, type ScimSimGroup, type ScimSimUser } from './seed.js';

/*
 * Embedded SCIM 2.0 server (RFC 7643 core schema, RFC 7644 protocol), one instance per vendor, each with
 * the quirks its vendor note documents (/work/shared/vendor-docs/<vendor>-api.txt, "the notes"). Written to
 * satisfy Okta's SCIM 2.0 spec test (shared/conformance/okta-scim) and what Okta and Entra ID actually send
 * (op names in any case, `replace` without a path, `remove` with a value, `members[value eq "..."]`).
 *
 * Choices where the RFCs leave room, or where a vendor deviates, summarised (the code repeats each):
 *
 * - Every endpoint, discovery ones included, needs the bearer token (the notes: one long-lived SCIM token
 *   per tenant). 401 comes with `WWW-Authenticate: Bearer`.
 * - Attribute names are case-insensitive on input (RFC 7643 2.1); stored and served in schema case.
 *   Unknown attributes in POST/PUT bodies and in path-less PATCH values are ignored (IdPs send app-specific
 *   extras such as Okta's `password` and `groups: []`); an unknown PATCH `path` is 400 invalidPath.
 * - readOnly attributes (`id`, `meta`, `groups`, SalesLoft's `invitationStatus`) are ignored in POST/PUT
 *   bodies and path-less PATCH values (Okta sends `id` in group PATCHes); an explicit PATCH path to one is
 *   400 mutability.
 * - `active` defaults to true on create; a PUT without `active` keeps the current value (an unassigned
 *   `active` would leave clients unable to tell a seat's state).
 * - Filters: the whole RFC 7644 3.4.2.2 grammar (eq ne co sw ew gt ge lt le pr, and/or/not, parentheses,
 *   `emails[type eq "work"]` value paths) over every schema attribute, case-insensitive unless the schema
 *   says caseExact (id, externalId, member values). Anything else is 400 invalidFilter with the position.
 * - `sortBy` is ignored (ServiceProviderConfig says sort unsupported); results come in creation order,
 *   the same order for any startIndex/count, as Okta requires.
 * - ETags (opt-in, `etag: true`): weak `W/"<n>"`, `meta.version`, If-Match on PUT/PATCH/DELETE (412 on a
 *   mismatch), If-None-Match on GET (304). With ETags off, If-Match is ignored as RFC 7644 3.14 allows.
 * - PATCH answers 200 with the resource by default (`patchStatus: 204` for the bodiless variant RFC 7644
 *   3.5.2 also allows); every vendor here defaults to 200 because none documents otherwise.
 * - Group `displayName` is unique (case-insensitive) within a tenant: Okta group push finds groups by
 *   `displayName eq`, and Outreach team names are unique.
 * - Linked (`link`, see ScimLink): the vendor's REST simulator is the user store for the seat set, userName,
 *   given/family name and `active`, as at a real vendor with one store behind both APIs; each REST simulator's
 *   linkUsers() documents its vendor's mapping of `active`. The REST id is the SCIM id (the notes' examples:
 *   SalesLoft's SCIM ids are its user ids). Unlinked (the default, and ZoomInfo in the sandbox), the simulator
 *   keeps its own seeded store as before.
 *
 * Layout: profiles.ts (the vendor quirk profiles), protocol.ts + schema.ts (wire constants, errors, schemas,
 * input canonicalisation), filter.ts and patch.ts (RFC 7644 filters and PatchOp, written once for every
 * resource type), seed.ts + store.ts (the directory, linked or not), resource.ts (list/get/POST/PUT/PATCH/
 * DELETE/ETags for any resource type), handlers/ (what users, groups and discovery add), routes.ts (the table).
 */

const DEFAULT_MAX_RESULTS = 100;

export interface ScimSimOptions extends ServeOptions {
  vendor: ScimVendor;
  clock?: Clock;
  seed?: number;
  /**
   * Size of the company's people pool the seats are drawn from (default 300, like the Outreach simulator).
   * Ignored with `link`: the seats are then the REST simulator's.
   */
  userCount?: number;
  /**
   * Use a REST simulator's users as the user store (see ScimLink): SCIM lists exactly its seats, and `active`
   * is read from and written to the REST record. Without it the SCIM simulator keeps its own seeded store.
   */
  link?: ScimLink;
  /** The SCIM bearer token; random when omitted. */
  token?: string;
  /** false: PATCH answers 501 and ServiceProviderConfig says patch unsupported (exercises PUT fallbacks). */
  patchSupported?: boolean;
  /** true: PATCH answers 405 with `Allow` (a gateway that does not route PATCH); SPC says unsupported. */
  patchMethodNotAllowed?: boolean;
  /** Success status of PATCH: 200 with the resource (default) or 204 without a body. */
  patchStatus?: 200 | 204;
  /** Serve meta.version and ETag, honour If-Match / If-None-Match. Default false (no vendor documents ETags). */
  etag?: boolean;
  /** Page size cap (ServiceProviderConfig filter.maxResults) and default `count`. Default 100. */
  maxResults?: number;
}

export interface ScimFailNextOptions extends FaultOptions {
  /** Adds `Retry-After: <n>`. */
  retryAfterSec?: number;
}

export interface ScimSim {
  vendor: ScimVendor;
  origin: string;
  /** The SCIM base URL: origin + the vendor's base path (`/scim/v2`; ZoomInfo `/tenants/acme/scim/v2`). */
  url: string;
  token: string;
  behaviour: ScimVendorBehaviour;
  /** Snapshot (copies) in creation order; includes Outreach users hidden by DELETE (deleted: true). */
  users(): readonly ScimSimUser[];
  groups(): readonly ScimSimGroup[];
  /** Every request answered so far, in order. Tests may clear it with `requests.length = 0`. */
  readonly requests: ScimRequestLogEntry[];
  /** The next `count` requests (matching opts.path, if given) get `status` or a dropped connection. */
  failNext(count: number, status: number, opts?: ScimFailNextOptions): void;
  /** Drops every fault failNext queued that has not been served yet; returns how many there were. */
  clearFaults(): number;
  /** SalesLoft: the invited user accepted (pending -> accepted). Throws for other vendors or unknown ids. */
  acceptInvitation(id: string): ScimSimUser;
  close(): Promise<void>;
}

const ACCEPTABLE = new Set([SCIM_MEDIA_TYPE, 'application/json', 'application/*', '*/*']);

export async function startScimSimulator(opts: ScimSimOptions): Promise<ScimSim> {
  const vendor = opts.vendor;
  const behaviour = SCIM_VENDOR_BEHAVIOUR[vendor];
  if (!behaviour) throw new RangeError(`unknown SCIM vendor '${String(vendor)}'`);
  const clock = opts.clock ?? systemClock;
  const maxResults = opts.maxResults ?? DEFAULT_MAX_RESULTS;
  if (!Number.isInteger(maxResults) || maxResults < 1) throw new RangeError('maxResults must be a positive integer');
  const patchMode: PatchMode = opts.patchMethodNotAllowed ? 'notAllowed' : opts.patchSupported === false ? 'unsupported' : 'ok';
  const users = userResource(behaviour);
  const groups = behaviour.groups ? groupResource(behaviour) : null;
  const env: ScimEnv = {
    vendor,
    behaviour,
    clock,
    store: new ScimStore(vendor, behaviour, clock, opts.link, opts.seed ?? 42, opts.userCount ?? DEFAULT_USER_COUNT),
    token: opts.token ?? newSecret(`scim_${vendor}_`),
    etag: opts.etag ?? false,
    patchMode,
    patchStatus: opts.patchStatus ?? behaviour.patchStatus,
    maxResults,
    requests: [],
    base: '',
    types: groups ? [users, groups] : [users],
  };
  const router = new Router(scimRoutes({ users, groups, patchMode }));
  const faults = new FaultQueue<ScimFailNextOptions>();

  const serve = (c: ScimCall) => {
    const basePath = behaviour.basePath;
    const pathname = c.url.pathname;
    if (pathname !== basePath && !pathname.startsWith(basePath + '/')) {
      fail(404, `no SCIM endpoint at ${pathname}; the ${behaviour.label} SCIM base URL is ${env.base}`);
    }
    const presented = parseBearer(c.req.headers.authorization);
    if (!presented || !safeEqual(presented, env.token)) {
      fail(
        401,
        presented ? 'the bearer token is not valid for this SCIM tenant' : 'authentication required: send Authorization: Bearer <SCIM token>',
        undefined,
        { 'WWW-Authenticate': bearerChallenge(`${behaviour.label} SCIM`, presented ? 'invalid_token' : undefined) },
      );
    }
    if (c.req.headers.accept !== undefined && !parseAccept(c.req.headers.accept).some((r) => ACCEPTABLE.has(r.type))) {
      fail(406, `Accept must allow ${SCIM_MEDIA_TYPE} or application/json`);
    }
    let segs: string[];
    try {
      segs = pathname.slice(basePath.length).split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      fail(400, 'malformed percent-encoding in the path', 'invalidSyntax');
    }
    if (segs.length === 0) fail(404, `no resource at the SCIM base; try ${env.base}/Users`);
    // Endpoint names match case-insensitively (/users, /Users); ids and everything after do not.
    segs[0] = segs[0]!.toLowerCase();
    const match = router.match(c.method, segs);
    if (!match) fail(404, `no SCIM endpoint at ${pathname}`);
    if (!match.route) methodNotAllowed(c.method, match.allow.join(', '));
    c.params = match.params;
    return match.route.handler(c);
  };

  const handle = simulatorHandler<ScimCall, ScimFailNextOptions>(faults, {
    begin: (req, res) => ({ ...exchange(req, res), method: (req.method ?? 'GET').toUpperCase(), env }),
    dropped: (c, status = 0) => env.requests.push(recorded(c, status)),
    fault: (c, f) => {
      c.req.resume();
      reply(c, f.status, errorBody(f.status, 'injected fault'), retryAfterOf(f));
    },
    serve,
    error: (c, err) => {
      c.req.resume(); // drain an unread body so the keep-alive connection stays usable
      if (err instanceof SimError) return reply(c, err.status, err.body, err.headers);
      if (err instanceof HttpInputError) return reply(c, err.status, errorBody(err.status, err.message, err.status === 400 ? 'invalidSyntax' : undefined));
      return reply(c, 500, errorBody(500, err instanceof Error ? err.message : String(err)));
    },
  });
  const { server, origin } = await serveLoopback(handle, { latencyMs: opts.latencyMs });
  env.base = origin + behaviour.basePath;

  return {
    vendor,
    origin,
    url: env.base,
    token: env.token,
    behaviour,
    users: () => env.store.userSnapshots(),
    groups: () => env.store.groupSnapshots(),
    requests: env.requests,
    failNext(count: number, status: number, o: ScimFailNextOptions = {}) {
      faults.add(count, status, o);
    },
    clearFaults() {
      return faults.clear();
    },
    acceptInvitation: (id: string) => env.store.acceptInvitation(id),
    close: () => {
      env.store.close();
      return closeServer(server);
    },
  };
}
